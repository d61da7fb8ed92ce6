/**
 * "Why is … alive?" in the sidebar: an answer from a kernel that has since restarted reads as stale.
 */
import { nullTranslator } from '@jupyterlab/translation';

import { WhyPanel } from '../sidebar/why';

const trans = nullTranslator.load('memdiag');

describe('WhyPanel', () => {
  it('greys its answer and says "before the restart" once the kernel restarts', async () => {
    let segment = 0;
    const panel = new WhyPanel({
      trans,
      segment: () => segment,
      ask: async name =>
        ({
          type: 'why',
          name,
          type_name: 'list',
          refcount: 2,
          referrers: ['df'],
          backrefs: []
        }) as any
    });
    document.body.appendChild(panel.node);
    panel.open('df');
    panel.node.querySelector('form')!.requestSubmit();
    await new Promise(resolve => setTimeout(resolve, 0));
    expect(panel.node.querySelector('.memdiag-Why')).not.toBeNull();
    const when = panel.node.querySelector<HTMLElement>(
      '.memdiag-WhyPanel-when'
    )!;
    // It says what it answers about: the kernel now, not the execution below it.
    expect(
      panel.node.querySelector('.memdiag-WhyPanel-scope')!.textContent
    ).toMatch(/running kernel/);
    panel.segment = segment;
    expect(when.hidden).toBe(true);
    expect(panel.node.dataset.stale).toBeUndefined();
    segment = 1;
    panel.segment = segment;
    expect(when.hidden).toBe(false);
    expect(when.textContent).toMatch(/before the restart/);
    expect(panel.node.classList.contains('memdiag-mod-stale')).toBe(true);
    expect(panel.node.dataset.stale).toBe('');
    // Asked again in the new kernel: current again.
    panel.node.querySelector('form')!.requestSubmit();
    await new Promise(resolve => setTimeout(resolve, 0));
    expect(when.hidden).toBe(true);
    expect(panel.node.classList.contains('memdiag-mod-stale')).toBe(false);
    panel.node.remove();
  });
});
