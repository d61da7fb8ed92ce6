import {
  backrefTree,
  backrefTreeSpec,
  chainText,
  FALLBACK_PALETTE,
  growthSpec,
  linesSpec,
  sampleExecutions,
  sitesSpec,
  timelineSpec
} from '../charts';
import { IBackref, IReport } from '../protocol';
import { formatDelta } from '../format';
import { keptByRun, rssDelta } from '../badge';
import { makeReport, loadExample } from './fixtures';
import {
  EXECUTION_PADDING,
  executionAxis,
  executionTicks,
  VERDICT_VARIABLES
} from '../chartbase';
import { parseCssColor } from '../contrast';

const deep = loadExample('deep');
const leak = loadExample('leak');

const HOSTILE = '<img src=x onerror=alert(1)>';
const SCRIPT = '<script>alert(1)</script>';

/** Every string anywhere in a spec, with the key that holds it. */
function strings(
  value: unknown,
  key = '',
  out: Array<[string, string]> = []
): Array<[string, string]> {
  if (typeof value === 'string') {
    out.push([key, value]);
  } else if (Array.isArray(value)) {
    value.forEach(v => strings(v, key, out));
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      strings(v, k, out);
    }
  }
  return out;
}

/** The spec with its inline data removed: what Vega compiles (fields, expressions, signals). */
function withoutData(spec: unknown): unknown {
  if (Array.isArray(spec)) {
    return spec.map(withoutData);
  }
  if (spec && typeof spec === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(spec)) {
      if (k === 'values' || k === 'datasets') {
        continue;
      }
      out[k] = withoutData(v);
    }
    return out;
  }
  return spec;
}

/** Hostile strings may only appear in inline data, never where Vega compiles code. */
function expectDataOnly(spec: unknown, ...hostile: string[]): void {
  const all = strings(spec).map(([, v]) => v);
  for (const h of hostile) {
    expect(all.some(v => v.includes(h))).toBe(true);
  }
  const compiled = strings(withoutData(spec));
  for (const [, value] of compiled) {
    for (const h of hostile) {
      expect(value).not.toContain(h);
    }
  }
  expect(
    compiled.some(([k]) => k === 'expr' || k === 'signal' || k === 'url')
  ).toBe(false);
  expect(JSON.stringify(spec)).not.toMatch(/"(signals|params|url)"/);
}

