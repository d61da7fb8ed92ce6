import { expect, test } from '@jupyterlab/galata';
import { cellAt as cell, readyNotebook, SIDEBAR } from './notebook';

test.describe('cell decoration', () => {
  test('a cell re-run three times that keeps growing is marked leak', async ({
    page
  }) => {
    await readyNotebook(page, 'leak.ipynb', [
      'cache = []',
      'cache.append(bytearray(8_000_000))'
    ]);
    await page.notebook.runCell(0, true);
    for (let i = 0; i < 3; i++) {
      await page.notebook.runCell(1, true);
    }
    await expect(cell(page, 1)).toHaveAttribute('data-memdiag-verdict', 'leak');
    await expect(cell(page, 1).locator('.memdiag-CellBadge')).toHaveText(
      /^leak \+\d+(\.\d+)? MB\/run$/
    );
    await expect(cell(page, 0)).not.toHaveAttribute(
      'data-memdiag-verdict',
      'leak'
    );
    await page.screenshot({ path: 'test-results/leak-light.png' });
  });

  test('a saved and reopened notebook shows its badges', async ({
    page,
    tmpPath
  }) => {
    await readyNotebook(page, 'reopen.ipynb', ['big = bytearray(30_000_000)']);
    await page.notebook.runCell(0, true);
    await expect(cell(page, 0)).toHaveAttribute(
      'data-memdiag-verdict',
      'retains'
    );
    await page.notebook.save();
    // The report is in the saved file, size-capped, so the badge survives a new kernel too.
    const saved = await page.evaluate(async path => {
      const response = await fetch(
        `/api/contents/${path}?content=1&type=notebook`
      );
      return (await response.json()).content.cells[0].metadata.memdiag;
    }, `${tmpPath}/reopen.ipynb`);
    expect(saved.reports).toHaveLength(1);
    expect(saved.reports[0].verdict.kind).toBe('retains');
    await page.notebook.close();
    await page.evaluate(async path => {
      await window.jupyterapp.commands.execute('docmanager:open', { path });
    }, `${tmpPath}/reopen.ipynb`);
    await expect(cell(page, 0)).toHaveAttribute(
      'data-memdiag-verdict',
      'retains'
    );
    // The verdict's own figure: what the cell holds.
    await expect(cell(page, 0).locator('.memdiag-CellBadge')).toHaveText(
      /^holds \d\d(\.\d+)? MB( · earlier kernel)?$/
    );
  });
});

test.describe('inline report', () => {
  test('a %%memdiag cell renders a chart in .memdiag-report', async ({
    page
  }) => {
    await readyNotebook(page, 'deep.ipynb', [
      'store = []',
      '%%memdiag\nkept = [bytearray(1_000_000) for _ in range(12)]\nstore.append(kept)'
    ]);
    await page.notebook.runCell(0, true);
    await page.notebook.runCell(1, true);
    const report = cell(page, 1).locator('.memdiag-report');
    await expect(report).toBeVisible();
    await expect(report.locator('svg, canvas').first()).toBeVisible();
    await report.scrollIntoViewIfNeeded();
    await page.screenshot({ path: 'test-results/inline-report-light.png' });
    // An allocation site in the cell jumps to its line in the editor.
    await report.getByRole('button', { name: /cell line 2/ }).click();
    await expect(page.locator('.jp-Notebook.jp-mod-editMode')).toHaveCount(1);
    await expect(page.getByText('Ln 2, Col 1')).toBeVisible();
  });
});

test.describe('timeline', () => {
  test('clicking a point scrolls the notebook to its cell', async ({
    page
  }) => {
    const filler = Array.from(
      { length: 12 },
      (_, i) => `# filler ${i}\n` + 'x = 1\n'.repeat(6)
    );
    await readyNotebook(page, 'timeline.ipynb', [
      'first = bytearray(5_000_000)',
      ...filler
    ]);
    for (let i = 0; i < 13; i++) {
      await page.notebook.runCell(i, true);
    }
    // The first cell is far above now; its point is the first of the timeline.
    await page.notebook.selectCells(12);
    const chart = page.locator(`${SIDEBAR} .memdiag-Timeline`);
    await expect(chart.locator('svg, canvas').first()).toBeVisible();
    // The timeline is drawn in SVG: its points are the symbol marks, in execution order.
    await chart.locator('g.mark-symbol path').first().click({ force: true });
    await expect(cell(page, 0)).toBeInViewport();
    await expect(cell(page, 0)).toHaveClass(/jp-mod-active/);
  });
});

