/**
 * The workers' bars, as Dask's dashboard draws them, and the summary line above them: shared by the
 * sidebar's Workers section and the inline report of a cell (clusterdetail.ts). Names and addresses come
 * from the kernel: set as text, never parsed.
 */
import {
  clusterTotals,
  IWorkerBar,
  percent,
  usageText,
  WORKER_PARTS
} from '../clusterview';
import { formatBytes, formatDelta } from '../format';
import { el, partNames, text, Trans } from './workerparts';

/** Workers drawn at most; a bigger cluster is summed in the summary line and the timeline. */
const MAX_WORKERS = 32;

/** "of" and "no limit", for usageText. */
export function usageWords(trans: Trans): { of: string; noLimit: string } {
  return { of: trans.__('of'), noLimit: trans.__('no limit') };
}

/** "2 workers · 300 MB of 800 MB": the workers' memory together; the scheduler in the tooltip. */
export function workersSummary(
  bars: ReadonlyArray<IWorkerBar>,
  scheduler: string | null,
  trans: Trans
): HTMLElement {
  const totals = clusterTotals(bars);
  const summary = el('p', 'memdiag-Workers-summary');
  summary.textContent = bars.length
    ? trans._n(
        '%1 worker · %2',
        '%1 workers · %2',
        bars.length,
        usageText(
          { process: totals.managed + totals.unmanaged, limit: totals.limit },
          usageWords(trans)
        )
      )
    : trans.__('No workers');
  summary.title = trans.__('Scheduler %1', scheduler ?? '?');
  return summary;
}

/**
 * One bar a worker, as Dask's dashboard draws them: the head (name, memory against the limit, and what
 * `change` says of the worker), the bar, and unless `parts` is false the figures of its parts in words.
 */
export function workerList(
  bars: ReadonlyArray<IWorkerBar>,
  trans: Trans,
  change: (bar: IWorkerBar) => HTMLElement | null,
  options: { parts?: boolean } = {}
): HTMLElement {
  const names = partNames(trans);
  const list = el('ul', 'memdiag-Workers-list');
  for (const bar of bars.slice(0, MAX_WORKERS)) {
    const item = el('li', 'memdiag-Worker');
    item.dataset.level = bar.level;
    item.dataset.worker = bar.name;
    const head = el('div', 'memdiag-Worker-head');
    const name = text('span', 'memdiag-Worker-name', bar.name || bar.address);
    name.title = bar.address;
    const usage = usageText(bar, usageWords(trans));
    head.append(name, text('span', 'memdiag-Worker-usage', usage));
    const changed = change(bar);
    if (changed) {
      head.append(changed);
    }
    const track = el('div', 'memdiag-WorkerBar');
    track.setAttribute('role', 'img');
    const split = WORKER_PARTS.filter(
      part => bar[part] > 0 || part !== 'spilled'
    )
      .map(part => `${formatBytes(bar[part])} ${names[part]}`)
      .join(' · ');
    track.setAttribute(
      'aria-label',
      trans.__('Worker %1: %2; %3', bar.name, split, usage)
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
    item.append(head, track);
    if (options.parts !== false) {
      item.append(text('p', 'memdiag-Worker-parts', split));
    }
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

/** How a worker's process memory changed during the cell: "+16 MB", "joined", or nothing when unknown. */
export function workerDelta(bar: IWorkerBar, trans: Trans): HTMLElement | null {
  if (bar.joined) {
    return text('span', 'memdiag-Worker-delta', trans.__('joined'));
  }
  if (bar.delta === null) {
    return null;
  }
  const node = text('span', 'memdiag-Worker-delta', formatDelta(bar.delta));
  node.title = trans.__('Change of the worker process memory during the cell');
  return node;
}
