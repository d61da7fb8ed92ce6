/**
 * Vega-Lite and Vega specs for memdiag's charts, built from report data.
 *
 * Pure module: no JupyterLab or DOM imports. Security: every string that came from a kernel
 * (type names, file paths, code, root names, reasons) goes into the specs as a data value
 * only. Never as a field name, an expression, a signal, a URL or a format string: Vega
 * compiles those into code. Field names, titles and colours are ours; numbers shown in
 * tooltips are formatted here so the specs need no format expressions either.
 */
import {
  bytesAxis,
  cellLabel,
  chartConfig as config,
  ChartSpec,
  DEFAULT_TEXT,
  executionAxis,
  IChartPalette,
  IChartText,
  MAX_BARS,
  ROW_HEIGHT,
  uniqueKeys,
  VEGA_LITE_SCHEMA
} from './chartbase';
import { keptByRun, rssAfter, rssDelta } from './badge';
import { formatBytes, formatCount, formatDelta } from './format';
import {
  ILineIncrement,
  IReport,
  ITracedSite,
  ITypeGrowth,
  VERDICT_KINDS,
  VerdictKind
} from './protocol';

export * from './chartbase';
export * from './backreftree';

/** What the timeline draws besides the executions. */
export interface ITimelineOptions {
  text?: IChartText;
  selected?: number | null;
  width?: number;
  /** Each execution's name ("cell 5 · run 3"), as the table says it; "[n]" when absent. */
  label?: (report: IReport) => string;
  /**
   * Where the kernel restarted: an index i marks a restart between executions i - 1 and i
   * (`executions.length` for a restart after the last one).
   */
  restarts?: ReadonlyArray<number>;
  /**
   * Pixels for the plots themselves (axes and legends come on top): the panels share them, so the
   * caller can fit the whole chart in the space it has. 200 when absent.
   */
  height?: number;
}

/** Plot heights never go under these: below them a panel says nothing (the section scrolls instead). */
export const MIN_LEVELS_HEIGHT = 50;
export const MIN_DELTA_HEIGHT = 24;
/** Pixels from the Δ RSS panel's bottom edge to the line of its x axis's title (under the tick labels). */
const DELTA_LEGEND_DY = 18;

/**
 * The timeline of a notebook's executions, oldest first, numbered from 1 on the x axis. Every
 * datum carries `index` (the position in `executions`) so a click on any mark can select that
 * execution.
 */
