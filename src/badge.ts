/**
 * What a cell's badge says about its newest report. Pure module.
 */
import { formatBytes, formatCount, formatDelta } from './format';
import { IReport, VerdictKind } from './protocol';

export interface IBadge {
  kind: VerdictKind;
  text: string;
  /** The verdict's reason, for the tooltip. */
  title: string;
}

/** Objects in the cyclic garbage the cell made. */
export function cycleObjects(report: IReport): number {
  const cycles = report.gc?.cycles ?? [];
  const listed = cycles.reduce((sum, cycle) => sum + cycle.objects, 0);
  return Math.max(listed, report.gc?.collected ?? 0);
}

export function rssDelta(report: IReport): number {
  return report.rss.after - report.rss.before;
}

export function badgeFor(report: IReport): IBadge {
  const kind = report.verdict.kind;
  let text: string;
  switch (kind) {
    case 'leak':
      text = `leak ${formatDelta(report.verdict.bytes_per_run ?? rssDelta(report))}/run`;
      break;
    case 'native':
      text = `native ${formatDelta(report.native?.unexplained ?? rssDelta(report))}`;
      break;
    case 'cycles':
      text = `cycles ${formatCount(cycleObjects(report))}`;
      break;
    default:
      text = formatDelta(rssDelta(report));
  }
  const title = report.errors.length
    ? `${report.verdict.reason}\n${report.errors.length} probe error(s): ${report.errors.join('; ')}`
    : report.verdict.reason;
  return { kind, text, title };
}

/** Peak in the tooltip when it tells more than the delta. */
export function peakNote(report: IReport): string {
  return report.rss.peak === null ? '' : `peak ${formatBytes(report.rss.peak)}`;
}
