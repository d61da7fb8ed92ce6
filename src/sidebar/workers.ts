/**
 * The sidebar's Workers section: the Dask workers of the notebook's kernel, after the selected execution (or
 * the newest one that read them), each worker's managed, unmanaged and spilled memory against its memory
 * limit, the cluster verdict, and "Give memory back" (the kernel's `give_back`: malloc_trim on every worker)
 * with what came back. The section is in the sidebar only while the notebook has reports with workers.
 */
import { ISignal, Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import { IGiveBackResult } from '../comm';
import {
  clusterBadgeFor,
  clusterKind,
  clusterTotals,
  giveBackBars,
  IWorkerBar,
  percent,
  usageText,
  WORKER_PARTS,
  workerBars
} from '../clusterview';
import { formatBytes, formatDelta } from '../format';
import { ICluster, IReport } from '../protocol';
import { INotebookMemory } from '../tokens';
import { executionLabel } from '../labels';
import { MemoryView, notebookPositions } from './view';
import {
  el,
  giveBackText,
  partNames,
  text,
  tracedParts,
  workersLegend
} from './workerparts';

/** Workers drawn at most; a bigger cluster is summed in the first line and the timeline. */
const MAX_WORKERS = 32;

export class WorkersView extends MemoryView {
  constructor(options: WorkersView.IOptions) {
    super(options);
    this._host = options.host ?? null;
    this.addClass('memdiag-Workers');
    this.id = 'memdiag-workers';
    this.title.label = this.trans.__('Workers');
    this.title.caption = this.trans.__('The Dask workers of this kernel');
    this.node.setAttribute('aria-label', this.trans.__('Dask workers'));
    this._body = document.createElement('div');
    this._button = document.createElement('button');
    this._button.type = 'button';
    this._button.className = 'memdiag-Workers-giveBack';
    this._button.textContent = this.trans.__('Give memory back');
    this._button.title = this.trans.__(
      "Ask every worker to return the memory its allocator keeps free to the OS (malloc_trim), as Dask's docs advise"
    );
    this._button.addEventListener('click', () => void this.giveBack());
    this._result = document.createElement('p');
    this._result.className = 'memdiag-Workers-result';
    this._result.setAttribute('role', 'status');
    this._result.hidden = true;
    this._actions = document.createElement('div');
    this._actions.className = 'memdiag-Workers-actions';
    this._actions.append(this._button);
    this.node.append(this._body);
  }

  /** Whether the notebook has reports with workers: the section is shown only then. */
  get present(): boolean {
    return this._present;
  }

  get presentChanged(): ISignal<this, boolean> {
    return this._presentChanged;
  }

  /** Ask the kernel's workers to give free memory back, and show what came back. */
  async giveBack(): Promise<void> {
    const memory = this.memory;
    if (!memory || this._pending) {
      return;
    }
    this._pending = true;
    this._answer = null;
    this.update();
    try {
      const result = await memory.bridge.request('give_back', {});
      this._answer = { memory, after: newest(memory), result, error: null };
    } catch (reason) {
      this._answer = {
        memory,
        after: newest(memory),
        result: null,
        error: reason instanceof Error ? reason.message : String(reason)
      };
    } finally {
      this._pending = false;
      this.update();
    }
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._host = null;
    super.dispose();
  }

  protected render(): void {
    const memory = this.memory;
    const executions = memory?.model.executions ?? [];
    this._setPresent(executions.some(report => report.cluster !== undefined));
    // An answer stands until the next cell runs or another notebook is shown.
    if (
      this._answer &&
      (this._answer.memory !== memory || this._answer.after !== newest(memory))
    ) {
      this._answer = null;
    }
    const selected = this.selection.report;
    const report =
      selected?.cluster && executions.includes(selected)
        ? selected
        : findLast(executions, r => r.cluster !== undefined);
    this._body.replaceChildren(...(report ? this._describe(report) : []));
    this._renderAnswer();
    this._button.disabled =
      this._pending || !memory || memory.bridge.status !== 'ready';
    this._button.textContent = this._pending
      ? this.trans.__('Giving memory back…')
      : this.trans.__('Give memory back');
  }

  private _describe(report: IReport): HTMLElement[] {
    const trans = this.trans;
    const cluster = report.cluster as ICluster;
    const result = this._answer?.result ?? null;
    const bars = result ? giveBackBars(result) : workerBars(cluster);
    const parts: HTMLElement[] = [];
    const totals = clusterTotals(bars);
    const summary = el('p', 'memdiag-Workers-summary');
    summary.textContent = bars.length
      ? trans._n(
          '%1 worker · %2',
          '%1 workers · %2',
          bars.length,
          usageText(
            { process: totals.managed + totals.unmanaged, limit: totals.limit },
            this._words()
          )
        )
      : trans.__('No workers');
    summary.title = trans.__(
      'Scheduler %1',
      result?.scheduler ?? cluster.scheduler ?? '?'
    );
    parts.push(summary);
    const when = el('p', 'memdiag-Workers-when');
    when.textContent = result
      ? trans.__('Now, after giving memory back')
      : trans.__(
          'After %1',
          executionLabel(report, notebookPositions(this.memory))
        );
    // What the last "Give memory back" brought, under the line that says the bars show it.
    parts.push(when, this._result);
    if (cluster.skipped) {
      parts.push(
        text(
          'p',
          'memdiag-Workers-skipped',
          trans.__('Not read: %1', cluster.skipped)
        )
      );
    }
    if (bars.length) {
      parts.push(workersLegend(this.trans), this._workers(bars));
    }
    parts.push(this._actions);
    const verdict = this._verdict(report);
    if (verdict) {
      parts.push(verdict);
    }
    const lost = cluster.lost ?? [];
    if (lost.length && !result) {
      const list = el('ul', 'memdiag-Workers-lost');
      list.setAttribute('aria-label', trans.__('Workers lost during the cell'));
      for (const worker of lost) {
        list.append(
          text(
            'li',
            '',
            worker.why
              ? trans.__(
                  '%1 is gone: %2',
                  worker.name || worker.address,
                  worker.why
                )
              : trans.__('%1 is gone', worker.name || worker.address)
          )
        );
      }
      parts.push(list);
    }
    const errors = cluster.errors ?? [];
    if (errors.length && !result) {
      const list = el('ul', 'memdiag-Workers-errors');
      list.setAttribute('aria-label', trans.__('Workers that did not answer'));
      list.append(...errors.map(error => text('li', '', error)));
      parts.push(list);
    }
    parts.push(...tracedParts(cluster, this.trans));
    return parts;
  }

  private _verdict(report: IReport): HTMLElement | null {
    const kind = clusterKind(report);
    const reason = report.cluster?.verdict?.reason;
    if (!kind || (kind === 'ok' && !reason)) {
      return null;
    }
    const node = el('div', 'memdiag-Workers-verdict');
    node.dataset.cluster = kind;
    const badge = clusterBadgeFor(report);
    if (badge) {
      const pill = text('span', 'memdiag-ClusterPill', badge.text);
      pill.dataset.cluster = badge.kind;
      node.append(pill, ' ');
    }
    if (reason) {
      node.append(text('span', 'memdiag-Workers-reason', reason));
    }
    if (
      typeof report.cluster?.trimmed === 'number' &&
      report.cluster.trimmed > 0
    ) {
      node.append(
        text(
          'p',
          'memdiag-Workers-trimmed',
          this.trans.__(
            'malloc_trim gave back %1 on the workers before this verdict.',
            formatBytes(report.cluster.trimmed)
          )
        )
      );
    }
    return node;
  }

  private _workers(bars: IWorkerBar[]): HTMLElement {
    const trans = this.trans;
    const list = el('ul', 'memdiag-Workers-list');
    for (const bar of bars.slice(0, MAX_WORKERS)) {
      const item = el('li', 'memdiag-Worker');
      item.dataset.level = bar.level;
      item.dataset.worker = bar.name;
      const head = el('div', 'memdiag-Worker-head');
      const name = text('span', 'memdiag-Worker-name', bar.name || bar.address);
      name.title = bar.address;
      const usage = text(
        'span',
        'memdiag-Worker-usage',
        usageText(bar, this._words())
      );
      head.append(name, usage);
      const change = this._change(bar);
      if (change) {
        head.append(change);
      }
      const track = el('div', 'memdiag-WorkerBar');
      track.setAttribute('role', 'img');
      const split = WORKER_PARTS.filter(
        part => bar[part] > 0 || part !== 'spilled'
      )
        .map(part => `${formatBytes(bar[part])} ${partNames(this.trans)[part]}`)
        .join(' · ');
      track.setAttribute(
        'aria-label',
        trans.__(
          'Worker %1: %2; %3',
          bar.name,
          split,
          usageText(bar, this._words())
        )
      );
      track.title = split;
      if (bar.limitAt !== null) {
        const limit = el('div', 'memdiag-WorkerBar-limit');
        limit.style.width = percent(bar.limitAt);
        track.append(limit);
      }
      for (const segment of bar.segments) {
        const part = el('div', 'memdiag-WorkerBar-part');
        part.dataset.part = segment.part;
        part.style.left = percent(segment.start);
        part.style.width = percent(segment.width);
        track.append(part);
      }
      item.append(head, track, text('p', 'memdiag-Worker-parts', split));
      list.append(item);
    }
    if (bars.length > MAX_WORKERS) {
      list.append(
        text(
          'li',
          'memdiag-Workers-more',
          trans.__('and %1 more workers', bars.length - MAX_WORKERS)
        )
      );
    }
    return list;
  }

  /** What changed on a worker: its growth during the cell, or what it gave back. */
  private _change(bar: IWorkerBar): HTMLElement | null {
    const trans = this.trans;
    if (this._answer?.result) {
      const node = text(
        'span',
        'memdiag-Worker-delta',
        bar.noTrim ? '–' : formatDelta(-(bar.trimmed ?? 0))
      );
      node.title = bar.noTrim
        ? trans.__('This worker has no malloc_trim (not glibc)')
        : trans.__('malloc_trim gave back %1', formatBytes(bar.trimmed ?? 0));
      return node;
    }
    if (bar.joined) {
      return text('span', 'memdiag-Worker-delta', trans.__('joined'));
    }
    if (bar.delta === null) {
      return null;
    }
    const node = text('span', 'memdiag-Worker-delta', formatDelta(bar.delta));
    node.title = trans.__(
      'Change of the worker process memory during the cell'
    );
    return node;
  }

  private _renderAnswer(): void {
    const node = this._result;
    const answer = this._answer;
    node.hidden = !answer;
    node.classList.toggle(
      'memdiag-mod-failed',
      answer?.error !== null && !!answer
    );
    if (!answer) {
      node.replaceChildren();
      return;
    }
    node.textContent = answer.result
      ? giveBackText(answer.result, this.trans)
      : this.trans.__(
          'The workers could not give memory back: %1',
          answer.error ?? ''
        );
  }

  private _words(): { of: string; noLimit: string } {
    return { of: this.trans.__('of'), noLimit: this.trans.__('no limit') };
  }

  private _setPresent(present: boolean): void {
    const host = this._host;
    if (host && !host.isDisposed) {
      if (present && !host.widgets.includes(this)) {
        // Before the details, the sidebar's last section.
        const widgets = host.widgets;
        host.insertWidget(Math.max(0, widgets.length - 1), this);
      } else if (!present && this.parent) {
        this.parent = null;
      }
    }
    if (present !== this._present) {
      this._present = present;
      this._presentChanged.emit(present);
    }
  }

  private _host: WorkersView.IHost | null;
  private _body: HTMLElement;
  private _button: HTMLButtonElement;
  private _result: HTMLElement;
  private _actions: HTMLElement;
  private _pending = false;
  private _answer: Private.IAnswer | null = null;
  private _present = false;
  private _presentChanged = new Signal<this, boolean>(this);
}

export namespace WorkersView {
  export interface IOptions extends MemoryView.IOptions {
    /** The side panel the section adds itself to while the notebook has workers to show. */
    host?: IHost;
  }

  /** What the section needs of the sidebar (a SidePanel). */
  export interface IHost {
    readonly widgets: ReadonlyArray<Widget>;
    readonly isDisposed: boolean;
    insertWidget(index: number, widget: Widget): void;
  }
}

function newest(memory: INotebookMemory | null): IReport | null {
  const executions = memory?.model.executions ?? [];
  return executions[executions.length - 1] ?? null;
}

function findLast(
  executions: ReadonlyArray<IReport>,
  test: (report: IReport) => boolean
): IReport | null {
  for (let i = executions.length - 1; i >= 0; i--) {
    if (test(executions[i])) {
      return executions[i];
    }
  }
  return null;
}

namespace Private {
  /** The kernel's answer to "Give memory back", for the notebook and the newest report it was asked after. */
  export interface IAnswer {
    memory: INotebookMemory;
    after: IReport | null;
    result: IGiveBackResult | null;
    error: string | null;
  }
}
