/**
 * The sidebar's Workers section and the cluster's pill on a cell's badge, in the DOM: present only with
 * workers, kernel strings as text, "Give memory back" through the bridge and what came back.
 */
import { nullTranslator } from '@jupyterlab/translation';
import { Signal } from '@lumino/signaling';
import { Panel, Widget } from '@lumino/widgets';

import { decorateClusterBadge } from '../clusterbadge';
import type { IGiveBackResult } from '../comm';
import { NotebookMemoryModel } from '../model';
import { Selection } from '../sidebar/view';
import { giveBackText } from '../sidebar/workerparts';
import { WorkersView } from '../sidebar/workers';
import { INotebookMemory } from '../tokens';
import { loadExample, makeReport } from './fixtures';

const IMG = '<img src=x onerror=alert(1)>';
const trans = nullTranslator.load('memdiag');

const RESULT: IGiveBackResult = {
  scheduler: 'tcp://127.0.0.1:41011',
  trimmed: 139264,
  errors: [],
  workers: [
    {
      name: '0',
      address: 'tcp://127.0.0.1:45383',
      trimmed: 69632,
      rss: 113913856,
      managed: 0,
      unmanaged: 113913856,
      spilled: 0,
      memory_limit: 12638255104
    },
    {
      name: '1',
      address: 'tcp://127.0.0.1:40173',
      trimmed: 69632,
      rss: 113917952,
      managed: 0,
      unmanaged: 113917952,
      spilled: 0,
      memory_limit: 12638255104
    }
  ]
};

function setup(request: (action: string) => Promise<unknown>) {
  const model = new NotebookMemoryModel();
  const bridge = {
    status: 'ready',
    stateChanged: new Signal({}),
    request: jest.fn(request)
  };
  const memory = {
    model,
    bridge,
    // A notebook whose cells are gone: executions are named by their execution count.
    panel: { content: { model: null } },
    clear: () => undefined
  } as unknown as INotebookMemory;
  // The sidebar's accordion, as far as the section uses it.
  const host = new Panel();
  host.addWidget(new Widget());
  Widget.attach(host, document.body);
  const selection = new Selection();
  const view = new WorkersView({ trans, selection, host });
  view.memory = memory;
  return { model, bridge, host, view, selection };
}

const settle = () => new Promise(resolve => setTimeout(resolve, 0));

