import {
  OldProtocolError,
  parseKernelConfig,
  parseKernelMessage,
  parseReplyResult,
  requestMessage
} from '../comm';
import { makeReport } from './fixtures';

describe('the comm contract', () => {
  it('keeps the settings it knows, drops the others, refuses a wrong type', () => {
    expect(
      parseKernelConfig({ enabled: false, trace: 'always', future: 1 })
    ).toEqual({ enabled: false, trace: 'always' });
    expect(parseKernelConfig({ trace: 'sometimes' })).toBeNull();
    expect(parseKernelConfig({ retain_bytes: -1 })).toBeNull();
    expect(parseKernelConfig({ leak_runs: 1.5 })).toBeNull();
    expect(parseKernelConfig([])).toBeNull();
  });

  it('ignores a hello whose settings are malformed', () => {
    const hello = {
      type: 'hello',
      protocol: 1,
      version: '0.1.0',
      config: { enabled: 'yes' },
      history: []
    };
    expect(parseKernelMessage(hello)).toBeNull();
    expect(
      parseKernelMessage({ ...hello, config: { enabled: true } })
    ).toMatchObject({ type: 'hello', config: { enabled: true } });
  });

  it('says when the kernel speaks an older protocol, or none', () => {
    const hello = {
      type: 'hello',
      protocol: 1,
      version: '0.1.0',
      config: {},
      history: []
    };
    expect(parseKernelMessage(hello)).toMatchObject({ type: 'hello' });
    expect(() => parseKernelMessage({ ...hello, protocol: 0 })).toThrow(
      OldProtocolError
    );
    const none: Record<string, unknown> = { ...hello };
    delete none.protocol;
    expect(() => parseKernelMessage(none)).toThrow(OldProtocolError);
  });

  it('reads a progress message, refusing a malformed one', () => {
    const progress = {
      type: 'progress',
      cell_id: 'c1',
      execution_count: 4,
      stage: 'backrefs',
      text: 'memdiag: finding what keeps 20 MB alive…',
      elapsed_s: 0.42
    };
    expect(parseKernelMessage(progress)).toEqual(progress);
    expect(
      parseKernelMessage({ ...progress, cell_id: null, execution_count: null })
    ).toMatchObject({ cell_id: null, execution_count: null });
    // A stage a newer kernel added is shown all the same.
    expect(parseKernelMessage({ ...progress, stage: 'gpu' })).toMatchObject({
      stage: 'other'
    });
    const long = parseKernelMessage({ ...progress, text: 'x'.repeat(5000) });
    expect(long?.type === 'progress' && long.text.length).toBe(200);
    for (const bad of [
      { cell_id: 3 },
      { execution_count: 1.5 },
      { stage: 7 },
      { text: '   ' },
      { text: null },
      { elapsed_s: -1 },
      { elapsed_s: 'long' }
    ]) {
      expect(parseKernelMessage({ ...progress, ...bad })).toBeNull();
    }
    const missing: Record<string, unknown> = { ...progress };
    delete missing.elapsed_s;
    expect(parseKernelMessage(missing)).toBeNull();
  });

  it('checks each reply against the action it answers', () => {
    expect(parseReplyResult('deep_next', { cell_id: 'c' })).toEqual({
      cell_id: 'c'
    });
    expect(parseReplyResult('deep_next', { cell: 'c' })).toBeNull();
    expect(
      parseReplyResult('history', {
        history: [makeReport(), { schema: 1 }, null]
      })
    ).toEqual({ history: [makeReport()] });
    expect(parseReplyResult('history', {})).toBeNull();
    const why = {
      name: 'df',
      type: 'pandas.DataFrame',
      refcount: 2,
      immortal: false,
      size: 10,
      own_size: 8,
      referrers: ['dict'],
      backrefs: [{ type: 'list', root: 'df', chain: [] }]
    };
    expect(parseReplyResult('why', why)).toEqual(why);
    expect(parseReplyResult('why', { ...why, refcount: '2' })).toBeNull();
    expect(
      parseReplyResult('why', { ...why, backrefs: [{ root: 'df' }] })
    ).toBeNull();
    expect(parseReplyResult('config', { enabled: 1 })).toBeNull();
    const giveBack = {
      scheduler: 'tcp://127.0.0.1:8786',
      trimmed: 1000,
      errors: [],
      workers: [
        {
          name: 'w0',
          address: 'tcp://127.0.0.1:1',
          trimmed: 1000,
          rss: 10,
          managed: 1,
          unmanaged: 9,
          spilled: 0,
          memory_limit: null,
          trim: true
        }
      ]
    };
    expect(parseReplyResult('give_back', giveBack)).toEqual(giveBack);
    expect(
      parseReplyResult('give_back', { ...giveBack, workers: [{ name: 'w0' }] })
    ).toBeNull();
  });

  it('sends a request as the kernel validates it', () => {
    expect(requestMessage('r1', 'why', { name: 'df' })).toEqual({
      type: 'request',
      request_id: 'r1',
      action: 'why',
      args: { name: 'df' }
    });
  });
});
