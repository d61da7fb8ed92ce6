import * as fs from 'fs';
import * as path from 'path';

import Ajv2020 from 'ajv/dist/2020';

import { parseKernelMessage, ProtocolError } from '../comm';
import { isReport } from '../protocol';
import { makeReport } from './fixtures';

const PROTOCOL_DIR = path.resolve(__dirname, '..', '..', 'protocol');

function examples(): Array<[string, unknown]> {
  const dir = path.join(PROTOCOL_DIR, 'examples');
  return fs
    .readdirSync(dir)
    .filter(name => name.endsWith('.json'))
    .map(name => [
      name,
      JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'))
    ]);
}

describe('protocol examples', () => {
  const schema = JSON.parse(
    fs.readFileSync(path.join(PROTOCOL_DIR, 'report.schema.json'), 'utf8')
  );
  const validate = new Ajv2020({ strict: false }).compile(schema);

  it('has examples', () => {
    expect(examples().length).toBeGreaterThan(0);
  });

  it.each(examples())(
    '%s validates against report.schema.json and the type guard',
    (_, report) => {
      expect(validate(report)).toBe(true);
      expect(isReport(report)).toBe(true);
    }
  );

  it('the schema rejects what the guard rejects', () => {
    const bad = {
      ...makeReport(),
      verdict: { kind: 'maybe', flags: [], bytes_per_run: null, reason: '' }
    };
    expect(validate(bad)).toBe(false);
    expect(isReport(bad)).toBe(false);
  });

  it('agrees with the guard on native stacks: valgrind kinds and memray allocations', () => {
    const record = (kind: unknown) => ({
      ...makeReport(),
      valgrind: {
        definitely_lost: 0,
        indirectly_lost: 0,
        possibly_lost: 2_000_000,
        records: [{ bytes: 2_000_000, blocks: 1, kind, stack: ['malloc'] }]
      }
    });
    for (const kind of ['definitely', 'indirectly', 'possibly']) {
      expect(validate(record(kind))).toBe(true);
      expect(isReport(record(kind))).toBe(true);
    }
    for (const kind of ['maybe', 3, null]) {
      expect(validate(record(kind))).toBe(false);
      expect(isReport(record(kind))).toBe(false);
    }
    const native = (allocations: unknown) => ({
      ...makeReport(),
      native: { unexplained: null, allocations }
    });
    expect(
      validate(
        native([{ size: 8, count: 1, stack: ['<module> (cell line 2)'] }])
      )
    ).toBe(true);
    expect(
      isReport(
        native([{ size: 8, count: 1, stack: ['<module> (cell line 2)'] }])
      )
    ).toBe(true);
    for (const bad of [
      [{ size: '8', count: 1, stack: [] }],
      [{ size: 8, count: 1, stack: [3] }],
      { size: 8 }
    ]) {
      expect(validate(native(bad))).toBe(false);
      expect(isReport(native(bad))).toBe(false);
    }
  });
});

