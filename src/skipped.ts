/**
 * The probes a report says did not run, and why, in the kernel's words (issue 11.4: nothing silently
 * turns off). Pure module.
 */
import { IReport } from './protocol';

/** The probes that can be skipped for a cell and say so in their section's `skipped`. */
export type SkippableProbe = 'census' | 'cycles' | 'native' | 'heap';

/** One reason, and every probe it turned off (a user's gc.freeze() turns off the census and the cycle probe). */
export interface ISkipped {
  probes: SkippableProbe[];
  reason: string;
}

/** A reason longer than this is cut: it comes from a kernel, or from a notebook someone else saved. */
export const MAX_REASON_CHARS = 300;

function reasonOf(section: { skipped?: string } | undefined): string {
  const text =
    typeof section?.skipped === 'string' ? section.skipped.trim() : '';
  return text.length > MAX_REASON_CHARS
    ? `${text.slice(0, MAX_REASON_CHARS - 1)}…`
    : text;
}

/** The report's skipped probes, grouped by reason, in the order census, cycles, native, heap. */
export function skippedProbes(report: IReport): ISkipped[] {
  const found: Array<[SkippableProbe, string]> = [
    ['census', reasonOf(report.objects)],
    ['cycles', reasonOf(report.gc)],
    ['native', reasonOf(report.native)],
    ['heap', reasonOf(report.heap)]
  ];
  const groups: ISkipped[] = [];
  for (const [probe, reason] of found) {
    if (!reason) {
      continue;
    }
    const same = groups.find(group => group.reason === reason);
    if (same) {
      same.probes.push(probe);
    } else {
      groups.push({ probes: [probe], reason });
    }
  }
  return groups;
}

/** Whether the census ran: a skipped census reports 0 new objects, which is not a measurement. */
export function censusRan(report: IReport): boolean {
  return report.objects !== undefined && !reasonOf(report.objects);
}
