import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';

const SIDEBAR = '#memdiag-sidebar';
const ROWS = `${SIDEBAR} .memdiag-ExecutionTable-row`;
const STATUS = `${SIDEBAR} .memdiag-Status`;

async function newNotebook(page: IJupyterLabPageFixture, name: string, kernel: string): Promise<void> {
  await page.notebook.createNew(name, { kernel });
  await page.sidebar.openTab('memdiag-sidebar');
  await expect(page.locator(SIDEBAR)).toBeVisible();
}

test.describe('memdiag sidebar', () => {
  test('lists each executed cell with its RSS change', async ({ page }) => {
    await newNotebook(page, 'skeleton.ipynb', 'python3');
    await page.notebook.setCell(0, 'code', 'x = bytearray(30_000_000)');
    await page.notebook.addCell('code', 'y = 1 + 1');
    // The extension loads the kernel side on its own (autoLoad): wait for its hello.
    await expect(page.locator(STATUS)).toHaveAttribute('data-memdiag-status', 'ready');

    await page.notebook.runCell(0, true);
    await page.notebook.runCell(1, true);

    const rows = page.locator(ROWS);
    await expect(rows).toHaveCount(2);
    // Newest first: the bytearray cell is the second row and grew RSS by about 30 MB.
    await expect(rows.nth(1).locator('td').nth(0)).toHaveText('[1]');
    await expect(rows.nth(1).locator('td').nth(2)).toContainText(/^\+\d\d(\.\d+)? MB$/);
    await expect(rows.nth(0).locator('td').nth(0)).toHaveText('[2]');

    await page.screenshot({ path: 'test-results/sidebar-two-rows.png' });
  });

  test('shows the install hint when the kernel cannot import memdiag', async ({ page }) => {
    await newNotebook(page, 'missing.ipynb', 'memdiag-missing');
    const status = page.locator(STATUS);
    await expect(status).toHaveAttribute('data-memdiag-status', 'missing');
    await expect(status.locator('code')).toHaveText('%pip install memdiag');
    await page.screenshot({ path: 'test-results/sidebar-missing.png' });
  });

  test('says a non-Python kernel is not supported', async ({ page }) => {
    await newNotebook(page, 'echo.ipynb', 'echo-test');
    const status = page.locator(STATUS);
    await expect(status).toHaveAttribute('data-memdiag-status', 'unsupported');
    await expect(status).toContainText('this kernel runs echo');
  });

});

test.describe('memdiag sidebar across restarts', () => {
  // Galata's kernel-tracking mock answers the restart request with 201, which JupyterLab refuses:
  // let the requests reach the server.
  test.use({ kernels: null });

  test('reconnects after a kernel restart', async ({ page }) => {
    await newNotebook(page, 'restart.ipynb', 'python3');
    await expect(page.locator(STATUS)).toHaveAttribute('data-memdiag-status', 'ready');
    await page.notebook.setCell(0, 'code', 'a = 1');
    await page.notebook.runCell(0, true);
    await expect(page.locator(ROWS)).toHaveCount(1);

    await page.menu.clickMenuItem('Kernel>Restart Kernel…');
    await page.locator('.jp-Dialog .jp-mod-accept').click();
    await expect(page.locator(STATUS)).toHaveAttribute('data-memdiag-status', 'ready');
    await page.notebook.runCell(0, true);
    // The row from before the restart stays; the new kernel's first execution adds one.
    await expect(page.locator(ROWS)).toHaveCount(2);
  });
});
