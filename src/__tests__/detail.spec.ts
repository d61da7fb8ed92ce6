/**
 * The detail view and the inline renderer: text only, whatever the kernel's strings hold.
 * vega-embed never loads here: src/vega.ts is mocked, and the views get a fake renderer.
 */
jest.mock('../vega', () => ({
  renderVega: jest.fn(() =>
    Promise.reject(new Error('vega-embed must not load in jest'))
  ),
  readPalette: jest.fn(
    () =>
      jest.requireActual<typeof import('../chartbase')>('../chartbase')
        .FALLBACK_PALETTE
  )
}));

import * as fs from 'fs';
import * as path from 'path';

import { Widget } from '@lumino/widgets';

import { DetailView, renderReport } from '../detail';
import mimeExtension, { MIME_TYPE, RenderedReport, JUMP_EVENT } from '../mime';
import { formatBytes, formatDelta } from '../format';
import { IReport, VerdictKind } from '../protocol';
import * as vegaModule from '../vega';
import { makeReport, loadExample } from './fixtures';

const deep = loadExample('deep');
const frozen = loadExample('frozen');

const IMG = '<img src=x onerror=alert(1)>';
const SCRIPT = '<script>alert(1)</script>';
const BOTH = `${IMG}${SCRIPT}`;

/** A report whose every kernel-supplied string is hostile markup. */
function hostileReport(): IReport {
  const report = makeReport({
    rss: {
      before: 100_000_000,
      after: 400_000_000,
      peak: 410_000_000,
      limit: 2_000_000_000
    },
    traced: {
      enabled: true,
      retained: 1000,
      top: [
        {
          file: 'cell',
          line: 2,
          code: BOTH,
          size: 12_000_000,
          count: 25,
          in_cell: true
        } as any,
        {
          file: `/site-packages/${BOTH}.py`,
          line: 7,
          code: BOTH,
          size: 100,
          count: 1
        }
      ]
    },
    objects: { new: 3, growth: [{ type: BOTH, count: 2, size: 3000 }] },
    gc: {
      collected: 998,
      cycles: [
        {
          types: [BOTH],
          objects: 342,
          size: 6_878_646,
          edges: [`${BOTH}.peer -> ${BOTH}`]
        }
      ]
    },
    backrefs: [
      {
        type: BOTH,
        root: BOTH,
        chain: [
          { label: 'list', edge: '' },
          { label: BOTH, edge: `[${SCRIPT}]` }
        ]
      },
      {
        type: 'bytearray',
        root: 'Out[3]',
        chain: [{ label: 'bytearray', edge: '' }]
      }
    ],
    native: { unexplained: 250_000_000 },
    verdict: {
      kind: 'native',
      flags: ['native'],
      bytes_per_run: null,
      reason: BOTH
    },
    errors: [`probe failed: ${BOTH}`],
    lines: [{ line: 2, code: BOTH, increment: 8_000_000 }],
    valgrind: {
      definitely_lost: 4096,
      indirectly_lost: 0,
      records: [{ bytes: 4096, blocks: 1, stack: [BOTH, 'main'] }]
    }
  });
  (report as any).native.trimmed = 0;
  (report as any).variables = [
    { name: BOTH, status: 'new', type: BOTH, size: 10, delta: 10 }
  ];
  return report;
}

function expectInert(node: HTMLElement): void {
  expect(
    node.querySelectorAll('img, script, iframe, object, embed').length
  ).toBe(0);
  expect(node.innerHTML).not.toContain('<img');
  expect(node.innerHTML).not.toContain('<script');
  expect(node.textContent).toContain(IMG);
  expect(node.textContent).toContain(SCRIPT);
}

/** A fake chart renderer that records what it drew. */
function fakeVega() {
  const finalized: unknown[] = [];
  const specs: any[] = [];
  const render = jest.fn(async (node: HTMLElement, spec: any) => {
    specs.push(spec);
    node.dataset.drawn = 'true';
    const handle = { finalize: jest.fn(() => finalized.push(spec)) };
    return handle;
  });
  return { render, specs, finalized };
}

