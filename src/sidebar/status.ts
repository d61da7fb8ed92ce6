/**
 * The sidebar's header: the kernel's state and memory against its limit, the snapshot switch and the
 * tracing policy. Controls write the settings (the settings registry is the source of truth); the
 * values shown are what the kernel reports.
 */
import { ISettingRegistry } from '@jupyterlab/settingregistry';

import { rssAfter } from '../badge';
import { IKernelConfig, KernelConfig } from '../comm';
import { isTracePolicy, TRACE_POLICIES } from '../config';
import { skippedLine } from '../detailparts';
import { formatBytes } from '../format';
import { progressLine } from '../labels';
import { IReport } from '../protocol';
import { skippedProbes } from '../skipped';
import { MemoryView } from './view';

/** Probe errors of the newest cell shown in the status; the cell's details list them all. */
const MAX_ERRORS = 3;

export class StatusView extends MemoryView {
  constructor(options: StatusView.IOptions) {
    super(options);
    this.addClass('memdiag-Status');
    this.node.setAttribute('role', 'status');
    this.node.setAttribute('aria-live', 'polite');
    this._settings = options.settings ?? null;
    // Kept across renders: updated in place, so assistive technology announces only its new text.
    this._progress = document.createElement('p');
    this._progress.className = 'memdiag-Status-line memdiag-Status-progress';
    this._progress.hidden = true;
  }

  set settings(settings: ISettingRegistry.ISettings | null) {
    this._settings = settings;
  }

  protected onProgressChanged(): void {
    const progress = this.memory?.model.progress ?? null;
    this._progress.hidden = progress === null;
    this._progress.textContent = progress ? progressLine(progress) : '';
    if (progress) {
      this._progress.dataset.stage = progress.stage;
    }
  }

  protected render(): void {
    const node = this.node;
    node.replaceChildren();
    this._renderState();
    // Under the memory line: what memdiag is busy with, while it lasts.
    const memoryLine = node.querySelector('.memdiag-Status-memory');
    if (memoryLine) {
      memoryLine.after(this._progress);
    } else {
      node.appendChild(this._progress);
    }
  }

