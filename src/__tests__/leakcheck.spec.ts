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

  it('counts every run of the check that was a re-run, each with its own figure', () => {
    // The cell ran before the check: all four of the check's runs are re-runs. Each says what it kept itself
    // (verdict.kept), not the verdict's average over the window.
    const reports = [2_590_000, 2_600_000, 2_480_000, 2_500_000].map(
      (kept, i) =>
        makeReport({
          run: 5 + i,
          verdict: { ...leakVerdict(2_540_000), kept }
        })
    );
    const summary = leakSummary('cell 10', 4, reports)!;
    expect(summary.text).toBe(
      'Leak check of cell 10, 4 runs: each re-run kept +2.59 MB, +2.6 MB, +2.48 MB, +2.5 MB: a leak of +2.54 MB/run.'
    );
  });
});
