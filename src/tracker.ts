/**
 * Creates one model and one kernel bridge per open notebook, shared by all its views (File › New View
 * opens a second panel on the same document and kernel connection), and follows the current notebook.
 */
import { DocumentRegistry } from '@jupyterlab/docregistry';
import {
  INotebookModel,
  INotebookTracker,
  NotebookPanel
} from '@jupyterlab/notebook';
import { ISignal, Signal } from '@lumino/signaling';

import { KernelBridge } from './kernelbridge';
import { NotebookMemoryModel } from './model';
import { NotebookPersistence } from './persistence';
import { IMemdiagTracker, INotebookMemory } from './tokens';

type Context = DocumentRegistry.IContext<INotebookModel>;

export class MemdiagTracker implements IMemdiagTracker {
  constructor(options: MemdiagTracker.IOptions) {
    this._options = options;
    const notebooks = options.notebooks;
    notebooks.forEach(panel => this._follow(panel));
    notebooks.widgetAdded.connect((_, panel) => this._follow(panel), this);
    notebooks.currentChanged.connect(() => {
      const panel = notebooks.currentWidget;
      const memory = panel ? this._memories.get(panel.context) : undefined;
      memory?.activate(panel!);
      this._currentChanged.emit(this.current);
    }, this);
  }

  get current(): INotebookMemory | null {
    const panel = this._options.notebooks.currentWidget;
    return (panel && this._memories.get(panel.context)) ?? null;
  }

  get currentChanged(): ISignal<IMemdiagTracker, INotebookMemory | null> {
    return this._currentChanged;
  }

  get added(): ISignal<IMemdiagTracker, INotebookMemory> {
    return this._added;
  }

  get viewAdded(): ISignal<
    IMemdiagTracker,
    { memory: INotebookMemory; panel: NotebookPanel }
  > {
    return this._viewAdded;
  }

  get(panel: NotebookPanel): INotebookMemory | undefined {
    return this._memories.get(panel.context);
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
    const context = panel.context;
    let memory = this._memories.get(context);
    if (memory?.panels.includes(panel)) {
      return;
    }
    const isNew = !memory;
    if (!memory) {
      memory = this._create(panel);
      this._memories.set(context, memory);
    } else {
      memory.addView(panel);
    }
    const owner = memory;
    panel.disposed.connect(() => {
      if (owner.removeView(panel)) {
        return;
      }
      // The notebook's last view closed.
      this._memories.delete(context);
      owner.dispose();
      if (this._options.notebooks.currentWidget === null) {
        this._currentChanged.emit(null);
      }
    });
    if (isNew) {
      this._added.emit(memory);
    }
    this._viewAdded.emit({ memory, panel });
    if (this._options.notebooks.currentWidget === panel) {
      memory.activate(panel);
      this._currentChanged.emit(memory);
    }
  }

  private _create(panel: NotebookPanel): Private.NotebookMemory {
    const model = new NotebookMemoryModel({
      maxExecutions: this._options.maxExecutions
    });
    const bridge = new KernelBridge({
      sessionContext: panel.sessionContext,
      model,
      autoLoad: this._options.autoLoad,
      helloTimeoutMs: this._options.helloTimeoutMs
    });
    const memory = new Private.NotebookMemory(panel, model, bridge);
    memory.persistence = new NotebookPersistence(
      memory,
      this._options.saveReports
    );
    return memory;
  }

  private _options: MemdiagTracker.IOptions;
  private _memories = new Map<Context, Private.NotebookMemory>();
  private _currentChanged = new Signal<IMemdiagTracker, INotebookMemory | null>(
    this
  );
  private _added = new Signal<IMemdiagTracker, INotebookMemory>(this);
  private _viewAdded = new Signal<
    IMemdiagTracker,
    { memory: INotebookMemory; panel: NotebookPanel }
  >(this);
}

export namespace MemdiagTracker {
  export interface IOptions {
    notebooks: INotebookTracker;
    autoLoad: () => boolean;
    maxExecutions?: number;
    /** How long a bootstrapped kernel may take to say hello. */
    helloTimeoutMs?: number;
    /** Read at each report: whether to save it in the notebook's cell metadata. */
    saveReports?: () => boolean;
  }
}

namespace Private {
  export class NotebookMemory implements INotebookMemory {
    constructor(
      panel: NotebookPanel,
      readonly model: NotebookMemoryModel,
      readonly bridge: KernelBridge
    ) {
      this._panels = [panel];
      this._active = panel;
    }

    persistence: NotebookPersistence | null = null;

    get panel(): NotebookPanel {
      return this._active;
    }

    get panels(): ReadonlyArray<NotebookPanel> {
      return this._panels;
    }

    addView(panel: NotebookPanel): void {
      this._panels.push(panel);
    }

    /** Forget a closed view; false when it was the last. */
    removeView(panel: NotebookPanel): boolean {
      this._panels = this._panels.filter(view => view !== panel);
      if (this._active === panel && this._panels.length) {
        this._active = this._panels[this._panels.length - 1];
      }
      return this._panels.length > 0;
    }

    activate(panel: NotebookPanel): void {
      if (this._panels.includes(panel)) {
        this._active = panel;
      }
    }

    clear(): void {
      this.model.clear();
      this.persistence?.clear();
    }

    dispose(): void {
      this.persistence?.dispose();
      this.bridge.dispose();
      this.model.dispose();
    }

    private _panels: NotebookPanel[];
    private _active: NotebookPanel;
  }
}
