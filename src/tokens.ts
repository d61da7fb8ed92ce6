/**
 * Tokens other plugins (and other extensions) use to reach memdiag's per-notebook state.
 */
import { NotebookPanel } from '@jupyterlab/notebook';
import { Token } from '@lumino/coreutils';
import { ISignal } from '@lumino/signaling';

import { KernelBridge } from './kernelbridge';
import { NotebookMemoryModel } from './model';

/**
 * memdiag's state for one open notebook: one model and one kernel bridge, shared by every view of the
 * notebook (File › New View), since a kernel connection holds one callback per comm target.
 */
export interface INotebookMemory {
  /** The view of the notebook the user was last in. */
  readonly panel: NotebookPanel;
  /** Every open view of the notebook, oldest first. */
  readonly panels: ReadonlyArray<NotebookPanel>;
  readonly model: NotebookMemoryModel;
  readonly bridge: KernelBridge;
  /** Forget every report of this notebook, in memory and in the cells' metadata. */
  clear(): void;
}

/** Follows the open notebooks and the current one. */
export interface IMemdiagTracker {
  /** The memory state of the current notebook, if any. */
  readonly current: INotebookMemory | null;
  /** Emitted when the current notebook changes. */
  readonly currentChanged: ISignal<IMemdiagTracker, INotebookMemory | null>;
  /** Emitted when memdiag starts following a newly opened notebook. */
  readonly added: ISignal<IMemdiagTracker, INotebookMemory>;
  /** Emitted for every view of a notebook, its first included: what decorates cells follows this. */
  readonly viewAdded: ISignal<
    IMemdiagTracker,
    { memory: INotebookMemory; panel: NotebookPanel }
  >;
  /** The memory state of a notebook panel (any of its views). */
  get(panel: NotebookPanel): INotebookMemory | undefined;
  /** Call a function for every followed notebook. */
  forEach(fn: (memory: INotebookMemory) => void): void;
}

export const IMemdiagTracker = new Token<IMemdiagTracker>(
  'memdiag:IMemdiagTracker',
  'Per-notebook memory reports and the kernel connection that feeds them.'
);