test.describe('dark theme', () => {
  test('sidebar and inline report follow the dark theme', async ({ page }) => {
    await page.theme.setDarkTheme();
    await readyNotebook(page, 'dark.ipynb', [
      'cache = []',
      'cache.append(bytearray(8_000_000))',
      '%%memdiag\nkept = [bytearray(1_000_000) for _ in range(12)]\ncache.append(kept)'
    ]);
    await page.notebook.runCell(0, true);
    for (let i = 0; i < 3; i++) {
      await page.notebook.runCell(1, true);
    }
    await page.notebook.runCell(2, true);
    await expect(cell(page, 2).locator('.memdiag-report')).toBeVisible();
    await page.screenshot({ path: 'test-results/dark.png' });
  });
});

test.describe('commands', () => {
  test('"Diagnose This Cell" asks first, from its own group of the context menu, then shows the inline report', async ({
    page
  }) => {
    await readyNotebook(page, 'diagnose.ipynb', [
      'held = [bytearray(2_000_000) for _ in range(3)]'
    ]);
    await cell(page, 0)
      .locator('.jp-InputArea-editor')
      .click({ button: 'right' });
    // memdiag's entries come after JupyterLab's (the log console is its last), after a separator of their
    // own, before the browser-menu hint JupyterLab always puts last.
    const items = page.locator('.lm-Menu-content > li');
    const labels = await items.evaluateAll(nodes =>
      nodes.map(node =>
        node.classList.contains('lm-mod-hidden')
          ? null
          : node.getAttribute('data-type') === 'separator'
            ? '---'
            : (node.querySelector('.lm-Menu-itemLabel')?.textContent ?? '')
      )
    );
    const shown = labels.filter((label): label is string => label !== null);
    expect(shown.slice(-6)).toEqual([
      'Show Log Console',
      '---',
      'Diagnose This Cell (memdiag)',
      'Check This Cell for Leaks (memdiag)',
      'Why Is … Alive? (memdiag)',
      'Shift+Right Click for Browser Menu'
    ]);
    await page
      .getByRole('menuitem', { name: 'Diagnose This Cell (memdiag)' })
      .click();
    // It re-runs the cell: it asks, naming the cell and what a run does.
    const dialog = page.locator('.jp-Dialog');
    await expect(dialog).toContainText('Diagnose this cell?');
    await expect(dialog).toContainText('run cell 1 once more');
    await dialog.locator('.jp-mod-reject').click();
    await expect(dialog).toHaveCount(0);
    await expect(cell(page, 0).locator('.memdiag-report')).toHaveCount(0);
    // A plain run first, its row selected: the diagnosis then selects its own run, on screen in the table.
    await page.notebook.runCell(0, true);
    const rows = page.locator(`${SIDEBAR} .memdiag-ExecutionTable-row`);
    await rows.filter({ hasText: 'cell 1 · run 1' }).click();
    await page.evaluate(() => {
      void (window as any).jupyterapp.commands.execute('memdiag:diagnose-cell');
    });
    await page
      .locator('.jp-Dialog .jp-mod-accept', { hasText: 'Run and diagnose' })
      .click();
    const report = cell(page, 0).locator('.memdiag-report');
    await expect(report).toBeVisible();
    // The cell's source is untouched: no magic was inserted.
    expect(await page.notebook.getCellTextInput(0)).toBe(
      'held = [bytearray(2_000_000) for _ in range(3)]'
    );
    await expect(
      report.getByRole('button', { name: /cell line 1/ })
    ).toBeVisible();
    const selected = rows.and(page.locator('[aria-selected="true"]'));
    await expect(selected).toHaveCount(1);
    await expect(selected).toContainText('cell 1 · run 2');
    await expect(selected).toBeInViewport();
  });

  test('"Check This Cell for Leaks" ends with a one-line summary over its runs', async ({
    page
  }) => {
    await readyNotebook(page, 'leakcheck.ipynb', [
      'zero_cache = []',
      'zero_cache.append(bytes(5_000_000))'
    ]);
    await page.notebook.runCell(0, true);
    // From the context menu, right-clicking in the editor of cell 2 while cell 1 is active (the right-click does
    // not make it active): the trial ran the active cell four times instead, with a dialog that named none.
    await page.notebook.selectCells(0);
    await cell(page, 1).locator('.jp-InputArea-editor').click({
      button: 'right'
    });
    await page
      .locator('.lm-Menu-item', {
        hasText: 'Check This Cell for Leaks (memdiag)'
      })
      .click();
    await expect(page.locator('.jp-Dialog-body')).toContainText(
      'memdiag will run cell 2 4 times in a row.'
    );
    await page.locator('.jp-Dialog .jp-mod-accept').click();
    const toast = page.locator('.jp-toast-message', {
      hasText: 'Leak check of cell 2'
    });
    await expect(toast).toHaveText(
      /^Leak check of cell 2, 4 runs: each re-run kept \+\d+(\.\d+)? MB, \+\d+(\.\d+)? MB, \+\d+(\.\d+)? MB: a leak of \+\d+(\.\d+)? MB\/run\.$/,
      { timeout: 60_000 }
    );
    await expect(
      page.locator(`${SIDEBAR} .memdiag-ExecutionTable-row`)
    ).toHaveCount(5);
    await page.screenshot({ path: 'test-results/leak-check.png' });
  });
});

