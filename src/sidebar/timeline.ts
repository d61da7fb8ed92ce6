/**
 * The sidebar's timeline: RSS after, peak and what each run kept, per execution, points coloured by
 * verdict. A click on a point selects that execution and reveals its cell.
 */
import { Message } from '@lumino/messaging';

import { keptByRun } from '../badge';
import { ChartSpec, sampleExecutions, timelineSpec } from '../charts';
import { withWorkersPanel } from '../clusterchart';
import { chartText } from '../detail';
import { IReport } from '../protocol';
import { IVegaHandle, readPalette, RenderVega, renderVega } from '../vega';
import { executionLabel } from '../labels';
import { afterPaint, MemoryView, notebookPositions } from './view';
import { readWorkerPalette, workersChartText } from './workerparts';

/** Points drawn at most; the rest of a long history is sampled (flagged executions always stay). */
const MAX_POINTS = 400;

/** Redraws at most this often: a leak check or a restored history must not redraw per report. */
const REDRAW_MS = 250;

/** The kernel's panels' share of the plots' height when a workers panel is drawn under them. */
const KERNEL_SHARE = 0.75;
const MIN_WORKERS_HEIGHT = 30;
/** Axes and legends, before a drawing says how much they really take. */
const OVERHEAD_GUESS = 150;

export class TimelineView extends MemoryView {
  constructor(options: TimelineView.IOptions) {
    super(options);
    this._onPick = options.onPick;
    this._renderVega = options.renderVega ?? renderVega;
    this.addClass('memdiag-Timeline');
    this.title.label = this.trans.__('Timeline');
    this.node.setAttribute(
      'aria-label',
      this.trans.__('Memory after each execution')
    );
    this._chart = document.createElement('div');
    this._chart.className = 'memdiag-Timeline-chart';
    this._empty = document.createElement('p');
    this._empty.className = 'memdiag-Timeline-empty';
    this._empty.textContent = this.trans.__('The timeline fills as cells run.');
    this.node.append(this._empty, this._chart);
    // Colours come from the theme: draw again when the user switches it.
    this._themeObserver = new MutationObserver(() => this.update());
    this._themeObserver.observe(document.body, {
      attributes: true,
      attributeFilter: ['data-jp-theme-light', 'data-jp-theme-name']
    });
  }

  dispose(): void {
    this._themeObserver.disconnect();
    this._cancel?.();
    this._handle?.finalize();
    this._handle = null;
    super.dispose();
  }

  protected onResize(msg: Message): void {
    this.update();
  }

  protected render(): void {
    // Always a task of its own: the table and the badges, cheap, show the new execution first.
    if (!this._cancel) {
      const wait = Math.max(0, this._lastDraw + REDRAW_MS - performance.now());
      this._cancel = afterPaint(() => {
        this._cancel = null;
        if (this.isDisposed || !this.isVisible) {
          return;
        }
        this._lastDraw = performance.now();
        this._draw();
      }, wait);
    }
  }

