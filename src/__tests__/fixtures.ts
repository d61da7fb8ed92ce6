import * as fs from 'fs';
import * as path from 'path';

import { IReport, isReport } from '../protocol';

/** A minimal valid report; tests override what they need. */
export function makeReport(overrides: Partial<IReport> = {}): IReport {
  return {
    schema: 1,
    cell_id: 'cell-a',
    execution_count: 1,
    run: 1,
    duration_s: 0.01,
    overhead_s: 0.001,
    rss: {
      before: 100_000_000,
      after: 108_000_000,
      peak: 110_000_000,
      limit: null
    },
    verdict: {
      kind: 'ok',
      flags: [],
      bytes_per_run: null,
      reason: 'nothing retained'
    },
    errors: [],
    ...overrides
  };
}

/** protocol/examples/, which `make test` regenerates from a real kernel (scripts/make_examples.py). */
export const EXAMPLES_DIR = path.resolve(
  __dirname,
  '..',
  '..',
  'protocol',
  'examples'
);

/** The raw JSON of protocol/examples/NAME.json. */
export function readExample(name: string): unknown {
  return JSON.parse(
    fs.readFileSync(path.join(EXAMPLES_DIR, `${name}.json`), 'utf8')
  );
}

/** protocol/examples/NAME.json, through the same guard the extension uses. */
export function loadExample(name: string): IReport {
  const report = readExample(name);
  if (!isReport(report)) {
    throw new Error(`protocol/examples/${name}.json is not a valid report`);
  }
  return report;
}
