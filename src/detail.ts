/**
 * The detail of one execution: summary, allocation sites, names, type growth, per-line
 * increments, cycles, backref chains, for native verdicts the step-5 actions, and the native
 * stacks of memray and valgrind (nativeview.ts).
 * Shared by the sidebar (DetailView) and the inline mime renderer (renderReport).
 *
 * Text goes in with textContent only; charts are specs built in charts.ts from data.
 */
import { nullTranslator, TranslationBundle } from '@jupyterlab/translation';
import { IDisposable } from '@lumino/disposable';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import {
  backrefTreeSpec,
  ChartSpec,
  growthSpec,
  IChartPalette,
  IChartText,
  linesSpec
} from './charts';
import { clusterSection } from './clusterdetail';
import {
  chainList,
  cyclesSection,
  importsSection,
  el,
  nativeSection,
  section,
  sitesSection,
  summarySection,
  table,
  variablesSection
} from './detailparts';
import { formatBytes, formatCount, formatDelta } from './format';
import { leakedBlocksSection, nativeAllocationsSection } from './nativeview';
import { ILineIncrement, IReport } from './protocol';
import { IVegaHandle, readPalette, RenderVega, renderVega } from './vega';

export interface IDetailOptions {
  /** Translations; English when absent. */
  trans?: TranslationBundle;
  /** Called when the user activates an allocation site that is a line of the cell (1-based). */
  onJumpToLine?: (line: number) => void;
  /** Draws a chart; tests inject a fake so vega-embed never loads under jest. */
  renderVega?: RenderVega;
  /** Colours for the charts; read from the theme's --jp-* variables when absent. */
  palette?: () => IChartPalette;
  /** The execution's name ("cell 5 · run 3", as the table says it); "this cell · run 3" when absent. */
  label?: (report: IReport) => string;
  /** Whether the execution ran in a kernel that has since restarted: its details are greyed and say so. */
  isStale?: (report: IReport) => boolean;
  /**
   * Inline: say "before the restart" in the heading whenever the cell holding the report is marked stale (the
   * renderer itself never learns of restarts).
   */
  staleWithCell?: boolean;
  /** Show the Dask workers' findings (the inline report: the sidebar has a Workers section of its own). */
  workers?: boolean;
}

/** A rendered report: `ready` settles once every chart drew or failed; dispose releases them. */
export interface IRenderedReport extends IDisposable {
  readonly ready: Promise<void>;
  /** Whether it was rendered as before a kernel restart (`isStale`). */
  readonly stale: boolean;
}

/** The chart titles in the user's language (DEFAULT_TEXT in English). */
export function chartText(trans: TranslationBundle): IChartText {
  return {
    execution: trans.__('Execution'),
    restart: trans.__('restart'),
    memory: trans.__('Memory'),
    rssAfter: trans.__('RSS after'),
    peak: trans.__('Peak RSS'),
    keptTitle: trans.__('Kept by the run (Python, net)'),
    keptTicks: trans.__('kept by the run'),
    deltaRss: trans.__('Δ RSS'),
    cell: trans.__('Cell'),
    run: trans.__('Run'),
    verdict: trans.__('Verdict'),
    reason: trans.__('Reason'),
    type: trans.__('Type'),
    size: trans.__('Size'),
    count: trans.__('Count'),
    site: trans.__('Site'),
    code: trans.__('Code'),
    line: trans.__('Line'),
    increment: trans.__('Increment')
  };
}

/** Fill `host` with the detail of `report`. */
export function renderReport(
  host: HTMLElement,
  report: IReport,
  options: IDetailOptions = {}
): IRenderedReport {
  return new Private.Rendering(host, report, options);
}

