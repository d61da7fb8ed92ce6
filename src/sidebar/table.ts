/**
 * One row per execution: verdict (a chip first, so it is on screen at any width), cell and run, Δ RSS,
 * peak, new objects, cycles. Newest first, with a marked row where the kernel restarted, or sorted by
 * Δ RSS; a row selects its execution and reveals its cell.
 */
import { cycleObjects, newObjects, rssDelta } from '../badge';
import { clusterNote, clusterPill } from '../clusterbadge';
import { clusterBadgeFor } from '../clusterview';
import { formatBytes, formatCount, formatDelta } from '../format';
import { executionLabel } from '../labels';
import { IReport } from '../protocol';
import { MemoryView, notebookPositions } from './view';

type SortKey = 'time' | 'delta';

/** A span whose text never breaks across lines. */
function unbroken(text: string): HTMLSpanElement {
  const span = document.createElement('span');
  span.className = 'memdiag-ExecutionTable-unbroken';
  span.textContent = text;
  return span;
}

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
      [trans.__('Verdict'), trans.__("memdiag's diagnosis"), null],
      [
        trans.__('Cell'),
        trans.__("The cell's place in the notebook, and its run"),
        'time'
      ],
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
      ]
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
    const model = this.memory?.model;
    const positions = notebookPositions(this.memory);
    const rows: HTMLTableRowElement[] = [];
    let previous: IReport | null = null;
    for (const report of executions.slice(0, MAX_ROWS)) {
      // Newest first: a restart lies between a live row and the older row below it.
      if (
        model &&
        this._sort === 'time' &&
        (previous
          ? model.segmentOf(previous) !== model.segmentOf(report)
          : model.isStale(report))
      ) {
        rows.push(this._restartRow());
      }
      rows.push(this._row(report, positions));
      previous = report;
    }
    this._body.replaceChildren(...rows);
    // A selection made elsewhere (the result of a leak check or a diagnosis) is brought on screen, once.
    const selected = this.selection.report;
    if (selected !== this._scrolledTo) {
      this._scrolledTo = selected;
      for (const [row, report] of this._rows) {
        if (report === selected) {
          row.scrollIntoView({ block: 'nearest' });
        }
      }
    }
    this._empty.hidden = this._rows.size > 0;
    this._more.hidden = executions.length <= MAX_ROWS;
    this._more.textContent = this.trans.__(
      'Showing %1 of %2 executions.',
      Math.min(MAX_ROWS, executions.length),
      executions.length
    );
  }

  /** Where the kernel restarted (or was replaced): the rows below it ran in an earlier kernel. */
  private _restartRow(): HTMLTableRowElement {
    const tr = document.createElement('tr');
    tr.className = 'memdiag-ExecutionTable-restart';
    const td = tr.insertCell();
    td.colSpan = 6;
    // In a block as wide as the visible table (CSS), so it wraps on screen rather than run past the edge.
    const text = document.createElement('span');
    text.className = 'memdiag-ExecutionTable-restartText';
    text.textContent = this.trans.__(
      'Kernel restarted: the rows below ran before it'
    );
    td.appendChild(text);
    return tr;
  }

  private _row(
    report: IReport,
    positions: ReadonlyMap<string, number>
  ): HTMLTableRowElement {
    const trans = this.trans;
    const tr = document.createElement('tr');
    tr.className = 'memdiag-ExecutionTable-row';
    tr.tabIndex = 0;
    tr.dataset.verdict = report.verdict.kind;
    if (report.cell_id) {
      tr.dataset.cellId = report.cell_id;
    }
    const stale = this.memory?.model.isStale(report) ?? false;
    tr.classList.toggle('memdiag-mod-stale', stale);
    if (stale) {
      tr.dataset.stale = '';
    }
    const selected = report === this.selection.report;
    tr.classList.toggle('jp-mod-selected', selected);
    tr.setAttribute('aria-selected', String(selected));
    const label = executionLabel(report, positions);
    const chip = document.createElement('span');
    chip.className = 'memdiag-ExecutionTable-chip';
    chip.dataset.verdict = report.verdict.kind;
    chip.textContent = report.verdict.kind;
    const verdictCell = tr.insertCell();
    verdictCell.appendChild(chip);
    // The workers' verdict under the kernel's, as on the cell's badge: a leak on the workers is not "ok".
    const cluster = clusterBadgeFor(report);
    if (cluster) {
      const pill = clusterPill(cluster, trans.__('workers'));
      pill.classList.add('memdiag-ExecutionTable-cluster');
      pill.title = clusterNote(cluster);
      verdictCell.appendChild(pill);
    }
    const cycles = cycleObjects(report);
    const made = newObjects(report);
    const cells = [
      label,
      formatDelta(rssDelta(report)),
      report.rss.peak === null ? '–' : formatBytes(report.rss.peak),
      made === null ? '–' : formatCount(made),
      cycles ? formatCount(cycles) : '–'
    ];
    for (const text of cells) {
      tr.insertCell().textContent = text;
    }
    // "cell 24 · run 2" may break after its "·" in a narrow sidebar, never inside "run 2".
    const [cell, run] = label.split(' · ');
    if (run !== undefined) {
      const parts = tr.cells[1];
      parts.textContent = '';
      parts.append(unbroken(`${cell} ·`), ' ', unbroken(run));
    }
    if (stale) {
      // Said once on screen, by the restart's divider above these greyed rows; to assistive technology with
      // each row's name (and in its tooltip), without taking two more lines of every row.
      const when = document.createElement('span');
      when.className = 'memdiag-ExecutionTable-when';
      when.textContent = trans.__('before the restart');
      tr.cells[1].append(' ', when);
    }
    const count =
      report.execution_count === null ? '' : ` [${report.execution_count}]`;
    const workers = cluster ? `\n${clusterNote(cluster)}` : '';
    tr.title = stale
      ? `${label}${count}: ${trans.__('before the restart')}\n${report.verdict.reason}${workers}`
      : `${label}${count}\n${report.verdict.reason}${workers}`;
    this._rows.set(tr, report);
    return tr;
  }

  private _onPick: (report: IReport) => void;
  private _scrolledTo: IReport | null = null;
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
