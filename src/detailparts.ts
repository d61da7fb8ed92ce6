/**
 * The sections of a report's detail view, as DOM built with createElement and textContent only:
 * every string in a report came from a kernel (type names, reprs, file paths, reasons) and
 * may hold markup, so none of it is ever parsed as HTML.
 */
import { TranslationBundle } from '@jupyterlab/translation';

import {
  isLeak,
  keptPerRun,
  newObjects,
  outputCache,
  rssAfter,
  rssDelta
} from './badge';
import { chainText } from './charts';
import { clusterPill } from './clusterbadge';
import { clusterBadgeFor } from './clusterview';
import { formatBytes, formatCount, formatDelta, formatSeconds } from './format';
import { IReport, ITracedSite, IVariable } from './protocol';
import { ISkipped, SkippableProbe, skippedProbes } from './skipped';

/** A name the cell created or grew, as the kernel's `variables` probe reports it. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

/** A titled section, labelled for assistive technology. */
export function section(name: string, title: string): HTMLElement {
  const node = el('section', `memdiag-Detail-section memdiag-Detail-${name}`);
  node.setAttribute('aria-label', title);
  node.appendChild(el('h3', 'memdiag-Detail-heading', title));
  return node;
}

/** A table whose cells are text, or nodes built by the caller. */
/**
 * `text` with a line-break opportunity after each dot: a dotted type name wraps at its dots ("numpy.random." /
 * "_generator.Generator") in a narrow sidebar, not inside a word ("numpy.rand" / "om._generat").
 */
export function dotted(text: string): HTMLSpanElement {
  const span = document.createElement('span');
  const parts = text.split('.');
  parts.forEach((part, i) => {
    if (i < parts.length - 1) {
      span.append(`${part}.`, document.createElement('wbr'));
    } else {
      span.append(part);
    }
  });
  return span;
}

export function table(
  caption: string,
  headers: string[],
  rows: Array<Array<string | Node>>
): HTMLTableElement {
  const node = el('table', 'memdiag-Detail-table');
  node.setAttribute('aria-label', caption);
  const head = node.createTHead().insertRow();
  for (const header of headers) {
    const th = el('th', undefined, header);
    th.scope = 'col';
    head.appendChild(th);
  }
  const body = node.createTBody();
  for (const row of rows) {
    const tr = body.insertRow();
    for (const value of row) {
      const td = tr.insertCell();
      if (typeof value === 'string') {
        td.textContent = value;
      } else {
        td.appendChild(value);
      }
    }
  }
  return node;
}

/** How the summary names its execution, and whether it ran in a kernel that has since restarted. */
export interface ISummaryContext {
  /** "cell 5 · run 3", as the table and the timeline say it; "this cell · run 3" when absent (inline). */
  label?: string;
  stale?: boolean;
  /** Say "before the restart" whenever the cell holding the report is marked stale (the inline report). */
  staleWithCell?: boolean;
}

/** Which execution this is: its name first, the execution count after it, and when it is stale, that it is. */
export function executionLine(
  report: IReport,
  trans: TranslationBundle,
  context: ISummaryContext = {}
): HTMLElement {
  const line = el('p', 'memdiag-Detail-execution');
  line.appendChild(
    el(
      'span',
      'memdiag-Detail-name',
      context.label ?? trans.__('this cell · run %1', report.run)
    )
  );
  if (report.execution_count !== null) {
    const count = el(
      'span',
      'memdiag-Detail-count',
      `[${report.execution_count}]`
    );
    count.title = trans.__("IPython's execution count");
    line.append(' ', count);
  }
  if (context.stale) {
    line.append(
      ' ',
      el('span', 'memdiag-Detail-when', trans.__('before the restart'))
    );
  } else if (context.staleWithCell) {
    // Inline, the renderer cannot know of restarts: the words show (CSS) when the cell is marked stale,
    // as the report's greying does.
    line.append(
      el('span', 'memdiag-Detail-whenStale', trans.__('before the restart'))
    );
  }
  return line;
}