/** The detail of the selected execution, as a Lumino widget for the sidebar. */
export class DetailView extends Widget {
  constructor(options: IDetailOptions = {}) {
    super();
    this._options = options;
    this._trans = options.trans ?? nullTranslator.load('memdiag');
    this.addClass('memdiag-Detail');
    this.node.setAttribute('role', 'region');
    this.node.setAttribute('aria-label', this._trans.__('Execution details'));
    this.title.label = this._trans.__('Details');
    // The report goes in a node of its own: subclasses may put something above it.
    this.reportNode = document.createElement('div');
    this.reportNode.className = 'memdiag-Detail-report';
    this.node.appendChild(this.reportNode);
    this._render();
  }

  /** The execution shown; null shows a hint. */
  get report(): IReport | null {
    return this._report;
  }

  set report(value: IReport | null) {
    if (value === this._report) {
      return;
    }
    this._report = value;
    this._stale = true;
    this.update();
  }

  /** Render the current report again: what `label` or `isStale` say of it changed (a restart, a moved cell). */
  refresh(): void {
    this._stale = true;
    this.update();
  }

  /** Whether the report shown was rendered as before a kernel restart. */
  get shownStale(): boolean {
    return this._rendering?.stale ?? false;
  }

  /** Settles when the charts of the current report are drawn (for tests and screenshots). */
  get ready(): Promise<void> {
    return this._rendering?.ready ?? Promise.resolve();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._rendering?.dispose();
    this._rendering = null;
    super.dispose();
  }

  protected onUpdateRequest(msg: Message): void {
    // Widget.update() is deferred while hidden: no chart is drawn for a hidden sidebar.
    if (this._stale) {
      this._render();
    }
  }

  private _render(): void {
    this._stale = false;
    this._rendering?.dispose();
    this._rendering = null;
    if (!this._report) {
      this.reportNode.replaceChildren(
        el(
          'p',
          'memdiag-Detail-empty',
          this._trans.__('Select an execution to see its details.')
        )
      );
      return;
    }
    this._rendering = renderReport(this.reportNode, this._report, {
      ...this._options,
      trans: this._trans
    });
  }

  /** Where the report is rendered. */
  protected readonly reportNode: HTMLElement;
  private _options: IDetailOptions;
  private _trans: TranslationBundle;
  private _report: IReport | null = null;
  private _rendering: IRenderedReport | null = null;
  private _stale = false;
}

namespace Private {
  /** Narrower than this a bar chart has no room for its bars: it scrolls instead. */
  const MIN_CHART_WIDTH = 160;

  interface IChart {
    node: HTMLElement;
    /** The spec for the theme's palette, `width` px wide (the chart node's width when it was drawn). */
    build: (palette: IChartPalette, width: number) => ChartSpec;
    fallback: HTMLDetailsElement | null;
    handle: Promise<IVegaHandle | null> | null;
  }