describe('renderReport', () => {
  it('renders hostile strings as text and creates no element from them', async () => {
    const host = document.createElement('div');
    const vega = fakeVega();
    const rendering = renderReport(host, hostileReport(), {
      renderVega: vega.render
    });
    await rendering.ready;
    expectInert(host);
    // Each kind of hostile string reached the page, literally.
    for (const text of [
      `/site-packages/${BOTH}.py:7`,
      `${BOTH} → list[${SCRIPT}] → ${BOTH}`,
      `probe failed: ${BOTH}`
    ]) {
      expect(host.textContent).toContain(text);
    }
    expect(host.querySelector('.memdiag-Detail-reason')!.textContent).toBe(
      BOTH
    );
    // The charts got their specs, with the strings as data.
    expect(vega.specs).toHaveLength(3);
    rendering.dispose();
    await Promise.resolve();
    await Promise.resolve();
    expect(vega.finalized).toHaveLength(3);
  });

  it('names the basis of the lines and shows the peak where one was read', async () => {
    const host = document.createElement('div');
    const report = makeReport({
      lines: [
        {
          line: 2,
          code: 'rows = build()',
          increment: 2_000_000,
          peak: 36_000_000,
          rss_increment: 2_000_000,
          hits: 1
        },
        {
          line: 4,
          code: 'keep.append(x)',
          increment: 20_000_000,
          peak: null,
          rss_increment: 20_000_000,
          hits: 4
        }
      ]
    });
    (report as any).lines_basis = 'rss';
    const rendering = renderReport(host, report, {
      renderVega: fakeVega().render
    });
    await rendering.ready;
    const lines = host.querySelector('.memdiag-Detail-lines')!;
    expect(lines.querySelector('h3')!.textContent).toBe(
      'Memory per line (RSS)'
    );
    const cells = [...lines.querySelectorAll('tbody tr')].map(tr =>
      [...tr.querySelectorAll('td')].map(td => td.textContent)
    );
    expect(cells).toEqual([
      ['2', 'rows = build()', formatDelta(2_000_000), formatBytes(36_000_000)],
      ['4', 'keep.append(x)', formatDelta(20_000_000), '–']
    ]);
    (report as any).lines_basis = 'tracemalloc';
    const traced = document.createElement('div');
    await renderReport(traced, report, { renderVega: fakeVega().render }).ready;
    expect(
      traced.querySelector('.memdiag-Detail-lines')!.textContent
    ).toContain('Memory per line (tracemalloc)');
  });

  it("keeps each line's indentation and says what Peak means on each basis", async () => {
    const lines = [
      {
        line: 3,
        code: 'for i in range(3):',
        increment: 64,
        peak: null,
        rss_increment: 64,
        hits: 1
      },
      {
        line: 4,
        code: '    rows.append([float(j) for j in range(200_000)])',
        increment: 19_300_000,
        peak: null,
        rss_increment: 19_300_000,
        hits: 3
      }
    ];
    const render = async (basis: string): Promise<Element> => {
      const host = document.createElement('div');
      const report = makeReport({ lines });
      (report as any).lines_basis = basis;
      await renderReport(host, report, { renderVega: fakeVega().render }).ready;
      return host.querySelector('.memdiag-Detail-lines')!;
    };
    const rss = await render('rss');
    const code = [...rss.querySelectorAll('tbody td:nth-child(2)')];
    // The loop's body reads as one: its indentation is text, kept by white-space: pre on this class.
    expect(code.map(td => td.textContent)).toEqual([
      'for i in range(3):',
      '    rows.append([float(j) for j in range(200_000)])'
    ]);
    expect(code.every(td => td.classList.contains('memdiag-Detail-code'))).toBe(
      true
    );
    expect(rss.querySelector('th:nth-child(4)')!.textContent).toBe('Peak');
    expect(rss.querySelector('.memdiag-Detail-note')!.textContent).toBe(
      'Peak: the RSS high-water mark of a top-level statement; – for the lines of a loop.'
    );
    // Traced, a loop line's Increment adds all runs while its Peak is one run's: the header says so.
    const traced = await render('tracemalloc');
    expect(traced.querySelector('th:nth-child(4)')!.textContent).toBe(
      'Peak (one run)'
    );
    expect(traced.querySelector('.memdiag-Detail-note')!.textContent).toBe(
      'Peak (one run): the highest single run of a line; Increment adds up all its runs.'
    );
    const css = fs.readFileSync(
      path.resolve(__dirname, '../../style/views.css'),
      'utf8'
    );
    expect(css).toMatch(
      /\.memdiag-Detail-lines td\.memdiag-Detail-code \{[^}]*white-space: pre;/
    );
  });

  it('has labelled sections, the step-5 actions for a native verdict and a table for each chart', async () => {
    const host = document.createElement('div');
    const rendering = renderReport(host, hostileReport(), {
      renderVega: fakeVega().render
    });
    await rendering.ready;
    const sections = [...host.querySelectorAll('section')];
    expect(sections.every(s => s.getAttribute('aria-label'))).toBe(true);
    const names = sections.map(s =>
      [...s.classList].find(c => c !== 'memdiag-Detail-section')
    );
    expect(names).toEqual([
      'memdiag-Detail-summary',
      'memdiag-Detail-native',
      'memdiag-Detail-sites',
      'memdiag-Detail-variables',
      'memdiag-Detail-growth',
      'memdiag-Detail-lines',
      'memdiag-Detail-cycles',
      'memdiag-Detail-backrefs',
      'memdiag-Detail-valgrind'
    ]);
    const native = host.querySelector('.memdiag-Detail-native')!.textContent!;
    expect(native).toContain('%memdiag kernelspec --malloc-debug --user');
    expect(native).toContain('%%memdiag --valgrind');
    expect(native).toContain('malloc_trim(0) gave nothing back');
    expect(
      host.querySelector('.memdiag-Detail-growth table')!.textContent
    ).toContain(BOTH);
    expect(
      host.querySelectorAll('.memdiag-Detail-chart[role="img"][aria-label]')
        .length
    ).toBe(3);
    rendering.dispose();
  });

  it('lets the user jump to a line of the cell with a real (keyboard-activatable) button', async () => {
    const host = document.createElement('div');
    const onJumpToLine = jest.fn();
    renderReport(host, hostileReport(), {
      renderVega: fakeVega().render,
      onJumpToLine
    });
    const buttons = host.querySelectorAll<HTMLButtonElement>(
      '.memdiag-Detail-sites button'
    );
    // Only the site in the cell is a button; a library's file is plain text.
    expect(buttons).toHaveLength(1);
    expect(buttons[0].type).toBe('button');
    buttons[0].click();
    expect(onJumpToLine).toHaveBeenCalledWith(2);
  });

  it("puts each allocation site's code on a row of its own, the table's width", () => {
    const host = document.createElement('div');
    renderReport(host, hostileReport(), { renderVega: fakeVega().render });
    const sites = host.querySelector<HTMLTableElement>(
      '.memdiag-Detail-sites table'
    )!;
    const headers = [...sites.querySelectorAll('th')].map(th => th.textContent);
    expect(headers).toEqual(['Site', 'Size', 'Count']);
    const rows = [...sites.querySelectorAll<HTMLTableRowElement>('tbody tr')];
    // A site, then its code under it: three figures' columns wide, as text.
    expect(rows.map(r => r.cells.length)).toEqual([3, 1, 3, 1]);
    const code = rows[1].cells[0];
    expect(code.colSpan).toBe(3);
    expect(code.className).toBe('memdiag-Detail-siteCode');
    expect(code.textContent).toBe(BOTH);
    expect(code.querySelector('*')).toBeNull();
    expect(rows[0].cells[1].textContent).toBe('12 MB');
  });

  it('shows the tables when a chart cannot be drawn', async () => {
    const host = document.createElement('div');
    const failing = jest.fn(() => Promise.reject(new Error('chunk failed')));
    const rendering = renderReport(host, deep, {
      renderVega: failing
    });
    await rendering.ready;
    const fold = host.querySelector<HTMLDetailsElement>(
      '.memdiag-Detail-growth details'
    )!;
    expect(fold.open).toBe(true);
    expect(
      host.querySelector<HTMLElement>(
        '.memdiag-Detail-growth .memdiag-Detail-chart'
      )!.hidden
    ).toBe(true);
    expect(host.querySelector('.memdiag-Detail-chains')!.textContent).toMatch(
      /^cache → list\[\d+\] → list/
    );
  });
});

