/**
 * The cluster verdict on a cell's badge: a pill of its own after the kernel's text ("+2 MB  workers +32 MB/run"),
 * so the kernel's verdict, colour and `data-memdiag-verdict` stay about the kernel.
 */
import { clusterBadgeFor, IClusterBadge } from './clusterview';
import { IReport } from './protocol';

export const CLUSTER_PILL_CLASS = 'memdiag-ClusterPill';

/** "workers +32 MB/run: <reason>", or the text alone without a reason: what a tooltip or a label says. */
export function clusterNote(cluster: IClusterBadge): string {
  return cluster.title ? `${cluster.text}: ${cluster.title}` : cluster.text;
}

/** The cluster verdict's pill (coloured by its kind through `data-cluster`), reading `text` (its own by default). */
export function clusterPill(
  cluster: IClusterBadge,
  text: string = cluster.text
): HTMLSpanElement {
  const pill = document.createElement('span');
  pill.className = CLUSTER_PILL_CLASS;
  pill.dataset.cluster = cluster.kind;
  pill.textContent = text;
  return pill;
}

/**
 * Add the cluster's pill to `badge` (whose text was just written) and its reason to the badge's tooltip and
 * label. Does nothing when the workers are fine or were not read.
 */
export function decorateClusterBadge(
  badge: HTMLElement,
  report: IReport
): void {
  const cluster = clusterBadgeFor(report);
  if (!cluster) {
    return;
  }
  badge.append(clusterPill(cluster));
  const note = clusterNote(cluster);
  badge.title = badge.title ? `${badge.title}\n${note}` : note;
  const label = badge.getAttribute('aria-label');
  badge.setAttribute('aria-label', label ? `${label} ${note}` : note);
}
