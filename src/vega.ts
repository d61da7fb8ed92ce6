/**
 * Draws a chart spec with vega-embed, loaded on first use.
 *
 * vega-embed (with vega and vega-lite) is large and ESM-only: a dynamic import puts it in its
 * own chunk, fetched only when a chart is first shown, and keeps it out of jest. The palette
 * helper reads the theme's --jp-* variables so specs built in charts.ts follow light/dark.
 */
import type { Result, VisualizationSpec } from 'vega-embed';

import {
  ChartSpec,
  FALLBACK_PALETTE,
  IChartPalette,
  VEGA_LITE_SCHEMA,
  VEGA_SCHEMA,
  VERDICT_VARIABLES
} from './chartbase';
import { VerdictKind } from './protocol';

/** A drawn chart; `finalize()` releases Vega's view, timers and listeners. */
export interface IVegaHandle {
  finalize(): void;
}

export interface IRenderVegaOptions {
  /** Called with the datum of a clicked mark (a row built in charts.ts). */
  onClick?: (datum: Record<string, unknown>) => void;
  renderer?: 'svg' | 'canvas';
}

/** The signature views depend on, so tests can inject a fake instead of vega-embed. */
export type RenderVega = (
  node: HTMLElement,
  spec: ChartSpec,
  options?: IRenderVegaOptions
) => Promise<IVegaHandle>;

let embedModule: Promise<typeof import('vega-embed')> | null = null;

function loadEmbed(): Promise<typeof import('vega-embed')> {
  if (!embedModule) {
    embedModule = import('vega-embed');
    // A failed chunk load (offline, server restarted) must not stay cached forever.
    embedModule.catch(() => {
      embedModule = null;
    });
  }
  return embedModule;
}

/** Whether JupyterLab currently shows a dark theme. */
export function isDarkTheme(): boolean {
  return document.body.dataset.jpThemeLight === 'false';
}

/**
 * Draw `spec` into `node`. Callers must `finalize()` the handle before drawing again into the
 * same node and when they are disposed.
 */
export const renderVega: RenderVega = async (node, spec, options = {}) => {
  const { default: embed, vega } = await loadEmbed();
  // Specs never load anything (data is inline, no images): refuse any URL a bug might let through.
  const refuse = (): Promise<never> =>
    Promise.reject(new Error('memdiag charts load no URLs'));
  const loader = Object.assign(vega.loader(), {
    load: refuse,
    sanitize: refuse,
    http: refuse,
    file: refuse
  });
  if (!isVisualizationSpec(spec)) {
    throw new Error(
      'memdiag: a chart spec must name the Vega or Vega-Lite schema'
    );
  }
  const result: Result = await embed(node, spec, {
    // No editor, source or export links: they would send the notebook's data to an external site.
    actions: false,
    renderer: options.renderer ?? 'svg',
    theme: isDarkTheme() ? 'dark' : undefined,
    loader,
    // vega-tooltip escapes HTML by default; say so explicitly rather than rely on it.
    tooltip: {
      theme: isDarkTheme() ? 'dark' : 'light',
      sanitize: escapeHtml
    }
  });
  const onClick = options.onClick;
  if (onClick) {
    result.view.addEventListener('click', (_event, item) => {
      const datum: unknown = item?.datum;
      if (isDatum(datum)) {
        onClick(datum);
      }
    });
  }
  return { finalize: () => result.finalize() };
};

/**
 * The specs charts.ts builds are plain data (ChartSpec); vega-embed picks the Vega or the Vega-Lite
 * compiler by their `$schema`, which every one of them names.
 */
function isVisualizationSpec(
  spec: ChartSpec
): spec is ChartSpec & VisualizationSpec {
  return spec.$schema === VEGA_LITE_SCHEMA || spec.$schema === VEGA_SCHEMA;
}

function isDatum(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Text for vega-tooltip, which builds its HTML from strings. */
export function escapeHtml(value: unknown): string {
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Read a CSS variable, falling back when the theme does not define it (tests, detached nodes). */
function cssVar(
  style: CSSStyleDeclaration,
  name: string,
  fallback: string
): string {
  const value = style.getPropertyValue(name).trim();
  return value || fallback;
}

/** A CSS length in px or em (relative to `emPx`) as pixels; NaN for anything else. */
export function cssLength(value: string, emPx: number): number {
  const number = parseFloat(value);
  if (value.endsWith('px')) {
    return number;
  }
  if (value.endsWith('em') && !value.endsWith('rem')) {
    return number * emPx;
  }
  return NaN;
}

/** The chart palette from the theme's --jp-* variables, as seen from `node`. */
export function readPalette(node: HTMLElement = document.body): IChartPalette {
  const style = window.getComputedStyle(node);
  const f = FALLBACK_PALETTE;
  const verdict = (kind: VerdictKind): string =>
    cssVar(style, VERDICT_VARIABLES[kind], f.verdict[kind]);
  const size = cssLength(
    cssVar(style, '--jp-ui-font-size0', ''),
    parseFloat(style.fontSize)
  );
  return {
    text: cssVar(style, '--jp-ui-font-color1', f.text),
    textMuted: cssVar(style, '--jp-ui-font-color2', f.textMuted),
    grid: cssVar(style, '--jp-border-color2', f.grid),
    font: cssVar(style, '--jp-ui-font-family', f.font),
    // JupyterLab 4 gives --jp-ui-font-size0 in em: Vega needs pixels.
    fontSize: Number.isFinite(size) && size > 0 ? size : f.fontSize,
    rss: cssVar(style, '--jp-brand-color1', f.rss),
    peak: cssVar(style, '--jp-info-color1', f.peak),
    python: cssVar(style, '--jp-success-color1', f.python),
    accent: cssVar(style, '--jp-warn-color1', f.accent),
    verdict: {
      ok: verdict('ok'),
      retains: verdict('retains'),
      leak: verdict('leak'),
      cycles: verdict('cycles'),
      native: verdict('native')
    }
  };
}
