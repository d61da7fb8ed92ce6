/**
 * Per-cell decoration of one notebook view: a badge under the input of each executed code cell, a
 * `memdiag-mod-<verdict>` class and `data-memdiag-verdict` on the cell node (`data-memdiag-stale` when
 * the report comes from a kernel that has since restarted or shut down), and while memdiag's post-cell
 * work runs long, what it is doing. Follows the model, cell moves and deletes, and windowing (cells
 * rendered when they scroll into view).
 */
import { Cell } from '@jupyterlab/cells';
import { NotebookPanel } from '@jupyterlab/notebook';
import { IDisposable } from '@lumino/disposable';

import { badgeFor } from './badge';
import { decorateClusterBadge } from './clusterbadge';
import { progressLine } from './labels';
import { VERDICT_KINDS } from './protocol';
import { INotebookMemory } from './tokens';

const BADGE_CLASS = 'memdiag-CellBadge';
const PROGRESS_CLASS = 'memdiag-CellProgress';

export class NotebookDecorator implements IDisposable {
  constructor(memory: INotebookMemory, panel: NotebookPanel = memory.panel) {
    this._memory = memory;
    this._panel = panel;
    memory.model.changed.connect(this._schedule, this);
    memory.model.progressChanged.connect(this._schedule, this);
    const notebook = panel.content;
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
    this._memory.model.progressChanged.disconnect(this._schedule, this);
    this._panel.content.model?.cells.changed.disconnect(this._schedule, this);
    this._panel.content.modelChanged.disconnect(this._schedule, this);
    for (const cell of this._panel.content.widgets) {
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
    for (const cell of this._panel.content.widgets) {
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
    const model = this._memory.model;
    const code = cell.model.type === 'code';
    const report = code ? model.latest(cell.model.id) : undefined;
    const progress =
      code && model.progress?.cell_id === cell.model.id ? model.progress : null;
    const node = cell.node;
    if (!report) {
      undecorate(cell, !!progress);
    } else {
      const badge = badgeFor(report);
      const stale = model.isStale(report);
      for (const kind of VERDICT_KINDS) {
        node.classList.toggle(`memdiag-mod-${kind}`, kind === badge.kind);
      }
      node.dataset.memdiagVerdict = badge.kind;
      node.classList.toggle('memdiag-mod-stale', stale);
      if (stale) {
        node.dataset.memdiagStale = '';
      } else {
        delete node.dataset.memdiagStale;
      }
      const badgeNode = place(node, BADGE_CLASS, () => {
        const div = document.createElement('div');
        div.setAttribute('role', 'note');
        return div;
      });
      badgeNode.dataset.verdict = badge.kind;
      badgeNode.classList.toggle('memdiag-mod-stale', stale);
      const text = stale ? `${badge.text} · earlier kernel` : badge.text;
      badgeNode.textContent = text;
      const run = report.run > 1 ? `\nrun ${report.run} of this cell` : '';
      const staleNote = stale
        ? '\nFrom a kernel that has since restarted or shut down: run the cell again to measure it now.'
        : '';
      badgeNode.title = `${badge.title}${run}${staleNote}`;
      badgeNode.setAttribute(
        'aria-label',
        `memdiag: ${text}. ${badge.title}${staleNote}`
      );
      decorateClusterBadge(badgeNode, report);
    }
    if (progress) {
      const progressNode = place(node, PROGRESS_CLASS, () => {
        const div = document.createElement('div');
        // Announced without interrupting: it says what the kernel is busy with, at most a few times a cell.
        div.setAttribute('role', 'status');
        div.setAttribute('aria-live', 'polite');
        return div;
      });
      progressNode.dataset.stage = progress.stage;
      progressNode.textContent = progressLine(progress);
    } else {
      node.querySelector(`:scope > .${PROGRESS_CLASS}`)?.remove();
    }
  }

  private _memory: INotebookMemory;
  private _panel: NotebookPanel;
  private _followed = new WeakSet<Cell>();
  private _frame = 0;
  private _isDisposed = false;
}

/** The cell's node of `className` under its input (above the outputs), made when missing. */
function place(
  node: HTMLElement,
  className: string,
  make: () => HTMLElement
): HTMLElement {
  let child = node.querySelector<HTMLElement>(`:scope > .${className}`);
  if (!child) {
    child = make();
    child.classList.add(className);
  }
  // Placeholders (windowing) have no input yet.
  const input = node.querySelector(':scope > .jp-Cell-inputWrapper');
  if (input) {
    // The badge right under the input, the progress under the badge.
    const anchor =
      className === PROGRESS_CLASS
        ? (node.querySelector(`:scope > .${BADGE_CLASS}`) ?? input)
        : input;
    if (child.previousElementSibling !== anchor) {
      anchor.after(child);
    }
  } else if (!child.isConnected) {
    node.appendChild(child);
  }
  return child;
}

function undecorate(cell: Cell, keepProgress = false): void {
  const node = cell.node;
  node.querySelector(`:scope > .${BADGE_CLASS}`)?.remove();
  if (!keepProgress) {
    node.querySelector(`:scope > .${PROGRESS_CLASS}`)?.remove();
  }
  delete node.dataset.memdiagVerdict;
  delete node.dataset.memdiagStale;
  node.classList.remove('memdiag-mod-stale');
  for (const kind of VERDICT_KINDS) {
    node.classList.remove(`memdiag-mod-${kind}`);
  }
}