describe('charts follow their host', () => {
  /** A ResizeObserver the test drives: `notify()` is what the browser does once a frame when sizes changed. */
  function fakeObserver() {
    const state = { callback: null as null | (() => void), observing: 0 };
    const original = (globalThis as any).ResizeObserver;
    (globalThis as any).ResizeObserver = class {
      constructor(callback: () => void) {
        state.callback = callback;
      }
      observe(): void {
        state.observing++;
      }
      unobserve(): void {
        state.observing--;
      }
      disconnect(): void {
        state.callback = null;
        state.observing = 0;
      }
    };
    return {
      state,
      notify: () => state.callback?.(),
      restore: () => ((globalThis as any).ResizeObserver = original)
    };
  }
  const frame = (): Promise<unknown> =>
    new Promise(resolve => requestAnimationFrame(resolve));
  const widths = (vega: ReturnType<typeof fakeVega>) =>
    vega.specs
      .filter(spec => /vega-lite/.test(spec.$schema))
      .map(spec => spec.width);

  it('draws a hidden host once it gets a width, at that width; again when it resizes and on a theme change', async () => {
    const observer = fakeObserver();
    try {
      const host = document.createElement('div');
      let width = 0;
      Object.defineProperty(host, 'clientWidth', { get: () => width });
      const vega = fakeVega();
      const rendering = renderReport(host, loadExample('leak'), {
        renderVega: vega.render
      });
      await rendering.ready;
      // Hidden (a reloaded notebook's output before it is shown): drawn narrow, never 0 px wide.
      const first = vega.render.mock.calls.length;
      expect(first).toBeGreaterThan(0);
      expect(widths(vega)).toEqual(Array(widths(vega).length).fill(160));
      width = 400;
      observer.notify();
      await frame();
      await rendering.ready;
      expect(vega.render.mock.calls.length).toBe(2 * first);
      expect(widths(vega).slice(-1)).toEqual([400]);
      // A pixel of jitter draws nothing.
      width = 401;
      observer.notify();
      await frame();
      expect(vega.render.mock.calls.length).toBe(2 * first);
      width = 600;
      observer.notify();
      await frame();
      await rendering.ready;
      expect(vega.render.mock.calls.length).toBe(3 * first);
      expect(widths(vega).slice(-1)).toEqual([600]);
      document.body.dataset.jpThemeName = 'JupyterLab Dark';
      await new Promise(resolve => setTimeout(resolve, 0));
      await rendering.ready;
      expect(vega.render.mock.calls.length).toBe(4 * first);
      rendering.dispose();
      expect(observer.state.callback).toBeNull();
    } finally {
      delete document.body.dataset.jpThemeName;
      observer.restore();
    }
  });

  it('draws again at full width after a theme switch that hid the shell for a frame', async () => {
    const observer = fakeObserver();
    try {
      const host = document.createElement('div');
      let width = 500;
      Object.defineProperty(host, 'clientWidth', { get: () => width });
      const vega = fakeVega();
      const rendering = renderReport(host, loadExample('leak'), {
        renderVega: vega.render
      });
      await rendering.ready;
      const first = vega.render.mock.calls.length;
      // JupyterLab hides the whole shell while it switches themes: the theme's attribute changes meanwhile.
      width = 0;
      document.body.dataset.jpThemeName = 'JupyterLab Dark';
      await new Promise(resolve => setTimeout(resolve, 0));
      await rendering.ready;
      expect(vega.render.mock.calls.length).toBe(2 * first);
      // Shown again at the width it had: the observer sees no change, but a fresh observation reports it.
      width = 500;
      expect(observer.state.observing).toBe(1);
      observer.notify();
      await frame();
      await rendering.ready;
      expect(vega.render.mock.calls.length).toBe(3 * first);
      expect(widths(vega).slice(-1)).toEqual([500]);
      rendering.dispose();
    } finally {
      delete document.body.dataset.jpThemeName;
      observer.restore();
    }
  });
});

