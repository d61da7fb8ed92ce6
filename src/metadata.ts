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
  /** When each report arrived (ms since the epoch), so a reopened notebook lists them in the order they ran. */
  times?: number[];
}

/**
 * Where a path names the Python environment or the user's home, what is saved instead: notebooks are
 * shared, and `/home/ada/.pyenv/versions/3.11.7/lib/python3.11/site-packages/pandas/core/frame.py` says
 * more about its author's machine than the reader needs. Prefixes first, then the home.
 */
const PATH_REWRITES: ReadonlyArray<[RegExp, string]> = [
  // An environment's packages and standard library: `site-packages/pandas/…`, `python3.11/json/…`.
  [
    /(?:\/[^\s/'"():,<>]+)*\/lib\/(python\d+\.\d+t?)\/site-packages\//g,
    'site-packages/'
  ],
  [/(?:\/[^\s/'"():,<>]+)*\/lib\/(python\d+\.\d+t?)\//g, '$1/'],
  [
    /[A-Za-z]:\\(?:[^\s\\'"():,<>]+\\)*Lib\\site-packages\\/g,
    'site-packages\\'
  ],
  // The user's home.
  [/(?<![\w.~/-])\/(?:home|Users)\/[^\s/'"():,<>]+(?=\/|$|[\s'"():,<>])/g, '~'],
  [/(?<![\w.~/-])\/root(?=\/)/g, '~'],
  [/[A-Za-z]:\\Users\\[^\s\\'"():,<>]+(?=\\)/g, '~']
];

/** A string as saved in the notebook: paths without the user's home or the environment's prefix. */
export function redactPaths(text: string): string {
  let result = text;
  for (const [pattern, replacement] of PATH_REWRITES) {
    result = result.replace(pattern, replacement);
  }
  return result;
}

/** Every string in a JSON value, redacted (keys too: a dict of paths). */
function redactValue(value: unknown): unknown {
  if (typeof value === 'string') {
    return redactPaths(value);
  }
  if (Array.isArray(value)) {
    return value.map(redactValue);
  }
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        redactPaths(key),
        redactValue(item)
      ])
    );
  }
  return value;
}

/**
 * What the notebook keeps of a report: the lists shortened, so a leak check does not bloat the file, and
 * paths without the user's home or the environment's prefix.
 */
export function compactReport(report: IReport): IReport {
  const short = shortReport(report);
  const redacted = redactValue(short);
  // Only strings changed, so it is still a report; the guard says so to the compiler too.
  return isReport(redacted) ? redacted : short;
}

function shortReport(report: IReport): IReport {
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
  report: IReport,
  at: number
): ICellMetadata {
  const saved = readReports(existing);
  const reports = [...saved.reports, compactReport(report)].slice(
    -MAX_REPORTS_PER_CELL
  );
  // A report saved by an older memdiag has no time: it counts as very old, and keeps its place.
  const times = [...saved.times.map(time => time ?? 0), at].slice(
    -MAX_REPORTS_PER_CELL
  );
  while (
    reports.length > 1 &&
    JSON.stringify({ reports, times }).length > MAX_METADATA_CHARS
  ) {
    reports.shift();
    times.shift();
  }
  if (JSON.stringify({ reports, times }).length > MAX_METADATA_CHARS) {
    reports[0] = summaryReport(reports[0]);
  }
  return { reports, times };
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
    // Which kernel process and when: read back, the report keeps its place and its restart marks.
    ...(report.kernel_session === undefined
      ? {}
      : { kernel_session: report.kernel_session }),
    ...(report.started_at === undefined
      ? {}
      : { started_at: report.started_at }),
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
export function readReports(value: unknown): {
  reports: IReport[];
  /** Each report's saved time, null where none was saved (or it was not a finite number). */
  times: Array<number | null>;
  invalid: number;
} {
  if (value === undefined || value === null) {
    return { reports: [], times: [], invalid: 0 };
  }
  const isObject = typeof value === 'object' && !Array.isArray(value);
  const list = isObject && 'reports' in value ? value.reports : undefined;
  if (!Array.isArray(list)) {
    return { reports: [], times: [], invalid: 1 };
  }
  const rawTimes: unknown[] =
    isObject &&
    'times' in value &&
    Array.isArray(value.times) &&
    value.times.length === list.length
      ? value.times
      : [];
  const kept = list
    .map((report: unknown, index) => ({
      report,
      at: rawTimes[index]
    }))
    .filter((item): item is { report: IReport; at: unknown } =>
      isReport(item.report)
    )
    .slice(-MAX_REPORTS_PER_CELL);
  return {
    reports: kept.map(item => item.report),
    times: kept.map(item =>
      typeof item.at === 'number' && Number.isFinite(item.at) && item.at >= 0
        ? item.at
        : null
    ),
    invalid: list.length - list.filter(isReport).length
  };
}
