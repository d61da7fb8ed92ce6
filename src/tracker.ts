/**
 * Creates one model and one kernel bridge per open notebook, and follows the current notebook.
 */
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { ISignal, Signal } from '@lumino/signaling';

import { KernelBridge } from './kernelbridge';
import { NotebookMemoryModel } from './model';
import { NotebookPersistence } from './persistence';
import { IMemdiagTracker, INotebookMemory } from './tokens';

export class MemdiagTracker implements IMemdiagTracker {
  constructor(options: MemdiagTracker.IOptions) {
    this._options = options;
    const notebooks = options.notebooks;
    notebooks.forEach(panel => this._follow(panel));
    notebooks.widgetAdded.connect((_, panel) => this._follow(panel), this);
    notebooks.currentChanged.connect(
      () => this._currentChanged.emit(this.current),
      this
    );
  }

  get current(): INotebookMemory | null {
    const panel = this._options.notebooks.currentWidget;
    return (panel && this._memories.get(panel)) ?? null;
  }

  get currentChanged(): ISignal<IMemdiagTracker, INotebookMemory | null> {
    return this._currentChanged;
  }

  get added(): ISignal<IMemdiagTracker, INotebookMemory> {
    return this._added;
  }

  get(panel: NotebookPanel): INotebookMemory | undefined {
    return this._memories.get(panel);
  }

  forEach(fn: (memory: INotebookMemory) => void): void {
    this._memories.forEach(memory => fn(memory));
  }

  /** Apply a new history length to every notebook. */
  setMaxExecutions(value: number): void {
    this._options.maxExecutions = value;
    this._memories.forEach(memory => (memory.model.maxExecutions = value));
  }

  private _follow(panel: NotebookPanel): void {
    if (this._memories.has(panel)) {
      return;
    }
    const model = new NotebookMemoryModel({
      maxExecutions: this._options.maxExecutions
    });
    const bridge = new KernelBridge({
      sessionContext: panel.sessionContext,
      model,
      autoLoad: this._options.autoLoad
    });
    let persistence: NotebookPersistence | null = null;
    const memory: INotebookMemory = {
      panel,
      model,
      bridge,
      clear: () => {
        model.clear();
        persistence?.clear();
      }
    };
    persistence = new NotebookPersistence(memory);
    this._memories.set(panel, memory);
    panel.disposed.connect(() => {
      this._memories.delete(panel);
      persistence?.dispose();
      bridge.dispose();
      model.dispose();
      if (this._options.notebooks.currentWidget === null) {
        this._currentChanged.emit(null);
      }
    });
    this._added.emit(memory);
    if (this._options.notebooks.currentWidget === panel) {
      this._currentChanged.emit(memory);
    }
  }

  private _options: MemdiagTracker.IOptions;
  private _memories = new Map<NotebookPanel, INotebookMemory>();
  private _currentChanged = new Signal<IMemdiagTracker, INotebookMemory | null>(
    this
  );
  private _added = new Signal<IMemdiagTracker, INotebookMemory>(this);
}

export namespace MemdiagTracker {
  export interface IOptions {
    notebooks: INotebookTracker;
    autoLoad: () => boolean;
    maxExecutions?: number;
  }
}