describe('the summary names its execution as the table does', () => {
  it('says "cell 5 · run 3" with the execution count after it, and no Cell [n] fact', () => {
    const host = document.createElement('div');
    const report = makeReport({ execution_count: 7, run: 3 });
    const rendering = renderReport(host, report, {
      renderVega: fakeVega().render,
      label: () => 'cell 5 · run 3'
    });
    expect(host.querySelector('.memdiag-Detail-name')!.textContent).toBe(
      'cell 5 · run 3'
    );
    expect(host.querySelector('.memdiag-Detail-count')!.textContent).toBe(
      '[7]'
    );
    const terms = [...host.querySelectorAll('.memdiag-Detail-facts dt')].map(
      dt => dt.textContent
    );
    expect(terms).not.toContain('Cell');
    expect(terms).not.toContain('Run');
    expect(host.querySelector('.memdiag-Detail-when')).toBeNull();
    expect(host.classList.contains('memdiag-mod-stale')).toBe(false);
    rendering.dispose();
  });

  it('inline, without the notebook, says "this cell · run 3"', () => {
    const host = document.createElement('div');
    renderReport(host, makeReport({ run: 3 }), {
      renderVega: fakeVega().render
    });
    expect(host.querySelector('.memdiag-Detail-name')!.textContent).toBe(
      'this cell · run 3'
    );
  });

  it('inline, says "before the restart" in its heading once its cell is marked stale', () => {
    const host = document.createElement('div');
    renderReport(host, makeReport({ run: 1 }), {
      renderVega: fakeVega().render,
      staleWithCell: true
    });
    // The renderer cannot know of restarts; the decorator marks the cell, and CSS shows the words then.
    const when = host.querySelector(
      '.memdiag-Detail-execution .memdiag-Detail-whenStale'
    )!;
    expect(when.textContent).toBe('before the restart');
    const css = fs.readFileSync(
      path.resolve(__dirname, '../../style/views.css'),
      'utf8'
    );
    expect(css).toMatch(/\.memdiag-Detail-whenStale \{\s*display: none;/);
    expect(css).toMatch(
      /\.memdiag-mod-stale \.memdiag-Detail-whenStale \{\s*display: inline;/
    );
  });

  it('greys a report from before a restart and says so; a later render of a live one does not', async () => {
    const view = new DetailView({
      renderVega: fakeVega().render,
      isStale: () => stale
    });
    let stale = false;
    Widget.attach(view, document.body);
    view.report = makeReport();
    view.update();
    await new Promise(resolve => requestAnimationFrame(resolve));
    expect(view.node.querySelector('.memdiag-Detail-when')).toBeNull();
    expect(view.shownStale).toBe(false);
    stale = true;
    view.refresh();
    await new Promise(resolve => requestAnimationFrame(resolve));
    const report = view.node.querySelector('.memdiag-Detail-report')!;
    expect(report.classList.contains('memdiag-mod-stale')).toBe(true);
    expect(view.node.querySelector('.memdiag-Detail-when')!.textContent).toBe(
      'before the restart'
    );
    expect(view.shownStale).toBe(true);
    view.dispose();
  });
});

describe('DetailView', () => {
  it('renders the report it is given, and a hint without one', async () => {
    const vega = fakeVega();
    const view = new DetailView({ renderVega: vega.render });
    Widget.attach(view, document.body);
    expect(view.node.textContent).toContain('Select an execution');
    view.report = hostileReport();
    view.update();
    await new Promise(resolve => requestAnimationFrame(resolve));
    await view.ready;
    expectInert(view.node);
    expect(vega.specs.length).toBe(3);
    view.report = null;
    await new Promise(resolve => requestAnimationFrame(resolve));
    expect(view.node.textContent).toContain('Select an execution');
    expect(vega.finalized).toHaveLength(3);
    view.dispose();
  });

  it('falls back to vega.ts when no renderer is injected, never to vega-embed', async () => {
    const view = new DetailView();
    Widget.attach(view, document.body);
    view.report = deep;
    await new Promise(resolve => requestAnimationFrame(resolve));
    await view.ready;
    expect(vegaModule.renderVega).toHaveBeenCalled();
    view.dispose();
  });
});

describe('RenderedReport (application/vnd.memdiag.v1+json)', () => {
  const model = (data: unknown) => ({ data: { [MIME_TYPE]: data } }) as any;
  const renderer = () =>
    new RenderedReport({ mimeType: MIME_TYPE } as any, fakeVega().render);

  it('renders a hostile report as text under .memdiag-report', async () => {
    const widget = renderer();
    await widget.renderModel(model(hostileReport()));
    expect(widget.node.classList.contains('memdiag-report')).toBe(true);
    expectInert(widget.node);
    widget.dispose();
  });

  it('has "before the restart" ready in its heading, shown when its cell goes stale', async () => {
    const widget = renderer();
    await widget.renderModel(model(makeReport()));
    expect(
      widget.node.querySelector(
        '.memdiag-Detail-execution .memdiag-Detail-whenStale'
      )?.textContent
    ).toBe('before the restart');
    widget.dispose();
  });

  it('says so when the data is not a report', async () => {
    const widget = renderer();
    await widget.renderModel(model({ schema: 1, rss: IMG }));
    expect(widget.node.textContent).toContain('not a valid memdiag report');
    expect(widget.node.querySelectorAll('img').length).toBe(0);
    await widget.renderModel(model('<img src=x onerror=alert(1)>'));
    expect(widget.node.textContent).toContain('not a valid memdiag report');
    expect(widget.node.querySelectorAll('img').length).toBe(0);
  });

  it('asks for an update when the report is newer than this frontend', async () => {
    const widget = renderer();
    await widget.renderModel(model({ ...makeReport(), schema: 2 }));
    expect(widget.node.textContent).toBe(
      'This report was made by a newer memdiag: update memdiag.'
    );
  });

  it('sends a jump request up the DOM when a line of the cell is picked', async () => {
    const widget = renderer();
    Widget.attach(widget, document.body);
    await widget.renderModel(model(hostileReport()));
    const seen: number[] = [];
    const listener = (event: Event) =>
      seen.push((event as CustomEvent).detail.line);
    document.body.addEventListener(JUMP_EVENT, listener);
    widget.node
      .querySelector<HTMLButtonElement>('.memdiag-Detail-jump')!
      .click();
    document.body.removeEventListener(JUMP_EVENT, listener);
    expect(seen).toEqual([2]);
    widget.dispose();
  });

  it('is declared safe and outranks text/html', () => {
    const extension = mimeExtension;
    expect(extension.rendererFactory.safe).toBe(true);
    expect(extension.rendererFactory.mimeTypes).toEqual([MIME_TYPE]);
    expect(extension.rank).toBeLessThan(50);
    expect(extension.dataType).toBe('json');
  });
});

describe('the summary: probes that did not run, and figures that agree with the verdict', () => {
  const facts = (host: HTMLElement): Record<string, string> => {
    const terms = [...host.querySelectorAll('.memdiag-Detail-facts dt')].map(
      dt => dt.textContent!
    );
    const values = [...host.querySelectorAll('.memdiag-Detail-facts dd')].map(
      dd => dd.textContent!
    );
    return Object.fromEntries(terms.map((term, i) => [term, values[i]]));
  };
  const render = (report: IReport): HTMLElement => {
    const host = document.createElement('div');
    renderReport(host, report, { renderVega: fakeVega().render }).dispose();
    return host;
  };

  it('lists what a user gc.freeze() turned off, once per reason, and no census figure', () => {
    const host = render(frozen);
    const list = host.querySelector(
      '.memdiag-Detail-summary ul.memdiag-Detail-skipped'
    )!;
    expect(list.getAttribute('aria-label')).toBe(
      'Probes that did not run for this cell, and why'
    );
    expect(
      host.querySelector('.memdiag-Detail-skippedTitle')!.textContent
    ).toBe('Not measured:');
    const items = [...list.querySelectorAll('li')].map(li => li.textContent);
    expect(items).toEqual([
      'Census and cycle probe: the gc was frozen by the user (gc.freeze()): the census and the cycle probe need a ' +
        'freeze of their own, so they are off until gc.unfreeze()'
    ]);
    // A skipped census reports 0 new objects: that is not a measurement, so it is not shown as one.
    expect(facts(host)['New objects']).toBeUndefined();
    const cached = (frozen.ipython?.out ?? 0) + (frozen.ipython?.history ?? 0);
    expect(facts(host)['Output cache (Out[n], history)']).toBe(
      cached > 0 ? formatBytes(cached) : undefined
    );
  });

  it('shows a skipped reason holding markup as text and creates no element', () => {
    const report = makeReport({
      objects: { new: 0, growth: [], skipped: BOTH },
      gc: { collected: 0, cycles: [], skipped: `${SCRIPT}${IMG}` },
      native: { unexplained: null, skipped: `free-threaded build: ${IMG}` },
      heap: {
        before: null,
        after: null,
        skipped: `no glibc mallinfo2 on ${IMG}`
      }
    });
    const host = render(report);
    expectInert(host);
    const items = [...host.querySelectorAll('.memdiag-Detail-skipped li')].map(
      li => li.textContent
    );
    expect(items).toEqual([
      `Census: ${BOTH}`,
      `Cycle probe: ${SCRIPT}${IMG}`,
      `Native-leak check: free-threaded build: ${IMG}`,
      `Allocator counter: no glibc mallinfo2 on ${IMG}`
    ]);
  });

  it("says the workers' verdict beside an ok kernel's, and a traced run's duration as traced", () => {
    // The trial: a leak on the workers opened with "ok  Nothing above the thresholds." and nothing else.
    const cluster = render(loadExample('cluster-leak'));
    const line = cluster.querySelector(
      '.memdiag-Detail-summary .memdiag-Detail-clusterVerdict'
    )!;
    const pill = line.querySelector<HTMLElement>('.memdiag-ClusterPill')!;
    expect(pill.dataset.cluster).toBe('leak');
    expect(pill.textContent).toMatch(/^workers \+\d+(\.\d+)? MB\/run$/);
    expect(line.querySelector('.memdiag-Detail-reason')!.textContent).toBe(
      loadExample('cluster-leak').cluster!.verdict!.reason
    );
    expect(
      render(makeReport()).querySelector('.memdiag-Detail-clusterVerdict')
    ).toBeNull();
    // %%memdiag ran 37 times slower under tracemalloc in the trial: its duration says it was traced.
    expect(facts(render(deep))['Duration (traced, slower)']).toBeDefined();
    expect(
      facts(render(makeReport({ mode: 'default' })))['Duration']
    ).toBeDefined();
  });

  it('has no "Not measured" list when every probe ran', () => {
    const host = render(
      makeReport({
        objects: { new: 3, growth: [] },
        heap: { before: 1, after: 2 }
      })
    );
    expect(host.querySelector('.memdiag-Detail-skipped')).toBeNull();
    expect(facts(host)['New objects']).toBe('3');
    expect(facts(host)['Output cache (Out[n], history)']).toBeUndefined();
  });

  it('counts the values new containers hold among the new objects', () => {
    // One list of 200,000 new strings: 1 object the gc tracks, 200,000 it does not.
    const host = render(
      makeReport({
        objects: {
          new: 1,
          growth: [
            { type: 'str', count: 200_000, size: 11_000_000, payload: 200_000 },
            { type: 'list', count: 1, size: 1_600_056, holds: 11_000_000 }
          ]
        },
        heap: { before: 1, after: 2 }
      })
    );
    expect(facts(host)['New objects']).toBe('200k');
  });

  const verdict = (
    kind: VerdictKind,
    flags: string[],
    bytes: number | null,
    reason = 'r'
  ): IReport['verdict'] => ({
    kind,
    flags,
    bytes_per_run: bytes,
    reason
  });

  it.each<[string, IReport['verdict'], string | undefined]>([
    ['a leak', verdict('leak', ['leak'], 5_000_000), '+5 MB'],
    [
      'a native verdict that also leaks',
      verdict('native', ['native', 'leak'], 2_500_000),
      '+2.5 MB'
    ],
    [
      'a leak saved with a negative slope',
      verdict('leak', ['leak'], -10_000_000),
      undefined
    ],
    [
      'a leak that gave back',
      verdict('ok', [], -10_000_000, 'No longer a leak: gave back 10 MB.'),
      undefined
    ],
    [
      'an ok re-run that kept a little',
      verdict('ok', [], 1_000_000),
      undefined
    ],
    ['no slope', verdict('retains', ['retains'], null), undefined]
  ])(
    '"Kept per re-run" for %s: never negative, only beside a leak',
    (_, given, expected) => {
      const host = render(makeReport({ verdict: given }));
      expect(facts(host)['Kept per re-run']).toBe(expected);
      expect(
        host.querySelector('.memdiag-Detail-facts')!.textContent
      ).not.toMatch(/-\d/);
    }
  );

  it('shows what IPython cached for the run', () => {
    const host = render(
      makeReport({ ipython: { out: 8_000_000, history: 4_000_000 } })
    );
    expect(facts(host)['Output cache (Out[n], history)']).toBe('12 MB');
  });

  it('says what a name keeps and what a rebinding or a deletion freed, its status under it', () => {
    const report = makeReport();
    (report as any).variables = [
      {
        name: 'grid',
        status: 'new',
        type: 'list',
        size: 7_370_000,
        delta: 7_370_000
      },
      {
        name: 'rows',
        status: 'grown',
        type: 'list',
        size: 9_000_000,
        delta: 1_080_000,
        added: 5000
      },
      {
        name: 'keep',
        status: 'rebound',
        type: 'NoneType',
        size: 16,
        delta: -20_830_000
      },
      {
        name: 'few',
        status: 'deleted',
        type: 'list',
        size: 19_270_000,
        delta: -19_270_000
      },
      {
        name: 'df',
        status: 'deleted',
        type: 'DataFrame',
        size: 8_000_000,
        delta: 0
      }
    ];
    const names = render(report).querySelector<HTMLTableElement>(
      '.memdiag-Detail-variables table'
    )!;
    const rows = Array.from(names.tBodies[0].rows, row => [
      row.querySelector('.memdiag-Detail-variableName')!.textContent,
      row.querySelector('.memdiag-Detail-variableStatus')!.textContent,
      ...Array.from(row.cells, cell => cell.textContent).slice(1)
    ]);
    expect(rows).toEqual([
      ['grid', 'new', 'list', '7.37 MB', '+7.37 MB'],
      ['rows', 'grown +5k items', 'list', '9 MB', '+1.08 MB'],
      ['keep', 'rebound', 'NoneType', '16 B', formatDelta(-20_830_000)],
      ['few', 'deleted', 'list', '19.3 MB', formatDelta(-19_270_000)],
      ['df', 'deleted, still held', 'DataFrame', '8 MB', formatDelta(0)]
    ]);
    const headers = Array.from(names.tHead!.rows[0].cells);
    expect(headers.map(th => th.textContent)).toEqual([
      'Name',
      'Type',
      'Size',
      'Δ'
    ]);
    expect(headers[2].title).toMatch(/keeps alive on its own/);
    expect(headers[3].title).toMatch(/less the old value a rebinding freed/);
  });

  it('says which cycles the table shows when automatic collections freed most of them', () => {
    const cycles = [
      {
        types: ['Node', 'list'],
        objects: 298,
        size: 32_800,
        edges: ['Node.me -> Node']
      }
    ];
    const note = (gc: any): string =>
      render(makeReport({ gc } as any)).querySelector(
        '.memdiag-Detail-cycles .memdiag-Detail-note'
      )!.textContent!;
    expect(note({ collected: 39_988, during: 39_690, cycles })).toBe(
      '40k objects freed only by the cycle collector; 40k of them were freed by automatic collections during the cell, before memdiag could look. The groups below are the 298 it saw.'
    );
    expect(note({ collected: 298, during: 0, cycles })).toBe(
      '298 objects freed only by the cycle collector.'
    );
  });

  it("puts a cycle group's edges under it, the table's width, as text", () => {
    const gc = {
      collected: 40_000,
      during: 0,
      cycles: [
        {
          types: ['Node', 'list'],
          objects: 30_000,
          size: 3_300_000,
          edges: ['Node.me -> Node', 'Node.l -> %1 list']
        },
        { types: ['dict'], objects: 10_000, size: 1_000_000 }
      ]
    };
    const groups = render(
      makeReport({ gc } as any)
    ).querySelector<HTMLTableElement>('.memdiag-Detail-cycles table')!;
    expect(
      [...groups.querySelectorAll('th')].map(th => th.textContent)
    ).toEqual(['Types', 'Objects', 'Size']);
    const rows = [...groups.tBodies[0].rows];
    expect(rows.map(r => r.cells.length)).toEqual([3, 1, 3]);
    const edges = rows[1].cells[0];
    expect(edges.colSpan).toBe(3);
    expect(edges.className).toBe('memdiag-Detail-cycleEdges');
    // The kernel's text as it is ("%1" not formatted), and no markup.
    expect(edges.textContent).toBe(
      'Closed by: Node.me -> Node; Node.l -> %1 list'
    );
    expect(edges.querySelector('*')).toBeNull();
    expect(rows[0].classList.contains('memdiag-Detail-withUnder')).toBe(true);
  });

  it('summarises an import cell by package, and nothing for other cells', () => {
    const report = makeReport({
      imports: {
        count: 588,
        modules: ['pandas'],
        packages: [
          { name: 'pandas', modules: 250 },
          { name: 'matplotlib', modules: 180 }
        ]
      },
      objects: { new: 77_943, growth: [], imports: true }
    } as any);
    const node = render(report).querySelector('.memdiag-Detail-imports')!;
    expect(node.querySelector('.memdiag-Detail-note')!.textContent).toBe(
      "The cell imported 588 modules. Their memory is the import's: not counted as retained."
    );
    const rows = [...node.querySelectorAll('tbody tr')].map(tr =>
      [...tr.querySelectorAll('td')].map(td => td.textContent)
    );
    expect(rows).toEqual([
      ['pandas', '250'],
      ['matplotlib', '180']
    ]);
    expect(
      render(makeReport()).querySelector('.memdiag-Detail-imports')
    ).toBeNull();
  });

  it("shows memdiag's own time for the cell beside the cell's", () => {
    const host = render(makeReport({ duration_s: 2.5, overhead_s: 0.42 }));
    expect(facts(host)['Duration']).toBe('2.5 s');
    expect(facts(host)["memdiag's own time"]).toBe('420 ms');
  });
});
