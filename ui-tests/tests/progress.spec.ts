import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import { readyNotebook, STATUS } from './notebook';

/** Every progress text the page showed, on the cell and in the sidebar, recorded as it appears. */
async function recordProgress(page: IJupyterLabPageFixture): Promise<void> {
  await page.evaluate(() => {
    const seen: Array<{ where: string; text: string; live: string | null }> =
      [];
    (window as any).memdiagProgressSeen = seen;
    const note = (node: Element): void => {
      for (const [selector, where] of [
        ['.memdiag-CellProgress', 'cell'],
        ['.memdiag-Status-progress', 'sidebar']
      ]) {
        const found = node.matches(selector)
          ? node
          : node.querySelector(selector);
        if (found && !(found as HTMLElement).hidden && found.textContent) {
          seen.push({
            where,
            text: found.textContent,
            live:
              found.getAttribute('aria-live') ??
              found.closest('[aria-live]')?.getAttribute('aria-live') ??
              null
          });
        }
      }
    };
    new MutationObserver(records => {
      for (const record of records) {
        const target =
          record.target instanceof Element
            ? record.target
            : record.target.parentElement;
        if (target) {
          note(target);
        }
        record.addedNodes.forEach(node => {
          if (node instanceof Element) {
            note(node);
          }
        });
      }
    }).observe(document.body, {
      subtree: true,
      childList: true,
      characterData: true,
      attributes: true,
      attributeFilter: ['hidden']
    });
  });
}

test.describe('progress while memdiag works longer', () => {
  test('a diagnosed cell says what memdiag is doing, on the cell and in the sidebar, until its report', async ({
    page
  }) => {
    await readyNotebook(page, 'progress.ipynb', [
      '%%memdiag\nimport time\nkept = [bytearray(1_000_000) for _ in range(5)]\ntime.sleep(2)'
    ]);
    await recordProgress(page);
    const cellNode = page.locator('.jp-Notebook .jp-Cell').first();
    // Not awaited: the progress shows while the cell runs.
    const run = page.notebook.runCell(0, true);
    const onCell = cellNode.locator('.memdiag-CellProgress');
    await expect(onCell).toHaveText(
      /^memdiag: diagnosing this cell in depth…( \(\d.*\))?$/
    );
    await expect(onCell).toHaveAttribute('role', 'status');
    await expect(onCell).toHaveAttribute('aria-live', 'polite');
    await expect(page.locator(`${STATUS} .memdiag-Status-progress`)).toHaveText(
      /^memdiag: diagnosing this cell in depth…/
    );
    await page.screenshot({ path: 'test-results/progress.png' });
    await run;
    // The report ends it, everywhere.
    await expect(cellNode.locator('.memdiag-report')).toBeVisible();
    await expect(onCell).toHaveCount(0);
    await expect(
      page.locator(`${STATUS} .memdiag-Status-progress`)
    ).toBeHidden();
    const seen = await page.evaluate(() => (window as any).memdiagProgressSeen);
    expect(seen.map((s: any) => s.where)).toEqual(
      expect.arrayContaining(['cell', 'sidebar'])
    );
    expect(seen.every((s: any) => s.live === 'polite')).toBe(true);
  });
});
