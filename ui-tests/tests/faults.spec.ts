import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';

const SIDEBAR = '#memdiag-sidebar';
const STATUS = `${SIDEBAR} .memdiag-Status`;
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

  test('a browser reload finds the kernel side again, with its history', async ({
    page,
    tmpPath
  }) => {
    await page.notebook.createNew('reload.ipynb', { kernel: 'python3' });
    await page.notebook.setCell(0, 'code', 'kept = bytearray(20_000_000)');
    await page.sidebar.openTab('memdiag-sidebar');
    await expect(page.locator(STATUS)).toHaveAttribute(
      'data-memdiag-status',
      'ready'
    );
    await page.notebook.runCell(0, true);
    await expect(page.locator(ROWS)).toHaveCount(1);
    await page.notebook.save();

    // A plain browser reload (Galata's own reload waits for a workspace this test does not restore).
    await page.evaluate(() => location.reload());
    await page.waitForFunction(
      () => (window as any).jupyterapp?.started !== undefined
    );
    await page.evaluate(() => (window as any).jupyterapp.started);
    await page.waitForSelector('#jupyterlab-splash', { state: 'detached' });
    await open(page, `${tmpPath}/reload.ipynb`);
    // The execution is back (from the saved cell metadata and the kernel's hello, counted once).
    await expect(page.locator(ROWS)).toHaveCount(1);
    await expect(page.locator('.jp-Notebook .jp-Cell').first()).toHaveAttribute(
      'data-memdiag-verdict',
      'retains'
    );
    // After page.reload() Galata's in-page helpers are not set up again: drive the DOM itself.
    // eslint-disable-next-line jupyter/galata-prefer-notebook-cell-helper -- no Galata helpers after a reload
    await page
      .locator('.jp-Notebook .jp-Cell .jp-InputArea-editor')
      .first()
      .click();
    // eslint-disable-next-line jupyter/galata-prefer-notebook-cell-helper -- no Galata helpers after a reload
    await page.keyboard.press('Control+Enter');
    await expect(page.locator(ROWS)).toHaveCount(2);
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