describe('timelineSpec', () => {
  const executions: IReport[] = [
    makeReport({ execution_count: 1 }),
    leak,
    makeReport({
      execution_count: 3,
      run: 2,
      rss: { before: 1, after: 5, peak: null },
      verdict: {
        kind: 'native',
        flags: ['native'],
        bytes_per_run: null,
        reason: HOSTILE
      }
    })
  ];

  it('has one datum per execution with its index, tooltip fields and verdict', () => {
    const spec = timelineSpec(executions, FALLBACK_PALETTE) as any;
    const rows = spec.datasets.executions;
    expect(rows.map((r: any) => r.index)).toEqual([0, 1, 2]);
    // The x axis counts executions from 1, as people do.
    expect(rows.map((r: any) => r.number)).toEqual([1, 2, 3]);
    expect(spec.vconcat[0].layer[1].encoding.x.field).toBe('number');
    expect(rows[1]).toMatchObject({
      cell: `[${leak.execution_count}]`,
      run: leak.run,
      verdict: 'leak',
      deltaText: formatDelta(rssDelta(leak))
    });
    expect(rows[2]).toMatchObject({
      cell: '[3]',
      peak: null,
      peakText: '–',
      reason: HOSTILE
    });
    // Lines: RSS after for every execution, peak only where there is one.
    expect(spec.datasets.series).toHaveLength(5);
    expect(
      spec.datasets.series.every((r: any) => typeof r.number === 'number')
    ).toBe(true);
    const points = spec.vconcat[0].layer[1];
    expect(points.mark.type).toBe('point');
    expect(points.encoding.fill.field).toBe('verdict');
    expect(points.encoding.fill.scale.range).toContain(
      FALLBACK_PALETTE.verdict.leak
    );
    expect(points.encoding.tooltip.map((t: any) => t.field)).toEqual(
      expect.arrayContaining(['number', 'cell', 'deltaText', 'verdict'])
    );
    expectDataOnly(spec, HOSTILE);
  });

  it('plots what each run kept beside its Δ RSS, only where reports have it', () => {
    const kept = 8_000_000;
    const leaking = { ...leak, verdict: { ...leak.verdict, kept } };
    expect(keptByRun(leaking)).toBe(kept);
    // A rebinding re-run holds a new 10 MB value but kept about nothing: its tick is at 0, not at 10 MB.
    const rebinding = makeReport({
      verdict: { ...makeReport().verdict, kept: 0 },
      native: { unexplained: 0, explained: 10_400_000 }
    } as any);
    expect(keptByRun(rebinding)).toBe(0);
    // An older report without the figure: what Python retained, else nothing to plot.
    const older = makeReport({
      native: { unexplained: 0, explained: 5_000_000 }
    } as any);
    delete (older.verdict as any).kept;
    expect(keptByRun(older)).toBe(5_000_000);
    expect(keptByRun(makeReport())).toBeNull();
    const withKept = timelineSpec(
      [makeReport(), leaking],
      FALLBACK_PALETTE
    ) as any;
    expect(withKept.vconcat).toHaveLength(2);
    expect(withKept.datasets.executions[1].kept).toBe(kept);
    // The ticks are named in a legend of their own under the Δ RSS panel.
    const ticks = withKept.vconcat[1].layer[1].encoding.color;
    expect(ticks.datum).toBe('kept by the run');
    expect(ticks.scale.range).toEqual([FALLBACK_PALETTE.python]);
    expect(ticks.legend.orient).toBe('none');
    expect(withKept.resolve.scale.color).toBe('independent');
    const without = timelineSpec([makeReport()], FALLBACK_PALETTE) as any;
    expect(without.vconcat).toHaveLength(1);
  });

  it('marks the selected execution and takes colours from the palette', () => {
    const palette = { ...FALLBACK_PALETTE, rss: 'var-rss', text: 'var-text' };
    const spec = timelineSpec(executions, palette, {
      selected: 1,
      width: 250
    }) as any;
    const layers = spec.vconcat[0].layer;
    expect(layers[2].mark.type).toBe('rule');
    expect(layers[2].data.values).toEqual([{ number: 2 }]);
    expect(layers[0].encoding.color.scale.range[0]).toBe('var-rss');
    expect(spec.vconcat[0].width).toBe(250);
    expect(spec.config.background).toBe('transparent');
  });

  it('names executions as the table does and marks each restart', () => {
    const spec = timelineSpec(executions, FALLBACK_PALETTE, {
      label: report => `cell 9 · run ${report.run}`,
      restarts: [2, 3]
    }) as any;
    expect(spec.datasets.executions[0].cell).toBe('cell 9 · run 1');
    const marker = spec.vconcat[0].layer[2];
    // Between the 2nd and 3rd execution, and after the last one.
    expect(marker.data.values).toEqual([
      { number: 2.5, label: 'restart' },
      { number: 3.5, label: 'restart' }
    ]);
    expect(marker.layer.map((l: any) => l.mark.type)).toEqual(['rule', 'text']);
    // The label stands above the plot: inside it covered the points near the top, at its bottom the x axis.
    expect(marker.layer[1].mark).toMatchObject({ y: 0, baseline: 'bottom' });
    expect(marker.layer[1].mark.dy).toBeLessThan(0);
    expect(spec.vconcat[0].encoding).toBeUndefined();
    expect(spec.vconcat[0].layer[0].encoding.x.scale.domain).toEqual([
      0.5, 3.5
    ]);
  });

  it('breaks the lines where the kernel restarted: a restart is not a drop', () => {
    const spec = timelineSpec(executions, FALLBACK_PALETTE, {
      restarts: [2]
    }) as any;
    expect(spec.datasets.executions.map((r: any) => r.segment)).toEqual([
      0, 0, 1
    ]);
    expect(spec.datasets.series.map((r: any) => [r.number, r.segment])).toEqual(
      [
        [1, 0],
        [1, 0],
        [2, 0],
        [2, 0],
        [3, 1]
      ]
    );
    const line = spec.vconcat[0].layer[0];
    expect(line.mark.type).toBe('line');
    expect(line.encoding.detail).toEqual({
      field: 'segment',
      type: 'nominal'
    });
  });

  it('fits the height it is given, with one legend of the verdicts drawn, by colour and shape', () => {
    const spec = timelineSpec(executions, FALLBACK_PALETTE, {
      height: 100,
      width: 190
    }) as any;
    const [levels, delta] = spec.vconcat;
    expect(levels.height + delta.height).toBe(100);
    expect(levels.height).toBeGreaterThan(delta.height);
    // Never below a readable plot: the section scrolls instead.
    const tiny = timelineSpec(executions, FALLBACK_PALETTE, {
      height: 10
    }) as any;
    expect(tiny.vconcat[0].height).toBeGreaterThanOrEqual(50);
    const points = levels.layer[1].encoding;
    expect(points.fill.legend.values).toEqual(['ok', 'leak', 'native']);
    expect(points.shape.legend).toEqual(points.fill.legend);
    expect(points.shape.field).toBe('verdict');
    // leak and native differ in shape, not only in two near reds.
    const shapes = points.shape.scale.range;
    const domain = points.shape.scale.domain;
    expect(shapes[domain.indexOf('leak')]).not.toBe(
      shapes[domain.indexOf('native')]
    );
    // Right under the kernel's plot, not under the last panel.
    expect(spec.resolve.scale).toMatchObject({
      fill: 'independent',
      shape: 'independent'
    });
    expect(points.fill.legend.legendY).toBeGreaterThan(levels.height);
  });

  it('counts memory on its axes in the units the text uses (MB), not "34M"', () => {
    const spec = timelineSpec(
      [
        makeReport({
          rss: { before: 30e6, after: 34e6, peak: 35e6, limit: null }
        })
      ],
      FALLBACK_PALETTE
    ) as any;
    const axis = spec.vconcat[0].layer[0].encoding.y.axis;
    expect(axis.format).toBeUndefined();
    expect(axis.labelExpr).toBe("format(datum.value / 1000000, '~r') + ' MB'");
    const bars = growthSpec(
      [{ type: 'bytes', count: 1, size: 2_500 }],
      FALLBACK_PALETTE
    ) as any;
    expect(bars.encoding.x.axis.labelExpr).toBe(
      "format(datum.value / 1000, '~r') + ' kB'"
    );
  });

  it('handles no executions', () => {
    const spec = timelineSpec([], FALLBACK_PALETTE) as any;
    expect(spec.datasets.executions).toEqual([]);
  });
});

