/**
 * Step 5's native stacks, one view for both tools: memray's allocations the cell still held
 * (`%%memdiag --native`, report.native.allocations) and valgrind's leak records
 * (`%%memdiag --valgrind`, report.valgrind.records). Each site is a size, a count and a
 * collapsible stack, innermost frame first; a frame of the cell itself is said as its line.
 *
 * Frames, function names and paths come from the kernel: text only (textContent), never markup.
 */
import { TranslationBundle } from '@jupyterlab/translation';

import { el, section } from './detailparts';
import { formatBytes, formatCount } from './format';
import { IReport } from './protocol';

/** One site: what both tools say about an allocation stack. */
export interface INativeSite {
  size: number;
  count: number;
  /** valgrind's kind of loss ("definitely", "indirectly", "possibly"); memray has none. */
  kind?: string;
  /** Frame texts, innermost first. */
  stack: ReadonlyArray<string>;
}

/** A frame of the cell, as memray_probe writes it: `<function> (cell line <n>)`. */
const CELL_FRAME = /^(.*) \(cell line (\d+)\)$/;

/** Allocator entry points and unnamed frames: in every stack, never the answer to "who allocated". */
const ALLOCATOR = new RegExp(
  '^(\\?\\?\\?|malloc|calloc|realloc|reallocarray|posix_memalign|aligned_alloc|memalign|valloc|mmap|' +
    'operator new(\\[\\])?|PyMem_\\w+|PyObject_(Malloc|Calloc|Realloc)|_PyObject_\\w*Malloc\\w*)(\\s|\\(|$)'
);

/** The cell's line a frame names, or null. */
export function cellLine(frame: string): number | null {
  const match = CELL_FRAME.exec(frame);
  return match ? Number(match[2]) : null;
}

/** The frame that says where a site is: the cell's own line if the stack has one, else the allocator's caller. */
export function headlineFrame(stack: ReadonlyArray<string>): string | null {
  const cell = stack.find(frame => cellLine(frame) !== null);
  return (
    cell ?? stack.find(frame => !ALLOCATOR.test(frame)) ?? stack[0] ?? null
  );
}

/** `%%memdiag --native`: what the cell allocated and still held when it ended, by stack. */
export function nativeAllocationsSection(
  report: IReport,
  trans: TranslationBundle,
  onJumpToLine?: (line: number) => void
): HTMLElement | null {
  const native = report.native;
  const allocations = native?.allocations;
  if (!native || !allocations) {
    return null;
  }
  const node = section('memray', trans.__('Native allocations (memray)'));
  const facts: string[] = [];
  if (typeof native.held === 'number') {
    facts.push(
      trans.__('Still held when the cell ended: %1.', formatBytes(native.held))
    );
  }
  if (typeof native.tracked_peak === 'number') {
    facts.push(
      trans.__('Peak while it ran: %1.', formatBytes(native.tracked_peak))
    );
  }
  if (!allocations.length) {
    facts.push(
      trans.__('Nothing the cell allocated was still held when it ended.')
    );
  }
  if (facts.length) {
    node.appendChild(el('p', 'memdiag-Detail-note', facts.join(' ')));
  }
  const sites = allocations.map(a => ({
    size: a.size,
    count: a.count,
    stack: a.stack
  }));
  const list = siteList(
    sites,
    trans.__('Native allocations still held, biggest first'),
    trans,
    onJumpToLine,
    count =>
      trans._n('%2 allocation', '%2 allocations', count, formatCount(count))
  );
  if (list) {
    node.appendChild(list);
  }
  return node;
}

