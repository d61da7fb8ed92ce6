/**
 * The memory history of one notebook: every report its kernels sent or its cells saved, in the order
 * they ran, split into segments (one per kernel process: a restart or a kernel change starts a new
 * one), the reports of each cell, and what memdiag is doing right now. Pure data with change signals;
 * no JupyterLab imports.
 */
import { ISignal, Signal } from '@lumino/signaling';

import type { IProgressMessage } from './comm';
import { IReport } from './protocol';

/** The executions kept per notebook unless told otherwise. */
export const DEFAULT_MAX_EXECUTIONS = 500;

/** The segment of reports read back from the notebook that no live kernel has claimed. */
export const SAVED_SEGMENT = -1;

/** A report saved in the notebook, with when it arrived (ms since the epoch) when that was saved too. */
export interface ISavedReport {
  report: IReport;
  at: number | null;
}

/** What memdiag's post-cell work is doing now, as the kernel last said. */
export type Progress = Omit<IProgressMessage, 'type'>;

export class NotebookMemoryModel {
  constructor(options: NotebookMemoryModel.IOptions = {}) {
    this._maxExecutions = options.maxExecutions ?? DEFAULT_MAX_EXECUTIONS;
  }

  /** Emitted after reports are added, cleared or change segment, and when a segment starts. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Emitted for each report added live, after `changed`. */
  get reportAdded(): ISignal<this, IReport> {
    return this._reportAdded;
  }

  /** Emitted when the progress changes (null: memdiag's work for the cell ended). */
  get progressChanged(): ISignal<this, Progress | null> {
    return this._progressChanged;
  }

  /** All executions in the order they ran, oldest first. */
  get executions(): ReadonlyArray<IReport> {
    return this._executions;
  }

  /** The live kernel's segment; reports of a lower segment came from a kernel that has since restarted. */
  get segment(): number {
    return this._segment;
  }

