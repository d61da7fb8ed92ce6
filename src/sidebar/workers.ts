/**
 * The sidebar's Workers section: the Dask workers of the notebook's kernel, after the selected execution (or
 * the newest one that read them), each worker's managed, unmanaged and spilled memory against its memory
 * limit, the cluster verdict, and "Give memory back" (the kernel's `give_back`: malloc_trim on every worker)
 * with what came back. The section is in the sidebar only while the notebook has reports with workers.
 */
import { ISignal, Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import { IGiveBackResult } from '../comm';
import { giveBackBars, IWorkerBar, workerBars } from '../clusterview';
import { formatBytes, formatDelta } from '../format';
import { ICluster, IReport } from '../protocol';
import { INotebookMemory } from '../tokens';
import { executionLabel } from '../labels';
import { MemoryView, notebookPositions } from './view';
import { workerDelta, workerList, workersSummary } from './workerbars';
import {
  clusterVerdict,
  el,
  giveBackText,
  skippedNote,
  tracedParts,
  troubleLists,
  workersLegend
} from './workerparts';

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
    const model = memory?.model;
    const selected = this.selection.report;
    // While the live kernel has read workers, or an execution that did is selected: after a restart into a
    // kernel without a cluster, the old kernel's workers are not shown unasked.
    this._setPresent(
      (!!selected?.cluster && executions.includes(selected)) ||
        executions.some(
          report => report.cluster !== undefined && !model?.isStale(report)
        )
    );
    // An answer stands until the next cell runs or another notebook is shown.
    if (
      this._answer &&
      (this._answer.memory !== memory || this._answer.after !== newest(memory))
    ) {
      this._answer = null;
    }
    const report =
      selected?.cluster && executions.includes(selected)
        ? selected
        : findLast(executions, r => r.cluster !== undefined);
    // Workers read by a kernel that has restarted since: its client and cluster are gone with it, and what "Give
    // memory back" brought is about the live workers, never shown under an earlier kernel's.
    const stale = !!report && !!model && model.isStale(report);
    const answer = stale ? null : this._answer;
    this.toggleClass('memdiag-mod-stale', stale);
    this._body.replaceChildren(
      ...(report ? this._describe(report, stale, answer?.result ?? null) : [])
    );
    this._renderAnswer(answer);
    this._button.disabled =
      this._pending || !memory || memory.bridge.status !== 'ready';
    this._button.textContent = this._pending
      ? this.trans.__('Giving memory back…')
      : this.trans.__('Give memory back');
  }

  private _describe(
    report: IReport,
    stale: boolean,
    result: IGiveBackResult | null
  ): HTMLElement[] {
    const trans = this.trans;
    const cluster = report.cluster as ICluster;
    const bars = result ? giveBackBars(result) : workerBars(cluster);
    const parts: HTMLElement[] = [
      workersSummary(bars, result?.scheduler ?? cluster.scheduler, trans)
    ];
    const when = el('p', 'memdiag-Workers-when');
    const label = executionLabel(report, notebookPositions(this.memory));
    when.textContent = result
      ? trans.__('Now, after giving memory back')
      : stale
        ? trans.__(
            'After %1, before the restart: these workers belonged to the kernel that was restarted',
            label
          )
        : trans.__('After %1', label);
    // What the last "Give memory back" brought, under the line that says the bars show it.
    parts.push(when, this._result);
    const skipped = skippedNote(cluster, trans);
    if (skipped) {
      parts.push(skipped);
    }
    if (bars.length) {
      parts.push(
        workersLegend(trans),
        workerList(bars, trans, bar => this._change(bar, result))
      );
      // Only beside workers of the live kernel: with none (a closed Client, a restarted kernel) there is nothing
      // to ask.
      if (!stale) {
        parts.push(this._actions);
      }
    }
    const verdict = clusterVerdict(report, trans);
    if (verdict) {
      parts.push(verdict);
    }
    // Lost and silent workers are the cell's story; after a give_back the bars are now's.
    if (!result) {
      parts.push(...troubleLists(cluster, trans));
    }
    parts.push(...tracedParts(cluster, trans));
    return parts;
  }

  /** What changed on a worker: its growth during the cell, or what it gave back (`result`, when shown). */
  private _change(
    bar: IWorkerBar,
    result: IGiveBackResult | null
  ): HTMLElement | null {
    const trans = this.trans;
    if (!result) {
      return workerDelta(bar, trans);
    }
    const node = el('span', 'memdiag-Worker-delta');
    node.textContent = bar.noTrim ? '–' : formatDelta(-(bar.trimmed ?? 0));
    node.title = bar.noTrim
      ? trans.__('This worker has no malloc_trim (not glibc)')
      : trans.__('malloc_trim gave back %1', formatBytes(bar.trimmed ?? 0));
    return node;
  }

  private _renderAnswer(answer: Private.IAnswer | null): void {
    const node = this._result;
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
