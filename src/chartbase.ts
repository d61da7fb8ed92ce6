/**
 * What every memdiag chart shares: the palette (read from --jp-* variables by the caller),
 * the translatable titles, and a theme config. Pure module.
 */
import { byteUnit } from './format';
import { IReport, VerdictKind } from './protocol';

/** A chart specification, handed as is to vega-embed. */
export type ChartSpec = Record<string, unknown>;

/** Colours and font, read by the caller from `--jp-*` CSS variables so charts follow the theme. */
export interface IChartPalette {
  text: string;
  textMuted: string;
  grid: string;
  font: string;
  fontSize: number;
  /** RSS after each execution. */
  rss: string;
  /** Peak RSS during each execution. */
  peak: string;
  /** Python-level memory, and ordinary bars. */
  python: string;
  /** Bars that stand out: sites in the cell itself, the leaves of the backref tree. */
  accent: string;
  verdict: Record<VerdictKind, string>;
}

/** Neutral colours for when no theme can be read (tests, detached nodes). */
export const FALLBACK_PALETTE: IChartPalette = {
  text: '#212121',
  textMuted: '#616161',
  grid: '#e0e0e0',
  font: 'system-ui, sans-serif',
  fontSize: 11,
  rss: '#1976d2',
  peak: '#7b1fa2',
  python: '#388e3c',
  accent: '#f57c00',
  verdict: {
    ok: '#9e9e9e',
    retains: '#f57c00',
    leak: '#d32f2f',
    cycles: '#fbc02d',
    native: '#aa22ff'
  }
};

/**
 * The --jp-* variable each verdict's colour is read from. Native is not a second red beside leak's
 * (error-color0 and -1 were nearly one colour): JupyterLab's purple, the same in its light and dark themes.
 */
export const VERDICT_VARIABLES: Record<VerdictKind, string> = {
  ok: '--jp-layout-color4',
  retains: '--jp-warn-color2',
  leak: '--jp-error-color1',
  cycles: '--jp-warn-color0',
  native: '--jp-mirror-editor-meta-color'
};

/** Titles the charts show; callers pass translated ones. */
export interface IChartText {
  execution: string;
  /** The marker where the kernel restarted. */
  restart: string;
  memory: string;
  rssAfter: string;
  peak: string;
  /** The tooltip's title for what a run kept (keptByRun). */
  keptTitle: string;
  /** The Δ RSS panel's legend for its ticks, what each run kept: short, beside the x axis's title. */
  keptTicks: string;
  deltaRss: string;
  cell: string;
  run: string;
  verdict: string;
  reason: string;
  type: string;
  size: string;
  count: string;
  site: string;
  code: string;
  line: string;
  increment: string;
}

export const DEFAULT_TEXT: IChartText = {
  execution: 'Execution',
  restart: 'restart',
  memory: 'Memory',
  rssAfter: 'RSS after',
  peak: 'Peak RSS',
  keptTitle: 'Kept by the run (Python, net)',
  keptTicks: 'kept by the run',
  deltaRss: 'Δ RSS',
  cell: 'Cell',
  run: 'Run',
  verdict: 'Verdict',
  reason: 'Reason',
  type: 'Type',
  size: 'Size',
  count: 'Count',
  site: 'Site',
  code: 'Code',
  line: 'Line',
  increment: 'Increment'
};

export const VEGA_LITE_SCHEMA =
  'https://vega.github.io/schema/vega-lite/v6.json';
export const VEGA_SCHEMA = 'https://vega.github.io/schema/vega/v6.json';

/** Bars and rows beyond these are noise in a sidebar. */
export const MAX_BARS = 25;
export const ROW_HEIGHT = 18;

/** Axis and legend colours and fonts from the palette; a transparent background lets the theme show. */
export function chartConfig(palette: IChartPalette): ChartSpec {
  const axis = {
    labelColor: palette.textMuted,
    titleColor: palette.text,
    gridColor: palette.grid,
    domainColor: palette.grid,
    tickColor: palette.grid,
    labelFont: palette.font,
    titleFont: palette.font,
    labelFontSize: palette.fontSize,
    titleFontSize: palette.fontSize,
    titleFontWeight: 'normal'
  };
  return {
    background: 'transparent',
    font: palette.font,
    view: { stroke: null },
    axis,
    legend: {
      // Three verdicts a row fit a 300 px sidebar.
      columns: 3,
      labelColor: palette.text,
      titleColor: palette.text,
      labelFont: palette.font,
      titleFont: palette.font,
      labelFontSize: palette.fontSize,
      titleFontSize: palette.fontSize,
      orient: 'bottom',
      direction: 'horizontal'
    }
  };
}

/**
 * An axis of bytes labelled in the unit the text uses ("0 MB", "20 MB"), picked from the largest value drawn.
 * The label expression is built from our own constants only, never from report data.
 */
export function bytesAxis(values: Iterable<number>): ChartSpec {
  const { unit, bytes } = byteUnit(values);
  return {
    labelExpr: `format(datum.value / ${bytes}, '~r') + ' ${unit}'`,
    // A narrow plot drops every other label rather than print "0 MB10 MB".
    labelOverlap: true,
    labelFlush: true
  };
}

/** An execution's short name in the charts: "[12]", or "–" when IPython gave no count. */
export function cellLabel(report: IReport): string {
  return report.execution_count === null ? '–' : `[${report.execution_count}]`;
}

/** Pixels kept clear at each end of the execution axis: the first and last points' markers are drawn whole. */
export const EXECUTION_PADDING = 6;

/**
 * The execution axis's ticks for `count` executions numbered from 1: every one up to 10, else 1 and the multiples of
 * a round step, at most 6 of them (never 0, which is no execution).
 */
export function executionTicks(count: number): number[] {
  const last = Math.max(count, 1);
  if (last <= 10) {
    return Array.from({ length: last }, (_, i) => i + 1);
  }
  const steps = [2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000];
  const step =
    steps.find(candidate => last / candidate <= 5) ??
    10 ** Math.ceil(Math.log10(last / 5));
  const ticks = [1];
  for (let tick = step; tick <= last; tick += step) {
    ticks.push(tick);
  }
  return ticks;
}

/**
 * The x axis of the timeline's panels: `count` executions by number from 1 (executionTicks). Every panel (the
 * kernel's and the workers') uses it, so they line up execution by execution.
 */
export function executionAxis(count: number, title: string): ChartSpec {
  return {
    field: 'number',
    type: 'quantitative',
    title,
    scale: {
      domain: [0.5, Math.max(count + 0.5, 1.5)],
      nice: false,
      zero: false,
      padding: EXECUTION_PADDING
    },
    axis: { values: executionTicks(count), format: 'd' }
  };
}

/** Give every label its own bar: two types of the same name from different modules must not stack. */
export function uniqueKeys(labels: string[]): string[] {
  const seen = new Map<string, number>();
  return labels.map(label => {
    const n = (seen.get(label) ?? 0) + 1;
    seen.set(label, n);
    return n === 1 ? label : `${label} (${n})`;
  });
}
