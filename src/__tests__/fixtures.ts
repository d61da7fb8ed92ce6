import { IReport } from '../protocol';

/** A minimal valid report; tests override what they need. */
export function makeReport(overrides: Partial<IReport> = {}): IReport {
  return {
    schema: 1,
    cell_id: 'cell-a',
    execution_count: 1,
    run: 1,
    duration_s: 0.01,
    overhead_s: 0.001,
    rss: { before: 100_000_000, after: 108_000_000, peak: 110_000_000, limit: null },
    verdict: { kind: 'ok', flags: [], bytes_per_run: null, reason: 'nothing retained' },
    errors: [],
    ...overrides
  };
}
