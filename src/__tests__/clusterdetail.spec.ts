/**
 * The Dask workers in the inline report of a cell, from the real reports in protocol/examples (made by
 * `make examples` from a LocalCluster of two worker processes): every figure is read from the example.
 * Charts are drawn by a renderer that refuses: vega-embed never loads here.
 */
import { nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

// vega.ts imports vega-embed's types, out of jest's reach (as in detail.spec.ts).
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

import { chainText } from '../backreftree';
import { clusterSection } from '../clusterdetail';
import { managedGrowth } from '../clusterview';
import { DetailView, renderReport } from '../detail';
import { formatBytes, formatDelta } from '../format';
import { MIME_TYPE, RenderedReport } from '../mime';
import { ICluster, IReport } from '../protocol';
import { loadExample, makeReport } from './fixtures';

const IMG = '<img src=x onerror=alert(1)>';
const trans = nullTranslator.load('memdiag');

const noVega = () => Promise.reject(new Error('no charts in this test'));

/** The inline renderer, as JupyterLab calls it for a `%%memdiag` output; the caller disposes it. */
async function inline(report: unknown): Promise<RenderedReport> {
  const widget = new RenderedReport({ mimeType: MIME_TYPE } as any, noVega);
  await widget.renderModel({
    data: { [MIME_TYPE]: report },
    metadata: {},
    trusted: false,
    setData: () => undefined
  } as any);
  return widget;
}

function clusterOf(report: IReport): ICluster {
  if (!report.cluster) {
    throw new Error('the example has no cluster section');
  }
  return report.cluster;
}

function rowTexts(node: Element): string[][] {
  return [...node.querySelectorAll('tbody tr')].map(tr =>
    [...tr.querySelectorAll('td')].map(td => td.textContent ?? '')
  );
}

describe('the inline report of a cell that drove Dask workers', () => {
  it('shows each worker of %%memdiag --workers: RSS before and after, Dask parts, sites and globals', async () => {
    const report = loadExample('cluster-workers');
    const cluster = clusterOf(report);
    const widget = await inline(report);
    const node = widget.node;
    const section = node.querySelector('.memdiag-Detail-cluster');
    expect(section).not.toBeNull();
    expect(section!.getAttribute('aria-label')).toBe('Dask workers');

    // One bar a worker, named as Dask names it, each with its change during the cell.
    const items = section!.querySelectorAll('.memdiag-Worker');
    expect(items.length).toBe(cluster.workers.length);
    cluster.workers.forEach((worker, i) => {
      expect(items[i].querySelector('.memdiag-Worker-name')?.textContent).toBe(
        worker.name
      );
      expect(items[i].querySelector('.memdiag-Worker-delta')?.textContent).toBe(
        formatDelta(worker.rss_after - worker.rss_before!)
      );
      expect(
        items[i].querySelector('.memdiag-WorkerBar')?.getAttribute('aria-label')
      ).toContain(`${formatBytes(worker.unmanaged)} unmanaged`);
    });

    // The figures, per worker, in Dask's terms.
    expect(rowTexts(section!.querySelector('table')!)).toEqual(
      cluster.workers.map(w => [
        w.name,
        formatBytes(w.rss_before!),
        formatBytes(w.rss_after),
        formatDelta(w.rss_after - w.rss_before!),
        formatBytes(w.managed),
        formatBytes(w.unmanaged),
        formatBytes(w.spilled)
      ])
    );
    expect(section!.textContent).toContain(cluster.scheduler);

    // What the cell left in worker globals: the root, its chain and the advice.
    const global = cluster.traced!.globals![0];
    const [globals, sites] = section!.querySelectorAll(
      '.memdiag-Workers-traced'
    );
    expect(globals.querySelector('code')?.textContent).toBe(global.root);
    expect(globals.querySelector('.memdiag-Workers-chain')?.textContent).toBe(
      `${chainText(global)} · grew on ${[...global.workers].sort().join(', ')}`
    );
    expect(globals.querySelector('.memdiag-Workers-advice')?.textContent).toBe(
      global.advice
    );
    // Where the tasks allocated, biggest first over the workers (the sidebar's five): the worker, the
    // task's line and its code.
    const biggest = cluster
      .traced!.workers!.flatMap(w => w.sites.map(site => ({ w, site })))
      .sort((a, b) => b.site.size - a.site.size)
      .slice(0, 5);
    expect(biggest.length).toBeGreaterThan(0);
    const shown = [...sites.querySelectorAll('li')];
    expect(shown).toHaveLength(biggest.length);
    biggest.forEach(({ w, site }, i) => {
      expect(shown[i].textContent).toContain(
        `${formatBytes(site.size)} on ${w.name}: ${site.file}:${site.line}`
      );
      expect(shown[i].querySelector('code')?.textContent).toBe(site.code);
    });
    widget.dispose();
  });

  it("says the workers leak, with the slope and the kernel's words, after what malloc_trim gave back", async () => {
    const report = loadExample('cluster-leak');
    const cluster = clusterOf(report);
    const widget = await inline(report);
    const node = widget.node;
    const verdict = node.querySelector(
      '.memdiag-Detail-cluster .memdiag-Workers-verdict'
    );
    expect(verdict?.getAttribute('data-cluster')).toBe('leak');
    expect(verdict?.querySelector('.memdiag-ClusterPill')?.textContent).toBe(
      `workers ${formatDelta(cluster.verdict!.bytes_per_run!)}/run`
    );
    expect(verdict?.querySelector('.memdiag-Workers-reason')?.textContent).toBe(
      cluster.verdict!.reason
    );
    expect(verdict?.textContent).toContain(formatBytes(cluster.trimmed!));
    // The kernel's own verdict stays about the kernel.
    expect(
      node.querySelector('.memdiag-Detail-summary .memdiag-Detail-kind')
        ?.textContent
    ).toBe(report.verdict.kind);
    widget.dispose();
  });

  it('says what persisted data the workers hold, never a leak', async () => {
    const report = loadExample('cluster-retains');
    const cluster = clusterOf(report);
    const widget = await inline(report);
    const node = widget.node;
    const pill = node.querySelector(
      '.memdiag-Detail-cluster .memdiag-ClusterPill'
    );
    expect(pill?.getAttribute('data-cluster')).toBe('retains');
    expect(pill?.textContent).toBe(
      `workers ${formatDelta(managedGrowth(cluster))}`
    );
    expect(managedGrowth(cluster)).toBeGreaterThan(0);
    widget.dispose();
  });

  it('has no workers section without a Dask client, nor in the sidebar, which has a Workers section', async () => {
    expect(clusterSection(makeReport(), trans)).toBeNull();
    const plain = await inline(makeReport());
    expect(plain.node.querySelector('.memdiag-Detail-summary')).not.toBeNull();
    expect(plain.node.querySelector('.memdiag-Detail-cluster')).toBeNull();
    plain.dispose();
    const view = new DetailView({ renderVega: noVega });
    Widget.attach(view, document.body);
    view.report = loadExample('cluster-workers');
    await new Promise(resolve => requestAnimationFrame(resolve));
    expect(view.node.querySelector('.memdiag-Detail-cluster')).toBeNull();
    expect(view.node.querySelector('.memdiag-Detail-summary')).not.toBeNull();
    view.dispose();
  });

  it('says which workers joined, died or did not answer, and why they were not read', () => {
    const example = clusterOf(loadExample('cluster-leak'));
    const [first, second] = example.workers;
    const report = makeReport({
      cluster: {
        ...example,
        workers: [first, { ...second, rss_before: null, joined: true }],
        lost: [{ name: '2', address: 'tcp://127.0.0.1:3', why: 'killed' }],
        errors: ['worker 3 did not answer'],
        skipped: 'the client closed during the cell'
      }
    });
    const node = clusterSection(report, trans)!;
    const rows = rowTexts(node.querySelector('table')!);
    expect(rows[1].slice(1, 4)).toEqual([
      '–',
      formatBytes(second.rss_after),
      'joined'
    ]);
    expect(node.querySelectorAll('.memdiag-Worker-delta')[1].textContent).toBe(
      'joined'
    );
    expect(node.querySelector('.memdiag-Workers-lost')?.textContent).toBe(
      '2 is gone: killed'
    );
    expect(node.querySelector('.memdiag-Workers-errors')?.textContent).toBe(
      'worker 3 did not answer'
    );
    expect(node.querySelector('.memdiag-Workers-skipped')?.textContent).toBe(
      'Not read: the client closed during the cell'
    );
  });

  it('names the workers a global grew on in the order a person counts them', () => {
    const example = clusterOf(loadExample('cluster-workers'));
    const global = example.traced!.globals![0];
    const report = makeReport({
      cluster: {
        ...example,
        traced: { globals: [{ ...global, workers: ['10', '2', '1'] }] }
      }
    });
    const chain = clusterSection(report, trans)!.querySelector(
      '.memdiag-Workers-chain'
    );
    expect(chain?.textContent).toMatch(/ · grew on 1, 2, 10$/);
  });

  it("renders the kernel's strings as text: no element comes from them", () => {
    const example = clusterOf(loadExample('cluster-workers'));
    const global = example.traced!.globals![0];
    const site = example.traced!.workers![0].sites[0];
    const report = makeReport({
      cluster: {
        ...example,
        scheduler: IMG,
        workers: example.workers.map(w => ({ ...w, name: IMG, address: IMG })),
        lost: [{ name: IMG, address: IMG, why: IMG }],
        errors: [IMG],
        skipped: IMG,
        verdict: { kind: 'leak', bytes_per_run: 5_000_000, reason: IMG },
        traced: {
          workers: [
            {
              name: IMG,
              address: IMG,
              sites: [{ ...site, file: IMG, code: IMG, function: IMG }]
            }
          ],
          globals: [
            {
              ...global,
              root: IMG,
              type: IMG,
              advice: IMG,
              workers: [IMG],
              chain: [{ label: IMG, edge: IMG }]
            }
          ]
        }
      }
    });
    const host = document.createElement('div');
    renderReport(host, report, { renderVega: noVega, workers: true }).dispose();
    expect(host.querySelector('.memdiag-Detail-cluster')).not.toBeNull();
    expect(host.querySelectorAll('img, script').length).toBe(0);
    expect(host.textContent).toContain(`${IMG} is gone: ${IMG}`);
    expect(host.querySelector('.memdiag-Worker-name')?.textContent).toBe(IMG);
    expect(
      host.querySelector('.memdiag-Workers-traced code')?.textContent
    ).toBe(IMG);
  });
});
