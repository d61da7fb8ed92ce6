/**
 * The cluster's total on the timeline: under the kernel's panels, a panel of the workers' memory after each
 * execution, managed, unmanaged and spilled stacked in Dask's dashboard colours. Its own y scale: a cluster
 * commonly holds far more than the kernel, and one axis would flatten the kernel's line.
 *
 * Pure module: the spec is plain data; kernel strings (reasons) are data values only, as in charts.ts.
 */
import { bytesAxis, cellLabel, ChartSpec, executionAxis } from './chartbase';
import {
  clusterKind,
  clusterTotals,
  WorkerPart,
  workerBars
} from './clusterview';
import { formatBytes } from './format';
import { IReport } from './protocol';

/**
 * Resolved colours (plain sRGB strings) of the three parts, read from the theme by the caller; `outline` is
 * the full colour that edges the faint unmanaged fill, as in the Workers section.
 */
export type WorkerPalette = Record<WorkerPart, string> & { outline: string };

/** Words the panel shows; callers pass translated ones. */
export interface IWorkersChartText {
  workers: string;
  managed: string;
  unmanaged: string;
  spilled: string;
  total: string;
  cell: string;
  run: string;
  verdict: string;
  reason: string;
  execution: string;
}

export const DEFAULT_WORKERS_TEXT: IWorkersChartText = {
  workers: 'Workers',
  managed: 'managed',
  unmanaged: 'unmanaged',
  spilled: 'spilled',
  total: 'Workers, total',
  cell: 'Cell',
  run: 'Run',
  verdict: 'Workers verdict',
  reason: 'Reason',
  execution: 'Execution'
};

/**
 * The x encoding of the timeline's first panel, so the panels line up execution by execution; the shared
 * execution axis when the timeline has none.
 */
export function timelineAxis(
  timeline: ChartSpec,
  count: number,
  title: string
): ChartSpec {
  const panels = Array.isArray(timeline.vconcat) ? timeline.vconcat : [];
  const first = panels[0] as ChartSpec | undefined;
  const layers = Array.isArray(first?.layer)
    ? (first.layer as ChartSpec[])
    : [];
  for (const layer of layers) {
    const x = (layer.encoding as ChartSpec | undefined)?.x as
      ChartSpec | undefined;
    if (x && typeof x.field === 'string' && x.scale) {
      return x;
    }
  }
  return executionAxis(count, title);
}

/** The total of each execution's stacked bars. */
function stackHeights(
  rows: ReadonlyArray<Record<string, string | number>>
): number[] {
  const totals = new Map<unknown, number>();
  for (const row of rows) {
    totals.set(row.index, (totals.get(row.index) ?? 0) + Number(row.bytes));
  }
  return [...totals.values()];
}

/** One row per execution that read the workers and part that holds bytes: long form for the stack. */
export function clusterTimelineRows(
  executions: ReadonlyArray<IReport>,
  text: IWorkersChartText = DEFAULT_WORKERS_TEXT,
  label: (report: IReport) => string = cellLabel
): Array<Record<string, string | number>> {
  const rows: Array<Record<string, string | number>> = [];
  executions.forEach((report, index) => {
    const cluster = report.cluster;
    if (!cluster || !cluster.workers.length) {
      return;
    }
    const totals = clusterTotals(workerBars(cluster));
    const common = {
      // Both: the timeline's x field is one of them (the position, or the execution's number from 1).
      index,
      number: index + 1,
      cell: label(report),
      run: report.run,
      totalText: formatBytes(totals.managed + totals.unmanaged),
      managedText: formatBytes(totals.managed),
      unmanagedText: formatBytes(totals.unmanaged),
      spilledText: formatBytes(totals.spilled),
      verdict: clusterKind(report) ?? 'ok',
      reason: cluster.verdict?.reason ?? ''
    };
    for (const part of ['managed', 'unmanaged', 'spilled'] as const) {
      if (totals[part] > 0) {
        rows.push({
          ...common,
          part: text[part],
          order: rows.length,
          bytes: totals[part]
        });
      }
    }
  });
  return rows;
}

