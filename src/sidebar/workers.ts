/**
 * The sidebar's Workers section: the Dask workers of the notebook's kernel, after the selected execution (or
 * the newest one that read them), each worker's managed, unmanaged and spilled memory against its memory
 * limit, the cluster verdict, and "Give memory back" (the kernel's `give_back`: malloc_trim on every worker)
 * with what came back. The section is in the sidebar only while the notebook has reports with workers.
 */
import { ISignal, Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import { IGiveBackResult } from '../comm';
import { IWorkersChartText, WorkerPalette } from '../clusterchart';
import {
  clusterBadgeFor,
  clusterKind,
  clusterTotals,
  giveBackBars,
  IWorkerBar,
  percent,
  usageText,
  WORKER_PARTS,
  WorkerPart,
  workerBars
} from '../clusterview';
import { parseCssColor, toCssRgb } from '../contrast';
import { formatBytes, formatDelta } from '../format';
import { ICluster, IReport } from '../protocol';
import { INotebookMemory } from '../tokens';
import { MemoryView } from './view';

/** Workers drawn at most; a bigger cluster is summed in the first line and the timeline. */
const MAX_WORKERS = 32;

/** Sites and globals of `%%memdiag --workers` shown at most. */
const MAX_TRACED = 5;

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
    const cell =
      report.execution_count === null ? '–' : `[${report.execution_count}]`;
    when.textContent = result
      ? trans.__('Now, after giving memory back')
      : report.run > 1
        ? trans.__('After execution %1, run %2', cell, report.run)
        : trans.__('After execution %1', cell);
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
      parts.push(this._legend(), this._workers(bars));
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
    parts.push(...this._traced(cluster));
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

  private _legend(): HTMLElement {
    const trans = this.trans;
    const legend = el('ul', 'memdiag-Workers-legend');
    legend.setAttribute('aria-label', trans.__('Legend'));
    const short = this._partNames();
    const names: Record<WorkerPart | 'limit', [string, string]> = {
      managed: [short.managed, trans.__('data Dask holds (its keys)')],
      unmanaged: [
        short.unmanaged,
        trans.__(
          'the rest of the process: code, globals, caches, freed memory the allocator keeps'
        )
      ],
      spilled: [short.spilled, trans.__('keys Dask wrote to disk')],
      limit: [trans.__('limit'), trans.__("the worker's memory_limit")]
    };
    for (const part of [...WORKER_PARTS, 'limit'] as const) {
      const item = el('li', '');
      item.title = names[part][1];
      const swatch = el('span', 'memdiag-Workers-swatch');
      swatch.dataset.part = part;
      item.append(swatch, names[part][0]);
      legend.append(item);
    }
    return legend;
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
        .map(part => `${formatBytes(bar[part])} ${this._partNames()[part]}`)
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
      const given = this._answer?.result
        ? bar.noTrim
          ? trans.__('no malloc_trim')
          : trans.__('gave back %1', formatBytes(bar.trimmed ?? 0))
        : '';
      item.append(
        head,
        track,
        text('p', 'memdiag-Worker-parts', given ? `${split} · ${given}` : split)
      );
      list.append(item);
    }
    if (bars.length > MAX_WORKERS) {
      list.append(
        text(
          'li',
          'memdiag-Workers-when',
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

  /** `%%memdiag --workers`: the top allocation sites on the workers and the globals the tasks left. */
  private _traced(cluster: ICluster): HTMLElement[] {
    const trans = this.trans;
    const traced = cluster.traced;
    if (!traced) {
      return [];
    }
    const parts: HTMLElement[] = [];
    const globals = (traced.globals ?? []).slice(0, MAX_TRACED);
    if (globals.length) {
      parts.push(
        text('p', 'memdiag-Workers-heading', trans.__('Left in worker globals'))
      );
      const list = el('ul', 'memdiag-Workers-traced');
      for (const item of globals) {
        const li = el('li', '');
        li.append(
          text('code', '', item.root),
          ' ',
          trans.__(
            '%1, %2 (%3 added)',
            item.type,
            formatBytes(item.size),
            formatBytes(item.added_size ?? 0)
          )
        );
        if (item.advice) {
          li.append(text('p', 'memdiag-Workers-when', item.advice));
        }
        list.append(li);
      }
      parts.push(list);
    }
    const sites = (traced.workers ?? [])
      .flatMap(worker =>
        worker.sites.map(site => ({ worker: worker.name, site }))
      )
      .sort((a, b) => b.site.size - a.site.size)
      .slice(0, MAX_TRACED);
    if (sites.length) {
      parts.push(
        text(
          'p',
          'memdiag-Workers-heading',
          trans.__('Allocation sites on the workers')
        )
      );
      const list = el('ul', 'memdiag-Workers-traced');
      for (const { worker, site } of sites) {
        const li = el('li', '');
        const where = site.function
          ? `${site.file}:${site.line} (${site.function})`
          : `${site.file}:${site.line}`;
        li.append(
          trans.__('%1 on %2: %3', formatBytes(site.size), worker, where)
        );
        if (site.code) {
          li.append(' ', text('code', '', site.code));
        }
        list.append(li);
      }
      parts.push(list);
    }
    return parts;
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

  private _partNames(): Record<WorkerPart, string> {
    return {
      managed: this.trans.__('managed'),
      unmanaged: this.trans.__('unmanaged'),
      spilled: this.trans.__('spilled')
    };
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

/** "Gave back 139 kB: 0 70 kB, 1 69 kB", or why nothing came back. */
export function giveBackText(
  result: IGiveBackResult,
  trans: { __: (msgid: string, ...args: unknown[]) => string }
): string {
  const per = result.workers
    .map(w =>
      w.trim === false
        ? trans.__('%1 has no malloc_trim', String(w.name))
        : `${String(w.name)} ${formatBytes(w.trimmed)}`
    )
    .join(', ');
  const head =
    result.trimmed > 0
      ? trans.__('Gave back %1', formatBytes(result.trimmed))
      : trans.__('The workers had no free memory to give back');
  const errors = result.errors.length
    ? ` ${trans.__('Not answered: %1', result.errors.join('; '))}`
    : '';
  return `${head}${per ? `: ${per}.` : '.'}${errors}`;
}

/** The words of the timeline's workers panel, translated. */
export function workersChartText(trans: {
  __: (msgid: string, ...args: unknown[]) => string;
}): IWorkersChartText {
  return {
    workers: trans.__('Workers'),
    managed: trans.__('managed'),
    unmanaged: trans.__('unmanaged'),
    spilled: trans.__('spilled'),
    total: trans.__('Workers, total'),
    cell: trans.__('Cell'),
    run: trans.__('Run'),
    verdict: trans.__('Workers verdict'),
    reason: trans.__('Reason'),
    execution: trans.__('Execution')
  };
}

/**
 * The Workers colours as plain sRGB, for the timeline's workers panel: read from the section's CSS (so from
 * the theme's --jp-* variables) through a probe inside `node`; Dask's dashboard colours where none apply.
 */
export function readWorkerPalette(node: HTMLElement): WorkerPalette {
  const fallback: WorkerPalette = {
    managed: 'rgb(25, 118, 210)',
    unmanaged: 'rgb(175, 207, 239)',
    spilled: 'rgb(117, 117, 117)',
    outline: 'rgb(25, 118, 210)'
  };
  const probe = el('div', 'memdiag-Workers');
  probe.hidden = true;
  const swatches = WORKER_PARTS.map(part => {
    const swatch = el('span', 'memdiag-Workers-swatch');
    swatch.dataset.part = part;
    probe.append(swatch);
    return swatch;
  });
  node.append(probe);
  try {
    const palette = { ...fallback };
    WORKER_PARTS.forEach((part, i) => {
      const color = parseCssColor(
        window.getComputedStyle(swatches[i]).backgroundColor
      );
      if (color && color.a > 0) {
        palette[part] = toCssRgb(color);
      }
    });
    const outline = parseCssColor(
      window.getComputedStyle(swatches[1]).borderTopColor
    );
    if (outline && outline.a > 0) {
      palette.outline = toCssRgb(outline);
    }
    return palette;
  } finally {
    probe.remove();
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

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  return node;
}

/** An element holding kernel text as text: never parsed as markup. */
function text<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  content: string
): HTMLElementTagNameMap[K] {
  const node = el(tag, className);
  node.textContent = content;
  return node;
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