/** Verdict, reason and the headline numbers. */
export function summarySection(
  report: IReport,
  trans: TranslationBundle,
  context: ISummaryContext = {}
): HTMLElement {
  const node = section('summary', trans.__('Summary'));
  node.appendChild(executionLine(report, trans, context));
  const verdict = el('p', 'memdiag-Detail-verdict');
  verdict.dataset.verdict = report.verdict.kind;
  const kind = el('span', 'memdiag-Detail-kind', report.verdict.kind);
  verdict.append(
    kind,
    el('span', 'memdiag-Detail-reason', report.verdict.reason)
  );
  node.appendChild(verdict);
  // The workers' verdict, beside the kernel's: a leak on the workers with an "ok" kernel is still a leak.
  const cluster = clusterBadgeFor(report);
  if (cluster) {
    const line = el(
      'p',
      'memdiag-Detail-verdict memdiag-Detail-clusterVerdict'
    );
    line.append(
      clusterPill(cluster),
      el('span', 'memdiag-Detail-reason', cluster.title)
    );
    node.appendChild(line);
  }
  const facts: Array<[string, string]> = [
    [trans.__('Δ RSS'), formatDelta(rssDelta(report))],
    [trans.__('RSS after'), formatBytes(rssAfter(report))],
    [
      trans.__('Peak RSS'),
      report.rss.peak === null ? '–' : formatBytes(report.rss.peak)
    ]
  ];
  if (typeof report.rss.limit === 'number') {
    facts.push([trans.__('Memory limit'), formatBytes(report.rss.limit)]);
  }
  // Only beside a leak: elsewhere the figure would contradict the verdict, and the reason says what a re-run did.
  const kept = keptPerRun(report);
  if (isLeak(report) && kept !== null && kept > 0) {
    facts.push([trans.__('Kept per re-run'), formatDelta(kept)]);
  }
  const cache = outputCache(report);
  if (cache > 0) {
    facts.push([
      trans.__('Output cache (Out[n], history)'),
      formatBytes(cache)
    ]);
  }
  const made = newObjects(report);
  if (made !== null) {
    // 200,000 new strings in one list are 200k new objects, as the type rows and the allocation sites say.
    facts.push([trans.__('New objects'), formatCount(made)]);
  }
  // A traced run (%%memdiag, a flagged re-run) is slower than the cell on its own: tracemalloc records every
  // allocation, which can make an allocation-heavy cell many times slower.
  facts.push([
    report.mode === 'traced' || report.mode === 'deep'
      ? trans.__('Duration (traced, slower)')
      : trans.__('Duration'),
    formatSeconds(report.duration_s)
  ]);
  facts.push([
    trans.__("memdiag's own time"),
    formatSeconds(report.overhead_s)
  ]);
  const list = el('dl', 'memdiag-Detail-facts');
  for (const [term, value] of facts) {
    list.append(el('dt', undefined, term), el('dd', undefined, value));
  }
  node.appendChild(list);
  if (report.errors.length) {
    node.appendChild(
      el('p', 'memdiag-Detail-errorsTitle', trans.__('Probes that failed:'))
    );
    const errors = el('ul', 'memdiag-Detail-errors');
    for (const error of report.errors) {
      errors.appendChild(el('li', undefined, error));
    }
    node.appendChild(errors);
  }
  const skipped = skippedProbes(report);
  if (skipped.length) {
    node.appendChild(
      el('p', 'memdiag-Detail-skippedTitle', trans.__('Not measured:'))
    );
    const list = el('ul', 'memdiag-Detail-skipped');
    list.setAttribute(
      'aria-label',
      trans.__('Probes that did not run for this cell, and why')
    );
    for (const group of skipped) {
      const item = el('li');
      item.append(
        el(
          'span',
          'memdiag-Detail-skippedProbe',
          `${probeNames(group.probes, trans)}: `
        ),
        group.reason
      );
      list.appendChild(item);
    }
    node.appendChild(list);
  }
  return node;
}