/** `%%memdiag --valgrind`: the totals of each kind of loss and the records, by stack. */
export function leakedBlocksSection(
  report: IReport,
  trans: TranslationBundle,
  onJumpToLine?: (line: number) => void
): HTMLElement | null {
  const valgrind = report.valgrind;
  if (!valgrind) {
    return null;
  }
  // The class stays memdiag-Detail-valgrind: styles and tests find the section by it.
  const node = section('valgrind', trans.__('Leaked blocks (valgrind)'));
  const totals =
    typeof valgrind.possibly_lost === 'number'
      ? trans.__(
          'Definitely lost: %1; indirectly lost: %2; possibly lost: %3.',
          formatBytes(valgrind.definitely_lost),
          formatBytes(valgrind.indirectly_lost),
          formatBytes(valgrind.possibly_lost)
        )
      : trans.__(
          'Definitely lost: %1; indirectly lost: %2.',
          formatBytes(valgrind.definitely_lost),
          formatBytes(valgrind.indirectly_lost)
        );
  node.appendChild(el('p', 'memdiag-Detail-note', totals));
  const list = siteList(
    valgrind.records.map(r => ({
      size: r.bytes,
      count: r.blocks,
      kind: r.kind,
      stack: r.stack
    })),
    trans.__('Leak records, biggest first'),
    trans,
    onJumpToLine,
    count => trans._n('%2 block', '%2 blocks', count, formatCount(count))
  );
  if (list) {
    node.appendChild(list);
  }
  return node;
}

/** The sites as a list of folds: the summary says size, count, kind and where; the fold holds the stack. */
export function siteList(
  sites: ReadonlyArray<INativeSite>,
  label: string,
  trans: TranslationBundle,
  onJumpToLine?: (line: number) => void,
  countText: (count: number) => string = count => formatCount(count)
): HTMLElement | null {
  if (!sites.length) {
    return null;
  }
  const list = el('ol', 'memdiag-Native-sites');
  list.setAttribute('aria-label', label);
  for (const site of sites) {
    const item = el('li', 'memdiag-Native-site');
    const fold = el('details', 'memdiag-Native-fold');
    const summary = el('summary', 'memdiag-Native-summary');
    summary.appendChild(
      el('span', 'memdiag-Native-size', formatBytes(site.size))
    );
    summary.appendChild(
      el('span', 'memdiag-Native-count', countText(site.count))
    );
    if (site.kind) {
      const kind = el(
        'span',
        'memdiag-Native-kind',
        kindText(site.kind, trans)
      );
      kind.dataset.kind = site.kind;
      summary.appendChild(kind);
    }
    const where = headlineFrame(site.stack);
    if (where !== null) {
      summary.appendChild(el('span', 'memdiag-Native-where', where));
    }
    fold.appendChild(summary);
    fold.appendChild(stackList(site.stack, trans, onJumpToLine));
    item.appendChild(fold);
    list.appendChild(item);
  }
  return list;
}

/** A stack's frames, innermost first; the cell's own frames name their line (a button when the editor can jump). */
export function stackList(
  stack: ReadonlyArray<string>,
  trans: TranslationBundle,
  onJumpToLine?: (line: number) => void
): HTMLElement {
  const list = el('ol', 'memdiag-Native-stack');
  list.setAttribute('aria-label', trans.__('Stack, innermost frame first'));
  if (!stack.length) {
    list.appendChild(
      el('li', 'memdiag-Native-frame', trans.__('(no frames recorded)'))
    );
  }
  for (const frame of stack) {
    const item = el('li', 'memdiag-Native-frame');
    const match = CELL_FRAME.exec(frame);
    if (!match) {
      item.appendChild(el('code', undefined, frame));
      list.appendChild(item);
      continue;
    }
    const line = Number(match[2]);
    item.classList.add('memdiag-Native-cellFrame');
    item.appendChild(el('code', undefined, match[1]));
    item.append(' ');
    const label = trans.__('cell line %1', line);
    if (onJumpToLine) {
      const button = el('button', 'memdiag-Detail-jump', label);
      button.type = 'button';
      button.title = trans.__('Go to line %1 of the cell', line);
      button.addEventListener('click', () => onJumpToLine(line));
      item.appendChild(button);
    } else {
      item.appendChild(el('span', 'memdiag-Native-line', label));
    }
    list.appendChild(item);
  }
  return list;
}

function kindText(kind: string, trans: TranslationBundle): string {
  switch (kind) {
    case 'definitely':
      return trans.__('definitely lost');
    case 'indirectly':
      return trans.__('indirectly lost');
    case 'possibly':
      return trans.__('possibly lost');
    default:
      return kind;
  }
}
