/**
 * The native stacks view: memray's allocations and valgrind's leak records, text only.
 * vega-embed never loads here: src/vega.ts is mocked.
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

import { nullTranslator } from '@jupyterlab/translation';

import { renderReport } from '../detail';
import { MIME_TYPE, RenderedReport } from '../mime';
import {
  cellLine,
  headlineFrame,
  leakedBlocksSection,
  nativeAllocationsSection
} from '../nativeview';
import { IReport, isReport } from '../protocol';
import { makeReport, loadExample } from './fixtures';

const nativeExample = loadExample('native-memray');
const valgrindExample = loadExample('valgrind-possibly');

const trans = nullTranslator.load('memdiag');
const IMG = '<img src=x onerror=alert(1)>';
const SCRIPT = '<script>alert(1)</script>';
const BOTH = `${IMG}${SCRIPT}`;

function hostileReport(): IReport {
  return makeReport({
    native: {
      unexplained: null,
      allocations: [
        {
          size: 20_000_000,
          count: 1,
          stack: [
            BOTH,
            `${BOTH} (/site-packages/${BOTH}.py:7)`,
            `${BOTH} (cell line 3)`
          ]
        },
        { size: 48, count: 3, stack: [] }
      ],
      held: 20_000_048,
      tracked_peak: 21_000_000
    },
    valgrind: {
      definitely_lost: 0,
      indirectly_lost: 0,
      possibly_lost: 2_000_000,
      records: [
        {
          bytes: 2_000_000,
          blocks: 1,
          kind: 'possibly',
          stack: [`malloc (in ${BOTH}.so)`, BOTH]
        }
      ]
    }
  });
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

describe('nativeAllocationsSection', () => {
  it('lists each site with its size, count and a folded stack, hostile frames as text', () => {
    const node = nativeAllocationsSection(hostileReport(), trans)!;
    expectInert(node);
    expect(node.getAttribute('aria-label')).toBe('Native allocations (memray)');
    expect(node.querySelector('h3')!.textContent).toBe(
      'Native allocations (memray)'
    );
    const sites = node.querySelectorAll('.memdiag-Native-site');
    expect(sites).toHaveLength(2);
    const summary = sites[0].querySelector('summary')!;
    expect(summary.querySelector('.memdiag-Native-size')!.textContent).toBe(
      '20 MB'
    );
    expect(summary.querySelector('.memdiag-Native-count')!.textContent).toBe(
      '1 allocation'
    );
    // The cell's own line says where, before any library frame.
    expect(summary.querySelector('.memdiag-Native-where')!.textContent).toBe(
      `${BOTH} (cell line 3)`
    );
    expect(sites[1].querySelector('.memdiag-Native-count')!.textContent).toBe(
      '3 allocations'
    );
    const frames = [...sites[0].querySelectorAll('details > ol > li')].map(
      li => li.textContent
    );
    expect(frames).toEqual([
      BOTH,
      `${BOTH} (/site-packages/${BOTH}.py:7)`,
      `${BOTH} cell line 3`
    ]);
    expect(sites[0].querySelector('ol')!.getAttribute('aria-label')).toBe(
      'Stack, innermost frame first'
    );
    // Stacks are folded until asked for.
    expect([...node.querySelectorAll('details')].every(d => !d.open)).toBe(
      true
    );
    expect(node.querySelector('.memdiag-Detail-note')!.textContent).toBe(
      'Still held when the cell ended: 20 MB. Peak while it ran: 21 MB.'
    );
  });

  it('shows the cell line as a cell line, a button when the editor can jump to it', () => {
    const onJumpToLine = jest.fn();
    const node = nativeAllocationsSection(
      hostileReport(),
      trans,
      onJumpToLine
    )!;
    const cellFrames = node.querySelectorAll('.memdiag-Native-cellFrame');
    expect(cellFrames).toHaveLength(1);
    const button = cellFrames[0].querySelector('button')!;
    expect(button.type).toBe('button');
    expect(button.textContent).toBe('cell line 3');
    button.click();
    expect(onJumpToLine).toHaveBeenCalledWith(3);
    // Without a jump target it is plain text.
    const plain = nativeAllocationsSection(hostileReport(), trans)!;
    expect(plain.querySelector('.memdiag-Native-cellFrame button')).toBeNull();
    expect(plain.querySelector('.memdiag-Native-line')!.textContent).toBe(
      'cell line 3'
    );
  });

  it('renders nothing without memray, and no list for an empty one', () => {
    expect(nativeAllocationsSection(makeReport(), trans)).toBeNull();
    expect(
      nativeAllocationsSection(
        makeReport({ native: { unexplained: 5 } }),
        trans
      )
    ).toBeNull();
    const empty = nativeAllocationsSection(
      makeReport({ native: { unexplained: null, allocations: [] } }),
      trans
    )!;
    expect(empty.querySelector('ol, details, li')).toBeNull();
    expect(empty.textContent).toContain(
      'Nothing the cell allocated was still held when it ended.'
    );
  });
});

describe('leakedBlocksSection', () => {
  it('lists each record with its bytes, blocks, kind and stack, hostile frames as text', () => {
    const node = leakedBlocksSection(hostileReport(), trans)!;
    expectInert(node);
    expect(node.classList).toContain('memdiag-Detail-valgrind');
    expect(node.getAttribute('aria-label')).toBe('Leaked blocks (valgrind)');
    expect(node.querySelector('.memdiag-Detail-note')!.textContent).toBe(
      'Definitely lost: 0 B; indirectly lost: 0 B; possibly lost: 2 MB.'
    );
    const summary = node.querySelector('.memdiag-Native-site summary')!;
    expect(summary.querySelector('.memdiag-Native-size')!.textContent).toBe(
      '2 MB'
    );
    expect(summary.querySelector('.memdiag-Native-count')!.textContent).toBe(
      '1 block'
    );
    const kind = summary.querySelector<HTMLElement>('.memdiag-Native-kind')!;
    expect(kind.textContent).toBe('possibly lost');
    expect(kind.dataset.kind).toBe('possibly');
    // malloc is never the answer: the headline is its caller.
    expect(summary.querySelector('.memdiag-Native-where')!.textContent).toBe(
      BOTH
    );
  });

  it('keeps the totals of a run that found nothing, with no list', () => {
    const node = leakedBlocksSection(
      makeReport({
        valgrind: { definitely_lost: 0, indirectly_lost: 0, records: [] }
      }),
      trans
    )!;
    expect(node.querySelector('ol, details, li')).toBeNull();
    expect(node.textContent).toContain(
      'Definitely lost: 0 B; indirectly lost: 0 B.'
    );
    expect(leakedBlocksSection(makeReport(), trans)).toBeNull();
  });
});

describe('frames', () => {
  it('reads the cell line of a frame and picks the frame that says where', () => {
    expect(cellLine('<module> (cell line 12)')).toBe(12);
    expect(cellLine('f (/x.py:3)')).toBeNull();
    expect(cellLine('f (cell line x)')).toBeNull();
    expect(
      headlineFrame([
        'malloc (in libc.so.6)',
        '??? (in libffi.so.8)',
        'ffi_call (in libffi.so.8)'
      ])
    ).toBe('ffi_call (in libffi.so.8)');
    expect(headlineFrame(['malloc', 'g (cell line 2)'])).toBe(
      'g (cell line 2)'
    );
    expect(headlineFrame(['malloc'])).toBe('malloc');
    expect(headlineFrame([])).toBeNull();
  });
});

describe('real reports', () => {
  it('are valid and render the memray and valgrind sections in the detail and inline', async () => {
    expect(isReport(nativeExample)).toBe(true);
    expect(isReport(valgrindExample)).toBe(true);
    const host = document.createElement('div');
    const rendering = renderReport(host, nativeExample, {
      renderVega: jest.fn(async () => ({ finalize: jest.fn() }))
    });
    await rendering.ready;
    const memray = host.querySelector('.memdiag-Detail-memray')!;
    expect(memray.querySelectorAll('.memdiag-Native-site')).toHaveLength(3);
    expect(memray.querySelector('.memdiag-Native-where')!.textContent).toBe(
      '<module> (cell line 3)'
    );
    expect(host.querySelector('.memdiag-Detail-valgrind')).toBeNull();
    rendering.dispose();

    const inline = new RenderedReport({
      mimeType: MIME_TYPE,
      sanitizer: {} as any,
      resolver: null,
      linkHandler: null,
      latexTypesetter: null
    } as any);
    await inline.renderModel({
      data: { [MIME_TYPE]: valgrindExample },
      metadata: {},
      trusted: false
    } as any);
    const section = inline.node.querySelector('.memdiag-Detail-valgrind')!;
    expect(section.querySelector('h3')!.textContent).toBe(
      'Leaked blocks (valgrind)'
    );
    expect(section.querySelector('.memdiag-Native-size')!.textContent).toBe(
      '2 MB'
    );
    expect(section.querySelector('.memdiag-Native-kind')!.textContent).toBe(
      'possibly lost'
    );
    expect(section.querySelector('.memdiag-Native-where')!.textContent).toBe(
      'ffi_call (in libffi.so.8.1.2)'
    );
    expect(inline.node.querySelector('.memdiag-Detail-memray')).toBeNull();
    inline.dispose();
  });
});
