import {
  badgeFor,
  cycleObjects,
  keptPerRun,
  outputCache,
  rssAfter,
  rssDelta,
  verdictBytes
} from '../badge';
import { makeReport } from './fixtures';

describe('badgeFor', () => {
  it("says the verdict's own number, with Δ RSS and the peak in the tooltip", () => {
    // Δ RSS is not the verdict's: an ok cell that moved RSS is still just ok.
    expect(badgeFor(makeReport()).text).toBe('ok');
    expect(badgeFor(makeReport()).title).toBe(
      'nothing retained\nΔ RSS +8 MB · peak 110 MB'
    );
    const retains = makeReport({
      rss: { before: 100e6, after: 142.8e6, peak: 230e6, limit: null },
      native: { unexplained: 0, explained: 14.4e6 },
      verdict: {
        kind: 'retains',
        flags: ['retains'],
        bytes_per_run: null,
        reason: 'holds 120 MB'
      }
    });
    expect(badgeFor(retains)).toEqual({
      kind: 'retains',
      text: 'holds 14.4 MB',
      title: 'holds 120 MB\nΔ RSS +42.8 MB · peak 230 MB'
    });
    // Without Python-level figures, what RSS kept.
    expect(badgeFor({ ...retains, native: undefined }).text).toBe(
      'holds 42.8 MB'
    );
  });

  it('shows the slope of a leak', () => {
    const leak = makeReport({
      verdict: {
        kind: 'leak',
        flags: ['leak'],
        bytes_per_run: 8_000_000,
        reason: 'grows'
      }
    });
    expect(badgeFor(leak).text).toBe('leak +8 MB/run');
  });

  it('never shows a negative slope for a leak, even from an old notebook', () => {
    const leak = (bytes: number | null, delta = 8_000_000) =>
      makeReport({
        rss: { before: 100e6, after: 100e6 + delta, peak: null },
        verdict: {
          kind: 'leak',
          flags: ['leak'],
          bytes_per_run: bytes,
          reason: 'grows'
        }
      });
    expect(badgeFor(leak(-10_000_000)).text).toBe('leak');
    expect(badgeFor(leak(0)).text).toBe('leak');
    expect(badgeFor(leak(null, -5_000_000)).text).toBe('leak');
    expect(badgeFor(leak(null)).text).toBe('leak +8 MB/run');
    expect(keptPerRun(leak(-10_000_000))).toBe(0);
    expect(keptPerRun(leak(null))).toBeNull();
    expect(keptPerRun(leak(3_000_000))).toBe(3_000_000);
  });

  it('adds up what IPython cached for the run', () => {
    expect(outputCache(makeReport())).toBe(0);
    expect(
      outputCache(
        makeReport({ ipython: { out: 10_000_000, history: 2_000_000 } })
      )
    ).toBe(12_000_000);
    expect(outputCache(makeReport({ ipython: { out: 5 } }))).toBe(5);
  });

  it('counts cyclic objects', () => {
    const cycles = makeReport({
      gc: {
        collected: 10,
        cycles: [
          { types: ['Node'], objects: 1500, size: 10 },
          { types: ['dict'], objects: 500, size: 10 }
        ]
      },
      verdict: {
        kind: 'cycles',
        flags: ['cycles'],
        bytes_per_run: null,
        reason: 'cycles'
      }
    });
    expect(cycleObjects(cycles)).toBe(2000);
    expect(badgeFor(cycles).text).toBe('cycles 2k');
  });

  it('counts no cycles for a cell whose cycle probe did not run', () => {
    // `del nodes; gc.collect()`: the collection freed older cells' garbage, not cycles the cell made.
    const cleanup = makeReport({
      gc: {
        collected: 40011,
        cycles: [],
        skipped: 'gc.collect() ran during the cell and looks at the whole heap'
      }
    });
    expect(cycleObjects(cleanup)).toBe(0);
  });

  it('shows unexplained native growth', () => {
    const native = makeReport({
      native: { unexplained: 300_000_000 },
      verdict: {
        kind: 'native',
        flags: ['native'],
        bytes_per_run: null,
        reason: 'C'
      }
    });
    expect(badgeFor(native).text).toBe('native +300 MB');
  });

  it('says a native leak repeated on every re-run per run', () => {
    const verdict = (perRun: boolean | undefined) =>
      makeReport({
        native: { unexplained: 7_940_000 },
        verdict: {
          kind: 'native',
          flags: ['native'],
          bytes_per_run: 0,
          reason: 'Each re-run of this cell keeps about 7.94 MB more',
          bytes: 7_940_000,
          per_run: perRun
        }
      });
    expect(badgeFor(verdict(true)).text).toBe('native +7.94 MB/run');
    expect(badgeFor(verdict(false)).text).toBe('native +7.94 MB');
    // A report saved before the field: one run's figure, as before.
    expect(badgeFor(verdict(undefined)).text).toBe('native +7.94 MB');
  });

  it("says the figure the verdict's reason states, when the kernel sends it", () => {
    const verdict = (
      kind: 'retains' | 'leak' | 'cycles' | 'native' | 'ok',
      bytes: number | null
    ) =>
      makeReport({
        // Δ RSS and the sections say otherwise: the verdict's own figure wins.
        rss: { before: 100e6, after: 238e6, peak: 324e6, limit: null },
        native: { unexplained: 1, explained: 2 },
        gc: { collected: 9990, cycles: [] },
        verdict: {
          kind,
          flags: kind === 'ok' ? [] : [kind],
          bytes_per_run: kind === 'leak' ? 4e6 : null,
          reason: 'r',
          bytes
        }
      });
    // "The cell still holds 40.4 MB after it ended."
    expect(badgeFor(verdict('retains', 40_400_000)).text).toBe('holds 40.4 MB');
    expect(badgeFor(verdict('leak', 5_010_000)).text).toBe('leak +5.01 MB/run');
    expect(badgeFor(verdict('leak', 0)).text).toBe('leak');
    expect(badgeFor(verdict('cycles', 291_600)).text).toBe('cycles 292 kB');
    expect(badgeFor(verdict('native', 300_000_000)).text).toBe(
      'native +300 MB'
    );
    expect(badgeFor(verdict('ok', null)).text).toBe('ok');
    // Older reports (no field, or null): read from the report as before.
    expect(badgeFor(verdict('retains', null)).text).toBe('holds 2 B');
    expect(badgeFor(verdict('cycles', null)).text).toBe('cycles 10k');
    expect(verdictBytes(verdict('leak', null))).toBeNull();
  });

  it('mentions probe errors in the tooltip', () => {
    const badge = badgeFor(makeReport({ errors: ['census: boom'] }));
    expect(badge.title).toContain('census: boom');
  });
});

describe('rssAfter and rssDelta', () => {
  it("start where the next run starts: after memdiag's malloc_trim when it trimmed", () => {
    // A bootstrap cell: +40 MB read right after it, 36 MB of its temporaries' free pages given back by the trim.
    const runs = [300, 304, 308].map(before =>
      makeReport({
        rss: {
          before: before * 1e6,
          after: (before + 40) * 1e6,
          after_trim: (before + 4) * 1e6,
          peak: null
        }
      })
    );
    expect(runs.map(rssDelta)).toEqual([4e6, 4e6, 4e6]);
    const total = runs.map(rssDelta).reduce((a, b) => a + b, 0);
    expect(total).toBe(rssAfter(runs[2]) - runs[0].rss.before);
    // Untrimmed, and reports older than the field: as read right after the cell.
    const plain = makeReport({ rss: { before: 1e6, after: 3e6, peak: null } });
    expect(rssAfter(plain)).toBe(3e6);
    expect(rssDelta(plain)).toBe(2e6);
  });
});
