/**
 * The Dask workers' pure logic: bar geometry against each worker's limit, Dask's colour levels, the cluster's
 * words on a cell's badge, the give_back answer, the timeline's workers panel, and the colour maths that keeps
 * the bars readable.
 */
import { FALLBACK_PALETTE, timelineSpec } from '../charts';
import { DEFAULT_WORKERS_TEXT, withWorkersPanel } from '../clusterchart';
import {
  clusterBadgeFor,
  clusterKind,
  clusterTotals,
  giveBackBars,
  managedGrowth,
  percent,
  usageText,
  workerBars,
  workerLevel
} from '../clusterview';
import type { IGiveBackResult } from '../comm';
import { contrastRatio, parseCssColor, toCssRgb } from '../contrast';
import type { ICluster, IClusterWorker } from '../protocol';
import { loadExample, makeReport } from './fixtures';

const MB = 1_000_000;

function worker(overrides: Partial<IClusterWorker> = {}): IClusterWorker {
  return {
    name: '0',
    address: 'tcp://127.0.0.1:1',
    rss_before: 100 * MB,
    rss_after: 120 * MB,
    managed: 20 * MB,
    unmanaged: 100 * MB,
    spilled: 0,
    memory_limit: 400 * MB,
    ...overrides
  };
}

function cluster(
  workers: IClusterWorker[],
  extra: Partial<ICluster> = {}
): ICluster {
  return { scheduler: 'tcp://127.0.0.1:0', workers, ...extra };
}

describe('workerBars', () => {
  it('lays managed, unmanaged and spilled out from the left on one scale, the biggest limit', () => {
    const bars = workerBars(
      cluster([
        worker({ name: 'a', memory_limit: 400 * MB }),
        worker({ name: 'b', memory_limit: 200 * MB, spilled: 40 * MB })
      ])
    );
    expect(bars.map(b => b.limitAt)).toEqual([1, 0.5]);
    const [a, b] = bars;
    expect(a.segments).toEqual([
      { part: 'managed', bytes: 20 * MB, start: 0, width: 0.05 },
      { part: 'unmanaged', bytes: 100 * MB, start: 0.05, width: 0.25 }
    ]);
    expect(b.segments.map(s => [s.part, s.start])).toEqual([
      ['managed', 0],
      ['unmanaged', 0.05],
      ['spilled', 0.3]
    ]);
    expect(a.process).toBe(120 * MB);
    expect(a.delta).toBe(20 * MB);
  });

  it('keeps a worker past its limit inside the scale, and colours it as Dask does', () => {
    const [over, fine] = workerBars(
      cluster([
        worker({
          managed: 150 * MB,
          unmanaged: 100 * MB,
          memory_limit: 200 * MB
        }),
        worker({ name: '1', unmanaged: 80 * MB, memory_limit: 200 * MB })
      ])
    );
    // The scale is the over-full worker's memory: its limit ends before its bar does.
    expect(over.limitAt).toBeCloseTo(0.8);
    const end = over.segments[over.segments.length - 1];
    expect(end.start + end.width).toBeCloseTo(1);
    expect(over.level).toBe('critical');
    expect(fine.level).toBe('ok');
    expect(workerLevel(60, 100)).toBe('high');
    expect(workerLevel(59, 100)).toBe('ok');
    expect(workerLevel(95, 100)).toBe('critical');
    expect(workerLevel(10 ** 12, null)).toBe('ok');
  });

  it('draws no limit for a worker without one, and says so', () => {
    const [bar] = workerBars(cluster([worker({ memory_limit: null })]));
    expect(bar.limitAt).toBeNull();
    expect(bar.segments[1].start + bar.segments[1].width).toBe(1);
    expect(usageText(bar)).toBe('120 MB, no limit');
    expect(usageText({ process: 120 * MB, limit: 12.6e9 })).toBe(
      '120 MB of 12.6 GB'
    );
  });

  it('reads the real leak example: two workers, unmanaged memory, far below their 12.6 GB', () => {
    const report = loadExample('cluster-leak');
    const bars = workerBars(report.cluster!);
    expect(bars.map(b => b.name)).toEqual(['0', '1']);
    for (const bar of bars) {
      // Read from a real cluster: a task's result may still be held, managed, as the workers are read (84 B of
      // three ints in one clean-clone run); the leak is unmanaged.
      expect(bar.segments[bar.segments.length - 1].part).toBe('unmanaged');
      expect(bar.managed).toBeLessThan(1024);
      expect(bar.level).toBe('ok');
      expect(bar.delta).toBeGreaterThan(15 * MB);
      const read = report.cluster!.workers.find(w => w.name === bar.name)!;
      expect(bar.trimmed).toBe(read.trimmed);
    }
    const totals = clusterTotals(bars);
    expect(totals.workers).toBe(2);
    expect(totals.limit).toBe(
      report.cluster!.workers.reduce((sum, w) => sum + (w.memory_limit ?? 0), 0)
    );
    expect(totals.managed).toBeLessThan(2048);
  });

  it('sums no limit when a worker has none', () => {
    const totals = clusterTotals(
      workerBars(cluster([worker(), worker({ memory_limit: null })]))
    );
    expect(totals.limit).toBeNull();
    expect(clusterTotals([]).limit).toBeNull();
  });

  it('rounds widths to stable percentages, clamped', () => {
    expect(percent(0.123456)).toBe('12.35%');
    expect(percent(-1)).toBe('0%');
    expect(percent(2)).toBe('100%');
  });
});

