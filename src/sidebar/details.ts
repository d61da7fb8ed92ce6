/**
 * The sidebar's detail section: the selected execution, or the newest one when nothing is selected.
 */
import { ITranslator, TranslationBundle } from '@jupyterlab/translation';

import { DetailView } from '../detail';
import { IReport } from '../protocol';
import { INotebookMemory } from '../tokens';
import { afterPaint, Selection } from './view';

export class DetailSection extends DetailView {
  constructor(options: DetailSection.IOptions) {
    super({
      trans: options.trans,
      onJumpToLine: line => {
        const report = this.report;
        if (report) {
          options.onJumpToLine(report, line);
        }
      }
    });
    this._selection = options.selection;
    this._selection.changed.connect(this._refresh, this);
  }

  set memory(memory: INotebookMemory | null) {
    if (memory === this._memory) {
      return;
    }
    this._memory?.model.changed.disconnect(this._refresh, this);
    this._memory = memory;
    memory?.model.changed.connect(this._refresh, this);
    this._refresh();
  }

  get memory(): INotebookMemory | null {
    return this._memory;
  }

  dispose(): void {
    this._cancel?.();
    this.memory = null;
    this._selection.changed.disconnect(this._refresh, this);
    super.dispose();
  }

  private _refresh(): void {
    // Charts take a while to draw: let the table and the badges show the new execution first.
    if (!this._cancel) {
      this._cancel = afterPaint(() => {
        this._cancel = null;
        if (!this.isDisposed) {
          this._show();
        }
      });
    }
  }

  private _show(): void {
    const executions = this._memory?.model.executions ?? [];
    const selected = this._selection.report;
    this.report =
      selected && executions.includes(selected)
        ? selected
        : (executions[executions.length - 1] ?? null);
  }

  private _cancel: (() => void) | null = null;
  private _selection: Selection;
  private _memory: INotebookMemory | null = null;
}

export namespace DetailSection {
  export interface IOptions {
    trans: TranslationBundle;
    selection: Selection;
    translator: ITranslator;
    onJumpToLine: (report: IReport, line: number) => void;
  }
}