  export class Rendering implements IRenderedReport {
    constructor(host: HTMLElement, report: IReport, options: IDetailOptions) {
      this._host = host;
      this._options = options;
      this._trans = options.trans ?? nullTranslator.load('memdiag');
      const trans = this._trans;
      const text = chartText(trans);
      const stale = options.isStale?.(report) ?? false;
      this.stale = stale;
      host.classList.toggle('memdiag-mod-stale', stale);
      const parts: Array<HTMLElement | null> = [
        summarySection(report, trans, {
          label: options.label?.(report),
          stale,
          staleWithCell: options.staleWithCell
        })
      ];
      if (report.verdict.kind === 'native') {
        parts.push(nativeSection(report, trans));
      }
      if (options.workers) {
        parts.push(clusterSection(report, trans));
      }
      const sites = report.traced?.top ?? [];
      if (sites.length) {
        parts.push(sitesSection(sites, trans, options.onJumpToLine));
      }
      const variables = report.variables ?? [];
      if (variables.length) {
        parts.push(variablesSection(variables, trans));
      }
      parts.push(importsSection(report, trans));
      const growth = report.objects?.growth ?? [];
      if (growth.length) {
        const node = section('growth', trans.__('Type growth'));
        const rows = growth.map(g => [
          g.type,
          formatCount(g.count),
          formatBytes(g.size)
        ]);
        this._chart(
          node,
          trans.__('Bar chart of the types the cell left alive, by size'),
          (p, width) => growthSpec(growth, p, { text, width })
        ).appendChild(
          table(
            trans.__('Types the cell left alive'),
            [trans.__('Type'), trans.__('Count'), trans.__('Size')],
            rows
          )
        );
        parts.push(node);
      }
      const lines = report.lines ?? [];
      if (lines.length) {
        parts.push(this._linesSection(report, lines));
      }
      parts.push(cyclesSection(report, trans));
      const backrefs = report.backrefs ?? [];
      if (backrefs.length) {
        const node = section('backrefs', trans.__('What keeps it alive'));
        // The textual chains are the accessible form of the tree: always shown, not folded away.
        this._chart(
          node,
          trans.__(
            'Tree of the reference chains from named roots to retained objects'
          ),
          (p, width) => backrefTreeSpec(backrefs, p, width),
          false
        );
        node.appendChild(chainList(report, trans));
        parts.push(node);
      }
      parts.push(
        nativeAllocationsSection(report, trans, options.onJumpToLine),
        leakedBlocksSection(report, trans, options.onJumpToLine)
      );
      host.replaceChildren(
        ...parts.filter((part): part is HTMLElement => part !== null)
      );
      // Charts take their colours from the theme: redraw them when the user switches it.
      this._observer = new MutationObserver(() => {
        this.ready = this._draw();
      });
      this._observer.observe(document.body, {
        attributes: true,
        attributeFilter: ['data-jp-theme-light', 'data-jp-theme-name']
      });
      // Charts are drawn at the width their node has when drawing starts (Vega's own 'container' width is read
      // once, later, and never again but on a window resize: a chart drawn while JupyterLab hid the shell for a
      // theme switch, or before a reloaded notebook's outputs were shown, stayed 0 px wide). Redraw when the
      // host's width really changes, or when a hidden host gets one.
      this._resizeObserver =
        typeof ResizeObserver === 'undefined'
          ? null
          : new ResizeObserver(() => this._onResize());
      this._resizeObserver?.observe(host);
      this.ready = this._draw();
    }

    ready: Promise<void>;
    /** Whether it was rendered as before a kernel restart. */
    readonly stale: boolean;

    get isDisposed(): boolean {
      return this._disposed;
    }

    dispose(): void {
      if (this._disposed) {
        return;
      }
      this._disposed = true;
      this._host.classList.remove('memdiag-mod-stale');
      this._observer.disconnect();
      this._resizeObserver?.disconnect();
      cancelAnimationFrame(this._resizeFrame);
      this._finalizeAll();
    }

    private _onResize(): void {
      if (this._resizeFrame || this._disposed) {
        return;
      }
      this._resizeFrame = requestAnimationFrame(() => {
        this._resizeFrame = 0;
        const width = this._host.clientWidth;
        if (
          !this._disposed &&
          width > 0 &&
          Math.abs(width - this._drawnWidth) > 2
        ) {
          this.ready = this._draw();
        }
      });
    }