describe("the verdicts' colours", () => {
  it('tells native from leak by hue, not by two near reds, in JupyterLab Light and Dark', () => {
    // The values of those variables in theme-light and theme-dark.
    const themes: Array<Record<string, string>> = [
      {
        '--jp-error-color0': '#b71c1c',
        '--jp-error-color1': '#d32f2f',
        '--jp-mirror-editor-meta-color': '#a2f'
      },
      {
        '--jp-error-color0': '#d32f2f',
        '--jp-error-color1': '#f44336',
        '--jp-mirror-editor-meta-color': '#a2f'
      }
    ];
    expect(VERDICT_VARIABLES.native).not.toMatch(/error-color/);
    for (const theme of [...themes, null]) {
      const colour = (kind: 'leak' | 'native') =>
        parseCssColor(
          theme
            ? theme[VERDICT_VARIABLES[kind]]
            : FALLBACK_PALETTE.verdict[kind]
        )!;
      // Red against purple: the blue channel alone sets them apart, also for red-green colour blindness.
      expect(Math.abs(colour('native').b - colour('leak').b)).toBeGreaterThan(
        150
      );
    }
  });
});

describe('bar charts', () => {
  it('growthSpec: horizontal bars of size by type, count in the tooltip, duplicates kept apart', () => {
    const spec = growthSpec(
      [
        { type: 'Node', count: 3, size: 100 },
        { type: HOSTILE, count: 1500, size: 2_000_000 },
        { type: 'Node', count: 1, size: 50 }
      ],
      FALLBACK_PALETTE
    ) as any;
    expect(spec.mark.type).toBe('bar');
    expect(spec.encoding.x.field).toBe('size');
    expect(spec.encoding.y.field).toBe('key');
    expect(spec.data.values.map((r: any) => r.key)).toEqual([
      HOSTILE,
      'Node',
      'Node (2)'
    ]);
    expect(spec.data.values[0]).toMatchObject({
      count: 1500,
      countText: '1.5k',
      sizeText: '2 MB'
    });
    expect(spec.encoding.tooltip.map((t: any) => t.field)).toContain(
      'countText'
    );
    expectDataOnly(spec, HOSTILE);
  });

  it('growthSpec reads real reports', () => {
    const growth = deep.objects!.growth;
    const biggest = [...growth].sort((a, b) => b.size - a.size)[0];
    const spec = growthSpec(growth, FALLBACK_PALETTE) as any;
    expect(spec.data.values[0].type).toBe(biggest.type);
    expect(spec.height).toBe(Math.min(growth.length, 25) * 18);
  });

  it('sitesSpec: file:line labels, the cell own lines stand out', () => {
    const real = deep.traced!.top!.slice(0, 2);
    const spec = sitesSpec(
      [
        ...real,
        {
          file: `/tmp/${SCRIPT}.py`,
          line: 3,
          code: HOSTILE,
          size: 10,
          count: 1
        }
      ],
      FALLBACK_PALETTE
    ) as any;
    const rows = spec.data.values;
    // The deep example's biggest site is the cell's own line 2 (line 1 is the %%memdiag magic).
    expect(rows[0]).toMatchObject({ key: 'cell:2', inCell: true });
    real.forEach((site, index) =>
      expect(rows[index]).toMatchObject({
        key: `${site.file.split('/').pop()}:${site.line}`,
        inCell: site.in_cell === true
      })
    );
    expect(rows[real.length].file).toBe(`/tmp/${SCRIPT}.py`);
    expect(spec.encoding.color.field).toBe('inCell');
    expectDataOnly(spec, HOSTILE, SCRIPT);
  });

  it('linesSpec: one bar per line increment', () => {
    const spec = linesSpec(
      [
        { line: 1, code: 'a = []', increment: 0 },
        { line: 2, code: HOSTILE, increment: 8_000_000 },
        { line: 3, code: 'del a', increment: -4_000_000 }
      ],
      FALLBACK_PALETTE
    ) as any;
    expect(spec.mark.type).toBe('bar');
    expect(spec.encoding.x.field).toBe('label');
    expect(spec.encoding.y.field).toBe('increment');
    expect(spec.data.values.map((r: any) => r.label)).toEqual(['1', '2', '3']);
    expect(spec.data.values.map((r: any) => r.incrementText)).toEqual([
      '±0 B',
      '+8 MB',
      '-4 MB'
    ]);
    expect(spec.data.values.map((r: any) => r.grows)).toEqual([
      false,
      true,
      false
    ]);
    expectDataOnly(spec, HOSTILE);
  });

  it('linesSpec: lines of a function (-f) stay apart from the cell lines of the same number', () => {
    const spec = linesSpec(
      [
        { line: 2, code: 'load(1)', increment: 10 },
        {
          line: 2,
          code: 'return bytearray(n)',
          increment: 20,
          func: 'load'
        } as any
      ],
      FALLBACK_PALETTE
    ) as any;
    expect(spec.data.values.map((r: any) => r.label)).toEqual(['2', 'load:2']);
  });
});

