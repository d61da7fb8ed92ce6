import * as fs from 'fs';
import * as path from 'path';

import Ajv2020 from 'ajv/dist/2020';

import { isReport, parseKernelMessage, ProtocolError } from '../protocol';
import { makeReport } from './fixtures';

const PROTOCOL_DIR = path.resolve(__dirname, '..', '..', 'protocol');

function examples(): Array<[string, unknown]> {
  const dir = path.join(PROTOCOL_DIR, 'examples');
  return fs
    .readdirSync(dir)
    .filter(name => name.endsWith('.json'))
    .map(name => [name, JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'))]);
}

describe('protocol examples', () => {
  const schema = JSON.parse(fs.readFileSync(path.join(PROTOCOL_DIR, 'report.schema.json'), 'utf8'));
  const validate = new Ajv2020({ strict: false }).compile(schema);

  it('has examples', () => {
    expect(examples().length).toBeGreaterThan(0);
  });

  it.each(examples())('%s validates against report.schema.json and the type guard', (_, report) => {
    expect(validate(report)).toBe(true);
    expect(isReport(report)).toBe(true);
  });

  it('the schema rejects what the guard rejects', () => {
    const bad = { ...makeReport(), verdict: { kind: 'maybe', flags: [], bytes_per_run: null, reason: '' } };
    expect(validate(bad)).toBe(false);
    expect(isReport(bad)).toBe(false);
  });
});

describe('isReport', () => {
  it('accepts a minimal report and extra fields', () => {
    expect(isReport(makeReport())).toBe(true);
    expect(isReport({ ...makeReport(), variables: [{ name: 'x' }] })).toBe(true);
  });

  it.each([
    ['no schema', { schema: undefined }],
    ['another schema', { schema: 2 }],
    ['a string count', { execution_count: '3' }],
    ['a float run', { run: 1.5 }],
    ['NaN duration', { duration_s: NaN }],
    ['rss as a number', { rss: 5 }],
    ['errors as a string', { errors: 'boom' }],
    ['a growth entry without type', { objects: { new: 1, growth: [{ count: 1, size: 2 }] } }],
    ['a backref chain of strings', { backrefs: [{ type: 'list', root: 'x', chain: ['a'] }] }]
  ])('rejects %s', (_, overrides) => {
    expect(isReport({ ...makeReport(), ...(overrides as object) })).toBe(false);
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
    expect(parseKernelMessage({ type: 'report', report: makeReport() })?.type).toBe('report');
    expect(parseKernelMessage({ type: 'config', config: { trace: 'always' } })?.type).toBe('config');
    expect(parseKernelMessage({ type: 'reply', request_id: 'r1', ok: true, result: 3 })).toEqual({
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
    expect(() => parseKernelMessage({ type: 'hello', protocol: 2, version: '9', config: {}, history: [] })).toThrow(
      ProtocolError
    );
    expect(() => parseKernelMessage({ type: 'report', report: { ...makeReport(), schema: 2 } })).toThrow(
      ProtocolError
    );
  });
});