export function timelineSpec(
  executions: ReadonlyArray<IReport>,
  palette: IChartPalette,
  options: ITimelineOptions = {}
): ChartSpec {
  const text = options.text ?? DEFAULT_TEXT;
  const label = options.label ?? cellLabel;
  const restarts = (options.restarts ?? []).filter(
    index => index > 0 && index <= executions.length
  );
  // The kernel each execution ran in: a line never joins two of them (a restart is not a drop).
  const segmentOf = (index: number): number =>
    restarts.filter(restart => restart <= index).length;
  const rows = executions.map((report, index) => {
    const delta = rssDelta(report);
    const kept = keptByRun(report);
    return {
      index,
      number: index + 1,
      segment: segmentOf(index),
      cell: label(report),
      run: report.run,
      rssAfter: rssAfter(report),
      peak: report.rss.peak,
      kept,
      delta,
      deltaText: formatDelta(delta),
      rssText: formatBytes(rssAfter(report)),
      peakText: report.rss.peak === null ? '–' : formatBytes(report.rss.peak),
      keptText: kept === null ? '–' : formatBytes(kept),
      verdict: report.verdict.kind,
      reason: report.verdict.reason
    };
  });
  // Long form for the lines, so the legend names the series without any label expression.
  const series: Array<{
    number: number;
    segment: number;
    series: string;
    bytes: number;
  }> = [];
  for (const row of rows) {
    const common = { number: row.number, segment: row.segment };
    series.push({ ...common, series: text.rssAfter, bytes: row.rssAfter });
    if (row.peak !== null) {
      series.push({ ...common, series: text.peak, bytes: row.peak });
    }
  }
  // 'container' does not size views inside a vconcat: the caller passes the node's width.
  const width = options.width ?? 300;
  const tooltip = [
    { field: 'number', type: 'quantitative', title: text.execution },
    { field: 'cell', type: 'nominal', title: text.cell },
    { field: 'deltaText', type: 'nominal', title: text.deltaRss },
    { field: 'rssText', type: 'nominal', title: text.rssAfter },
    { field: 'peakText', type: 'nominal', title: text.peak },
    { field: 'keptText', type: 'nominal', title: text.keptTitle },
    { field: 'verdict', type: 'nominal', title: text.verdict },
    { field: 'reason', type: 'nominal', title: text.reason }
  ];
  const x = executionAxis(rows.length, text.execution);
  const withDelta = rows.some(row => row.kept !== null);
  const plots = Math.max(
    MIN_LEVELS_HEIGHT + (withDelta ? MIN_DELTA_HEIGHT : 0),
    Math.round(options.height ?? 200)
  );
  const deltaHeight = withDelta
    ? Math.max(MIN_DELTA_HEIGHT, Math.round(plots * 0.3))
    : 0;
  const levelsHeight = plots - deltaHeight;
  // With the Δ RSS panel under it, the top panel leaves the x axis's labels to it: room for the plots.
  const levelsX = withDelta
    ? { ...x, axis: { ...(x.axis as ChartSpec), labels: false, title: null } }
    : x;
  // Only the verdicts drawn: a legend of five where two occur took a third of a short section.
  const kinds = VERDICT_KINDS.filter(kind =>
    rows.some(row => row.verdict === kind)
  );
  const verdictTop = levelsHeight + (withDelta ? 6 : 36);
  // On one line right under the plot, from the left edge of the y axis, the verdicts under it: above the plot
  // the two entries ran past a sidebar's width or took a line each. (Vega leaves out of the chart's bounds a
  // legend placed above its plot.)
  const seriesLegend = {
    orient: 'none',
    direction: 'horizontal',
    columns: 2,
    gridAlign: 'none',
    columnPadding: 10,
    symbolSize: 60,
    legendX: -65,
    legendY: verdictTop
  };
  const restartLayers: ChartSpec[] = restarts.length
    ? [
        {
          data: {
            values: restarts.map(index => ({
              number: index + 0.5,
              label: text.restart
            }))
          },
          layer: [
            {
              mark: {
                type: 'rule',
                color: palette.text,
                strokeWidth: 1.5,
                strokeDash: [6, 3]
              },
              encoding: {
                x: { field: 'number', type: 'quantitative' },
                tooltip: [{ field: 'label', type: 'nominal', title: null }]
              }
            },
            {
              // Above the plot, left of its rule: inside it, it covered the points drawn near the top, and at
              // the bottom the x axis's ticks.
              mark: {
                type: 'text',
                color: palette.text,
                align: 'right',
                baseline: 'bottom',
                dx: -3,
                dy: -2,
                y: 0,
                fontSize: palette.fontSize
              },
              encoding: {
                x: { field: 'number', type: 'quantitative' },
                text: { field: 'label', type: 'nominal' }
              }
            }
          ]
        }
      ]
    : [];
  const levels: ChartSpec = {
    width,
    height: levelsHeight,
    layer: [
      {
        data: { name: 'series' },
        mark: { type: 'line', interpolate: 'monotone', strokeWidth: 1.5 },
        encoding: {
          x: levelsX,
          // One line per kernel: broken where the kernel restarted.
          detail: { field: 'segment', type: 'nominal' },
          y: {
            field: 'bytes',
            type: 'quantitative',
            title: text.memory,
            axis: bytesAxis(series.map(item => item.bytes))
          },
          color: {
            field: 'series',
            type: 'nominal',
            title: null,
            legend: seriesLegend,
            scale: {
              domain: [text.rssAfter, text.peak],
              range: [palette.rss, palette.peak]
            }
          },
          strokeDash: {
            field: 'series',
            type: 'nominal',
            // Same field as color: Vega-Lite merges both into one legend of line samples.
            title: null,
            legend: seriesLegend,
            scale: {
              domain: [text.rssAfter, text.peak],
              range: [
                [1, 0],
                [4, 3]
              ]
            }
          }
        }
      },
      {
        data: { name: 'executions' },
        mark: { type: 'point', filled: true, size: 60, cursor: 'pointer' },
        encoding: {
          x: levelsX,
          y: { field: 'rssAfter', type: 'quantitative' },
          fill: {
            field: 'verdict',
            type: 'nominal',
            title: null,
            legend: verdictLegend(kinds, verdictTop + 18, width),
            scale: {
              domain: [...VERDICT_KINDS],
              range: VERDICT_KINDS.map(kind => palette.verdict[kind])
            }
          },
          // A shape per verdict as well as a colour: leak, cycles and native tell apart without colour vision.
          shape: {
            field: 'verdict',
            type: 'nominal',
            title: null,
            legend: verdictLegend(kinds, verdictTop + 18, width),
            scale: {
              domain: [...VERDICT_KINDS],
              range: VERDICT_KINDS.map(kind => VERDICT_SHAPES[kind])
            }
          },
          stroke: { value: palette.text },
          strokeWidth: { value: 0.5 },
          tooltip
        }
      },
      ...restartLayers,
      ...(typeof options.selected === 'number' && rows[options.selected]
        ? [
            {
              data: { values: [{ number: options.selected + 1 }] },
              mark: {
                type: 'rule',
                color: palette.textMuted,
                strokeDash: [2, 2]
              },
              encoding: { x: { field: 'number', type: 'quantitative' } }
            }
          ]
        : [])
    ]
  };
  const panels: ChartSpec[] = [levels];
  if (withDelta) {
    panels.push({
      width,
      height: deltaHeight,
      data: { name: 'executions' },
      layer: [
        {
          mark: {
            type: 'bar',
            size: 6,
            color: palette.rss,
            opacity: 0.6,
            cursor: 'pointer'
          },
          encoding: {
            // Its title at the right end: the ticks' legend takes the left, on the same line.
            x: { ...x, axis: { ...(x.axis as ChartSpec), titleAnchor: 'end' } },
            y: {
              field: 'delta',
              type: 'quantitative',
              title: text.deltaRss,
              // Three ticks at least, in a panel a few dozen pixels high: with the default it labelled 0 alone.
              axis: {
                ...bytesAxis(
                  rows.flatMap(row =>
                    row.kept === null ? [row.delta] : [row.delta, row.kept]
                  )
                ),
                tickCount: 3
              }
            },
            tooltip
          }
        },
        {
          mark: {
            type: 'tick',
            orient: 'horizontal',
            thickness: 2,
            size: 10
          },
          encoding: {
            x,
            y: { field: 'kept', type: 'quantitative' },
            // What the ticks are, said under the panel (its own legend: the bars are the axis's Δ RSS): on the
            // line of the x axis's title, from the left edge of the y axis, so it costs the section no height.
            // The symbol is a tick (a short flat bar).
            color: {
              datum: text.keptTicks,
              title: null,
              scale: { domain: [text.keptTicks], range: [palette.python] },
              legend: {
                orient: 'none',
                direction: 'horizontal',
                symbolType: 'M-1,-0.25H1V0.25H-1Z',
                symbolSize: 80,
                legendX: -65,
                legendY: deltaHeight + DELTA_LEGEND_DY
              }
            },
            tooltip
          }
        }
      ]
    });
  }
  return {
    $schema: VEGA_LITE_SCHEMA,
    autosize: { type: 'fit-x', contains: 'padding' },
    datasets: { executions: rows, series },
    vconcat: panels,
    // Less than Vega-Lite's 20 px between the panels: a sidebar section is short.
    spacing: 8,
    // The verdicts' legend belongs to the kernel's plot, right under it (shared, it went under the last panel).
    // The Δ RSS panel's colour (its ticks' legend) is its own; the lines' colour and dash stay one legend.
    resolve: {
      scale: {
        fill: 'independent',
        shape: 'independent',
        color: 'independent',
        strokeDash: 'independent'
      }
    },
    config: config(palette)
  };
}

