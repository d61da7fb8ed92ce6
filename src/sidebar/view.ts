/**
 * What the sidebar's views share: the current notebook's memory, the selected execution, and no
 * rendering while hidden.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import { Message } from '@lumino/messaging';
import { ISignal, Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import { cellPositions } from '../labels';
import { IReport } from '../protocol';
import { INotebookMemory } from '../tokens';

/** Each cell's 1-based place in the notebook of `memory`, by cell id (for "cell 5 · run 3"). */
export function notebookPositions(
  memory: INotebookMemory | null
): Map<string, number> {
  const cells = memory?.panel.content.model?.cells;
  return cellPositions(cells ? Array.from(cells, cell => cell.id) : []);
}

/**
 * Run `fn` once the browser has painted the current frame: heavy drawing (Vega) must not delay what the
 * user sees first (the new row, the badges). Returns a cancel function.
 */
export function afterPaint(fn: () => void, delayMs = 0): () => void {
  let timer: ReturnType<typeof setTimeout> | 0 = 0;
  const frame = requestAnimationFrame(() => {
    timer = setTimeout(fn, delayMs);
  });
  return () => {
    cancelAnimationFrame(frame);
    clearTimeout(timer);
  };
}

/** The execution the user picked in the timeline or the table. */
export class Selection {
  get report(): IReport | null {
    return this._report;
  }

  set report(report: IReport | null) {
    if (report !== this._report) {
      this._report = report;
      this._changed.emit(report);
    }
  }

  get changed(): ISignal<this, IReport | null> {
    return this._changed;
  }

  private _report: IReport | null = null;
  private _changed = new Signal<this, IReport | null>(this);
}

export abstract class MemoryView extends Widget {
  constructor(options: MemoryView.IOptions) {
    super();
    this.trans = options.trans;
    this.selection = options.selection;
    this.selection.changed.connect(this.onSelectionChanged, this);
  }

  set memory(memory: INotebookMemory | null) {
    if (memory === this._memory) {
      return;
    }
    this._memory?.model.changed.disconnect(this.update, this);
    this._memory?.model.progressChanged.disconnect(
      this.onProgressChanged,
      this
    );
    this._memory?.bridge.stateChanged.disconnect(this.update, this);
    this._memory = memory;
    memory?.model.changed.connect(this.update, this);
    memory?.model.progressChanged.connect(this.onProgressChanged, this);
    memory?.bridge.stateChanged.connect(this.update, this);
    this.update();
    this.onProgressChanged();
  }

  get memory(): INotebookMemory | null {
    return this._memory;
  }

  dispose(): void {
    this.memory = null;
    Signal.clearData(this);
    super.dispose();
  }

  protected onSelectionChanged(): void {
    this.update();
  }

  /** What memdiag is doing for a cell changed (`memory.model.progress`); most views do not show it. */
  protected onProgressChanged(): void {
    // Nothing by default.
  }

  protected onUpdateRequest(msg: Message): void {
    // Widget.update() does nothing while hidden; onBeforeShow renders the latest state.
    this.render();
  }

  protected onBeforeShow(msg: Message): void {
    this.update();
  }

  protected abstract render(): void;

  protected trans: TranslationBundle;
  protected selection: Selection;
  private _memory: INotebookMemory | null = null;
}

export namespace MemoryView {
  export interface IOptions {
    trans: TranslationBundle;
    selection: Selection;
  }
}
