/**
 * Reports saved in cell metadata under `memdiag`, so a reopened notebook shows its history.
 * Notebooks come from other people: everything read back is validated. Pure module.
 */
import { isReport, IReport } from './protocol';

/** The metadata key on code cells. */
export const METADATA_KEY = 'memdiag';

/** Reports kept per cell. */
export const MAX_REPORTS_PER_CELL = 5;

/** A cell's saved memdiag data may not grow beyond this many characters of JSON. */
export const MAX_METADATA_CHARS = 20_000;

export interface ICellMetadata {
  reports: IReport[];
}

/** What the notebook keeps of a report: the lists shortened, so a leak check does not bloat the file. */
export function compactReport(report: IReport): IReport {
  const compact: IReport = { ...report };
  if (report.traced?.top) {
    compact.traced = { ...report.traced, top: report.traced.top.slice(0, 5) };
  }
  if (report.objects) {
    compact.objects = {
      ...report.objects,
      growth: report.objects.growth.slice(0, 10)
    };
  }
  if (report.gc) {
    compact.gc = { ...report.gc, cycles: report.gc.cycles.slice(0, 5) };
  }
  if (report.backrefs) {
    compact.backrefs = report.backrefs.slice(0, 5);
  }
  if (report.lines) {
    compact.lines = report.lines.slice(0, 200);
  }
  if (report.valgrind) {
    compact.valgrind = {
      ...report.valgrind,
      records: report.valgrind.records.slice(0, 10)
    };
  }
  compact.errors = report.errors.slice(0, 5);
  return compact;
}

/** The new metadata value after a report: newest last, bounded in count and size. */
export function appendReport(
  existing: unknown,
  report: IReport
): ICellMetadata {
  const reports = [
    ...readReports(existing).reports,
    compactReport(report)
  ].slice(-MAX_REPORTS_PER_CELL);
  while (
    reports.length > 1 &&
    JSON.stringify({ reports }).length > MAX_METADATA_CHARS
  ) {
    reports.shift();
  }
  if (JSON.stringify({ reports }).length > MAX_METADATA_CHARS) {
    reports[0] = summaryReport(reports[0]);
  }
  return { reports };
}

/** The figures and the verdict only: what is left when even one compact report is too big to save. */
function summaryReport(report: IReport): IReport {
  const cut = (text: string): string =>
    text.length > 500 ? `${text.slice(0, 499)}…` : text;
  return {
    schema: report.schema,
    cell_id: report.cell_id,
    execution_count: report.execution_count,
    run: report.run,
    duration_s: report.duration_s,
    overhead_s: report.overhead_s,
    rss: report.rss,
    verdict: {
      ...report.verdict,
      flags: report.verdict.flags.slice(0, 10).map(cut),
      reason: cut(report.verdict.reason)
    },
    errors: report.errors.slice(0, 3).map(cut)
  };
}

/**
 * Read a cell's saved value. Anything malformed is dropped; `invalid` counts what was dropped so the caller
 * can warn once.
 */
export function readReports(
  value: unknown
): ICellMetadata & { invalid: number } {
  if (value === undefined || value === null) {
    return { reports: [], invalid: 0 };
  }
  const list =
    typeof value === 'object' && !Array.isArray(value) && 'reports' in value
      ? value.reports
      : undefined;
  if (!Array.isArray(list)) {
    return { reports: [], invalid: 1 };
  }
  const reports = list.filter(isReport).slice(-MAX_REPORTS_PER_CELL);
  return { reports, invalid: list.length - list.filter(isReport).length };
}
