import { expect, test } from '@jupyterlab/galata';
import { SIDEBAR, STATUS } from './notebook';

import { lowContrast } from './contrast';

const ROWS = `${SIDEBAR} .memdiag-ExecutionTable-row`;

/** A 20-cell analysis: loads, a leak, a big temporary, and small steps. */
function notebook(): object {
  const sources = [
    'zero_cache = []',
    'data = [bytearray(1_000_000) for _ in range(20)]',
    ...Array.from(
      { length: 14 },
      (_, i) => `step_${i} = sum(range(${i} * 1000))`
    ),
    'zero_cache.append(bytes(5_000_000))',
    'temporary = bytearray(50_000_000)\ndel temporary',
    'table = {i: str(i) for i in range(100_000)}',
    'summary = len(table)'
  ];
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: {
        name: 'python3',
        display_name: 'Python 3',
        language: 'python'
      }
    },
    cells: sources.map((source, i) => ({
      id: `tour-${i}`,
      cell_type: 'code',
      source,
      metadata: {},
      outputs: [],
      execution_count: null
    }))
  };
}

test.describe('a 20-cell notebook, as a new user tries it', () => {
  test.use({ kernels: null });

  test('after a restart, with a second view and the dark theme, it reads right at the default width', async ({
    page,
    tmpPath
  }) => {
    const path = `${tmpPath}/tour.ipynb`;
    await page.evaluate(
      async ({ path, content }) => {
        await fetch(`/api/contents/${path}`, {
          method: 'PUT',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ type: 'notebook', format: 'json', content })
        });
        const app = (window as any).jupyterapp;
        await app.commands.execute('docmanager:open', { path });
        await app.commands.execute('memdiag:open-sidebar');
      },
      { path, content: notebook() }
    );
    await expect(page.locator(STATUS)).toHaveAttribute(
      'data-memdiag-status',
      'ready'
    );
    await page.evaluate(() =>
      (window as any).jupyterapp.commands.execute('notebook:run-all-cells')
    );
    await expect(page.locator(ROWS)).toHaveCount(20, { timeout: 60_000 });
    // The leak cell runs twice more.
    for (let i = 0; i < 2; i++) {
      await page.notebook.runCell(16, true);
    }
    await expect(page.locator(ROWS)).toHaveCount(22);
    await expect(
      page
        .locator('.jp-Notebook .jp-Cell')
        .nth(16)
        .locator('.memdiag-CellBadge')
    ).toHaveText(/^leak \+\d+(\.\d+)? MB\/run$/);

    await page.menu.clickMenuItem('Kernel>Restart Kernel…');
    await page.locator('.jp-Dialog .jp-mod-accept').click();
    await expect(page.locator(STATUS)).toHaveAttribute(
      'data-memdiag-status',
      'ready'
    );
    await page.notebook.runCell(1, true);
    await expect(page.locator(ROWS)).toHaveCount(23);

    await page.evaluate(() =>
      (window as any).jupyterapp.commands.execute('docmanager:clone', {
        options: { mode: 'split-right' }
      })
    );
    await expect(page.locator('.jp-NotebookPanel')).toHaveCount(2);
    await page.theme.setDarkTheme();

    // One history: the new kernel's row on top, then the restart, then the old kernel's 22 rows, greyed.
    const body = page.locator(`${SIDEBAR} .memdiag-ExecutionTable tbody tr`);
    await expect(body.nth(0)).toHaveClass(/memdiag-ExecutionTable-row/);
    await expect(body.nth(0).locator('td').nth(1)).toHaveText('cell 2 · run 1');
    await expect(body.nth(1)).toHaveClass('memdiag-ExecutionTable-restart');
    await expect(page.locator(`${ROWS}.memdiag-mod-stale`)).toHaveCount(22);
    // Both views mark the old kernel's badges stale and the re-run cell live.
    for (const panel of await page.locator('.jp-NotebookPanel').all()) {
      await expect(panel.locator('.jp-Cell[data-memdiag-stale]')).toHaveCount(
        19
      );
      await expect(panel.locator('.jp-Cell').nth(1)).not.toHaveAttribute(
        'data-memdiag-stale'
      );
    }
    // Every visible row's verdict is on screen; no text under 4.5:1.
    const table = page.locator(`${SIDEBAR} .memdiag-ExecutionTable`);
    const box = (await table.boundingBox())!;
    for (const chip of await page
      .locator(`${ROWS} .memdiag-ExecutionTable-chip`)
      .all()) {
      const chipBox = await chip.boundingBox();
      if (chipBox && chipBox.y < box.y + box.height) {
        expect(chipBox.x + chipBox.width).toBeLessThanOrEqual(
          box.x + box.width
        );
      }
    }
    expect(await page.evaluate(lowContrast, [SIDEBAR, 4.5])).toEqual([]);
    await expect(page.locator(`${STATUS} .memdiag-Status-memory`)).toHaveText(
      /^Kernel memory: /
    );
    await page.screenshot({ path: 'test-results/tour-dark.png' });
  });
});