describe('the cluster on the badge', () => {
  it('says the workers leak with their slope, the kernel verdict untouched', () => {
    const report = loadExample('cluster-leak');
    expect(report.verdict.kind).toBe('ok');
    expect(clusterKind(report)).toBe('leak');
    expect(clusterBadgeFor(report)).toEqual({
      kind: 'leak',
      text: 'workers +32 MB/run',
      title: report.cluster!.verdict!.reason
    });
  });

  it('says what persisted data the workers hold, never a leak', () => {
    const report = loadExample('cluster-retains');
    expect(managedGrowth(report.cluster!)).toBe(32 * MB);
    expect(clusterBadgeFor(report)?.text).toBe('workers +32 MB');
    expect(clusterBadgeFor(report)?.kind).toBe('retains');
  });

  it('adds nothing for fine workers or a kernel without a client', () => {
    expect(clusterBadgeFor(loadExample('cluster-workers'))).toBeNull();
    expect(clusterBadgeFor(makeReport())).toBeNull();
    expect(clusterKind(makeReport())).toBeNull();
  });

  it('follows the flags when a report has no cluster verdict, and never says ±0', () => {
    const flagged = makeReport({
      verdict: {
        kind: 'ok',
        flags: ['cluster-leak'],
        bytes_per_run: null,
        reason: ''
      }
    });
    expect(clusterBadgeFor(flagged)?.text).toBe('workers leak');
    const zero = makeReport({
      cluster: cluster([worker()], {
        verdict: { kind: 'leak', bytes_per_run: 0, reason: 'r' }
      })
    });
    expect(clusterBadgeFor(zero)?.text).toBe('workers leak');
  });
});

describe('giveBackBars', () => {
  const result: IGiveBackResult = {
    scheduler: 'tcp://127.0.0.1:0',
    trimmed: 3 * MB,
    errors: [],
    workers: [
      {
        name: 0,
        address: 'tcp://a',
        trimmed: 3 * MB,
        rss: 110 * MB,
        managed: 10 * MB,
        unmanaged: 100 * MB,
        spilled: 0,
        memory_limit: 400 * MB
      },
      {
        name: 'musl',
        address: 'tcp://b',
        trimmed: 0,
        rss: 90 * MB,
        managed: null,
        unmanaged: null,
        spilled: null,
        memory_limit: null,
        trim: false
      }
    ]
  };

  it('draws the workers as the trim left them, numeric names as text', () => {
    const [a, b] = giveBackBars(result);
    expect(a.name).toBe('0');
    expect(a.trimmed).toBe(3 * MB);
    expect(a.process).toBe(110 * MB);
    expect(a.delta).toBeNull();
    // A worker that could not split its memory: all of its RSS is unmanaged, no limit drawn.
    expect(b.unmanaged).toBe(90 * MB);
    expect(b.managed).toBe(0);
    expect(b.limitAt).toBeNull();
    expect(b.noTrim).toBe(true);
  });
});