describe('backref tree', () => {
  const backrefs: IBackref[] = [
    {
      type: 'bytearray',
      root: 'cache',
      chain: [
        { label: 'list', edge: '' },
        { label: 'bytearray', edge: '[3]' }
      ]
    },
    {
      type: 'bytearray',
      root: 'cache',
      chain: [
        { label: 'list', edge: '' },
        { label: 'bytearray', edge: '[4]' }
      ]
    },
    {
      type: 'bytearray',
      root: 'cache',
      chain: [
        { label: 'list', edge: '' },
        { label: 'bytearray', edge: '[4]' }
      ]
    },
    { type: 'dict', root: 'Out[3]', chain: [{ label: 'dict', edge: '' }] },
    {
      type: HOSTILE,
      root: SCRIPT,
      chain: [{ label: HOSTILE, edge: `.${SCRIPT}` }]
    },
    { type: 'frame', root: 'sys.last_traceback', chain: [] }
  ];

  it('merges chains into one tree under the named roots', () => {
    const nodes = backrefTree(backrefs);
    const byLabel = (label: string) => nodes.filter(n => n.label === label);
    expect(nodes[0]).toMatchObject({ kind: 'top', parent: null });
    const roots = nodes.filter(n => n.kind === 'root');
    expect(roots.map(n => n.label)).toEqual([
      'cache',
      'Out[3]',
      SCRIPT,
      'sys.last_traceback'
    ]);
    expect(roots.every(n => n.parent === nodes[0].id)).toBe(true);
    // The two chains through cache share the list node; the two identical ones share a leaf.
    const cacheList = nodes.filter(n => n.label === 'list');
    expect(cacheList).toHaveLength(1);
    const leaves = byLabel('bytearray');
    expect(leaves.map(n => [n.edge, n.kind, n.count])).toEqual([
      ['[3]', 'leaf', 1],
      ['[4]', 'leaf', 2]
    ]);
    expect(leaves.every(n => n.parent === cacheList[0].id)).toBe(true);
    // ids are ours: kernel strings never become keys.
    expect(nodes.every(n => /^(t|n\d+)$/.test(n.id))).toBe(true);
  });

  it('is an indented tree that fits its width, with the labels as data', () => {
    const spec = backrefTreeSpec(backrefs, FALLBACK_PALETTE, 250) as any;
    expect(spec.$schema).toMatch(/vega\/v6/);
    // The whole chart, padding included, within the 250 px it was given.
    expect(spec.width + 2 * spec.padding).toBe(250);
    const rows = spec.data.find((d: any) => d.name === 'tree').values;
    // Reading order: each root, then its subtree; every node on a row of its own.
    expect(rows.map((n: any) => n.text)).toEqual([
      'cache',
      'list',
      '[3] bytearray',
      '[4] bytearray ×2',
      'Out[3]',
      'dict',
      SCRIPT,
      `.${SCRIPT} ${HOSTILE}`,
      'sys.last_traceback'
    ]);
    expect(new Set(rows.map((n: any) => n.y)).size).toBe(rows.length);
    expect(spec.height).toBe(rows.length * 20);
    // Indented by depth; an elbow from the parent's marker to each child; nothing past the width.
    const byText = (text: string) => rows.find((n: any) => n.text === text);
    const list = byText('list');
    const leaf = byText('[3] bytearray');
    expect(leaf.x).toBeGreaterThan(list.x);
    expect([leaf.px, leaf.py]).toEqual([list.x, list.y]);
    expect(byText('cache')).toMatchObject({ x: 0, px: 0 });
    for (const row of rows) {
      expect(row.x + 8 + row.limit).toBeLessThanOrEqual(240);
    }
    // However deep, a label keeps some room (cut with an ellipsis, whole in its tooltip).
    const deep: IBackref = {
      type: 'list',
      root: 'deep',
      chain: Array.from({ length: 30 }, (_, i) => ({
        label: 'list',
        edge: `[${i}]`
      }))
    };
    const deepRows = (backrefTreeSpec([deep], FALLBACK_PALETTE, 250) as any)
      .data[0].values;
    for (const row of deepRows) {
      expect(row.limit).toBeGreaterThanOrEqual(60);
      expect(row.x + 8 + row.limit).toBeLessThanOrEqual(240);
    }
    expect(spec.marks.map((m: any) => m.type)).toEqual([
      'rule',
      'rule',
      'symbol',
      'text'
    ]);
    expectDataOnly(spec, HOSTILE, SCRIPT);
  });

  it('writes chains as text', () => {
    expect(chainText(backrefs[0])).toBe('cache → list[3] → bytearray');
    expect(chainText(backrefs[3])).toBe('Out[3] → dict');
    expect(chainText(backrefs[5])).toBe('sys.last_traceback');
  });
});