  private _draw(refit = false): void {
    const all = this.memory?.model.executions ?? [];
    const executions = sampleExecutions(all, MAX_POINTS, this.selection.report);
    this._empty.hidden = executions.length > 0;
    this._chart.hidden = executions.length === 0;
    const generation = ++this._generation;
    this._handle?.finalize();
    this._handle = null;
    if (!executions.length) {
      this._chart.replaceChildren();
      return;
    }
    const selected = this.selection.report
      ? executions.indexOf(this.selection.report)
      : -1;
    const width = Math.max(160, this.node.clientWidth - 60);
    const model = this.memory?.model;
    const restarts: number[] = [];
    if (model) {
      executions.forEach((report, index) => {
        if (
          index > 0 &&
          model.segmentOf(report) !== model.segmentOf(executions[index - 1])
        ) {
          restarts.push(index);
        }
      });
      if (model.restartedSinceLast) {
        restarts.push(executions.length);
      }
    }
    const positions = notebookPositions(this.memory);
    const label = (report: IReport): string =>
      executionLabel(report, positions);
    // The plots share what the section's height leaves after axes and legends, so every panel and legend is
    // on screen (the section scrolls only below the plots' minimum heights).
    const build = (overhead: number): ChartSpec => {
      const plots = Math.max(0, this._available() - overhead);
      const spec = timelineSpec(executions, readPalette(this.node), {
        text: chartText(this.trans),
        selected: selected >= 0 ? selected : null,
        width,
        label,
        restarts,
        height: plots * KERNEL_SHARE
      });
      // The cluster's total, in a panel of its own, when the notebook drives Dask workers.
      return withWorkersPanel(spec, executions, readWorkerPalette(this.node), {
        text: workersChartText(this.trans),
        width,
        label,
        height: Math.max(MIN_WORKERS_HEIGHT, plots * (1 - KERNEL_SHARE))
      });
    };
    // What decides the room axes and legends take: a restart's label, the verdicts' legend rows, the panels.
    const key = [
      restarts.length > 0,
      new Set(executions.map(report => report.verdict.kind)).size,
      executions.some(report => keptByRun(report) !== null),
      executions.some(report => report.cluster?.workers.length)
    ].join(':');
    const overhead =
      this._overheads.get(key) ?? OVERHEAD_GUESS + (restarts.length ? 14 : 0);
    const drawn = build(overhead);
    void this._renderVega(this._chart, drawn, {
      onClick: datum => this._pick(executions, datum)
    }).then(
      handle => {
        // A newer render started meanwhile: this chart is already out of date.
        if (generation !== this._generation || this.isDisposed) {
          handle.finalize();
        } else {
          this._handle = handle;
          // What axes and legends really took: when the guess was off, draw again to fit (once per layout).
          const svg = this._chart.querySelector('svg');
          const height = Number(svg?.getAttribute('height'));
          const plots = plotHeights(drawn);
          if (Number.isFinite(height) && height > 0) {
            const actual = Math.ceil(height - plots);
            this._overheads.set(key, actual);
            if (Math.abs(actual - overhead) > 3 && !refit) {
              this._draw(true);
              return;
            }
          }
          // Tests and the browser benchmark wait on this to know a redraw finished.
          this._chart.dataset.draws = String(generation);
        }
      },
      reason => {
        if (generation === this._generation) {
          this._chart.textContent = this.trans.__(
            'The timeline could not be drawn: %1',
            String(reason)
          );
        }
      }
    );
  }

  /** The section's height for the chart, less its padding. */
  private _available(): number {
    const style = window.getComputedStyle(this.node);
    const padding =
      parseFloat(style.paddingTop || '0') +
      parseFloat(style.paddingBottom || '0');
    // A scrollbar's worth less, so a rounding never makes one appear.
    return Math.max(0, this.node.clientHeight - padding - 4);
  }

  private _pick(executions: IReport[], datum: Record<string, unknown>): void {
    const index = datum.index;
    if (typeof index === 'number' && executions[index]) {
      this._onPick(executions[index]);
    }
  }

  private _themeObserver: MutationObserver;
  private _onPick: (report: IReport) => void;
  private _renderVega: RenderVega;
  private _chart: HTMLElement;
  private _empty: HTMLElement;
  private _handle: IVegaHandle | null = null;
  private _generation = 0;
  private _lastDraw = -Infinity;
  private _cancel: (() => void) | null = null;
  /** Pixels axes and legends took, per layout (which panels, a restart label): learnt from each drawing. */
  private _overheads = new Map<string, number>();
}

/** The sum of the plots' own heights in a timeline spec (every panel of its vconcat). */
export function plotHeights(spec: ChartSpec): number {
  const panels = Array.isArray(spec.vconcat)
    ? (spec.vconcat as ChartSpec[])
    : [];
  return panels.reduce(
    (sum, panel) => sum + (typeof panel.height === 'number' ? panel.height : 0),
    0
  );
}

export namespace TimelineView {
  export interface IOptions extends MemoryView.IOptions {
    onPick: (report: IReport) => void;
    renderVega?: RenderVega;
  }
}
