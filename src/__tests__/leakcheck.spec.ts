import { leakSummary } from '../leakcheck';
import { makeReport } from './fixtures';

const leakVerdict = (bytes: number) => ({
  kind: 'leak' as const,
  flags: ['leak'],
  bytes_per_run: bytes,
  reason: 'keeps growing'
});

describe('leakSummary', () => {
  it('says what each re-run kept and the verdict, in one line', () => {
    const reports = [
      makeReport({ run: 1 }),
      makeReport({
        run: 2,
        verdict: { ...leakVerdict(5_000_000), kind: 'retains', flags: [] }
      }),
      makeReport({ run: 3, verdict: leakVerdict(5_000_000) }),
      makeReport({ run: 4, verdict: leakVerdict(5_100_000) })
    ];
    const summary = leakSummary('cell 3', 4, reports)!;
    expect(summary.leak).toBe(true);
    expect(summary.text).toBe(
      'Leak check of cell 3, 4 runs: each re-run kept +5 MB, +5 MB, +5.1 MB: a leak of +5.1 MB/run.'
    );
    expect(summary.text).not.toContain('\n');
  });

  it('says no leak, and how many runs reported', () => {
    const summary = leakSummary('cell 1', 4, [
      makeReport({ run: 1 }),
      makeReport({ run: 2 })
    ])!;
    expect(summary.leak).toBe(false);
    expect(summary.text).toBe(
      'Leak check of cell 1, 4 runs (2 of 4 reported): each re-run kept ±0 B: no leak (ok).'
    );
    expect(leakSummary('cell 1', 4, [])).toBeNull();
  });
});