describe('isReport', () => {
  it('accepts a minimal report and extra fields', () => {
    expect(isReport(makeReport())).toBe(true);
    expect(
      isReport({ ...makeReport(), future_section: { anything: [1, 'a'] } })
    ).toBe(true);
  });

  it('checks every section the schema names, not only the required ones', () => {
    // `variables` is typed (IVariable): an entry without its fields would reach the views as one.
    expect(isReport({ ...makeReport(), variables: [{ name: 'x' }] })).toBe(
      false
    );
    expect(isReport({ ...makeReport(), mode: 'turbo' })).toBe(false);
    expect(
      isReport({
        ...makeReport(),
        traced: {
          enabled: true,
          top: [{ file: 'f', line: 1, size: 1, count: 1, in_cell: 'yes' }]
        }
      })
    ).toBe(false);
  });

  it.each([
    ['no schema', { schema: undefined }],
    ['another schema', { schema: 2 }],
    ['a string count', { execution_count: '3' }],
    ['a float run', { run: 1.5 }],
    ['NaN duration', { duration_s: NaN }],
    ['rss as a number', { rss: 5 }],
    ['errors as a string', { errors: 'boom' }],
    [
      'a growth entry without type',
      { objects: { new: 1, growth: [{ count: 1, size: 2 }] } }
    ],
    [
      'a backref chain of strings',
      { backrefs: [{ type: 'list', root: 'x', chain: ['a'] }] }
    ]
  ])('rejects %s', (_, overrides) => {
    expect(isReport({ ...makeReport(), ...(overrides as object) })).toBe(false);
  });

  it('accepts the sections of issues 11 and 12: skipped probes, heap counters, IPython caches, retained_all', () => {
    const report = makeReport({
      traced: { enabled: true, retained: 1000, retained_all: 9000, top: [] },
      objects: {
        new: 0,
        growth: [],
        skipped: 'the gc was frozen by the user (gc.freeze())'
      },
      gc: {
        collected: 0,
        cycles: [],
        skipped: 'the gc was frozen by the user (gc.freeze())'
      },
      heap: {
        before: 1,
        after: null,
        blocks_before: 3,
        blocks_after: 4,
        skipped: 'free-threaded build: ...'
      },
      ipython: { out: 12_000_000, history: 0 },
      native: { unexplained: null, skipped: 'free-threaded build: ...' }
    });
    expect(isReport(report)).toBe(true);
    // Every part of heap and ipython is optional, as in the schema.
    expect(isReport({ ...makeReport(), heap: {}, ipython: {} })).toBe(true);
    expect(
      isReport({
        ...makeReport(),
        traced: { enabled: false, retained_all: null }
      })
    ).toBe(true);
  });

  it('accepts a negative bytes_per_run saved by an older memdiag (the views clamp it)', () => {
    const old = makeReport({
      verdict: {
        kind: 'ok',
        flags: [],
        bytes_per_run: -10_000_000,
        reason: 'x'
      }
    });
    expect(isReport(old)).toBe(true);
  });

  it.each([
    ['a string where heap bytes go', { heap: { before: '16273248' } }],
    ['a float block count', { heap: { blocks_after: 1.5 } }],
    ['heap as a list', { heap: [1, 2] }],
    ['heap.skipped as a number', { heap: { skipped: 3 } }],
    ['a string where the output cache bytes go', { ipython: { out: '12 MB' } }],
    ['negative output cache bytes', { ipython: { history: -1 } }],
    ['an infinite output cache', { ipython: { out: Infinity } }],
    ['ipython as a string', { ipython: '<img src=x onerror=alert(1)>' }],
    [
      'objects.skipped as an object',
      { objects: { new: 0, growth: [], skipped: { html: '<b>' } } }
    ],
    [
      'gc.skipped as a list',
      { gc: { collected: 0, cycles: [], skipped: ['frozen'] } }
    ],
    [
      'native.skipped as a number',
      { native: { unexplained: null, skipped: 1 } }
    ],
    [
      'traced.retained_all as a string',
      { traced: { enabled: true, retained_all: '9000' } }
    ]
  ])('rejects %s, as any malformed section', (_, overrides) => {
    expect(isReport({ ...makeReport(), ...(overrides as object) })).toBe(false);
    expect(
      parseKernelMessage({
        type: 'report',
        report: { ...makeReport(), ...(overrides as object) }
      })
    ).toBeNull();
  });

  it('rejects non-objects', () => {
    for (const value of [null, undefined, 3, 'report', [makeReport()]]) {
      expect(isReport(value)).toBe(false);
    }
  });
});

describe('parseKernelMessage', () => {
  it('parses hello and drops malformed history entries', () => {
    const message = parseKernelMessage({
      type: 'hello',
      protocol: 1,
      version: '0.1.0',
      config: { enabled: true },
      history: [makeReport(), { schema: 1 }]
    });
    expect(message?.type).toBe('hello');
    expect(message?.type === 'hello' && message.history.length).toBe(1);
  });

  it('parses reports, config and replies', () => {
    expect(
      parseKernelMessage({ type: 'report', report: makeReport() })?.type
    ).toBe('report');
    expect(
      parseKernelMessage({ type: 'config', config: { trace: 'always' } })?.type
    ).toBe('config');
    expect(
      parseKernelMessage({
        type: 'reply',
        request_id: 'r1',
        ok: true,
        result: 3
      })
    ).toEqual({
      type: 'reply',
      request_id: 'r1',
      ok: true,
      result: 3,
      error: undefined
    });
  });

  it('returns null for anything malformed', () => {
    for (const data of [
      null,
      'hello',
      { type: 'unknown' },
      { type: 'report', report: { schema: 1 } },
      { type: 'config', config: [] },
      { type: 'reply', request_id: 3, ok: true },
      { type: 'hello', protocol: 1, version: 1, config: {}, history: [] }
    ]) {
      expect(parseKernelMessage(data)).toBeNull();
    }
  });

  it('tells a newer protocol or schema apart from garbage', () => {
    expect(() =>
      parseKernelMessage({
        type: 'hello',
        protocol: 2,
        version: '9',
        config: {},
        history: []
      })
    ).toThrow(ProtocolError);
    expect(() =>
      parseKernelMessage({
        type: 'report',
        report: { ...makeReport(), schema: 2 }
      })
    ).toThrow(ProtocolError);
  });
});
