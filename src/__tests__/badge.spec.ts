import { badgeFor, cycleObjects, keptPerRun, outputCache } from '../badge';
import { makeReport } from './fixtures';

describe('badgeFor', () => {
  it('shows the RSS change for ok and retains', () => {
    expect(badgeFor(makeReport()).text).toBe('+8 MB');
    const retains = makeReport({
      rss: { before: 100e6, after: 220e6, peak: 230e6 },
      verdict: {
        kind: 'retains',
        flags: ['retains'],
        bytes_per_run: null,
        reason: 'holds 120 MB'
      }
    });
    expect(badgeFor(retains)).toEqual({
      kind: 'retains',
      text: '+120 MB',
      title: 'holds 120 MB'
    });
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

  it('mentions probe errors in the tooltip', () => {
    const badge = badgeFor(makeReport({ errors: ['census: boom'] }));
    expect(badge.title).toContain('census: boom');
  });
});