/** "Census", "Census and cycle probe", ...: the probes of one skipped reason, as a sentence's subject. */
export function probeNames(
  probes: ReadonlyArray<SkippableProbe>,
  trans: TranslationBundle
): string {
  const names: Record<SkippableProbe, string> = {
    census: trans.__('census'),
    cycles: trans.__('cycle probe'),
    native: trans.__('native-leak check'),
    heap: trans.__('allocator counter')
  };
  const words = probes.map(probe => names[probe]);
  const last = words.pop() ?? '';
  const text = words.length
    ? trans.__('%1 and %2', words.join(', '), last)
    : last;
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** "Census off: the gc was frozen by the user …": one line of the sidebar's status. */
export function skippedLine(group: ISkipped, trans: TranslationBundle): string {
  // The kernel's sentence is appended, not formatted: gettext's strfmt rewrites "%% " in its arguments too.
  return `${trans.__('%1 off:', probeNames(group.probes, trans))} ${group.reason}`;
}

/** Where the retained memory was allocated; lines of the cell itself can be jumped to. */
export function sitesSection(
  sites: ReadonlyArray<ITracedSite>,
  trans: TranslationBundle,
  onJumpToLine?: (line: number) => void
): HTMLElement {
  const node = section('sites', trans.__('Top allocation sites'));
  const rows = sites.map(site => {
    const inCell = site.in_cell === true;
    let where: string | Node = `${site.file}:${site.line}`;
    if (inCell) {
      const label = trans.__('cell line %1', site.line);
      if (onJumpToLine) {
        // A real button: focusable, and Enter/Space activate it without extra key handling.
        const button = el('button', 'memdiag-Detail-jump', label);
        button.type = 'button';
        button.title = trans.__('Go to line %1 of the cell', site.line);
        button.addEventListener('click', () => onJumpToLine(site.line));
        where = button;
      } else {
        where = label;
      }
    }
    return [where, formatBytes(site.size), formatCount(site.count)];
  });
  const sitesTable = table(
    trans.__('Allocation sites of what the cell retained'),
    [trans.__('Site'), trans.__('Size'), trans.__('Count')],
    rows
  );
  // Each site's line of code on a row of its own, the table's whole width: beside the figures, in a sidebar's
  // narrow column, it wrapped a few letters a line.
  rowsUnder(
    sitesTable,
    sites.map(site => site.code ?? ''),
    'memdiag-Detail-siteCode'
  );
  node.appendChild(sitesTable);
  return node;
}

/**
 * Under body row i of `tableNode`, a row of its own the table's whole width with `texts[i]` (none where it is empty),
 * its cell of class `cellClass` and the row above it marked `memdiag-Detail-withUnder`: a long line of text (a site's
 * code, a cycle's edges) beside the figures, in a sidebar's narrow column, broke a few letters a line, inside words.
 */
function rowsUnder(
  tableNode: HTMLTableElement,
  texts: ReadonlyArray<string>,
  cellClass: string
): void {
  const body = tableNode.tBodies[0];
  const span = tableNode.tHead?.rows[0]?.cells.length ?? 1;
  // From the last row up: a row inserted below row i leaves the rows above it where they were.
  for (let i = texts.length - 1; i >= 0; i--) {
    if (!texts[i]) {
      continue;
    }
    body.rows[i].classList.add('memdiag-Detail-withUnder');
    const cell = body.insertRow(i + 1).insertCell();
    cell.colSpan = span;
    cell.className = cellClass;
    cell.textContent = texts[i];
  }
}

/** Names the cell created, rebound, grew or deleted: each name with its status under it (four columns fit the sidebar). */
export function variablesSection(
  variables: IVariable[],
  trans: TranslationBundle
): HTMLElement {
  const node = section('variables', trans.__('Names'));
  const names = node.appendChild(
    table(
      trans.__('Names the cell created, changed or deleted'),
      [trans.__('Name'), trans.__('Type'), trans.__('Size'), trans.__('Δ')],
      variables.map(v => [
        nameCell(v, trans),
        dotted(v.type),
        formatBytes(v.size),
        typeof v.delta === 'number' ? formatDelta(v.delta) : '–'
      ])
    )
  );
  const [, , size, delta] = Array.from(names.tHead!.rows[0].cells);
  size.title = trans.__(
    'Bytes the name keeps alive on its own: its value and what only it holds, read from a sample'
  );
  delta.title = trans.__(
    "Bytes the cell added through the name: a new value's size, less the old value a rebinding freed; a grown container's new items; what a deletion freed"
  );
  return node;
}

/**
 * The name, and under it how the cell changed it: "new", "rebound", "grown +5,000 items", "deleted"; "deleted, still
 * held" when the deletion freed nothing (Out[n], another container or another name keeps the value).
 */
function nameCell(v: IVariable, trans: TranslationBundle): HTMLElement {
  const cell = el('span', 'memdiag-Detail-variable');
  cell.append(el('span', 'memdiag-Detail-variableName', v.name));
  const status =
    v.status === 'grown' && typeof v.added === 'number'
      ? trans._n(
          'grown +%2 item',
          'grown +%2 items',
          v.added,
          formatCount(v.added)
        )
      : v.status === 'new'
        ? trans.__('new')
        : v.status === 'rebound'
          ? trans.__('rebound')
          : v.status === 'deleted'
            ? v.delta === 0 && v.size > 0
              ? trans.__('deleted, still held')
              : trans.__('deleted')
            : trans.__('grown');
  cell.append(el('span', 'memdiag-Detail-variableStatus', status));
  return cell;
}

/**
 * What an import cell imported, by package (the kernel's `imports`): the modules' memory is the import's, not the
 * user's, and it is summarised here rather than counted by type. Null for any other cell.
 */
export function importsSection(
  report: IReport,
  trans: TranslationBundle
): HTMLElement | null {
  const imports = report.imports;
  if (!imports || imports.count <= 0) {
    return null;
  }
  const node = section('imports', trans.__('Imports'));
  const note = trans._n(
    "The cell imported %1 module. Its memory is the import's: not counted as retained.",
    "The cell imported %1 modules. Their memory is the import's: not counted as retained.",
    imports.count,
    formatCount(imports.count)
  );
  node.appendChild(el('p', 'memdiag-Detail-note', note));
  const packages = imports.packages ?? [];
  if (packages.length) {
    node.appendChild(
      table(
        trans.__('Modules the cell imported, by package'),
        [trans.__('Package'), trans.__('Modules')],
        packages.map(p => [p.name, formatCount(p.modules)])
      )
    );
  }
  return node;
}

/** Cyclic garbage: what the cycles were made of and the edges that closed them. */
export function cyclesSection(
  report: IReport,
  trans: TranslationBundle
): HTMLElement | null {
  const cycles = report.gc?.cycles ?? [];
  if (!cycles.length) {
    return null;
  }
  const node = section('cycles', trans.__('Reference cycles'));
  const seen = cycles.reduce((sum, cycle) => sum + cycle.objects, 0);
  // Automatic collections during the cell freed most of it before memdiag's own collection could look: the groups
  // are what that one saw, and say so (40k freed, a table of 298 read as a contradiction).
  const during = report.gc!.during ?? 0;
  node.appendChild(
    el(
      'p',
      'memdiag-Detail-note',
      during > 0
        ? trans.__(
            '%1 objects freed only by the cycle collector; %2 of them were freed by automatic collections during the cell, before memdiag could look. The groups below are the %3 it saw.',
            formatCount(report.gc!.collected),
            formatCount(during),
            formatCount(seen)
          )
        : trans.__(
            '%1 objects freed only by the cycle collector.',
            formatCount(report.gc!.collected)
          )
    )
  );
  const groups = table(
    trans.__('Cyclic garbage the cell created'),
    [trans.__('Types'), trans.__('Objects'), trans.__('Size')],
    cycles.map(cycle => [
      cycle.types.join(', ') +
        (cycle.internal === true ? trans.__(' (IPython)') : ''),
      formatCount(cycle.objects),
      formatBytes(cycle.size)
    ])
  );
  // The references that close each group's cycles, under it the table's whole width: in a fourth column they broke
  // inside words ("Node.m" / "e ->"). The kernel's edges are appended, not formatted (gettext rewrites "%%").
  const closedBy = trans.__('Closed by:');
  rowsUnder(
    groups,
    cycles.map(cycle =>
      cycle.edges?.length ? `${closedBy} ${cycle.edges.join('; ')}` : ''
    ),
    'memdiag-Detail-cycleEdges'
  );
  node.appendChild(groups);
  return node;
}

/** The textual form of the backref chains, next to the tree. */
export function chainList(
  report: IReport,
  trans: TranslationBundle
): HTMLElement {
  const list = el('ul', 'memdiag-Detail-chains');
  list.setAttribute(
    'aria-label',
    trans.__('Reference chains from a root to a retained object')
  );
  // A fix is said once, under the first chain it fixes: five Out[n] entries share one (`%reset -f out`).
  const advised = new Set<string>();
  for (const backref of report.backrefs ?? []) {
    const size =
      typeof backref.size === 'number' ? ` (${formatBytes(backref.size)})` : '';
    const count =
      typeof backref.count === 'number' && backref.count > 1
        ? ` ×${backref.count}`
        : '';
    const item = el('li');
    item.appendChild(dotted(chainText(backref) + count + size));
    if (backref.advice && !advised.has(backref.advice)) {
      advised.add(backref.advice);
      item.appendChild(el('div', 'memdiag-Detail-advice', backref.advice));
    }
    list.appendChild(item);
  }
  if (report.backrefs_truncated === true) {
    list.appendChild(
      el(
        'li',
        'memdiag-Detail-truncated',
        trans.__(
          'The search ran out of time before every object had its chain: other holders may exist.'
        )
      )
    );
  }
  return list;
}

/** Step 5 of the triage, for RSS growth that Python allocations do not explain. */
export function nativeSection(
  report: IReport,
  trans: TranslationBundle
): HTMLElement {
  const node = section('native', trans.__('Native memory: next steps'));
  const unexplained = report.native?.unexplained ?? null;
  const trimmed = report.native?.trimmed ?? null;
  if (unexplained !== null) {
    node.appendChild(
      el(
        'p',
        undefined,
        trans.__(
          '%1 of RSS growth is not explained by Python allocations.',
          formatBytes(unexplained)
        )
      )
    );
  }
  const steps = el('ol', 'memdiag-Detail-steps');
  steps.appendChild(
    el(
      'li',
      undefined,
      trimmed === null
        ? trans.__('malloc_trim(0) was not tried (not glibc).')
        : trimmed > 0
          ? trans.__(
              'malloc_trim(0) gave back %1: that part was allocator retention, not a leak.',
              formatBytes(trimmed)
            )
          : trans.__(
              'malloc_trim(0) gave nothing back: the memory is held, not merely cached by the allocator.'
            )
    )
  );
  const command = (text: string, code: string): HTMLElement => {
    const item = el('li', undefined, text);
    item.appendChild(el('code', 'memdiag-Detail-command', code));
    return item;
  };
  steps.appendChild(
    command(
      trans.__(
        'Install a kernel with the debug allocator (PYTHONMALLOC=debug), restart on it, and re-run: '
      ),
      '%memdiag kernelspec --malloc-debug --user'
    )
  );
  steps.appendChild(
    command(
      trans.__('Run the cell under valgrind to find the C allocation: '),
      '%%memdiag --valgrind'
    )
  );
  node.appendChild(steps);
  return node;
}
