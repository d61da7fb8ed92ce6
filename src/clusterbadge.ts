/**
 * The cluster verdict on a cell's badge: a pill of its own after the kernel's text ("+2 MB  workers +32 MB/run"),
 * so the kernel's verdict, colour and `data-memdiag-verdict` stay about the kernel.
 */
import { clusterBadgeFor } from './clusterview';
import { IReport } from './protocol';

export const CLUSTER_PILL_CLASS = 'memdiag-ClusterPill';

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
  const pill = document.createElement('span');
  pill.className = CLUSTER_PILL_CLASS;
  pill.dataset.cluster = cluster.kind;
  pill.textContent = cluster.text;
  badge.append(pill);
  const note = cluster.title
    ? `${cluster.text}: ${cluster.title}`
    : cluster.text;
  badge.title = badge.title ? `${badge.title}\n${note}` : note;
  const label = badge.getAttribute('aria-label');
  badge.setAttribute('aria-label', label ? `${label} ${note}` : note);
}
