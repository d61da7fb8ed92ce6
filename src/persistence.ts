/**
 * Keeps each cell's recent reports in its metadata and brings them back when the notebook opens.
 */
import { ICellModel } from '@jupyterlab/cells';
import { IDisposable } from '@lumino/disposable';

import { appendReport, METADATA_KEY, readReports } from './metadata';
import { ISavedReport } from './model';
import { IReport } from './protocol';
import { INotebookMemory } from './tokens';

export class NotebookPersistence implements IDisposable {
  constructor(memory: INotebookMemory, save: () => boolean = () => true) {
    this._memory = memory;
    this._save = save;
    memory.model.reportAdded.connect(this._onReport, this);
    void memory.panel.context.ready.then(() => this._restore());
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** Remove every cell's saved reports. */
  clear(): void {
    for (const cell of this._cells()) {
      if (cell.getMetadata(METADATA_KEY) !== undefined) {
        cell.deleteMetadata(METADATA_KEY);
      }
    }
  }

  dispose(): void {
    if (!this._isDisposed) {
      this._isDisposed = true;
      this._memory.model.reportAdded.disconnect(this._onReport, this);
    }
  }

  private _restore(): void {
    if (this._isDisposed) {
      return;
    }
    const restored: ISavedReport[] = [];
    let invalid = 0;
    for (const cell of this._cells()) {
      const saved = readReports(cell.getMetadata(METADATA_KEY));
      invalid += saved.invalid;
      saved.reports.forEach((report, index) => {
        // Only reports about this very cell: a copied cell keeps its metadata but gets a new id.
        if (report.cell_id === cell.id) {
          restored.push({ report, at: saved.times[index] });
        }
      });
    }
    if (invalid) {
      console.warn(
        `memdiag: ignored ${invalid} malformed saved report(s) in ${this._memory.panel.context.path}`
      );
    }
    this._memory.model.restore(restored);
  }

  private _onReport(_: unknown, report: IReport): void {
    // The setting `saveReports`: nothing goes in the file when it is off.
    if (!this._save()) {
      return;
    }
    const cell = report.cell_id
      ? this._cells().find(c => c.id === report.cell_id)
      : undefined;
    if (cell && cell.type === 'code') {
      cell.setMetadata(
        METADATA_KEY,
        appendReport(
          cell.getMetadata(METADATA_KEY),
          report,
          this._memory.model.timeOf(report)
        )
      );
    }
  }

  private _cells(): ICellModel[] {
    const cells = this._memory.panel.content.model?.cells;
    return cells ? Array.from(cells) : [];
  }

  private _memory: INotebookMemory;
  private _save: () => boolean;
  private _isDisposed = false;
}