/** The shape of each verdict's points on the timeline. */
export const VERDICT_SHAPES: Record<VerdictKind, string> = {
  ok: 'circle',
  retains: 'square',
  leak: 'triangle-up',
  cycles: 'diamond',
  native: 'cross'
};

/**
 * The verdicts' legend right under the kernel's plot, from the left edge of its y axis (under the plot alone,
 * or at the bottom of the whole chart, it ran past a sidebar's width): only the verdicts drawn.
 */
function verdictLegend(
  kinds: ReadonlyArray<string>,
  top: number,
  width: number
): ChartSpec {
  return {
    values: [...kinds],
    orient: 'none',
    direction: 'horizontal',
    columns: width >= 220 ? 3 : 2,
    symbolSize: 50,
    columnPadding: 8,
    legendX: -65,
    legendY: top
  };
}

/** Options of the bar charts: their titles, and a width in px ('container' when absent). */
export interface IBarOptions {
  text?: IChartText;
  width?: number;
}

/** Horizontal bars of what survived the cell, by type. */
export function growthSpec(
  growth: ReadonlyArray<ITypeGrowth>,
  palette: IChartPalette,
  options: IBarOptions = {}
): ChartSpec {
  const text = options.text ?? DEFAULT_TEXT;
  const top = [...growth].sort((a, b) => b.size - a.size).slice(0, MAX_BARS);
  const keys = uniqueKeys(top.map(item => item.type));
  const rows = top.map((item, index) => ({
    index,
    key: keys[index],
    type: item.type,
    size: item.size,
    count: item.count,
    sizeText: formatBytes(item.size),
    countText: formatCount(item.count)
  }));
  return horizontalBars(
    rows,
    palette,
    text.type,
    text.size,
    [
      { field: 'type', type: 'nominal', title: text.type },
      { field: 'sizeText', type: 'nominal', title: text.size },
      { field: 'countText', type: 'nominal', title: text.count }
    ],
    { value: palette.python },
    options.width
  );
}

