/**
 * The memory sidebar: the connection status of the current notebook's kernel and its executions.
 * Follows the current notebook; does no rendering work while hidden.
 */
import { ITranslator, nullTranslator, TranslationBundle } from '@jupyterlab/translation';
import { SidePanel } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { formatBytes, formatDelta } from './format';
import { memoryIcon } from './icons';
import { IReport } from './protocol';
import { IMemdiagTracker, INotebookMemory } from './tokens';

/** The sidebar's widget id: tests and the layout restorer rely on it. */
export const SIDEBAR_ID = 'memdiag-sidebar';

/** A view that renders the current notebook's memory state. */
abstract class MemoryView extends Widget {
  constructor(trans: TranslationBundle) {
    super();
    this.trans = trans;
  }

  set memory(memory: INotebookMemory | null) {
    if (memory === this._memory) {
      return;
    }
    this._memory?.model.changed.disconnect(this.update, this);
    this._memory?.bridge.stateChanged.disconnect(this.update, this);
    this._memory = memory;
    memory?.model.changed.connect(this.update, this);
    memory?.bridge.stateChanged.connect(this.update, this);
    this.update();
  }

  get memory(): INotebookMemory | null {
    return this._memory;
  }

  protected onUpdateRequest(msg: Message): void {
    // Widget.update() is a no-op while hidden; onBeforeShow updates again.
    this.render();
  }

  protected onBeforeShow(msg: Message): void {
    this.update();
  }

  protected abstract render(): void;

  protected trans: TranslationBundle;
  private _memory: INotebookMemory | null = null;
}

/** The kernel's status, and what the user can do about it. */
export class StatusView extends MemoryView {
  constructor(trans: TranslationBundle) {
    super(trans);
    this.addClass('memdiag-Status');
    this.node.setAttribute('role', 'status');
    this.node.setAttribute('aria-live', 'polite');
  }

  protected render(): void {
    const node = this.node;
    node.replaceChildren();
    const memory = this.memory;
    const trans = this.trans;
    const line = (text: string, className = 'memdiag-Status-line'): HTMLElement => {
      const p = document.createElement('p');
      p.className = className;
      p.textContent = text;
      node.appendChild(p);
      return p;
    };
    if (!memory) {
      line(trans.__('Open a notebook to see its memory.'));
      node.dataset.memdiagStatus = 'no-notebook';
      return;
    }
    const bridge = memory.bridge;
    node.dataset.memdiagStatus = bridge.status;
    switch (bridge.status) {
      case 'no-kernel':
        line(trans.__('This notebook has no kernel.'));
        break;
      case 'connecting':
        line(trans.__('Connecting to the kernel…'));
        break;
      case 'ready': {
        const last = memory.model.executions[memory.model.executions.length - 1];
        line(
          last
            ? trans.__('Kernel memory: %1', formatBytes(last.rss.after))
            : trans.__('Run a cell to see its memory.')
        );
        line(trans.__('memdiag %1 in the kernel', bridge.kernelVersion ?? ''), 'memdiag-Status-version');
        break;
      }
      case 'not-loaded': {
        line(trans.__('memdiag is not loaded in this kernel.'));
        const button = document.createElement('button');
        button.className = 'jp-mod-styled jp-mod-accept memdiag-Status-load';
        button.textContent = trans.__('Load memdiag');
        button.addEventListener('click', () => void bridge.load());
        node.appendChild(button);
        break;
      }
      case 'missing': {
        line(trans.__("memdiag is not installed in this kernel's environment. Install it from a cell:"));
        const code = document.createElement('code');
        code.className = 'memdiag-Status-install';
        code.textContent = '%pip install memdiag';
        node.appendChild(code);
        line(trans.__('then restart the kernel.'));
        break;
      }
      case 'unsupported':
        line(trans.__('memdiag supports Python kernels; this kernel runs %1.', bridge.detail || '?'));
        break;
      case 'outdated':
        line(
          trans.__(
            "The kernel's memdiag is newer than this extension (%1): update memdiag in JupyterLab's environment and reload the page.",
            bridge.detail
          )
        );
        break;
      case 'error':
        line(trans.__('memdiag could not start in this kernel: %1', bridge.detail));
        break;
    }
  }
}

