import { expect, test } from '@jupyterlab/galata';

const SIDEBAR = '#memdiag-sidebar';
const ROWS = `${SIDEBAR} .memdiag-ExecutionTable-row`;

test.describe('memdiag sidebar', () => {
  test('lists each executed cell with its RSS change', async ({ page }) => {
    await page.notebook.createNew('skeleton.ipynb');
    await page.notebook.setCell(0, 'code', 'x = bytearray(30_000_000)');
    await page.notebook.addCell('code', 'y = 1 + 1');

    await page.sidebar.openTab('memdiag-sidebar');
    const sidebar = page.locator(SIDEBAR);
    await expect(sidebar).toBeVisible();
    // The extension loads the kernel side on its own (autoLoad): wait for its hello.
    await expect(sidebar.locator('.memdiag-Status')).toHaveAttribute('data-memdiag-status', 'ready');

    await page.notebook.runCell(0, true);
    await page.notebook.runCell(1, true);

    const rows = page.locator(ROWS);
    await expect(rows).toHaveCount(2);
    // Newest first: the bytearray cell is the second row and grew RSS by tens of MB.
    await expect(rows.nth(1).locator('td').nth(0)).toHaveText('[1]');
    await expect(rows.nth(1).locator('td').nth(2)).toContainText(/^\+\d+(\.\d+)? MB$/);
    await expect(rows.nth(0).locator('td').nth(0)).toHaveText('[2]');

    await page.screenshot({ path: 'test-results/sidebar-two-rows.png' });
  });
});