    /** Memory per line: each line's code as the editor shows it, and what its Peak means on this basis. */
    private _linesSection(
      report: IReport,
      lines: ReadonlyArray<ILineIncrement>
    ): HTMLElement {
      const trans = this._trans;
      const text = chartText(trans);
      // RSS by default (the cell ran at its own speed); tracemalloc's exact bytes with --trace.
      const rss = report.lines_basis === 'rss';
      const node = section(
        'lines',
        rss
          ? trans.__('Memory per line (RSS)')
          : trans.__('Memory per line (tracemalloc)')
      );
      const rows = lines.map(l => {
        return [
          String(l.line),
          // Indented under its loop or block as the editor shows it (white-space: pre on the cell).
          l.code,
          formatDelta(l.increment),
          typeof l.peak === 'number' ? formatBytes(l.peak) : '–'
        ];
      });
      const lineTable = table(
        trans.__('Memory increment per line'),
        [
          trans.__('Line'),
          trans.__('Code'),
          trans.__('Increment'),
          // Traced, a line's peak is its highest single run while its increment adds up every run.
          rss ? trans.__('Peak') : trans.__('Peak (one run)')
        ],
        rows
      );
      for (const row of Array.from(lineTable.tBodies[0].rows)) {
        row.cells[1].classList.add('memdiag-Detail-code');
      }
      const fold = this._chart(
        node,
        trans.__('Bar chart of the memory increment of each line'),
        (p, width) => linesSpec(lines, p, { text, width })
      );
      const note = rss
        ? lines.some(l => typeof l.peak !== 'number')
          ? trans.__(
              'Peak: the RSS high-water mark of a top-level statement; – for the lines of a loop.'
            )
          : trans.__('Peak: the RSS high-water mark of a top-level statement.')
        : trans.__(
            'Peak (one run): the highest single run of a line; Increment adds up all its runs.'
          );
      // Under the table, in its fold: what its Peak column means.
      fold.append(lineTable, el('p', 'memdiag-Detail-note', note));
      return node;
    }

    /** A chart container in `parent`; returns the fold for its table fallback (or `parent` without one). */
    private _chart(
      parent: HTMLElement,
      label: string,
      build: (palette: IChartPalette, width: number) => ChartSpec,
      withTable = true
    ): HTMLElement {
      const node = el('div', 'memdiag-Detail-chart');
      node.setAttribute('role', 'img');
      node.setAttribute('aria-label', label);
      parent.appendChild(node);
      let fallback: HTMLDetailsElement | null = null;
      if (withTable) {
        fallback = el('details', 'memdiag-Detail-fallback');
        fallback.appendChild(el('summary', undefined, this._trans.__('Table')));
        parent.appendChild(fallback);
      }
      this._charts.push({ node, build, fallback, handle: null });
      return fallback ?? parent;
    }

    private _finalizeAll(): void {
      for (const chart of this._charts) {
        const handle = chart.handle;
        chart.handle = null;
        void handle?.then(h => h?.finalize());
      }
    }

    private async _draw(): Promise<void> {
      this._finalizeAll();
      if (!this._charts.length) {
        return;
      }
      const hostWidth = this._host.clientWidth;
      this._drawnWidth = hostWidth;
      if (hostWidth === 0) {
        // Hidden: drawn narrow now, and again once it is shown. Observed afresh, the host is reported as soon
        // as it has a size, even when it was hidden and shown again between two frames (a theme switch), when
        // the observer itself would see no change.
        this._resizeObserver?.unobserve(this._host);
        this._resizeObserver?.observe(this._host);
      }
      const palette = (
        this._options.palette ?? (() => readPalette(this._host))
      )();
      const draw = this._options.renderVega ?? renderVega;
      await Promise.all(
        this._charts.map(chart => {
          // _finalizeAll releases this view whenever it arrives, even after a dispose.
          const width = Math.max(
            MIN_CHART_WIDTH,
            chart.node.clientWidth || hostWidth
          );
          const handle = draw(chart.node, chart.build(palette, width)).then(
            h => h,
            () => {
              // No chart (chunk failed to load, Vega error): the table says it all.
              chart.node.hidden = true;
              if (chart.fallback) {
                chart.fallback.open = true;
              }
              return null;
            }
          );
          chart.handle = handle;
          return handle;
        })
      );
    }

    private _host: HTMLElement;
    private _options: IDetailOptions;
    private _trans: TranslationBundle;
    private _charts: IChart[] = [];
    private _observer: MutationObserver;
    private _resizeObserver: ResizeObserver | null;
    private _resizeFrame = 0;
    /** The host's width when the charts were last drawn; 0 while they wait for the host to be shown. */
    private _drawnWidth = 0;
    private _disposed = false;
  }
}
