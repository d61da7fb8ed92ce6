/**
 * The Dask workers a notebook drives, as memdiag shows them: each worker's managed, unmanaged and spilled
 * memory against its memory limit (the geometry of Dask's own dashboard bars), the words for the cluster
 * verdict on a cell's badge, and what a `give_back` request brought back.
 *
 * Pure module: no JupyterLab or DOM imports. Worker names, addresses and reasons come from the kernel: they
 * are data for textContent, never markup.
 */
import type { IGiveBackResult, IGiveBackWorker } from './comm';
import { formatBytes, formatDelta } from './format';
import type {
  ClusterVerdictKind,
  ICluster,
  IClusterWorker,
  IReport
} from './protocol';

/** Dask's own memory categories, in the order its dashboard stacks them. */
export type WorkerPart = 'managed' | 'unmanaged' | 'spilled';
export const WORKER_PARTS: ReadonlyArray<WorkerPart> = [
  'managed',
  'unmanaged',
  'spilled'
];

/**
 * How full a worker is, as Dask's dashboard colours it (distributed's MemoryColor): orange from the
 * `distributed.worker.memory.target` fraction of the limit, red from `terminate`. The frontend cannot read
 * the workers' configuration: these are Dask's defaults.
 */
export type WorkerLevel = 'ok' | 'high' | 'critical';
export const DASK_TARGET_FRACTION = 0.6;
export const DASK_TERMINATE_FRACTION = 0.95;

/** One segment of a worker's bar, as fractions of the section's common scale. */
export interface IBarSegment {
  part: WorkerPart;
  bytes: number;
  /** Fraction of the scale where the segment starts, 0–1. */
  start: number;
  /** Fraction of the scale it spans, 0–1. */
  width: number;
}

/** One worker as the Workers section draws it. */
export interface IWorkerBar {
  name: string;
  address: string;
  managed: number;
  unmanaged: number;
  spilled: number;
  /** The worker process's memory: managed + unmanaged (Dask's "process"). */
  process: number;
  limit: number | null;
  /** Change of the process memory during the cell; null when the worker was not read before it. */
  delta: number | null;
  /** Bytes malloc_trim gave back on this worker; null when none was asked. */
  trimmed: number | null;
  /** The worker has no malloc_trim (not glibc): nothing can be given back there. */
  noTrim: boolean;
  joined: boolean;
  level: WorkerLevel;
  /** Where the worker's memory limit ends, as a fraction of the scale; null without a limit. */
  limitAt: number | null;
  segments: IBarSegment[];
}

/** A non-negative finite byte count (kernels may send nulls where a worker did not answer). */
function bytes(value: number | null | undefined): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0
    ? value
    : 0;
}

function positiveOrNull(value: number | null | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value > 0
    ? value
    : null;
}

export function workerLevel(
  process: number,
  limit: number | null
): WorkerLevel {
  if (limit === null) {
    return 'ok';
  }
  const fraction = process / limit;
  return fraction >= DASK_TERMINATE_FRACTION
    ? 'critical'
    : fraction >= DASK_TARGET_FRACTION
      ? 'high'
      : 'ok';
}

interface IWorkerFigures {
  name: string;
  address: string;
  managed: number;
  unmanaged: number;
  spilled: number;
  limit: number | null;
  delta: number | null;
  trimmed: number | null;
  noTrim: boolean;
  joined: boolean;
}

/**
 * Bars on one scale for all workers, as Dask's "Bytes stored per worker" chart: the scale is the biggest of
 * every worker's limit and its process plus spilled memory, so workers compare at a glance and a worker past
 * its limit still fits. Managed, then unmanaged, then spilled, from the left.
 */
function layout(figures: IWorkerFigures[]): IWorkerBar[] {
  const scale = Math.max(
    1,
    ...figures.map(w =>
      Math.max(w.limit ?? 0, w.managed + w.unmanaged + w.spilled)
    )
  );
  return figures.map(w => {
    const process = w.managed + w.unmanaged;
    let start = 0;
    const segments: IBarSegment[] = [];
    for (const part of WORKER_PARTS) {
      const size = w[part];
      if (size > 0) {
        segments.push({ part, bytes: size, start, width: size / scale });
        start += size / scale;
      }
    }
    return {
      ...w,
      process,
      level: workerLevel(process, w.limit),
      limitAt: w.limit === null ? null : w.limit / scale,
      segments
    };
  });
}

