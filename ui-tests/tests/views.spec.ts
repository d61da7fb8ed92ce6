import { expect, test } from '@jupyterlab/galata';
import { SIDEBAR, STATUS } from './notebook';

const ROWS = `${SIDEBAR} .memdiag-ExecutionTable-row`;

test.describe('two views of one notebook', () => {
  // Restarts must reach the server (Galata's kernel mock answers them with 201).
  test.use({ kernels: null });

  test('both views get the badges, from one kernel bridge, through a restart after the second closes', async ({
    page
  }) => {
    await page.notebook.createNew('views.ipynb', { kernel: 'python3' });
    await page.notebook.setCell(0, 'code', 'held = bytearray(30_000_000)');
    await page.sidebar.openTab('memdiag-sidebar');
    await expect(page.locator(STATUS)).toHaveAttribute(
      'data-memdiag-status',
      'ready'
    );
    // File › New View for Notebook: a second panel on the same kernel connection, beside the first.
    await page.evaluate(async () => {
      await (window as any).jupyterapp.commands.execute('docmanager:clone', {
        options: { mode: 'split-right' }
      });
    });
    const panels = page.locator('.jp-NotebookPanel');
    await expect(panels).toHaveCount(2);
    // The cell runs in the first view.
    // eslint-disable-next-line jupyter/galata-prefer-notebook-cell-helper -- Galata's helpers act on the current view; this must pick one of two
    await panels
      .first()
      .locator('.jp-Cell .jp-InputArea-editor')
      .first()
      .click();
    // eslint-disable-next-line jupyter/galata-prefer-notebook-cell-helper -- Galata's helpers act on the current view; this must pick one of two
    await page.keyboard.press('Control+Enter');
    for (const panel of await panels.all()) {
      await expect(panel.locator('.jp-Cell').first()).toHaveAttribute(
        'data-memdiag-verdict',
        'retains'
      );
      await expect(
        panel.locator('.jp-Cell').first().locator('.memdiag-CellBadge')
      ).toHaveText(/^holds 30 MB$/);
    }
    // One row, whichever view is current.
    await expect(page.locator(ROWS)).toHaveCount(1);
    // eslint-disable-next-line jupyter/galata-prefer-notebook-cell-helper -- Galata's helpers act on the current view; this must pick one of two
    await panels.last().locator('.jp-Cell').first().click();
    await expect(page.locator(ROWS)).toHaveCount(1);
    await page.screenshot({ path: 'test-results/two-views.png' });

    // The second view closes; the kernel restarts: the first view's memdiag connects again.
    await page.evaluate(async () => {
      await (window as any).jupyterapp.commands.execute('application:close');
    });
    await expect(panels).toHaveCount(1);
    await page.menu.clickMenuItem('Kernel>Restart Kernel…');
    await page.locator('.jp-Dialog .jp-mod-accept').click();
    await expect(panels.first().locator('.jp-Cell').first()).toHaveAttribute(
      'data-memdiag-stale',
      ''
    );
    await expect(page.locator(STATUS)).toHaveAttribute(
      'data-memdiag-status',
      'ready'
    );
    // eslint-disable-next-line jupyter/galata-prefer-notebook-cell-helper -- Galata's helpers act on the current view; this must pick one of two
    await panels
      .first()
      .locator('.jp-Cell .jp-InputArea-editor')
      .first()
      .click();
    // eslint-disable-next-line jupyter/galata-prefer-notebook-cell-helper -- Galata's helpers act on the current view; this must pick one of two
    await page.keyboard.press('Control+Enter');
    await expect(page.locator(ROWS)).toHaveCount(2);
    await expect(
      panels.first().locator('.jp-Cell').first()
    ).not.toHaveAttribute('data-memdiag-stale');
  });
});
