/**
 * The memory history of one notebook: every report its kernel sent, in order, and the
 * reports of each cell by cell id. Pure data with a change signal; no JupyterLab imports.
 */
import { ISignal, Signal } from '@lumino/signaling';

import { IReport } from './protocol';

/** The executions kept per notebook unless told otherwise. */
export const DEFAULT_MAX_EXECUTIONS = 500;

export class NotebookMemoryModel {
  constructor(options: NotebookMemoryModel.IOptions = {}) {
    this._maxExecutions = options.maxExecutions ?? DEFAULT_MAX_EXECUTIONS;
  }

  /** Emitted after reports are added or cleared. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Emitted for each report added, after `changed`. */
  get reportAdded(): ISignal<this, IReport> {
    return this._reportAdded;
  }

  /** All executions, oldest first. */
  get executions(): ReadonlyArray<IReport> {
    return this._executions;
  }

  get maxExecutions(): number {
    return this._maxExecutions;
  }

  set maxExecutions(value: number) {
    this._maxExecutions = Math.max(1, Math.floor(value));
    if (this._trim()) {
      this._changed.emit();
    }
  }

  /** The reports of one cell, oldest first. */
  forCell(cellId: string): ReadonlyArray<IReport> {
    return this._executions.filter(report => report.cell_id === cellId);
  }

  /** The newest report of one cell (constant time: every cell decoration asks). */
  latest(cellId: string): IReport | undefined {
    return this._latest.get(cellId);
  }

  /** Add one report; a report already held (same execution) is ignored. */
  add(report: IReport): boolean {
    const added = this._insert(report);
    if (added) {
      this._trim();
      this._changed.emit();
      this._reportAdded.emit(report);
    }
    return added;
  }

  /** Add many reports at once (a kernel's history, or reports saved in the notebook). */
  merge(reports: ReadonlyArray<IReport>): number {
    let added = 0;
    for (const report of reports) {
      added += this._insert(report) ? 1 : 0;
    }
    if (added) {
      this._trim();
      this._changed.emit();
    }
    return added;
  }

  clear(): void {
    if (this._executions.length) {
      this._executions = [];
      this._keys.clear();
      this._latest.clear();
      this._changed.emit();
    }
  }

  dispose(): void {
    Signal.clearData(this);
  }

  private _insert(report: IReport): boolean {
    const key = Private.key(report);
    if (this._keys.has(key)) {
      return false;
    }
    this._keys.add(key);
    this._executions.push(report);
    if (report.cell_id !== null) {
      this._latest.set(report.cell_id, report);
    }
    return true;
  }

  private _trim(): boolean {
    const excess = this._executions.length - this._maxExecutions;
    if (excess <= 0) {
      return false;
    }
    let stale = false;
    for (const report of this._executions.splice(0, excess)) {
      this._keys.delete(Private.key(report));
      stale =
        stale ||
        (report.cell_id !== null &&
          this._latest.get(report.cell_id) === report);
    }
    if (stale) {
      // A dropped report was its cell's newest: that cell has no report left in the window.
      this._latest.clear();
      for (const report of this._executions) {
        if (report.cell_id !== null) {
          this._latest.set(report.cell_id, report);
        }
      }
    }
    return true;
  }

  private _executions: IReport[] = [];
  private _keys = new Set<string>();
  private _latest = new Map<string, IReport>();
  private _maxExecutions: number;
  private _changed = new Signal<this, void>(this);
  private _reportAdded = new Signal<this, IReport>(this);
}

export namespace NotebookMemoryModel {
  export interface IOptions {
    maxExecutions?: number;
  }
}

namespace Private {
  /** One execution's identity: a kernel re-sends its history on every reconnection. */
  export function key(report: IReport): string {
    return [
      report.cell_id ?? '',
      report.execution_count ?? '',
      report.run,
      report.rss.before
    ].join('|');
  }
}
