import {
  appendReport,
  compactReport,
  MAX_METADATA_CHARS,
  MAX_REPORTS_PER_CELL,
  readReports,
  redactPaths
} from '../metadata';
import { makeReport } from './fixtures';

describe('cell metadata', () => {
  it('appends and bounds the count', () => {
    let value: unknown = undefined;
    for (let i = 1; i <= MAX_REPORTS_PER_CELL + 3; i++) {
      value = appendReport(value, makeReport({ execution_count: i }), i);
    }
    const { reports, invalid } = readReports(value);
    expect(invalid).toBe(0);
    expect(reports).toHaveLength(MAX_REPORTS_PER_CELL);
    expect(reports[reports.length - 1].execution_count).toBe(
      MAX_REPORTS_PER_CELL + 3
    );
  });

  it('bounds the size', () => {
    const huge = makeReport({
      objects: {
        new: 1,
        growth: Array.from({ length: 10 }, (_, i) => ({
          type: 'x'.repeat(2000) + i,
          count: 1,
          size: 1
        }))
      }
    });
    let value: unknown = undefined;
    for (let i = 0; i < 5; i++) {
      value = appendReport(value, { ...huge, execution_count: i }, i);
    }
    expect(JSON.stringify(value).length).toBeLessThanOrEqual(
      MAX_METADATA_CHARS
    );
    expect(readReports(value).reports.length).toBeGreaterThan(0);
  });

  it('keeps the kernel process and start time of a report cut down to its summary', () => {
    const huge = makeReport({
      kernel_session: 'k1',
      started_at: 1234.5,
      objects: {
        new: 1,
        growth: Array.from({ length: 10 }, (_, i) => ({
          type: 'x'.repeat(MAX_METADATA_CHARS / 5) + i,
          count: 1,
          size: 1
        }))
      }
    });
    const saved = readReports(appendReport(undefined, huge, 1)).reports[0];
    expect(saved.objects).toBeUndefined();
    expect(saved.kernel_session).toBe('k1');
    expect(saved.started_at).toBe(1234.5);
  });

  it('shortens long lists', () => {
    const report = makeReport({
      backrefs: Array.from({ length: 20 }, () => ({
        type: 'list',
        root: 'cache',
        chain: []
      }))
    });
    expect(compactReport(report).backrefs).toHaveLength(5);
  });

  it('ignores corrupted values and counts them', () => {
    expect(readReports(undefined)).toEqual({
      reports: [],
      times: [],
      invalid: 0
    });
    expect(readReports('garbage').invalid).toBe(1);
    expect(readReports({ reports: 'x' }).invalid).toBe(1);
    const mixed = readReports({ reports: [makeReport(), { schema: 1 }, null] });
    expect(mixed.reports).toHaveLength(1);
    expect(mixed.invalid).toBe(2);
  });

  it('drops a saved report whose new sections are malformed, counted for the warning, and keeps the others', () => {
    const good = makeReport({
      execution_count: 1,
      ipython: { out: 10, history: 2 },
      heap: { before: 1, after: 2 }
    });
    const bad = {
      ...makeReport({ execution_count: 2 }),
      heap: { before: '1 GB' }
    };
    const read = readReports({ reports: [good, bad] });
    expect(read.reports).toEqual([good]);
    expect(read.invalid).toBe(1);
  });
});

describe('what a notebook keeps of paths', () => {
  it("drops the user's home and the environment's prefix", () => {
    expect(
      redactPaths(
        '/home/ada/.pyenv/versions/3.11.7/lib/python3.11/site-packages/pandas/core/frame.py'
      )
    ).toBe('site-packages/pandas/core/frame.py');
    expect(redactPaths('/usr/lib/python3.12/json/decoder.py')).toBe(
      'python3.12/json/decoder.py'
    );
    expect(redactPaths('/home/ada/work/helpers.py:12')).toBe(
      '~/work/helpers.py:12'
    );
    expect(redactPaths('/Users/ada/src/mod.py')).toBe('~/src/mod.py');
    expect(redactPaths('/root/proj/x.py')).toBe('~/proj/x.py');
    expect(
      redactPaths(
        'C:\\Users\\ada\\miniconda3\\Lib\\site-packages\\numpy\\core.py'
      )
    ).toBe('site-packages\\numpy\\core.py');
    expect(redactPaths('C:\\Users\\ada\\notes\\a.py')).toBe('~\\notes\\a.py');
    // Inside a sentence, and leaving alone what is no home.
    expect(
      redactPaths(
        'allocated in /home/ada/venv/lib/python3.11/site-packages/np.py (C)'
      )
    ).toBe('allocated in site-packages/np.py (C)');
    expect(redactPaths('/srv/data/home/x.csv')).toBe('/srv/data/home/x.csv');
    expect(redactPaths('<ipython-input-3>')).toBe('<ipython-input-3>');
  });

  it('saves every string of a report that way, and the report stays valid', () => {
    const report = makeReport({
      traced: {
        enabled: true,
        retained: 1000,
        top: [
          {
            file: '/home/ada/.venv/lib/python3.11/site-packages/pandas/io.py',
            line: 3,
            code: 'x',
            size: 10,
            count: 1
          }
        ]
      },
      errors: ['census failed in /home/ada/project/probe.py']
    });
    const saved = appendReport(undefined, report, 1);
    const text = JSON.stringify(saved);
    expect(text).not.toContain('/home/ada');
    expect(saved.reports[0].traced?.top?.[0].file).toBe(
      'site-packages/pandas/io.py'
    );
    expect(saved.reports[0].errors[0]).toBe(
      'census failed in ~/project/probe.py'
    );
    expect(readReports(saved).reports).toHaveLength(1);
  });
});
