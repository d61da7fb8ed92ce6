/**
 * Per-cell decoration of one notebook: a badge under the input of each executed code cell, a
 * `memdiag-mod-<verdict>` class and `data-memdiag-verdict` on the cell node. Follows the model, cell
 * moves and deletes, and windowing (cells rendered when they scroll into view).
 */
import { Cell } from '@jupyterlab/cells';
import { IDisposable } from '@lumino/disposable';

import { badgeFor, peakNote } from './badge';
import { VERDICT_KINDS } from './protocol';
import { INotebookMemory } from './tokens';

const BADGE_CLASS = 'memdiag-CellBadge';

export class NotebookDecorator implements IDisposable {
  constructor(memory: INotebookMemory) {
    this._memory = memory;
    memory.model.changed.connect(this._schedule, this);
    const notebook = memory.panel.content;
    notebook.model?.cells.changed.connect(this._schedule, this);
    notebook.modelChanged.connect(this._schedule, this);
    this._schedule();
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    cancelAnimationFrame(this._frame);
    this._memory.model.changed.disconnect(this._schedule, this);
    this._memory.panel.content.model?.cells.changed.disconnect(
      this._schedule,
      this
    );
    this._memory.panel.content.modelChanged.disconnect(this._schedule, this);
    for (const cell of this._memory.panel.content.widgets) {
      cell.inViewportChanged.disconnect(this._onViewport, this);
      undecorate(cell);
    }
  }

  /** Coalesce bursts (a leak check, a restored history) into one pass per frame. */
  private _schedule(): void {
    if (this._isDisposed || this._frame) {
      return;
    }
    this._frame = requestAnimationFrame(() => {
      this._frame = 0;
      this._refresh();
    });
  }

  private _refresh(): void {
    if (this._isDisposed) {
      return;
    }
    for (const cell of this._memory.panel.content.widgets) {
      if (!this._followed.has(cell)) {
        this._followed.add(cell);
        cell.inViewportChanged.connect(this._onViewport, this);
      }
      this._decorate(cell);
    }
  }

  private _onViewport(cell: Cell): void {
    this._decorate(cell);
  }

  private _decorate(cell: Cell): void {
    const report =
      cell.model.type === 'code'
        ? this._memory.model.latest(cell.model.id)
        : undefined;
    if (!report) {
      undecorate(cell);
      return;
    }
    const badge = badgeFor(report);
    const node = cell.node;
    for (const kind of VERDICT_KINDS) {
      node.classList.toggle(`memdiag-mod-${kind}`, kind === badge.kind);
    }
    node.dataset.memdiagVerdict = badge.kind;
    let badgeNode = node.querySelector<HTMLElement>(`:scope > .${BADGE_CLASS}`);
    if (!badgeNode) {
      badgeNode = document.createElement('div');
      badgeNode.className = BADGE_CLASS;
      badgeNode.setAttribute('role', 'note');
    }
    // Under the input, above the outputs; placeholders (windowing) have no input yet.
    const input = node.querySelector(':scope > .jp-Cell-inputWrapper');
    if (input && badgeNode.previousElementSibling !== input) {
      input.after(badgeNode);
    } else if (!input && !badgeNode.isConnected) {
      node.appendChild(badgeNode);
    }
    badgeNode.dataset.verdict = badge.kind;
    badgeNode.textContent = badge.text;
    const run = report.run > 1 ? ` · run ${report.run}` : '';
    const peak = peakNote(report);
    badgeNode.title = `${badge.title}${peak ? `\n${peak}` : ''}${run}`;
    badgeNode.setAttribute(
      'aria-label',
      `memdiag: ${badge.text}. ${badge.title}`
    );
  }

  private _memory: INotebookMemory;
  private _followed = new WeakSet<Cell>();
  private _frame = 0;
  private _isDisposed = false;
}

function undecorate(cell: Cell): void {
  const node = cell.node;
  node.querySelector(`:scope > .${BADGE_CLASS}`)?.remove();
  delete node.dataset.memdiagVerdict;
  for (const kind of VERDICT_KINDS) {
    node.classList.remove(`memdiag-mod-${kind}`);
  }
}
