/**
 * What a cell's badge says about its newest report. Pure module.
 */
import { formatBytes, formatCount, formatDelta } from './format';
import { IReport, VerdictKind } from './protocol';
import { censusRan } from './skipped';

export interface IBadge {
  kind: VerdictKind;
  /** The verdict and its own number: "holds 14 MB", "leak +5 MB/run", "cycles 2k", "native +300 MB" or "+8 MB/run". */
  text: string;
  /** The verdict's reason, Δ RSS and the peak, for the tooltip. */
  title: string;
}

/**
 * Objects in the cyclic garbage the cell made; 0 when the cycle probe did not run (a cell that called gc.collect():
 * what that collection freed is the whole heap's, not the cell's).
 */
export function cycleObjects(report: IReport): number {
  if (report.gc?.skipped) {
    return 0;
  }
  const cycles = report.gc?.cycles ?? [];
  const listed = cycles.reduce((sum, cycle) => sum + cycle.objects, 0);
  return Math.max(listed, report.gc?.collected ?? 0);
}

/**
 * The objects the cell made that survive it: those the gc tracks (lists, dicts, instances) and the values they hold
 * that it does not (str, int, bytes, arrays), as the type rows count them; null when the census did not run.
 */
export function newObjects(report: IReport): number | null {
  const objects = report.objects;
  if (!objects || !censusRan(report)) {
    return null;
  }
  const values = objects.growth.reduce(
    (sum, row) => sum + (row.payload ?? 0),
    0
  );
  return objects.new + values;
}

/**
 * The kernel's RSS after the run, bytes: after memdiag's malloc_trim when it trimmed (the run's temporaries' free
 * pages given back), where the next cell starts from; else as read right after the cell.
 */
export function rssAfter(report: IReport): number {
  const trimmed = report.rss.after_trim;
  return typeof trimmed === 'number' ? trimmed : report.rss.after;
}

/** RSS after the run less RSS before it, bytes: consecutive runs' add up to the kernel's growth. */
export function rssDelta(report: IReport): number {
  return rssAfter(report) - report.rss.before;
}

/** Whether the verdict says the cell leaks, as its kind or as one of its flags. */
export function isLeak(report: IReport): boolean {
  return (
    report.verdict.kind === 'leak' || report.verdict.flags.includes('leak')
  );
}

/**
 * What each re-run kept, as the verdict measured it: never negative (a release is said in the reason; notebooks
 * saved by older versions may still hold negative values), null when the verdict has no figure.
 */
export function keptPerRun(report: IReport): number | null {
  const bytes = report.verdict.bytes_per_run;
  return typeof bytes === 'number' ? Math.max(0, bytes) : null;
}

/**
 * Bytes one execution kept, from its start to its end: the kernel's `verdict.kept` (what Python accounts
 * for, as far as the allocators kept it too: a rebinding re-run keeps about nothing, a leaking one what it
 * leaks, as the verdict counts them). Older reports without it give what Python retained (`native.explained`,
 * else traced.retained). Per run, so plotted per run and never summed into a level; null when not measured.
 */
export function keptByRun(report: IReport): number | null {
  const kept = report.verdict.kept;
  if (typeof kept === 'number' && Number.isFinite(kept)) {
    return kept;
  }
  const explained = report.native?.explained;
  if (typeof explained === 'number' && Number.isFinite(explained)) {
    return explained;
  }
  const retained = report.traced?.enabled ? report.traced.retained : null;
  return typeof retained === 'number' ? retained : null;
}

/** Bytes IPython's output cache (Out[n]) and history took for this run. */
export function outputCache(report: IReport): number {
  return (report.ipython?.out ?? 0) + (report.ipython?.history ?? 0);
}

/**
 * The figure the verdict's reason states (`verdict.bytes`: the kernel formats it in the reason with formatBytes'
 * own rule, so both say "40.4 MB"); null for an ok verdict and for reports older than the field.
 */
export function verdictBytes(report: IReport): number | null {
  const bytes = report.verdict.bytes;
  return typeof bytes === 'number' && Number.isFinite(bytes) ? bytes : null;
}

export function badgeFor(report: IReport): IBadge {
  const kind = report.verdict.kind;
  const figure = kind === 'ok' ? null : verdictBytes(report);
  const text =
    figure !== null
      ? Private.withFigure(kind, figure, report.verdict.per_run === true)
      : Private.fallbackText(report);
  const lines = [
    report.verdict.reason,
    `Δ RSS ${formatDelta(rssDelta(report))}${report.rss.peak === null ? '' : ` · ${peakNote(report)}`}`
  ];
  if (report.errors.length) {
    lines.push(
      `${report.errors.length} probe error(s): ${report.errors.join('; ')}`
    );
  }
  return { kind, text, title: lines.join('\n') };
}

namespace Private {
  /**
   * "leak +5.01 MB/run", "holds 40.4 MB", "cycles 292 kB", "native +300 MB" (one run's growth) or "native +8 MB/run"
   * (`perRun`: kept by each re-run): the reason's own figure.
   */
  export function withFigure(
    kind: VerdictKind,
    bytes: number,
    perRun: boolean
  ): string {
    switch (kind) {
      case 'leak':
        // "leak ±0 B/run" would contradict the verdict: the reason (tooltip) says what happened.
        return bytes > 0 ? `leak ${formatDelta(bytes)}/run` : 'leak';
      case 'native':
        return `native ${formatDelta(bytes)}${perRun ? '/run' : ''}`;
      case 'cycles':
        return `cycles ${formatBytes(bytes)}`;
      case 'retains':
        return `holds ${formatBytes(bytes)}`;
      default:
        return 'ok';
    }
  }

  /** Reports made before the kernel sent `verdict.bytes`: the figure read from the report's sections. */
  export function fallbackText(report: IReport): string {
    const kind = report.verdict.kind;
    let text: string;
    switch (kind) {
      case 'leak': {
        const kept = keptPerRun(report) ?? Math.max(0, rssDelta(report));
        // "leak ±0 B/run" would contradict the verdict: the reason (tooltip) says what happened.
        text = kept > 0 ? `leak ${formatDelta(kept)}/run` : 'leak';
        break;
      }
      case 'native':
        text = `native ${formatDelta(report.native?.unexplained ?? rssDelta(report))}`;
        break;
      case 'cycles':
        text = `cycles ${formatCount(cycleObjects(report))}`;
        break;
      case 'retains':
        text = `holds ${formatBytes(held(report))}`;
        break;
      default:
        text = 'ok';
    }
    return text;
  }
}

/**
 * What a `retains` cell still holds: what Python accounts for (the kernel's `native.explained`, else what
 * tracemalloc saw retained), else the RSS it added.
 */
export function held(report: IReport): number {
  const explained = report.native?.explained;
  if (typeof explained === 'number' && explained > 0) {
    return explained;
  }
  const traced = report.traced?.enabled ? report.traced.retained : null;
  if (typeof traced === 'number' && traced > 0) {
    return traced;
  }
  return Math.max(0, rssDelta(report));
}

/** Peak in the tooltip when it tells more than the delta. */
export function peakNote(report: IReport): string {
  return report.rss.peak === null ? '' : `peak ${formatBytes(report.rss.peak)}`;
}
