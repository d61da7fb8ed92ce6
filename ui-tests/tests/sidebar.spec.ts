import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import { SIDEBAR, STATUS } from './notebook';

const ROWS = `${SIDEBAR} .memdiag-ExecutionTable-row`;

async function newNotebook(
  page: IJupyterLabPageFixture,
  name: string,
  kernel: string
): Promise<void> {
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
    await expect(page.locator(STATUS)).toHaveAttribute(
      'data-memdiag-status',
      'ready'
    );

    await page.notebook.runCell(0, true);
    await page.notebook.runCell(1, true);

    const rows = page.locator(ROWS);
    await expect(rows).toHaveCount(2);
    // Newest first: the bytearray cell is the second row and grew RSS by about 30 MB.
    await expect(rows.nth(1).locator('td').nth(1)).toHaveText('cell 1 · run 1');
    await expect(rows.nth(1).locator('td').nth(2)).toContainText(
      /^\+\d\d(\.\d+)? MB$/
    );
    await expect(rows.nth(0).locator('td').nth(1)).toHaveText('cell 2 · run 1');
    // The verdict comes first, as a chip.
    await expect(
      rows.nth(1).locator('td').nth(0).locator('.memdiag-ExecutionTable-chip')
    ).toHaveText('retains');

    await page.screenshot({ path: 'test-results/sidebar-two-rows.png' });
  });

  test('shows the install hint when the kernel cannot import memdiag', async ({
    page
  }) => {
    await newNotebook(page, 'missing.ipynb', 'memdiag-missing');
    const status = page.locator(STATUS);
    await expect(status).toHaveAttribute('data-memdiag-status', 'missing');
    await expect(status.locator('code')).toHaveText('%pip install memdiag');
    await page.screenshot({ path: 'test-results/sidebar-missing.png' });
  });

  test("says in words that the census is off while the user's gc.freeze() holds", async ({
    page
  }) => {
    await newNotebook(page, 'frozen.ipynb', 'python3');
    await page.notebook.setCell(0, 'code', 'import gc; gc.freeze()');
    await page.notebook.addCell(
      'code',
      'objs = [object() for _ in range(10_000)]'
    );
    await page.notebook.addCell('code', 'gc.unfreeze()');
    await expect(page.locator(STATUS)).toHaveAttribute(
      'data-memdiag-status',
      'ready'
    );

    await page.notebook.runCell(0, true);
    await page.notebook.runCell(1, true);
    await expect(page.locator(ROWS)).toHaveCount(2);
    const probes = page.locator(`${STATUS} ul.memdiag-Status-probes`);
    await expect(probes).toHaveAttribute(
      'aria-label',
      'Probes that did not run for cell [2]'
    );
    await expect(probes.locator('li').first()).toHaveText(
      /^Census and cycle probe off: the gc was frozen by the user \(gc\.freeze\(\)\)/
    );
    // The cell's details say it too, and show no census figure they did not measure.
    await page.locator(ROWS).first().click();
    const details = page.locator(`${SIDEBAR} .memdiag-Detail`);
    await expect(
      details.locator('.memdiag-Detail-skipped li').first()
    ).toContainText('Census and cycle probe:');
    await expect(details.locator('.memdiag-Detail-facts')).not.toContainText(
      'New objects'
    );
    await expect(page.locator(ROWS).first().locator('td').nth(4)).toHaveText(
      '–'
    );
    // Tall enough for the status and the whole summary of the details in one picture.
    await page.setViewportSize({ width: 1024, height: 1300 });
    await page.screenshot({ path: 'test-results/probes-off-light.png' });
    await page.theme.setDarkTheme();
    await expect(probes).toBeVisible();
    await page.screenshot({ path: 'test-results/probes-off-dark.png' });

    // Once the user unfreezes, the next cell is measured again and the line goes.
    await page.notebook.runCell(2, true);
    await page.notebook.runCell(1, true);
    await expect(page.locator(ROWS)).toHaveCount(4);
    await expect(page.locator(`${STATUS} .memdiag-Status-probes`)).toHaveCount(
      0
    );
    await expect(
      page.locator(ROWS).first().locator('td').nth(4)
    ).not.toHaveText('–');
  });

  test('says so when snapshots are off, instead of asking for a cell to run', async ({
    page
  }) => {
    await newNotebook(page, 'off.ipynb', 'python3');
    const status = page.locator(STATUS);
    await expect(status).toHaveAttribute('data-memdiag-status', 'ready');
    await expect(status.locator('.memdiag-Status-memory')).toHaveText(
      'Run a cell to see its memory.'
    );
    await status.getByRole('switch').uncheck();
    await expect(status.locator('.memdiag-Status-off')).toHaveText(
      /^Snapshots are off: cells run without a memory report\./
    );
    await expect(status.locator('.memdiag-Status-memory')).toBeHidden();
    await page.notebook.setCell(0, 'code', 'x = bytearray(5_000_000)');
    await page.notebook.runCell(0, true);
    await expect(page.locator(ROWS)).toHaveCount(0);
    await status.getByRole('switch').check();
    await expect(status.locator('.memdiag-Status-off')).toHaveCount(0);
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
    await expect(page.locator(STATUS)).toHaveAttribute(
      'data-memdiag-status',
      'ready'
    );
    await page.notebook.setCell(0, 'code', 'a = bytearray(30_000_000)');
    await page.notebook.runCell(0, true);
    await expect(page.locator(ROWS)).toHaveCount(1);
    const cellNode = page.locator('.jp-Notebook .jp-Cell').first();
    await expect(cellNode).toHaveAttribute('data-memdiag-verdict', 'retains');
    await expect(cellNode).not.toHaveAttribute('data-memdiag-stale');

    await page.menu.clickMenuItem('Kernel>Restart Kernel…');
    await page.locator('.jp-Dialog .jp-mod-accept').click();
    await expect(page.locator(STATUS)).toHaveAttribute(
      'data-memdiag-status',
      'ready'
    );
    // The old kernel's figures are the past: a stale badge, a greyed row under a restart marker, and no
    // memory figure from the dead kernel in the header.
    await expect(cellNode).toHaveAttribute('data-memdiag-stale', '');
    await expect(cellNode.locator('.memdiag-CellBadge')).toHaveText(
      /^holds 30 MB · earlier kernel$/
    );
    await expect(page.locator(ROWS).first()).toHaveClass(/memdiag-mod-stale/);
    await expect(page.locator(ROWS).first()).toContainText(
      'before the restart'
    );
    await expect(
      page.locator(`${SIDEBAR} .memdiag-ExecutionTable-restart`)
    ).toHaveText('Kernel restarted: the rows below ran before it');
    await expect(
      page.locator(`${STATUS} .memdiag-Status-memory`)
    ).not.toContainText('Kernel memory');
    await expect(
      page.locator(`${SIDEBAR} .memdiag-Timeline text`, { hasText: 'restart' })
    ).toHaveCount(1);

    await page.screenshot({ path: 'test-results/restart-stale.png' });

    await page.notebook.runCell(0, true);
    // The row from before the restart stays; the new kernel's first execution adds one, above the marker.
    await expect(page.locator(ROWS)).toHaveCount(2);
    await expect(cellNode).not.toHaveAttribute('data-memdiag-stale');
    await expect(page.locator(ROWS).first()).not.toHaveClass(
      /memdiag-mod-stale/
    );
    await expect(
      page.locator(`${STATUS} .memdiag-Status-memory`)
    ).toContainText('Kernel memory');
    const body = page.locator(`${SIDEBAR} .memdiag-ExecutionTable tbody tr`);
    await expect(body.nth(1)).toHaveClass('memdiag-ExecutionTable-restart');
    await page.screenshot({ path: 'test-results/restart-rerun.png' });
  });
});