describe('WorkersView', () => {
  it('joins the sidebar only once a report read the workers, before the last section', async () => {
    const { model, host, view } = setup(() => Promise.resolve(RESULT));
    model.add(makeReport());
    await settle();
    expect(view.present).toBe(false);
    expect(view.parent).toBeNull();
    model.add(loadExample('cluster-leak'));
    await settle();
    expect(view.present).toBe(true);
    expect(host.widgets.indexOf(view)).toBe(0);
    expect(host.widgets).toHaveLength(2);
    const workers = view.node.querySelectorAll('.memdiag-Worker');
    expect(workers).toHaveLength(2);
    expect(
      view.node.querySelector('.memdiag-Workers-verdict .memdiag-ClusterPill')
        ?.textContent
    ).toBe('workers +32 MB/run');
    // Read from a real cluster by every `make test` (the limit is this machine's memory): the shape, not figures.
    expect(
      view.node.querySelector('.memdiag-Workers-summary')?.textContent
    ).toMatch(/^2 workers · \d[\d.]* MB of \d[\d.]* GB$/);
    const parts = workers[0].querySelectorAll<HTMLElement>(
      '.memdiag-WorkerBar-part'
    );
    // The example is read from a real cluster: a task's result may still be held (managed, a few bytes).
    expect([...parts].map(p => p.dataset.part).slice(-1)).toEqual([
      'unmanaged'
    ]);
    expect(
      workers[0].querySelector<HTMLElement>('.memdiag-WorkerBar-limit')?.style
        .width
    ).toBe('100%');
    model.clear();
    await settle();
    expect(view.parent).toBeNull();
    view.dispose();
    host.dispose();
  });

  it('shows the selected execution, else the newest with workers', async () => {
    const { model, view, selection } = setup(() => Promise.resolve(RESULT));
    const retains = { ...loadExample('cluster-retains'), execution_count: 3 };
    const leak = { ...loadExample('cluster-leak'), execution_count: 5, run: 3 };
    model.add(retains);
    model.add(leak);
    model.add(makeReport({ execution_count: 6 }));
    await settle();
    expect(view.node.querySelector('.memdiag-Workers-when')?.textContent).toBe(
      'After [5] · run 3'
    );
    selection.report = retains;
    await settle();
    expect(view.node.querySelector('.memdiag-Workers-when')?.textContent).toBe(
      `After [3] · run ${retains.run}`
    );
    expect(
      view.node.querySelector<HTMLElement>('.memdiag-Workers-verdict')?.dataset
        .cluster
    ).toBe('retains');
    view.dispose();
  });

  it('marks workers of a restarted kernel as before the restart, without Give memory back', async () => {
    const { model, view } = setup(() => Promise.resolve(RESULT));
    model.add({ ...loadExample('cluster-leak'), execution_count: 5, run: 3 });
    await settle();
    expect(view.node.querySelector('.memdiag-Workers-giveBack')).not.toBeNull();
    expect(view.hasClass('memdiag-mod-stale')).toBe(false);
    // The trial: after a restart the section still offered the dead cluster's button.
    model.startSegment();
    model.add(makeReport({ execution_count: 1 }));
    await settle();
    expect(view.hasClass('memdiag-mod-stale')).toBe(true);
    expect(view.node.querySelector('.memdiag-Workers-when')?.textContent).toBe(
      'After [5] · run 3, before the restart: these workers belonged to the kernel that was restarted'
    );
    expect(view.node.querySelector('.memdiag-Workers-giveBack')).toBeNull();
    expect(view.node.querySelectorAll('.memdiag-Worker')).toHaveLength(2);
    view.dispose();
  });

  it('leaves the sidebar after a restart into a kernel without workers, unless an old execution is picked', async () => {
    const { model, view, selection } = setup(() => Promise.resolve(RESULT));
    const leak = { ...loadExample('cluster-leak'), execution_count: 5, run: 3 };
    model.add(leak);
    await settle();
    await view.giveBack();
    expect(
      view.node.querySelector('.memdiag-Workers-result')?.textContent
    ).toMatch(/^Gave back /);
    model.startSegment();
    model.add(makeReport({ execution_count: 1 }));
    await settle();
    expect(view.present).toBe(false);
    expect(view.parent).toBeNull();
    // Picked from the table: shown, as the earlier kernel's, without the live workers' give-back answer.
    selection.report = leak;
    await settle();
    expect(view.present).toBe(true);
    expect(view.hasClass('memdiag-mod-stale')).toBe(true);
    expect(
      view.node.querySelector<HTMLElement>('.memdiag-Workers-result')?.hidden ??
        true
    ).toBe(true);
    // The trial: a new cluster in the new kernel gave memory back, then an old row was picked; the answer, about
    // the live workers, was shown under the earlier kernel's.
    selection.report = null;
    model.add({ ...loadExample('cluster-leak'), execution_count: 3, run: 1 });
    await settle();
    await view.giveBack();
    const result = () =>
      view.node.querySelector<HTMLElement>('.memdiag-Workers-result');
    expect(result()?.hidden).toBe(false);
    selection.report = leak;
    await settle();
    expect(view.hasClass('memdiag-mod-stale')).toBe(true);
    expect(result()?.hidden ?? true).toBe(true);
    selection.report = null;
    await settle();
    expect(result()?.hidden).toBe(false);
    view.dispose();
  });

  it('renders worker names, reasons, lost workers and globals as text', async () => {
    const { model, view } = setup(() => Promise.resolve(RESULT));
    const workers = loadExample('cluster-workers');
    const report = makeReport({
      cluster: {
        ...workers.cluster!,
        workers: workers.cluster!.workers.map(w => ({ ...w, name: IMG })),
        lost: [{ name: IMG, address: IMG, why: IMG }],
        errors: [IMG],
        verdict: { kind: 'leak', bytes_per_run: 5_000_000, reason: IMG },
        traced: {
          ...workers.cluster!.traced,
          globals: [
            { ...workers.cluster!.traced!.globals![0], root: IMG, advice: IMG }
          ]
        }
      }
    });
    model.add(report);
    await settle();
    expect(view.node.querySelector('img')).toBeNull();
    expect(view.node.textContent).toContain(IMG);
    expect(
      view.node.querySelector('.memdiag-Workers-traced code')?.textContent
    ).toBe(IMG);
    expect(view.node.textContent).toContain('Allocation sites on the workers');
    view.dispose();
  });

  it('asks the kernel to give memory back and shows what came back, until the next cell', async () => {
    const { model, bridge, view } = setup(() => Promise.resolve(RESULT));
    model.add(loadExample('cluster-leak'));
    await settle();
    const button = view.node.querySelector<HTMLButtonElement>(
      '.memdiag-Workers-giveBack'
    )!;
    expect(button.disabled).toBe(false);
    button.click();
    await settle();
    await settle();
    expect(bridge.request).toHaveBeenCalledWith('give_back', {});
    const result = view.node.querySelector<HTMLElement>(
      '.memdiag-Workers-result'
    )!;
    expect(result.hidden).toBe(false);
    // Dask names workers with numbers: each is called a worker, never run into its figure ("0 69.6 kB").
    expect(result.textContent).toBe(
      'Gave back 139 kB: worker 0: 69.6 kB, worker 1: 69.6 kB.'
    );
    expect(view.node.querySelector('.memdiag-Workers-when')?.textContent).toBe(
      'Now, after giving memory back'
    );
    expect(
      [...view.node.querySelectorAll('.memdiag-Worker-delta')].map(
        n => n.textContent
      )
    ).toEqual(['-69.6 kB', '-69.6 kB']);
    expect(
      view.node.querySelector<HTMLElement>('.memdiag-Worker-delta')?.title
    ).toBe('malloc_trim gave back 69.6 kB');
    model.add(makeReport({ execution_count: 9 }));
    await settle();
    expect(result.hidden).toBe(true);
    view.dispose();
  });

  it('offers to give memory back only while there are workers (not after client.close())', async () => {
    const { model, view } = setup(() => Promise.resolve(RESULT));
    const leak = loadExample('cluster-leak');
    model.add(leak);
    await settle();
    expect(view.node.querySelector('.memdiag-Workers-giveBack')).not.toBeNull();
    model.add({
      ...leak,
      execution_count: 99,
      cluster: { ...leak.cluster!, workers: [] }
    });
    await settle();
    expect(view.node.textContent).toContain('No workers');
    expect(view.node.querySelector('.memdiag-Workers-giveBack')).toBeNull();
    view.dispose();
  });

  it('says why the workers could not give memory back', async () => {
    const { model, view } = setup(() =>
      Promise.reject(
        new Error('no dask.distributed Client is active in this kernel')
      )
    );
    model.add(loadExample('cluster-leak'));
    await settle();
    await view.giveBack();
    const result = view.node.querySelector<HTMLElement>(
      '.memdiag-Workers-result'
    )!;
    expect(result.classList.contains('memdiag-mod-failed')).toBe(true);
    expect(result.textContent).toBe(
      'The workers could not give memory back: no dask.distributed Client is active in this kernel'
    );
    view.dispose();
  });

  it('words a result with nothing to give, a worker without malloc_trim and silent workers', () => {
    const text = giveBackText(
      {
        ...RESULT,
        trimmed: 0,
        errors: ['tcp://c: timeout'],
        workers: [{ ...RESULT.workers[0], trimmed: 0, trim: false }]
      },
      trans
    );
    expect(text).toBe(
      'The workers had no free memory to give back: worker 0 has no malloc_trim. Not answered: tcp://c: timeout'
    );
  });
});

