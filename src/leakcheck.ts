/**
 * The one line "Check This Cell for Leaks" ends with: what each re-run kept and the verdict over the
 * runs. Pure module.
 */
import { isLeak, keptByRun, keptPerRun } from './badge';
import { formatDelta } from './format';
import { IReport } from './protocol';

export interface ILeakSummary {
  /** Whether the last run's verdict calls the cell a leak. */
  leak: boolean;
  /** One line, "Leak check of cell 3, 4 runs: each re-run kept +5 MB, +5 MB, +5 MB: a leak of +5 MB/run." */
  text: string;
}

/**
 * The summary over the reports of the check's runs (oldest first), `name` naming the cell ("cell 3").
 * Null when no report came back (snapshots off, or the kernel side is gone).
 */
export function leakSummary(
  name: string,
  runs: number,
  reports: ReadonlyArray<IReport>
): ILeakSummary | null {
  const last = reports[reports.length - 1];
  if (!last) {
    return null;
  }
  // A cell's first run is its own first effect; what re-runs keep is what tells a leak. The check's first run is a
  // re-run too when the cell ran before it. Each run's own figure (verdict.kept), not the verdict's average.
  const kept = reports
    .filter(report => report.run >= 2)
    .map(report => formatDelta(keptByRun(report) ?? keptPerRun(report) ?? 0));
  const leak = isLeak(last);
  const slope = keptPerRun(last);
  const verdict = leak
    ? slope
      ? `a leak of ${formatDelta(slope)}/run`
      : 'a leak'
    : `no leak (${last.verdict.kind})`;
  const missing =
    reports.length < runs ? ` (${reports.length} of ${runs} reported)` : '';
  const keptText = kept.length
    ? `each re-run kept ${kept.join(', ')}`
    : 'one run only';
  return {
    leak,
    text: `Leak check of ${name}, ${runs} runs${missing}: ${keptText}: ${verdict}.`
  };
}