/** One row per execution, newest first. */
export class ExecutionTable extends MemoryView {
  constructor(trans: TranslationBundle) {
    super(trans);
    this.addClass('memdiag-ExecutionTable');
    this.title.label = trans.__('Executions');
    const table = document.createElement('table');
    table.setAttribute('aria-label', trans.__('Memory per cell execution'));
    const head = table.createTHead().insertRow();
    for (const [label, title] of [
      [trans.__('Cell'), trans.__('Execution count')],
      [trans.__('Run'), trans.__('How many times this cell ran')],
      [trans.__('Δ RSS'), trans.__('Resident memory after the cell minus before it')],
      [trans.__('Peak'), trans.__('Highest resident memory during the cell')],
      [trans.__('Verdict'), trans.__("memdiag's diagnosis")]
    ]) {
      const th = document.createElement('th');
      th.scope = 'col';
      th.textContent = label;
      th.title = title;
      head.appendChild(th);
    }
    this._body = table.createTBody();
    this._empty = document.createElement('p');
    this._empty.className = 'memdiag-ExecutionTable-empty';
    this._empty.textContent = trans.__('No executions yet.');
    this.node.append(table, this._empty);
  }

  protected render(): void {
    const executions = this.memory?.model.executions ?? [];
    const rows: HTMLTableRowElement[] = [];
    for (let i = executions.length - 1; i >= 0; i--) {
      rows.push(this._row(executions[i]));
    }
    this._body.replaceChildren(...rows);
    this._empty.hidden = rows.length > 0;
  }

  private _row(report: IReport): HTMLTableRowElement {
    const tr = document.createElement('tr');
    tr.className = 'memdiag-ExecutionTable-row';
    tr.dataset.verdict = report.verdict.kind;
    if (report.cell_id) {
      tr.dataset.cellId = report.cell_id;
    }
    const cells = [
      report.execution_count === null ? '–' : `[${report.execution_count}]`,
      String(report.run),
      formatDelta(report.rss.after - report.rss.before),
      report.rss.peak === null ? '–' : formatBytes(report.rss.peak),
      report.verdict.kind
    ];
    for (const text of cells) {
      tr.insertCell().textContent = text;
    }
    tr.title = report.verdict.reason;
    return tr;
  }

  private _body: HTMLTableSectionElement;
  private _empty: HTMLElement;
}

/** The memory sidebar itself. */
export class MemorySidebar extends SidePanel {
  constructor(options: MemorySidebar.IOptions) {
    const translator = options.translator ?? nullTranslator;
    super({ translator });
    const trans = translator.load('memdiag');
    this.id = SIDEBAR_ID;
    this.addClass('memdiag-Sidebar');
    this.title.icon = memoryIcon;
    this.title.caption = trans.__('Memory (memdiag)');
    this.node.setAttribute('role', 'region');
    this.node.setAttribute('aria-label', trans.__('memdiag memory sidebar'));
    this._status = new StatusView(trans);
    this.header.addWidget(this._status);
    this._table = new ExecutionTable(trans);
    this.addWidget(this._table);
    this._tracker = options.tracker;
    this._tracker.currentChanged.connect(this._follow, this);
    this._follow();
  }

  dispose(): void {
    this._tracker.currentChanged.disconnect(this._follow, this);
    super.dispose();
  }

  private _follow(): void {
    const memory = this._tracker.current;
    this._status.memory = memory;
    this._table.memory = memory;
  }

  private _tracker: IMemdiagTracker;
  private _status: StatusView;
  private _table: ExecutionTable;
}

export namespace MemorySidebar {
  export interface IOptions {
    tracker: IMemdiagTracker;
    translator?: ITranslator;
  }
}