describe('sampleExecutions', () => {
  const many = (n: number, flagged: number[] = []) =>
    Array.from({ length: n }, (_, i) =>
      makeReport({
        execution_count: i,
        verdict: {
          kind: flagged.includes(i) ? 'leak' : 'ok',
          flags: [],
          bytes_per_run: null,
          reason: ''
        }
      })
    );

  it('keeps everything under the limit', () => {
    const executions = many(10);
    expect(sampleExecutions(executions, 20)).toEqual(executions);
  });

  it('keeps flagged, selected and the newest, in order, within the limit', () => {
    const executions = many(5000, [17, 4000]);
    const selected = executions[123];
    const sample = sampleExecutions(executions, 300, selected);
    expect(sample.length).toBeLessThanOrEqual(300);
    const counts = sample.map((r: any) => r.execution_count);
    expect(counts).toEqual([...counts].sort((a: number, b: number) => a - b));
    for (const wanted of [17, 123, 4000, 4999]) {
      expect(counts).toContain(wanted);
    }
  });
});

describe('the execution axis', () => {
  it('ticks executions from 1, never 0, at most 6 of them', () => {
    expect(executionTicks(0)).toEqual([1]);
    expect(executionTicks(4)).toEqual([1, 2, 3, 4]);
    expect(executionTicks(10)).toHaveLength(10);
    expect(executionTicks(12)).toEqual([1, 5, 10]);
    expect(executionTicks(37)).toEqual([1, 10, 20, 30]);
    expect(executionTicks(480)).toEqual([1, 100, 200, 300, 400]);
    for (const count of [11, 25, 26, 99, 500, 4321]) {
      const ticks = executionTicks(count);
      expect(ticks.length).toBeLessThanOrEqual(6);
      expect(Math.min(...ticks)).toBe(1);
      expect(Math.max(...ticks)).toBeLessThanOrEqual(count);
    }
  });

  it('keeps the first and last points clear of the edges', () => {
    const x = executionAxis(37, 'Execution') as any;
    expect(x.scale.padding).toBe(EXECUTION_PADDING);
    expect(x.scale.domain).toEqual([0.5, 37.5]);
    expect(x.axis.values).toEqual([1, 10, 20, 30]);
  });
});