/** The workers of a report's cluster section, as bars. */
export function workerBars(cluster: ICluster): IWorkerBar[] {
  return layout(
    cluster.workers.map((w: IClusterWorker) => {
      const managed = bytes(w.managed);
      const unmanaged = bytes(w.unmanaged);
      return {
        name: w.name,
        address: w.address,
        managed,
        unmanaged,
        spilled: bytes(w.spilled),
        limit: positiveOrNull(w.memory_limit),
        delta:
          typeof w.rss_before === 'number' ? w.rss_after - w.rss_before : null,
        trimmed: typeof w.trimmed === 'number' ? w.trimmed : null,
        noTrim: false,
        joined: w.joined === true
      };
    })
  );
}

/** The workers as `give_back` found them after the trim, as bars. */
export function giveBackBars(result: IGiveBackResult): IWorkerBar[] {
  return layout(
    result.workers.map((w: IGiveBackWorker) => {
      const managed = bytes(w.managed);
      // A worker that could not say how much Dask manages: its whole RSS is shown as unmanaged.
      const unmanaged =
        w.unmanaged !== null
          ? bytes(w.unmanaged)
          : bytes((w.rss ?? 0) - managed);
      return {
        name: String(w.name),
        address: w.address,
        managed,
        unmanaged,
        spilled: bytes(w.spilled),
        limit: positiveOrNull(w.memory_limit),
        delta: null,
        trimmed: w.trimmed,
        noTrim: w.trim === false,
        joined: false
      };
    })
  );
}

/** Totals over the workers: what the timeline plots for the cluster. */
export interface IClusterTotals {
  managed: number;
  unmanaged: number;
  spilled: number;
  /** Sum of the workers' limits; null when any worker has none. */
  limit: number | null;
  workers: number;
}

export function clusterTotals(bars: ReadonlyArray<IWorkerBar>): IClusterTotals {
  let limit: number | null = 0;
  const totals = { managed: 0, unmanaged: 0, spilled: 0 };
  for (const bar of bars) {
    totals.managed += bar.managed;
    totals.unmanaged += bar.unmanaged;
    totals.spilled += bar.spilled;
    limit = limit === null || bar.limit === null ? null : limit + bar.limit;
  }
  return { ...totals, limit: bars.length ? limit : null, workers: bars.length };
}

/** The cluster's verdict on a report: its own, else what the report's flags say (older kernels). */
export function clusterKind(report: IReport): ClusterVerdictKind | null {
  const kind = report.cluster?.verdict?.kind;
  if (kind) {
    return kind;
  }
  const flags = report.verdict.flags;
  return flags.includes('cluster-leak')
    ? 'leak'
    : flags.includes('cluster-retains')
      ? 'retains'
      : report.cluster
        ? 'ok'
        : null;
}

/** Managed bytes the cell added on the workers (what a `retains` verdict is about). */
export function managedGrowth(cluster: ICluster): number {
  return cluster.workers.reduce(
    (sum, w) =>
      typeof w.managed_before === 'number'
        ? sum + (w.managed - w.managed_before)
        : sum,
    0
  );
}

/** The cluster's part of a cell's badge. */
export interface IClusterBadge {
  kind: 'leak' | 'retains';
  text: string;
  /** The cluster verdict's reason, for the tooltip. */
  title: string;
}

/**
 * "workers +32 MB/run" for a cluster leak, "workers +32 MB" for data the cell left in Dask's care; null when
 * the workers are fine or were not read. The kernel's own badge stays about the kernel.
 */
export function clusterBadgeFor(report: IReport): IClusterBadge | null {
  const kind = clusterKind(report);
  if (kind !== 'leak' && kind !== 'retains') {
    return null;
  }
  const verdict = report.cluster?.verdict;
  const title = verdict?.reason ?? '';
  if (kind === 'leak') {
    const slope = bytes(verdict?.bytes_per_run);
    // "workers ±0 B/run" would contradict the verdict: the reason says what happened.
    return {
      kind,
      text: slope > 0 ? `workers ${formatDelta(slope)}/run` : 'workers leak',
      title
    };
  }
  const held = report.cluster ? managedGrowth(report.cluster) : 0;
  return {
    kind,
    text: held > 0 ? `workers ${formatDelta(held)}` : 'workers hold data',
    title
  };
}

/** "130 MB of 12.6 GB" (or "130 MB, no limit"), the words beside a worker's bar. */
export function usageText(
  bar: Pick<IWorkerBar, 'process' | 'limit'>,
  words: { of: string; noLimit: string } = { of: 'of', noLimit: 'no limit' }
): string {
  return bar.limit === null
    ? `${formatBytes(bar.process)}, ${words.noLimit}`
    : `${formatBytes(bar.process)} ${words.of} ${formatBytes(bar.limit)}`;
}

/** Percent of the scale, for a CSS width: never below 0, rounded so the DOM stays stable. */
export function percent(fraction: number): string {
  return `${Math.round(Math.max(0, Math.min(1, fraction)) * 10000) / 100}%`;
}
