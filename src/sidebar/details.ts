/**
 * The sidebar's detail section: the selected execution, or the newest one when nothing is selected.
 */
import { ITranslator, TranslationBundle } from '@jupyterlab/translation';

import { DetailView } from '../detail';
import { executionLabel } from '../labels';
import { IReport } from '../protocol';
import { INotebookMemory } from '../tokens';
import { afterPaint, notebookPositions, Selection } from './view';
import { WhyPanel } from './why';

export class DetailSection extends DetailView {
  constructor(options: DetailSection.IOptions) {
    super({
      trans: options.trans,
      onJumpToLine: line => {
        const report = this.report;
        if (report) {
          options.onJumpToLine(report, line);
        }
      },
      // Named and greyed as its row in the table is.
      label: report => executionLabel(report, notebookPositions(this._memory)),
      isStale: report => this._memory?.model.isStale(report) ?? false
    });
    this._selection = options.selection;
    this._selection.changed.connect(this._refresh, this);
    this._why = new WhyPanel({
      trans: options.trans,
      ask: expression => {
        const bridge = this._memory?.bridge;
        return bridge
          ? bridge.request('why', { name: expression })
          : Promise.reject(new Error(options.trans.__('no notebook is open')));
      },
      segment: () => this._memory?.model.segment ?? 0
    });
    this.node.insertBefore(this._why.node, this.reportNode);
  }

  /** Open "Why is … alive?" above the execution's details, with `name` filled in when given. */
  openWhy(name?: string): void {
    this._why.open(name);
    this._why.node.scrollIntoView({ block: 'nearest' });
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
    const model = this._memory?.model;
    const executions = model?.executions ?? [];
    const selected = this._selection.report;
    const report =
      selected && executions.includes(selected)
        ? selected
        : (executions[executions.length - 1] ?? null);
    if (report !== this.report) {
      this.report = report;
    } else if (report && model && model.isStale(report) !== this.shownStale) {
      // The kernel restarted under the execution shown: grey it and say so, as its row does.
      this.refresh();
    }
    this._why.segment = model?.segment ?? 0;
  }

  private _cancel: (() => void) | null = null;
  private _why: WhyPanel;
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