/** The last path component: sites are read by file name, the tooltip keeps the whole path. */
function baseName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] || path;
}

/** Horizontal bars of the allocation sites that retained the most. */
export function sitesSpec(
  top: ReadonlyArray<ITracedSite>,
  palette: IChartPalette,
  options: IBarOptions = {}
): ChartSpec {
  const text = options.text ?? DEFAULT_TEXT;
  const sites = top.slice(0, MAX_BARS);
  const keys = uniqueKeys(
    sites.map(site => `${baseName(site.file)}:${site.line}`)
  );
  const rows = sites.map((site, index) => ({
    index,
    key: keys[index],
    file: site.file,
    line: site.line,
    code: site.code ?? '',
    size: site.size,
    inCell: site.in_cell === true,
    sizeText: formatBytes(site.size),
    countText: formatCount(site.count)
  }));
  return horizontalBars(
    rows,
    palette,
    text.site,
    text.size,
    [
      { field: 'file', type: 'nominal', title: text.site },
      { field: 'line', type: 'quantitative', title: text.line },
      { field: 'code', type: 'nominal', title: text.code },
      { field: 'sizeText', type: 'nominal', title: text.size },
      { field: 'countText', type: 'nominal', title: text.count }
    ],
    {
      field: 'inCell',
      type: 'nominal',
      legend: null,
      scale: { domain: [true, false], range: [palette.accent, palette.python] }
    },
    options.width
  );
}