describe('withWorkersPanel', () => {
  const leak = loadExample('cluster-leak');
  const plain = makeReport({ execution_count: 1 });

  it('leaves a timeline without workers as it is', () => {
    const spec = timelineSpec([plain], FALLBACK_PALETTE);
    const palette = {
      managed: 'red',
      unmanaged: 'pink',
      spilled: 'grey',
      outline: 'red'
    };
    expect(withWorkersPanel(spec, [plain], palette)).toBe(spec);
  });

  it('adds a panel of the workers stacked in Dask order, lined up with the kernel panels', () => {
    const executions = [plain, leak];
    const spec = timelineSpec(executions, FALLBACK_PALETTE, { width: 240 });
    const palette = {
      managed: 'rgb(1, 2, 3)',
      unmanaged: 'rgb(4, 5, 6)',
      spilled: 'rgb(7, 8, 9)',
      outline: 'rgb(1, 2, 3)'
    };
    const drawn = withWorkersPanel(spec, executions, palette, {
      width: 240
    }) as any;
    const before = (spec as any).vconcat.length;
    expect(drawn.vconcat).toHaveLength(before + 1);
    const panel = drawn.vconcat[before];
    expect(panel.encoding.x.scale.domain).toEqual(
      (spec as any).vconcat[0].layer[0].encoding.x.scale.domain
    );
    expect(panel.encoding.color.scale.range).toEqual([
      'rgb(1, 2, 3)',
      'rgb(4, 5, 6)',
      'rgb(7, 8, 9)'
    ]);
    expect(panel.encoding.stroke.scale.range[1]).toBe('rgb(1, 2, 3)');
    // The plain execution read no workers; the leak's two workers hold unmanaged memory (and at most a few
    // bytes of a task's result, managed, when the example was read before Dask released it).
    const rows = drawn.datasets.workers.filter(
      (row: { part: string; bytes: number }) =>
        row.part !== DEFAULT_WORKERS_TEXT.managed || row.bytes >= 1024
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      index: 1,
      part: DEFAULT_WORKERS_TEXT.unmanaged,
      cell: `[${leak.execution_count}]`,
      verdict: 'leak'
    });
    // The example is regenerated from a real cluster by every `make test`: its figures are read, not written here.
    expect(rows[0].totalText).toMatch(/^\d[\d.]* MB$/);
    // The kernel's datasets are still there.
    expect(drawn.datasets.executions).toBe((spec as any).datasets.executions);
    // One "RSS after / Peak RSS" legend: the line styles resolve with the colours (shared, they drew a
    // second, grey legend), and the verdicts' legend stays under the kernel's plot.
    expect(drawn.resolve.scale).toEqual({
      fill: 'independent',
      shape: 'independent',
      color: 'independent',
      stroke: 'independent',
      strokeDash: 'independent'
    });
    // Its height as asked, the legend under its own axis.
    const sized = withWorkersPanel(spec, executions, palette, {
      height: 40
    }) as any;
    const last = sized.vconcat[sized.vconcat.length - 1];
    expect(last.height).toBe(40);
    expect(last.encoding.color.legend.legendY).toBe(40 + 36);
  });

  it('puts kernel strings in as data values only', () => {
    const hostile = '<img src=x onerror=alert(1)>';
    const report = makeReport({
      cluster: cluster([worker({ name: hostile, address: hostile })], {
        verdict: { kind: 'ok', bytes_per_run: null, reason: hostile }
      })
    });
    const spec = timelineSpec([report], FALLBACK_PALETTE);
    const drawn = withWorkersPanel(spec, [report], {
      managed: 'a',
      unmanaged: 'b',
      spilled: 'c',
      outline: 'a'
    }) as any;
    const panel = drawn.vconcat[drawn.vconcat.length - 1];
    expect(JSON.stringify(panel)).not.toContain('img');
    expect(drawn.datasets.workers[0].reason).toBe(hostile);
  });
});

describe('colours', () => {
  it('parses what getComputedStyle returns, color-mix results included', () => {
    expect(parseCssColor('rgb(25, 118, 210)')).toEqual({
      r: 25,
      g: 118,
      b: 210,
      a: 1
    });
    expect(parseCssColor('rgba(0, 0, 0, 0.54)')).toEqual({
      r: 0,
      g: 0,
      b: 0,
      a: 0.54
    });
    expect(parseCssColor('rgb(0 0 0 / 50%)')).toEqual({
      r: 0,
      g: 0,
      b: 0,
      a: 0.5
    });
    expect(parseCssColor('#fff')).toEqual({ r: 255, g: 255, b: 255, a: 1 });
    expect(parseCssColor('#1976d2')).toEqual({ r: 25, g: 118, b: 210, a: 1 });
    const mixed = parseCssColor('color(srgb 0.5 0.25 1)')!;
    expect(toCssRgb(mixed)).toBe('rgb(128, 64, 255)');
    expect(parseCssColor('color(display-p3 1 0 0)')).toBeNull();
    expect(parseCssColor('red')).toBeNull();
    expect(parseCssColor('')).toBeNull();
  });

  it('computes WCAG contrast, translucent colours over their background', () => {
    const white = parseCssColor('#fff')!;
    const black = parseCssColor('#000')!;
    expect(contrastRatio(black, white)).toBeCloseTo(21);
    expect(contrastRatio(white, white)).toBeCloseTo(1);
    // JupyterLab Light's brand blue on its panel: the managed part.
    expect(contrastRatio(parseCssColor('#1976d2')!, white)).toBeCloseTo(4.6, 1);
    // --jp-ui-font-color2 in Light, painted over white.
    expect(
      contrastRatio(parseCssColor('rgba(0, 0, 0, 0.54)')!, white)
    ).toBeGreaterThan(4.5);
  });
});
