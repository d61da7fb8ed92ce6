/**
 * Notebook 7 runs the same extension: the memory sidebar sits in its left side panel.
 * Plain Playwright against the same server (Galata's page fixture targets JupyterLab).
 */
import { expect, test } from '@playwright/test';

test.use({ baseURL: 'http://127.0.0.1:8899' });

test('the memory sidebar works in Notebook 7', async ({ page, request }) => {
  const name = `nb7-${Date.now()}.ipynb`;
  const notebook = {
    type: 'notebook',
    content: {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: {
        kernelspec: {
          name: 'python3',
          display_name: 'Python 3',
          language: 'python'
        }
      },
      cells: [
        {
          cell_type: 'code',
          id: 'nb7-cell',
          source: 'kept7 = bytearray(20_000_000)',
          metadata: {},
          outputs: [],
          execution_count: null
        }
      ]
    }
  };
  expect(
    (await request.put(`/api/contents/${name}`, { data: notebook })).ok()
  ).toBe(true);

  await page.goto(`/notebooks/${name}`);
  await expect(page.locator('.jp-Notebook .jp-CodeCell')).toHaveCount(1, {
    timeout: 60000
  });
  // The sidebar is built, hidden, when the application starts; it says `ready` once the kernel has memdiag loaded,
  // by which time the page has settled (a key pressed while Notebook 7 still restores its layout can be lost).
  const sidebar = page.locator('#memdiag-sidebar');
  await expect(sidebar.locator('.memdiag-Status')).toHaveAttribute(
    'data-memdiag-status',
    'ready',
    { timeout: 60000 }
  );
  // The palette command works in both applications (Notebook 7 lists only some side panels in View): the palette is
  // opened until it shows, and its item clicked until the sidebar does.
  const input = page.locator('.lm-CommandPalette-input');
  await expect(async () => {
    if (!(await input.isVisible())) {
      await page.keyboard.press('Control+Shift+C');
    }
    await expect(input).toBeVisible({ timeout: 2000 });
    await input.fill('Show Memory Sidebar');
    await page
      .locator('.lm-CommandPalette-item', { hasText: 'Show Memory Sidebar' })
      .first()
      .click({ timeout: 2000 });
    await expect(sidebar).toBeVisible({ timeout: 2000 });
  }).toPass({ timeout: 60000 });

  // Notebook 7's page, not JupyterLab's: galata's notebook helpers drive JupyterLab's shell.
  // eslint-disable-next-line jupyter/galata-prefer-notebook-cell-helper -- Notebook 7 has no galata helpers
  await page.locator('.jp-Notebook .jp-CodeCell .jp-InputArea-editor').click();
  // eslint-disable-next-line jupyter/galata-prefer-notebook-cell-helper -- Notebook 7 has no galata helpers
  await page.keyboard.press('Shift+Enter');
  await expect(sidebar.locator('.memdiag-ExecutionTable-row')).toHaveCount(1, {
    timeout: 60000
  });
  await expect(page.locator('.jp-CodeCell').first()).toHaveAttribute(
    'data-memdiag-verdict',
    'retains'
  );
  await page.screenshot({ path: 'test-results/notebook7.png' });
  await request.delete(`/api/contents/${name}`);
});
