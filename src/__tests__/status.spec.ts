/**
 * The sidebar's status says, in words, what the newest cell could not measure.
 */
import { nullTranslator } from '@jupyterlab/translation';
import { Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import { NotebookMemoryModel } from '../model';
import { StatusView } from '../sidebar/status';
import { Selection } from '../sidebar/view';
import { INotebookMemory } from '../tokens';
import { makeReport, loadExample } from './fixtures';

const frozen = loadExample('frozen');

const IMG = '<img src=x onerror=alert(1)>';

function setup(): { view: StatusView; model: NotebookMemoryModel } {
  const model = new NotebookMemoryModel();
  const bridge = {
    status: 'ready',
    detail: '',
    config: {},
    kernelVersion: '0.1',
    stateChanged: new Signal({})
  };
  const memory = {
    model,
    bridge,
    panel: null,
    clear: () => undefined
  } as unknown as INotebookMemory;
  const view = new StatusView({
    trans: nullTranslator.load('memdiag'),
    selection: new Selection()
  });
  Widget.attach(view, document.body);
  view.memory = memory;
  return { view, model };
}

const painted = () => new Promise(resolve => requestAnimationFrame(resolve));

const lines = (view: StatusView) =>
  [...view.node.querySelectorAll('.memdiag-Status-probes li')].map(
    li => li.textContent
  );

describe('StatusView', () => {
  it('says the census and the cycle probe are off while the user froze the gc, and why', async () => {
    const { view, model } = setup();
    model.add(frozen);
    await painted();
    const list = view.node.querySelector('ul.memdiag-Status-probes')!;
    expect(list.getAttribute('aria-label')).toBe(
      `Probes that did not run for cell [${frozen.execution_count}]`
    );
    expect(lines(view)).toEqual([
      'Census and cycle probe off: the gc was frozen by the user (gc.freeze()): the census and the cycle probe need a ' +
        'freeze of their own, so they are off until gc.unfreeze()'
    ]);
    // The next cell measured everything: the line goes.
    model.add(
      makeReport({ execution_count: 2, objects: { new: 1, growth: [] } })
    );
    await painted();
    expect(view.node.querySelector('.memdiag-Status-probes')).toBeNull();
    view.dispose();
  });

  it('names failed probes too, and renders every kernel string as text', async () => {
    const { view, model } = setup();
    model.add(
      makeReport({
        heap: {
          before: null,
          after: null,
          skipped: 'free-threaded build: mimalloc'
        },
        native: { unexplained: null, skipped: 'free-threaded build: mimalloc' },
        errors: [`census: ValueError: ${IMG}`, 'b', 'c', 'd']
      })
    );
    await painted();
    expect(lines(view)).toEqual([
      'Native-leak check and allocator counter off: free-threaded build: mimalloc',
      `Probe failed: census: ValueError: ${IMG}`,
      'Probe failed: b',
      'Probe failed: c'
    ]);
    expect(view.node.querySelectorAll('img').length).toBe(0);
    expect(view.node.querySelector('.memdiag-mod-failed')).not.toBeNull();
    view.dispose();
  });

  it('cuts a very long reason', async () => {
    const { view, model } = setup();
    model.add(
      makeReport({ objects: { new: 0, growth: [], skipped: 'x'.repeat(5000) } })
    );
    await painted();
    expect(lines(view)[0]!.length).toBeLessThan(400);
    expect(lines(view)[0]!.endsWith('…')).toBe(true);
    view.dispose();
  });
});
