/**
 * The Workers section's parts that need no state: the legend, the cluster verdict, lost and silent workers,
 * the `%%memdiag --workers` findings, the words of a give_back answer and of the timeline's workers panel,
 * and the colours read from the theme (the bars are in workerbars.ts). The inline report of a cell
 * (clusterdetail.ts) is built from the same parts. Kernel strings are set as text, never parsed.
 */
import { chainText } from '../backreftree';
import { IWorkersChartText, WorkerPalette } from '../clusterchart';
import {
  clusterBadgeFor,
  clusterKind,
  WORKER_PARTS,
  WorkerPart
} from '../clusterview';
import { IGiveBackResult } from '../comm';
import { parseCssColor, toCssRgb } from '../contrast';
import { formatBytes } from '../format';
import { ICluster, IReport } from '../protocol';

/** What these parts need of a translation bundle. */
export type Trans = {
  __: (msgid: string, ...args: unknown[]) => string;
  _n: (
    singular: string,
    plural: string,
    n: number,
    ...args: unknown[]
  ) => string;
};

/** Sites and globals of `%%memdiag --workers` shown at most. */
const MAX_TRACED = 5;

/** Dask's names of the parts, translated. */
export function partNames(trans: Trans): Record<WorkerPart, string> {
  return {
    managed: trans.__('managed'),
    unmanaged: trans.__('unmanaged'),
    spilled: trans.__('spilled')
  };
}

/** The legend: Dask's parts and the limit, each with what it means. */
export function workersLegend(trans: Trans): HTMLElement {
  const legend = el('ul', 'memdiag-Workers-legend');
  legend.setAttribute('aria-label', trans.__('Legend'));
  const short = partNames(trans);
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

/** The cluster verdict: its pill ("workers +32 MB/run"), its reason, and what malloc_trim gave back first. */
export function clusterVerdict(
  report: IReport,
  trans: Trans
): HTMLElement | null {
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
  const trimmed = report.cluster?.trimmed;
  if (typeof trimmed === 'number' && trimmed > 0) {
    node.append(
      text(
        'p',
        'memdiag-Workers-trimmed',
        trans.__(
          'malloc_trim gave back %1 on the workers before this verdict.',
          formatBytes(trimmed)
        )
      )
    );
  }
  return node;
}

/** Why the workers were not read, for a report whose cluster section says so. */
export function skippedNote(
  cluster: ICluster,
  trans: Trans
): HTMLElement | null {
  return cluster.skipped
    ? text(
        'p',
        'memdiag-Workers-skipped',
        trans.__('Not read: %1', cluster.skipped)
      )
    : null;
}

/** Workers that died or left during the cell, and workers that did not answer. */
export function troubleLists(cluster: ICluster, trans: Trans): HTMLElement[] {
  const parts: HTMLElement[] = [];
  const lost = cluster.lost ?? [];
  if (lost.length) {
    const list = el('ul', 'memdiag-Workers-lost');
    list.setAttribute('aria-label', trans.__('Workers lost during the cell'));
    for (const worker of lost) {
      const name = worker.name || worker.address;
      list.append(
        text(
          'li',
          '',
          worker.why
            ? trans.__('%1 is gone: %2', name, worker.why)
            : trans.__('%1 is gone', name)
        )
      );
    }
    parts.push(list);
  }
  const errors = cluster.errors ?? [];
  if (errors.length) {
    const list = el('ul', 'memdiag-Workers-errors');
    list.setAttribute('aria-label', trans.__('Workers that did not answer'));
    list.append(...errors.map(error => text('li', '', error)));
    parts.push(list);
  }
  return parts;
}

/** `%%memdiag --workers`: the top allocation sites on the workers and the globals the tasks left. */
export function tracedParts(cluster: ICluster, trans: Trans): HTMLElement[] {
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
    list.setAttribute(
      'aria-label',
      trans.__('Worker globals the cell created or grew, with their roots')
    );
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
      // The root's chain, as the kernel's own chains read; where it grew when not on every worker.
      const line = [
        item.chain.length ? chainText(item) : '',
        item.workers.length
          ? trans.__('grew on %1', byName(item.workers).join(', '))
          : ''
      ]
        .filter(Boolean)
        .join(' · ');
      if (line) {
        li.append(text('p', 'memdiag-Workers-chain', line));
      }
      if (item.advice) {
        li.append(text('p', 'memdiag-Workers-advice', item.advice));
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
    list.setAttribute(
      'aria-label',
      trans.__('Where the cell allocated on the workers, biggest first')
    );
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

/** Worker names as a person counts them ("2" before "10"), whatever order the workers answered in. */
function byName(names: ReadonlyArray<string>): string[] {
  return [...names].sort((a, b) =>
    a.localeCompare(b, undefined, { numeric: true })
  );
}

/** "Gave back 139 kB: worker 0: 70 kB, worker 1: 69 kB", or why nothing came back. */
export function giveBackText(result: IGiveBackResult, trans: Trans): string {
  // Named as workers: Dask's names are often numbers, and "0 217 kB" ran a name into its figure.
  const per = result.workers
    .map(w =>
      w.trim === false
        ? trans.__('worker %1 has no malloc_trim', String(w.name))
        : trans.__('worker %1: %2', String(w.name), formatBytes(w.trimmed))
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
export function workersChartText(trans: Trans): IWorkersChartText {
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

export function el<K extends keyof HTMLElementTagNameMap>(
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
export function text<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  content: string
): HTMLElementTagNameMap[K] {
  const node = el(tag, className);
  node.textContent = content;
  return node;
}