describe('decorateClusterBadge', () => {
  it("adds the cluster's pill after the kernel's text, with its reason in the tooltip", () => {
    const badge = document.createElement('div');
    badge.textContent = '+38 kB';
    badge.title = 'Nothing above the thresholds.';
    badge.setAttribute('aria-label', 'memdiag: +38 kB.');
    const report = loadExample('cluster-leak');
    decorateClusterBadge(badge, report);
    expect(badge.textContent).toBe('+38 kB' + 'workers +32 MB/run');
    const pill = badge.querySelector<HTMLElement>('.memdiag-ClusterPill')!;
    expect(pill.dataset.cluster).toBe('leak');
    expect(badge.title).toContain(report.cluster!.verdict!.reason);
    expect(badge.getAttribute('aria-label')).toContain('workers +32 MB/run');
  });

  it('adds nothing without a cluster verdict, and kernel reasons stay text', () => {
    const badge = document.createElement('div');
    badge.textContent = 'ok';
    decorateClusterBadge(badge, makeReport());
    expect(badge.childElementCount).toBe(0);
    decorateClusterBadge(
      badge,
      makeReport({
        cluster: {
          scheduler: null,
          workers: [],
          verdict: { kind: 'leak', bytes_per_run: 4_000_000, reason: IMG }
        }
      })
    );
    expect(badge.querySelector('img')).toBeNull();
    expect(badge.title).toContain(IMG);
  });
});
