/**
 * The Workers section's parts that need no state: the legend, the `%%memdiag --workers` findings, the words
 * of a give_back answer and of the timeline's workers panel, and the colours read from the theme. Kernel
 * strings are set as text, never parsed.
 */
import { IWorkersChartText, WorkerPalette } from '../clusterchart';
import { WORKER_PARTS, WorkerPart } from '../clusterview';
import { IGiveBackResult } from '../comm';
import { parseCssColor, toCssRgb } from '../contrast';
import { formatBytes } from '../format';
import { ICluster } from '../protocol';

/** What these parts need of a translation bundle. */
export type Trans = { __: (msgid: string, ...args: unknown[]) => string };

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

/** "Gave back 139 kB: 0 70 kB, 1 69 kB", or why nothing came back. */
export function giveBackText(result: IGiveBackResult, trans: Trans): string {
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