  /** What memdiag is doing for a cell right now, or null. */
  get progress(): Progress | null {
    return this._progress;
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

  /** The newest report of the live kernel, or null when no cell ran in it yet. */
  latestLive(): IReport | null {
    const last = this._executions[this._executions.length - 1];
    return last && !this.isStale(last) ? last : null;
  }

  /** The segment a report belongs to. */
  segmentOf(report: IReport): number {
    return this._entries.get(report)?.segment ?? SAVED_SEGMENT;
  }

  /** When a report arrived (ms since the epoch; small numbers for old saved reports without a time). */
  timeOf(report: IReport): number {
    return this._entries.get(report)?.at ?? 0;
  }

  /** Whether a report comes from a kernel that has since restarted, shut down or been replaced. */
  isStale(report: IReport): boolean {
    return this.segmentOf(report) < this._segment;
  }

  /**
   * A report the live kernel just sent; a report already held (same execution) is ignored. A report from
   * another kernel process than the live segment's (`kernel_session`) starts a new segment first: a restart
   * nobody announced is still one.
   */
  add(report: IReport): boolean {
    const session = report.kernel_session;
    if (session !== undefined && !this._held(report)) {
      if (this._session !== null && this._session !== session) {
        this.startSegment();
      }
      this._session = session;
    }
    const added = this._insert(report, this._nextTime(), this._segment);
    if (this._progress && Private.ends(this._progress, report)) {
      this.setProgress(null);
    }
    if (added) {
      this._trim();
      this._changed.emit();
      this._reportAdded.emit(report);
    }
    return added;
  }

  /**
   * The live kernel's history (oldest first): reports already held are claimed for the live segment and
   * keep their place; the others go where their start time (`started_at`) puts them, else right after the
   * history report before them.
   */
  merge(reports: ReadonlyArray<IReport>): number {
    let added = 0;
    let claimed = 0;
    const known = reports.map(report => this._held(report));
    const firstKnown = known.findIndex(report => report !== undefined);
    let previous: number | null =
      firstKnown >= 0
        ? this.timeOf(known[firstKnown]!) - (firstKnown + 1) * Private.EPSILON
        : null;
    const base = this._nextTime();
    reports.forEach((report, index) => {
      const held = known[index];
      if (held) {
        const entry = this._entries.get(held)!;
        if (entry.segment !== this._segment) {
          entry.segment = this._segment;
          claimed++;
        }
        previous = entry.at;
        return;
      }
      const at =
        Private.started(report) ??
        (previous === null
          ? base + index * Private.EPSILON
          : previous + Private.EPSILON);
      previous = at;
      added += this._insert(report, at, this._segment) ? 1 : 0;
    });
    if (added || claimed) {
      this._trim();
      this._changed.emit();
    }
    return added;
  }

  /**
   * Reports read back from the notebook's cells, in any order: placed by when they started (`started_at`),
   * else by their saved time (by execution count before any timed report when neither was saved), in a
   * saved segment per kernel process (`kernel_session`, so the restarts between them are marked) until a
   * live kernel's history claims them.
   */
  restore(saved: ReadonlyArray<ISavedReport>): number {
    const placed = saved.map(item => ({
      report: item.report,
      at: Private.started(item.report) ?? item.at
    }));
    const untimed = placed
      .filter(item => item.at === null)
      .sort(
        (a, b) =>
          (a.report.execution_count ?? 0) - (b.report.execution_count ?? 0)
      );
    let added = 0;
    untimed.forEach((item, index) => {
      added += this._insert(
        item.report,
        index + 1,
        this._savedSegment(item.report)
      )
        ? 1
        : 0;
    });
    const timed = placed
      .filter(item => item.at !== null)
      .sort((a, b) => a.at! - b.at!);
    for (const item of timed) {
      added += this._insert(
        item.report,
        item.at!,
        this._savedSegment(item.report)
      )
        ? 1
        : 0;
    }
    if (added) {
      this._trim();
      this._changed.emit();
    }
    return added;
  }

  /** The kernel restarted or was replaced: what it reported so far belongs to the past. */
  startSegment(): void {
    this._segment++;
    this._session = null;
    this.setProgress(null);
    this._changed.emit();
  }

  /** Whether a restart happened after the last report (the timeline marks it at its end). */
  get restartedSinceLast(): boolean {
    const last = this._executions[this._executions.length - 1];
    return !!last && this.isStale(last);
  }

  setProgress(progress: Progress | null): void {
    if (progress === null && this._progress === null) {
      return;
    }
    this._progress = progress;
    this._progressChanged.emit(progress);
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

  /** The saved segment of a report read back: one per kernel process, in the order they first appear. */
  private _savedSegment(report: IReport): number {
    const session = report.kernel_session;
    if (session === undefined) {
      return SAVED_SEGMENT;
    }
    let segment = this._savedSegments.get(session);
    if (segment === undefined) {
      segment = SAVED_SEGMENT - 1 - this._savedSegments.size;
      this._savedSegments.set(session, segment);
    }
    return segment;
  }

  /** A live report is the newest thing this model holds. */
  private _nextTime(): number {
    const last = this._executions[this._executions.length - 1];
    const after = last ? this.timeOf(last) + Private.EPSILON : 0;
    return Math.max(Date.now(), after);
  }

  /**
   * The report held for the same execution, if any. A report saved without its kernel process (by an older
   * memdiag) is the same execution as a live one that says its process and matches the rest.
   */
  private _held(report: IReport): IReport | undefined {
    return (
      this._keys.get(Private.key(report)) ??
      (report.kernel_session === undefined
        ? undefined
        : this._keys.get(Private.key(report, '')))
    );
  }

  private _insert(report: IReport, at: number, segment: number): boolean {
    if (this._held(report)) {
      return false;
    }
    this._keys.set(Private.key(report), report);
    this._entries.set(report, { at, segment });
    // After every report of the same time: ties keep their arrival order.
    let low = 0;
    let high = this._executions.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (this.timeOf(this._executions[middle]) <= at) {
        low = middle + 1;
      } else {
        high = middle;
      }
    }
    this._executions.splice(low, 0, report);
    if (report.cell_id !== null) {
      const current = this._latest.get(report.cell_id);
      if (!current || this.timeOf(current) <= at) {
        this._latest.set(report.cell_id, report);
      }
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
  private _keys = new Map<string, IReport>();
  private _entries = new WeakMap<IReport, Private.IEntry>();
  private _latest = new Map<string, IReport>();
  private _segment = 0;
  /** The kernel process of the live segment, once one of its reports said it. */
  private _session: string | null = null;
  private _savedSegments = new Map<string, number>();
  private _progress: Progress | null = null;
  private _maxExecutions: number;
  private _changed = new Signal<this, void>(this);
  private _reportAdded = new Signal<this, IReport>(this);
  private _progressChanged = new Signal<this, Progress | null>(this);
}

export namespace NotebookMemoryModel {
  export interface IOptions {
    maxExecutions?: number;
  }
}

namespace Private {
  /** Spacing of reports whose time is only known relative to a neighbour's, in ms. */
  export const EPSILON = 0.001;

  export interface IEntry {
    /** When it arrived, in ms since the epoch. */
    at: number;
    segment: number;
  }

  /** When a report's cell started, in ms since the epoch, as its kernel said; null for older reports. */
  export function started(report: IReport): number | null {
    const at = report.started_at;
    return typeof at === 'number' && Number.isFinite(at) ? at * 1000 : null;
  }

  /**
   * One execution's identity: a kernel re-sends its history on every reconnection. The kernel process is part
   * of it: after a restart the same cell runs again as execution 1, run 1, and may even start at the same RSS.
   * `session` '' gives the identity the report would have had if saved without its process.
   */
  export function key(
    report: IReport,
    session = report.kernel_session ?? ''
  ): string {
    return [
      session,
      report.cell_id ?? '',
      report.execution_count ?? '',
      report.run,
      report.rss.before
    ].join('|');
  }

  /** Whether a report ends the progress shown: the report of that cell (of any cell when unknown). */
  export function ends(progress: Progress, report: IReport): boolean {
    return progress.cell_id === null || progress.cell_id === report.cell_id;
  }
}
