/**
 * The sidebar's timeline: RSS after, peak and Python-level memory per execution, points coloured by
 * verdict. A click on a point selects that execution and reveals its cell.
 */
import { Message } from '@lumino/messaging';

import { timelineSpec } from '../charts';
import { chartText } from '../detail';
import { IReport } from '../protocol';
import { IVegaHandle, readPalette, RenderVega, renderVega } from '../vega';
import { MemoryView } from './view';

export class TimelineView extends MemoryView {
  constructor(options: TimelineView.IOptions) {
    super(options);
    this._onPick = options.onPick;
    this._renderVega = options.renderVega ?? renderVega;
    this.addClass('memdiag-Timeline');
    this.title.label = this.trans.__('Timeline');
    this.node.setAttribute('aria-label', this.trans.__('Memory after each execution'));
    this._chart = document.createElement('div');
    this._chart.className = 'memdiag-Timeline-chart';
    this._empty = document.createElement('p');
    this._empty.className = 'memdiag-Timeline-empty';
    this._empty.textContent = this.trans.__('The timeline fills as cells run.');
    this.node.append(this._empty, this._chart);
  }

  dispose(): void {
    this._handle?.finalize();
    this._handle = null;
    super.dispose();
  }

  protected onResize(msg: Message): void {
    this.update();
  }

  protected render(): void {
    const executions = [...(this.memory?.model.executions ?? [])];
    this._empty.hidden = executions.length > 0;
    this._chart.hidden = executions.length === 0;
    const generation = ++this._generation;
    this._handle?.finalize();
    this._handle = null;
    if (!executions.length) {
      this._chart.replaceChildren();
      return;
    }
    const selected = this.selection.report ? executions.indexOf(this.selection.report) : -1;
    const width = Math.max(160, this.node.clientWidth - 60);
    const spec = timelineSpec(executions, readPalette(this.node), {
      text: chartText(this.trans),
      selected: selected >= 0 ? selected : null,
      width
    });
    void this._renderVega(this._chart, spec, {
      onClick: datum => this._pick(executions, datum)
    }).then(
      handle => {
        // A newer render started meanwhile: this chart is already out of date.
        if (generation !== this._generation || this.isDisposed) {
          handle.finalize();
        } else {
          this._handle = handle;
        }
      },
      reason => {
        if (generation === this._generation) {
          this._chart.textContent = this.trans.__('The timeline could not be drawn: %1', String(reason));
        }
      }
    );
  }

  private _pick(executions: IReport[], datum: Record<string, unknown>): void {
    const index = datum.index;
    if (typeof index === 'number' && executions[index]) {
      this._onPick(executions[index]);
    }
  }

  private _onPick: (report: IReport) => void;
  private _renderVega: RenderVega;
  private _chart: HTMLElement;
  private _empty: HTMLElement;
  private _handle: IVegaHandle | null = null;
  private _generation = 0;
}

export namespace TimelineView {
  export interface IOptions extends MemoryView.IOptions {
    onPick: (report: IReport) => void;
    renderVega?: RenderVega;
  }
}