  private _renderState(): void {
    const node = this.node;
    const memory = this.memory;
    const trans = this.trans;
    const line = (
      text: string,
      className = 'memdiag-Status-line'
    ): HTMLElement => {
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
      case 'ready':
        this._renderReady();
        break;
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
        line(
          trans.__(
            "memdiag is not installed in this kernel's environment. Install it from a cell:"
          )
        );
        const code = document.createElement('code');
        code.className = 'memdiag-Status-install';
        // eslint-disable-next-line jupyter/no-untranslated-string -- a command to type, the same in every language
        code.textContent = '%pip install memdiag';
        node.appendChild(code);
        line(trans.__('then restart the kernel.'));
        break;
      }
      case 'unsupported':
        line(
          trans.__(
            'memdiag supports Python kernels; this kernel runs %1.',
            bridge.detail || '?'
          )
        );
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
        line(
          trans.__('memdiag could not start in this kernel: %1', bridge.detail)
        );
        break;
      case 'too-old': {
        line(
          trans.__('memdiag in this kernel is too old. Update it from a cell:')
        );
        const code = document.createElement('code');
        code.className = 'memdiag-Status-install';
        // eslint-disable-next-line jupyter/no-untranslated-string -- a command to type, the same in every language
        code.textContent = '%pip install -U memdiag';
        node.appendChild(code);
        line(trans.__('then restart the kernel.'));
        break;
      }
      case 'no-answer': {
        line(
          trans.__(
            'memdiag did not answer: it was loaded in this kernel but never said hello.'
          )
        );
        const retry = document.createElement('button');
        retry.className = 'jp-mod-styled jp-mod-accept memdiag-Status-load';
        retry.textContent = trans.__('Try again');
        retry.addEventListener('click', () => void bridge.load());
        node.appendChild(retry);
        break;
      }
    }
  }

  private _renderReady(): void {
    const memory = this.memory!;
    const trans = this.trans;
    // The live kernel's memory: never a figure from before a restart.
    const last = memory.model.latestLive();
    const summary = document.createElement('p');
    summary.className = 'memdiag-Status-line memdiag-Status-memory';
    const off = memory.bridge.config?.enabled === false;
    if (off) {
      const offLine = document.createElement('p');
      offLine.className = 'memdiag-Status-line memdiag-Status-off';
      offLine.textContent = trans.__(
        'Snapshots are off: cells run without a memory report. Switch them on below, or diagnose one cell with %%memdiag.'
      );
      this.node.appendChild(offLine);
    }
    if (!last) {
      summary.hidden = off;
      summary.textContent = memory.model.executions.length
        ? trans.__(
            'No cell has run in this kernel yet: the rows below are from before its restart.'
          )
        : trans.__('Run a cell to see its memory.');
      this.node.appendChild(summary);
    } else {
      const limit = last.rss.limit ?? null;
      summary.textContent = limit
        ? trans.__(
            'Kernel memory: %1 of %2',
            formatBytes(rssAfter(last)),
            formatBytes(limit)
          )
        : trans.__('Kernel memory: %1', formatBytes(rssAfter(last)));
      this.node.appendChild(summary);
      if (limit) {
        const share = Math.min(1, rssAfter(last) / limit);
        const meter = document.createElement('div');
        meter.className = 'memdiag-Status-meter';
        meter.setAttribute('role', 'meter');
        meter.setAttribute(
          'aria-label',
          trans.__('Kernel memory against its limit')
        );
        meter.setAttribute('aria-valuemin', '0');
        meter.setAttribute('aria-valuemax', String(limit));
        meter.setAttribute('aria-valuenow', String(rssAfter(last)));
        const fill = document.createElement('div');
        fill.className = 'memdiag-Status-meterFill';
        fill.style.width = `${(share * 100).toFixed(1)}%`;
        fill.classList.toggle('memdiag-mod-high', share > 0.8);
        meter.appendChild(fill);
        this.node.appendChild(meter);
      }
      const probes = this._probes(last);
      if (probes) {
        this.node.appendChild(probes);
      }
    }
    this.node.appendChild(this._controls());
    const version = document.createElement('p');
    version.className = 'memdiag-Status-version';
    version.textContent = trans.__(
      'memdiag %1 in the kernel',
      memory.bridge.kernelVersion ?? ''
    );
    this.node.appendChild(version);
  }

  /**
   * What the newest cell could not measure, in words: probes the kernel skipped (a user's gc.freeze(), a
   * platform without mallinfo2) and probes that failed. Null when every probe ran.
   */
  private _probes(report: IReport): HTMLElement | null {
    const trans = this.trans;
    const skipped = skippedProbes(report);
    const errors = report.errors.slice(0, MAX_ERRORS);
    if (!skipped.length && !errors.length) {
      return null;
    }
    const list = document.createElement('ul');
    list.className = 'memdiag-Status-probes';
    list.setAttribute(
      'aria-label',
      trans.__(
        'Probes that did not run for cell [%1]',
        report.execution_count === null ? '–' : report.execution_count
      )
    );
    const item = (text: string, kind: string): void => {
      const li = document.createElement('li');
      li.className = `memdiag-Status-probe memdiag-mod-${kind}`;
      li.textContent = text;
      list.appendChild(li);
    };
    for (const group of skipped) {
      item(skippedLine(group, trans), 'skipped');
    }
    for (const error of errors) {
      item(
        `${trans.__('Probe failed:')} ${error.length > 300 ? `${error.slice(0, 299)}…` : error}`,
        'failed'
      );
    }
    return list;
  }

  private _controls(): HTMLElement {
    const trans = this.trans;
    const config = this.memory?.bridge.config ?? {};
    const controls = document.createElement('div');
    controls.className = 'memdiag-Status-controls';

    const switchLabel = document.createElement('label');
    switchLabel.className = 'memdiag-Status-switch';
    const toggle = document.createElement('input');
    toggle.type = 'checkbox';
    toggle.setAttribute('role', 'switch');
    toggle.checked = config.enabled !== false;
    toggle.setAttribute('aria-checked', String(toggle.checked));
    toggle.addEventListener(
      'change',
      () => void this._set('enabled', toggle.checked)
    );
    switchLabel.append(toggle, document.createTextNode(trans.__('Snapshots')));
    switchLabel.title = trans.__('Take a memory snapshot after every cell');

    const traceLabel = document.createElement('label');
    traceLabel.className = 'memdiag-Status-trace';
    traceLabel.appendChild(document.createTextNode(trans.__('Tracing')));
    const select = document.createElement('select');
    select.className = 'jp-mod-styled';
    select.setAttribute('aria-label', trans.__('Allocation tracing policy'));
    const names: Record<string, string> = {
      off: trans.__('off'),
      suspect: trans.__('suspect cells'),
      always: trans.__('always')
    };
    for (const policy of TRACE_POLICIES) {
      const option = document.createElement('option');
      option.value = policy;
      option.textContent = names[policy];
      select.appendChild(option);
    }
    select.value = isTracePolicy(config.trace) ? config.trace : 'suspect';
    select.addEventListener('change', () => {
      const policy = select.value;
      if (isTracePolicy(policy)) {
        void this._set('trace', policy);
      }
    });
    traceLabel.appendChild(select);
    traceLabel.title = trans.__(
      'When memdiag traces allocations with tracemalloc'
    );

    controls.append(switchLabel, traceLabel);
    return controls;
  }

  /** Through the settings when there are any (they reach every kernel), else to this kernel alone. */
  private async _set<K extends 'enabled' | 'trace'>(
    setting: K,
    value: IKernelConfig[K]
  ): Promise<void> {
    if (this._settings) {
      await this._settings.set(setting, value);
    } else {
      const change: KernelConfig = {};
      change[setting] = value;
      await this.memory?.bridge
        .request('config', change)
        .catch(() => undefined);
    }
  }

  private _settings: ISettingRegistry.ISettings | null;
  private _progress: HTMLElement;
}

export namespace StatusView {
  export interface IOptions extends MemoryView.IOptions {
    settings?: ISettingRegistry.ISettings | null;
  }
}
