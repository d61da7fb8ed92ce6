/**
 * One row per execution: cell, run, Δ RSS, peak, new objects, cycles, verdict. Newest first, or
 * sorted by Δ RSS; a row selects its execution and reveals its cell.
 */
import { cycleObjects, rssDelta } from '../badge';
import { formatBytes, formatCount, formatDelta } from '../format';
import { IReport } from '../protocol';
import { censusRan } from '../skipped';
import { MemoryView } from './view';

type SortKey = 'time' | 'delta';

/** Rows drawn at most: the newest (or the largest, sorted by Δ RSS); the timeline shows the whole history. */
const MAX_ROWS = 200;

export class ExecutionTable extends MemoryView {
  constructor(options: ExecutionTable.IOptions) {
    super(options);
    const trans = this.trans;
    this._onPick = options.onPick;
    this.addClass('memdiag-ExecutionTable');
    this.title.label = trans.__('Executions');
    const table = document.createElement('table');
    table.setAttribute('aria-label', trans.__('Memory per cell execution'));
    const head = table.createTHead().insertRow();
    const columns: Array<[string, string, SortKey | null]> = [
      [trans.__('Cell'), trans.__('Execution count'), 'time'],
      [trans.__('Run'), trans.__('How many times this cell ran'), null],
      [
        trans.__('Δ RSS'),
        trans.__('Resident memory after the cell minus before it'),
        'delta'
      ],
      [
        trans.__('Peak'),
        trans.__('Highest resident memory during the cell'),
        null
      ],
      [
        trans.__('New'),
        trans.__('Objects the cell created that survive it'),
        null
      ],
      [
        trans.__('Cycles'),
        trans.__('Objects in reference cycles the cell made'),
        null
      ],
      [trans.__('Verdict'), trans.__("memdiag's diagnosis"), null]
    ];
    for (const [label, title, sort] of columns) {
      const th = document.createElement('th');
      th.scope = 'col';
      th.title = title;
      if (sort) {
        const button = document.createElement('button');
        button.className = 'memdiag-ExecutionTable-sort';
        button.textContent = label;
        button.dataset.sort = sort;
        button.addEventListener('click', () => {
          this._sort = sort;
          this.update();
        });
        th.appendChild(button);
        this._sortHeaders.set(sort, th);
      } else {
        th.textContent = label;
      }
      head.appendChild(th);
    }
    this._body = table.createTBody();
    this._body.addEventListener('click', this);
    this._body.addEventListener('keydown', this);
    this._empty = document.createElement('p');
    this._empty.className = 'memdiag-ExecutionTable-empty';
    this._empty.textContent = trans.__('No executions yet.');
    this._more = document.createElement('p');
    this._more.className = 'memdiag-ExecutionTable-more';
    this._more.hidden = true;
    this.node.append(table, this._empty, this._more);
  }

  handleEvent(event: Event): void {
    if (
      event.type === 'keydown' &&
      (event as KeyboardEvent).key !== 'Enter' &&
      (event as KeyboardEvent).key !== ' '
    ) {
      return;
    }
    const row = (event.target as HTMLElement).closest<HTMLTableRowElement>(
      'tr'
    );
    const report = row ? this._rows.get(row) : undefined;
    if (report) {
      event.preventDefault();
      this._onPick(report);
    }
  }

  protected render(): void {
    const executions = [...(this.memory?.model.executions ?? [])];
    if (this._sort === 'delta') {
      executions.sort((a, b) => rssDelta(b) - rssDelta(a));
    } else {
      executions.reverse();
    }
    for (const [key, th] of this._sortHeaders) {
      th.setAttribute(
        'aria-sort',
        key === this._sort ? (key === 'delta' ? 'descending' : 'none') : 'none'
      );
    }
    this._rows = new Map();
    const rows = executions.slice(0, MAX_ROWS).map(report => this._row(report));
    this._body.replaceChildren(...rows);
    this._empty.hidden = rows.length > 0;
    this._more.hidden = executions.length <= MAX_ROWS;
    this._more.textContent = this.trans.__(
      'Showing %1 of %2 executions.',
      Math.min(MAX_ROWS, executions.length),
      executions.length
    );
  }

  private _row(report: IReport): HTMLTableRowElement {
    const tr = document.createElement('tr');
    tr.className = 'memdiag-ExecutionTable-row';
    tr.tabIndex = 0;
    tr.dataset.verdict = report.verdict.kind;
    if (report.cell_id) {
      tr.dataset.cellId = report.cell_id;
    }
    if (report === this.selection.report) {
      tr.classList.add('jp-mod-selected');
      tr.setAttribute('aria-selected', 'true');
    }
    const cycles = cycleObjects(report);
    const cells = [
      report.execution_count === null ? '–' : `[${report.execution_count}]`,
      String(report.run),
      formatDelta(rssDelta(report)),
      report.rss.peak === null ? '–' : formatBytes(report.rss.peak),
      report.objects && censusRan(report)
        ? formatCount(report.objects.new)
        : '–',
      cycles ? formatCount(cycles) : '–',
      report.verdict.kind
    ];
    for (const text of cells) {
      tr.insertCell().textContent = text;
    }
    tr.title = report.verdict.reason;
    this._rows.set(tr, report);
    return tr;
  }

  private _onPick: (report: IReport) => void;
  private _sort: SortKey = 'time';
  private _sortHeaders = new Map<SortKey, HTMLTableCellElement>();
  private _rows = new Map<HTMLTableRowElement, IReport>();
  private _body: HTMLTableSectionElement;
  private _empty: HTMLElement;
  private _more: HTMLElement;
}

export namespace ExecutionTable {
  export interface IOptions extends MemoryView.IOptions {
    onPick: (report: IReport) => void;
  }
}