function horizontalBars(
  rows: Array<{ key: string; size: number }>,
  palette: IChartPalette,
  yTitle: string,
  xTitle: string,
  tooltip: ChartSpec[],
  color: ChartSpec = { value: palette.python },
  width: number | 'container' = 'container'
): ChartSpec {
  return {
    $schema: VEGA_LITE_SCHEMA,
    width,
    height: Math.max(rows.length, 1) * ROW_HEIGHT,
    autosize: { type: 'fit-x', contains: 'padding' },
    data: { values: rows },
    mark: { type: 'bar', cornerRadiusEnd: 2 },
    encoding: {
      y: {
        field: 'key',
        type: 'nominal',
        title: yTitle,
        sort: { field: 'size', order: 'descending' },
        // At most about half the default sidebar's chart: the bars keep room for their axis (the tooltip has the
        // whole name of a long pandas type).
        axis: { labelLimit: 110 }
      },
      x: {
        field: 'size',
        type: 'quantitative',
        title: xTitle,
        axis: bytesAxis(rows.map(row => row.size))
      },
      color,
      tooltip
    },
    config: config(palette)
  };
}

/** Per-line memory increments of a `%%memdiag --lines` run. */
export function linesSpec(
  lines: ReadonlyArray<ILineIncrement>,
  palette: IChartPalette,
  options: IBarOptions = {}
): ChartSpec {
  const text = options.text ?? DEFAULT_TEXT;
  const rows = lines.map((item, index) => ({
    index,
    line: item.line,
    // Lines of functions (`-f FUNC`) share numbers with the cell's: the label keeps them apart.
    label: Private.lineLabel(item),
    code: item.code,
    increment: item.increment,
    incrementText: formatDelta(item.increment),
    grows: item.increment > 0
  }));
  return {
    $schema: VEGA_LITE_SCHEMA,
    width: options.width ?? 'container',
    height: 120,
    autosize: { type: 'fit-x', contains: 'padding' },
    data: { values: rows },
    mark: { type: 'bar' },
    encoding: {
      x: {
        field: 'label',
        type: 'ordinal',
        title: text.line,
        sort: null,
        axis: { labelAngle: 0 }
      },
      y: {
        field: 'increment',
        type: 'quantitative',
        title: text.increment,
        axis: bytesAxis(rows.map(row => row.increment))
      },
      color: {
        field: 'grows',
        type: 'nominal',
        legend: null,
        scale: {
          domain: [true, false],
          range: [palette.accent, palette.python]
        }
      },
      tooltip: [
        { field: 'label', type: 'nominal', title: text.line },
        { field: 'code', type: 'nominal', title: text.code },
        { field: 'incrementText', type: 'nominal', title: text.increment }
      ]
    },
    config: config(palette)
  };
}

/**
 * At most `max` executions for a chart, oldest first: every flagged one (not `ok`) and the selected one,
 * then evenly spaced others. Thousands of points cost Vega hundreds of milliseconds and show nothing more.
 */
export function sampleExecutions(
  executions: ReadonlyArray<IReport>,
  max: number,
  selected: IReport | null = null
): IReport[] {
  if (executions.length <= max) {
    return [...executions];
  }
  const keep = new Set<number>();
  executions.forEach((report, i) => {
    if (report.verdict.kind !== 'ok' || report === selected) {
      keep.add(i);
    }
  });
  // The newest matters most: always show it.
  keep.add(executions.length - 1);
  const room = max - keep.size;
  if (room > 0) {
    const step = executions.length / room;
    for (let k = 0; k < room; k++) {
      keep.add(Math.floor(k * step));
    }
  }
  const indices = [...keep].sort((a, b) => a - b);
  // Flagged executions alone may exceed max: then the newest of them.
  return indices.slice(-max).map(i => executions[i]);
}

namespace Private {
  /** "3" for a line of the cell, "load:3" for line 3 of function `load`. */
  export function lineLabel(item: ILineIncrement): string {
    const func = item.func;
    return func ? `${func}:${item.line}` : String(item.line);
  }
}
