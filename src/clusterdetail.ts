/**
 * The Dask workers in a cell's inline report: the cluster verdict, each worker's memory as Dask's dashboard
 * draws it, its RSS before and after the cell with Dask's managed, unmanaged and spilled parts, and for
 * `%%memdiag --workers` the allocation sites on the workers and what the cell left in worker globals, with
 * roots and advice. Built from the sidebar Workers section's parts, so both say the same thing in the same
 * words and colours.
 *
 * Worker names, addresses, reasons, code and advice come from the kernel: text only, never markup.
 */
import { TranslationBundle } from '@jupyterlab/translation';

import { IWorkerBar, workerBars } from './clusterview';
import { el, section, table } from './detailparts';
import { formatBytes, formatDelta } from './format';
import { ICluster, IClusterWorker, IReport } from './protocol';
import { workerDelta, workerList, workersSummary } from './sidebar/workerbars';
import {
  clusterVerdict,
  skippedNote,
  tracedParts,
  troubleLists,
  workersLegend
} from './sidebar/workerparts';

/** The report's workers as a section of the inline report; null when the kernel had no Dask client. */
export function clusterSection(
  report: IReport,
  trans: TranslationBundle
): HTMLElement | null {
  const cluster = report.cluster;
  if (!cluster) {
    return null;
  }
  const node = section('cluster', trans.__('Dask workers'));
  const bars = workerBars(cluster);
  node.append(workersSummary(bars, cluster.scheduler, trans));
  if (cluster.scheduler) {
    node.append(
      el(
        'p',
        'memdiag-Workers-scheduler',
        trans.__('Scheduler %1', cluster.scheduler)
      )
    );
  }
  const parts: Array<HTMLElement | null> = [
    skippedNote(cluster, trans),
    clusterVerdict(report, trans)
  ];
  if (bars.length) {
    // The table below gives each part's figure: the bars carry only the change during the cell.
    parts.push(
      workersLegend(trans),
      workerList(bars, trans, bar => workerDelta(bar, trans), {
        parts: false
      }),
      rssTable(cluster, bars, trans)
    );
  }
  parts.push(...troubleLists(cluster, trans), ...tracedParts(cluster, trans));
  node.append(...parts.filter((part): part is HTMLElement => part !== null));
  return node;
}

/** Per worker: RSS before and after the cell, its change, and Dask's parts after it. */
function rssTable(
  cluster: ICluster,
  bars: ReadonlyArray<IWorkerBar>,
  trans: TranslationBundle
): HTMLElement {
  // The bars are the workers in their order, a part a worker did not report read as 0 B.
  const rows = cluster.workers.map((w: IClusterWorker, i) => [
    w.name || w.address,
    typeof w.rss_before === 'number' ? formatBytes(w.rss_before) : '–',
    formatBytes(w.rss_after),
    typeof w.rss_before === 'number'
      ? formatDelta(w.rss_after - w.rss_before)
      : trans.__('joined'),
    formatBytes(bars[i].managed),
    formatBytes(bars[i].unmanaged),
    formatBytes(bars[i].spilled)
  ]);
  return table(
    trans.__('Memory of each worker before and after the cell'),
    [
      trans.__('Worker'),
      trans.__('RSS before'),
      trans.__('RSS after'),
      trans.__('Δ RSS'),
      trans.__('managed'),
      trans.__('unmanaged'),
      trans.__('spilled')
    ],
    rows
  );
}