/**
 * `timeline` (a timelineSpec) with the workers' panel appended, when any of `executions` read the workers;
 * `timeline` itself otherwise. The panel's rows carry `index`, so a click selects the execution as the
 * kernel's points do.
 */
export function withWorkersPanel(
  timeline: ChartSpec,
  executions: ReadonlyArray<IReport>,
  palette: WorkerPalette,
  options: {
    text?: IWorkersChartText;
    width?: number;
    /** Each execution's name, as the timeline's own tooltips say it. */
    label?: (report: IReport) => string;
    /** The plot's height in px (its axis and legend come on top). */
    height?: number;
  } = {}
): ChartSpec {
  const text = options.text ?? DEFAULT_WORKERS_TEXT;
  const rows = clusterTimelineRows(executions, text, options.label);
  const panels = timeline.vconcat;
  if (!rows.length || !Array.isArray(panels)) {
    return timeline;
  }
  const width = options.width ?? 300;
  const height = Math.round(options.height ?? 70);
  const barSize = Math.max(1, Math.min(8, (width / executions.length) * 0.6));
  const datasets =
    typeof timeline.datasets === 'object' && timeline.datasets !== null
      ? timeline.datasets
      : {};
  const panel: ChartSpec = {
    width,
    height,
    data: { name: 'workers' },
    mark: { type: 'bar', size: barSize, strokeWidth: 1, cursor: 'pointer' },
    encoding: {
      // The kernel's panels' scale, so the bars line up with their executions; an axis of its own, labelled.
      x: {
        ...timelineAxis(timeline, executions.length, text.execution),
        axis: executionAxis(executions.length, text.execution).axis,
        title: text.execution
      },
      y: {
        field: 'bytes',
        type: 'quantitative',
        stack: 'zero',
        title: text.workers,
        // The axis counts in the unit of the tallest stack.
        axis: bytesAxis(stackHeights(rows))
      },
      color: {
        field: 'part',
        type: 'nominal',
        title: null,
        // Under the y axis too, two a row: Dask's words do not fit under a sidebar-wide plot alone.
        legend: {
          orient: 'none',
          direction: 'horizontal',
          columns: 2,
          legendX: -40,
          legendY: height + 36
        },
        scale: {
          domain: [text.managed, text.unmanaged, text.spilled],
          range: [palette.managed, palette.unmanaged, palette.spilled]
        }
      },
      // Same field and title as color: Vega-Lite draws one legend, its swatches edged as the bars are.
      stroke: {
        field: 'part',
        type: 'nominal',
        title: null,
        scale: {
          domain: [text.managed, text.unmanaged, text.spilled],
          range: [palette.managed, palette.outline, palette.spilled]
        }
      },
      // Managed at the bottom, as Dask's bars start with it.
      order: { field: 'order', type: 'quantitative' },
      tooltip: [
        { field: 'cell', type: 'nominal', title: text.cell },
        { field: 'run', type: 'quantitative', title: text.run },
        { field: 'totalText', type: 'nominal', title: text.total },
        { field: 'managedText', type: 'nominal', title: text.managed },
        { field: 'unmanagedText', type: 'nominal', title: text.unmanaged },
        { field: 'spilledText', type: 'nominal', title: text.spilled },
        { field: 'verdict', type: 'nominal', title: text.verdict },
        { field: 'reason', type: 'nominal', title: text.reason }
      ]
    }
  };
  return {
    ...timeline,
    datasets: { ...datasets, workers: rows },
    vconcat: [...panels, panel],
    // The kernel's legend (RSS, peak, verdicts) and this one (Dask's parts) are different scales. The line
    // styles and edges go with the colours: shared, they made second legends ("RSS after / Peak RSS" in grey).
    resolve: {
      scale: {
        ...(timeline.resolve as { scale?: ChartSpec } | undefined)?.scale,
        color: 'independent',
        stroke: 'independent',
        strokeDash: 'independent'
      }
    }
  };
}