test.describe('why alive', () => {
  test('"Why Is … Alive?" answers in the sidebar, where the answer stays, and refuses an empty name in words', async ({
    page
  }) => {
    await readyNotebook(page, 'why.ipynb', [
      'holder = {"data": bytearray(3_000_000)}\nblob = holder["data"]'
    ]);
    await page.notebook.runCell(0, true);
    // From the command palette, as a user opens it: the palette gives focus back to the notebook as it closes,
    // and the trial's keys then went to the notebook as shortcuts.
    await page.keyboard.press('Control+Shift+C');
    await page.locator('.jp-ModalCommandPalette input').fill('Why Is');
    await page.keyboard.press('Enter');
    const panel = page.locator(`${SIDEBAR} .memdiag-WhyPanel`);
    await expect(panel).toBeVisible();
    const input = panel.getByLabel('Variable name or expression');
    await expect(input).toBeFocused();
    await page.keyboard.type('q9');
    await expect(input).toHaveValue('q9');
    await input.fill('');
    // The placeholder is an example, never a value.
    await expect(input).toHaveValue('');
    await expect(input).toHaveAttribute('placeholder', 'for example: df');
    await panel.getByRole('button', { name: 'Ask' }).click();
    await expect(panel.locator('.memdiag-WhyPanel-message')).toHaveText(
      'Type a variable name or an expression first, e.g. df or Out[3].'
    );
    await expect(input).toHaveAttribute('aria-invalid', 'true');
    await input.fill('blob');
    await input.press('Enter');
    const answer = panel.locator('.memdiag-Why');
    await expect(answer).toBeVisible();
    await expect(answer).toContainText('bytearray');
    // Sizes in units, never raw bytes.
    await expect(answer).toContainText(/Keeps alive\s*3 MB/);
    // Held twice: by the name and by the dict's "data" key.
    await expect(answer).toContainText("['data']");
    await expect(answer).toContainText('blob');
    await page.screenshot({ path: 'test-results/why.png' });
    // It stays while the user works: another cell runs, the answer is still there.
    await page.notebook.addCell('code', 'y = 2');
    await page.notebook.runCell(1, true);
    await expect(answer).toBeVisible();
    await panel
      .getByRole('button', { name: 'Close "Why is … alive?"' })
      .click();
    await expect(panel).toBeHidden();
  });
});

test.describe('per-line memory', () => {
  test("%%memdiag --lines shows each line's increment inline", async ({
    page
  }) => {
    await readyNotebook(page, 'lines.ipynb', [
      '%%memdiag --lines\na = bytearray(10_000_000)\nb = bytearray(30_000_000)'
    ]);
    await page.notebook.runCell(0, true);
    const report = cell(page, 0).locator('.memdiag-report');
    await expect(report).toBeVisible();
    const lines = report.locator('.memdiag-Detail-lines');
    // The bar chart is drawn; the same figures stay in a table for screen readers (collapsed under it).
    await expect(lines.locator('svg').first()).toBeVisible();
    const table = lines.locator('table');
    // On RSS (the default basis): a page or two either way of the bytes allocated.
    await expect(
      table.locator('tr', { hasText: 'a = bytearray(10_000_000)' })
    ).toContainText(/\+(9\.\d+|10(\.\d+)?) MB/);
    await expect(
      table.locator('tr', { hasText: 'b = bytearray(30_000_000)' })
    ).toContainText(/\+(29\.\d+|30(\.\d+)?) MB/);
    await report.scrollIntoViewIfNeeded();
    await page.screenshot({ path: 'test-results/lines.png' });
  });
});
