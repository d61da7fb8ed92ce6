import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import { SIDEBAR, STATUS } from './notebook';

const ROWS = `${SIDEBAR} .memdiag-ExecutionTable-row`;

async function open(page: IJupyterLabPageFixture, path: string): Promise<void> {
  // Application commands only: after a plain reload Galata's in-page helpers are not set up again.
  await page.evaluate(async p => {
    const app = (window as any).jupyterapp;
    await app.commands.execute('docmanager:open', { path: p });
    await app.commands.execute('memdiag:open-sidebar');
  }, path);
  await expect(page.locator(STATUS)).toHaveAttribute(
    'data-memdiag-status',
    'ready'
  );
}

test.describe('faults', () => {
  // Restarts must reach the server (Galata's kernel mock answers them with 201).
  test.use({ kernels: null });

  test('a browser reload finds the kernel side again, with its history in time order', async ({
    page,
    tmpPath
  }) => {
    await page.notebook.createNew('reload.ipynb', { kernel: 'python3' });
    await page.notebook.setCell(0, 'code', 'kept = bytearray(20_000_000)');
    await page.notebook.addCell('code', 'zero_cache = []');
    await page.notebook.addCell('code', 'zero_cache.append(bytes(5_000_000))');
    await page.sidebar.openTab('memdiag-sidebar');
    await expect(page.locator(STATUS)).toHaveAttribute(
      'data-memdiag-status',
      'ready'
    );
    await page.notebook.runCell(1, true);
    for (let i = 0; i < 3; i++) {
      await page.notebook.runCell(2, true);
    }
    // The first cell runs last: saved top to bottom, its report comes first in the file.
    await page.notebook.runCell(0, true);
    await expect(page.locator(ROWS)).toHaveCount(5);
    const leakCell = page.locator('.jp-Notebook .jp-Cell').nth(2);
    await expect(leakCell).toHaveAttribute('data-memdiag-verdict', 'leak');
    const badge = await leakCell.locator('.memdiag-CellBadge').textContent();
    expect(badge).toMatch(/^leak \+\d+(\.\d+)? MB\/run$/);
    const labels = async (): Promise<string[]> =>
      page.locator(`${ROWS} td:nth-child(2)`).allTextContents();
    const before = await labels();
    expect(before).toEqual([
      'cell 1 · run 1',
      'cell 3 · run 3',
      'cell 3 · run 2',
      'cell 3 · run 1',
      'cell 2 · run 1'
    ]);
    const memory = await page
      .locator(`${STATUS} .memdiag-Status-memory`)
      .textContent();
    await page.notebook.save();

    // The kernel goes with the page (as when the server restarts or culls it): without this, whether the reopened
    // notebook gets a new kernel or finds its old one depends on the server's timing.
    await page.evaluate(() =>
      (window as any).jupyterapp.serviceManager.sessions.shutdownAll()
    );
    // A plain browser reload (Galata's own reload waits for a workspace this test does not restore).
    await page.evaluate(() => location.reload());
    await page.waitForFunction(
      () => (window as any).jupyterapp?.started !== undefined
    );
    await page.evaluate(() => (window as any).jupyterapp.started);
    await page.waitForSelector('#jupyterlab-splash', { state: 'detached' });
    await open(page, `${tmpPath}/reload.ipynb`);
    // The reopened notebook gets a new kernel here. Every execution is back once (from the saved
    // metadata), newest first, with the same verdicts and badges, marked as from the earlier kernel; the
    // header shows no figure of the dead kernel as if it were the live one's.
    await expect(page.locator(ROWS)).toHaveCount(5);
    // Retried: the rows are restored from the notebook first, marked stale once the new kernel says hello.
    await expect(page.locator(`${ROWS} td:nth-child(2)`)).toHaveText(
      before.map(label => `${label} before the restart`)
    );
    await expect(
      page.locator('.jp-Notebook .jp-Cell').nth(2).locator('.memdiag-CellBadge')
    ).toHaveText(`${badge} · earlier kernel`);
    await expect(page.locator('.jp-Notebook .jp-Cell').first()).toHaveAttribute(
      'data-memdiag-verdict',
      'retains'
    );
    await expect(page.locator('[data-memdiag-stale]')).toHaveCount(3);
    await expect(
      page.locator(`${STATUS} .memdiag-Status-memory`)
    ).not.toHaveText(memory!);
    await expect(page.locator(`${STATUS} .memdiag-Status-memory`)).toHaveText(
      /^No cell has run in this kernel yet/
    );
    // After page.reload() Galata's in-page helpers are not set up again: drive the DOM itself.
    // eslint-disable-next-line jupyter/galata-prefer-notebook-cell-helper -- no Galata helpers after a reload
    await page
      .locator('.jp-Notebook .jp-Cell .jp-InputArea-editor')
      .first()
      .click();
    // eslint-disable-next-line jupyter/galata-prefer-notebook-cell-helper -- no Galata helpers after a reload
    await page.keyboard.press('Control+Enter');
    await expect(page.locator(ROWS)).toHaveCount(6);
    // The new kernel counts runs from 1 again; its row is live, the others stay below the marker.
    expect((await labels())[0]).toBe('cell 1 · run 1');
    await expect(page.locator('[data-memdiag-stale]')).toHaveCount(2);
    await expect(page.locator(`${STATUS} .memdiag-Status-memory`)).toHaveText(
      /^Kernel memory: /
    );
  });

  test('a kernel restart in the middle of a cell leaves memdiag working', async ({
    page
  }) => {
    await page.notebook.createNew('midcell.ipynb', { kernel: 'python3' });
    await page.notebook.setCell(
      0,
      'code',
      'import time\nfor _ in range(600):\n    time.sleep(0.1)'
    );
    await page.notebook.addCell('code', 'after = bytearray(5_000_000)');
    await page.sidebar.openTab('memdiag-sidebar');
    await expect(page.locator(STATUS)).toHaveAttribute(
      'data-memdiag-status',
      'ready'
    );
    // Not awaited: the restart ends this run; its rejection is expected.
    page.notebook.runCell(0).catch(() => undefined);
    await page.waitForTimeout(1500);
    await page.menu.clickMenuItem('Kernel>Restart Kernel…');
    await page.locator('.jp-Dialog .jp-mod-accept').click();
    await expect(page.locator(STATUS)).toHaveAttribute(
      'data-memdiag-status',
      'ready'
    );
    await page.notebook.runCell(1, true);
    await expect(page.locator(ROWS)).toHaveCount(1);
    await expect(page.locator('.jp-Notebook .jp-Cell').nth(1)).toHaveAttribute(
      'data-memdiag-verdict',
      /ok|retains/
    );
  });
});
