/**
 * Issue 15, what a fresh user's trial still found: charts redrawn after a reload and a theme switch, stale
 * details and "why" answers after a restart, one name per execution, a sidebar that fits its default width,
 * axes in the text's units.
 */
import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import { readyNotebook, SIDEBAR, STATUS } from './notebook';
import type { Locator } from '@playwright/test';

import { lowContrast } from './contrast';

const ROWS = `${SIDEBAR} .memdiag-ExecutionTable-row`;
const DETAILS = `${SIDEBAR} .memdiag-Detail`;

/** After a plain browser reload Galata's in-page helpers are gone: application commands only. */
async function reload(
  page: IJupyterLabPageFixture,
  path: string
): Promise<void> {
  await page.evaluate(() => location.reload());
  await page.waitForFunction(
    () => (window as any).jupyterapp?.started !== undefined
  );
  await page.evaluate(() => (window as any).jupyterapp.started);
  await page.waitForSelector('#jupyterlab-splash', { state: 'detached' });
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

async function darkTheme(page: IJupyterLabPageFixture): Promise<void> {
  await page.evaluate(async () => {
    await (window as any).jupyterapp.commands.execute('apputils:change-theme', {
      theme: 'JupyterLab Dark'
    });
  });
  await expect(page.locator('body')).toHaveAttribute(
    'data-jp-theme-light',
    'false'
  );
}

async function width(locator: Locator): Promise<number> {
  return (await locator.boundingBox())?.width ?? 0;
}

function overlaps(
  a: { x: number; y: number; width: number; height: number },
  b: { x: number; y: number; width: number; height: number }
): boolean {
  return (
    a.x < b.x + b.width &&
    b.x < a.x + a.width &&
    a.y < b.y + b.height &&
    b.y < a.y + a.height
  );
}

/** Every header of the tables under `root` on one line: none taller than the shortest of its table. */
async function headersOnOneLine(page: IJupyterLabPageFixture, root: string) {
  return page.locator(`${root} table`).evaluateAll(tables =>
    tables
      .map(table => {
        // The headers shown (a narrow sidebar's executions table hides some columns).
        const heights = [...table.querySelectorAll('th')]
          .map(th => th.getBoundingClientRect())
          .filter(box => box.width > 0)
          .map(box => box.height);
        return heights.length && Math.max(...heights) > Math.min(...heights) + 1
          ? table.getAttribute('aria-label')
          : null;
      })
      .filter(label => label !== null)
  );
}

/** Δ RSS is on screen for every row, without scrolling the table; its headers are whole. */
async function deltaOnScreen(page: IJupyterLabPageFixture): Promise<void> {
  const table = page.locator(`${SIDEBAR} .memdiag-ExecutionTable`);
  const tableBox = (await table.boundingBox())!;
  for (const cell of await page.locator(`${ROWS} td:nth-child(3)`).all()) {
    const box = (await cell.boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(tableBox.x + tableBox.width);
  }
  expect(
    await headersOnOneLine(page, `${SIDEBAR} .memdiag-ExecutionTable`)
  ).toEqual([]);
}

test.describe('issue 15: what the trial found', () => {
  // Restarts and reloads must reach the server (Galata's kernel mock answers them with 201).
  test.use({ kernels: null });

  test('inline charts are drawn at the output width after a reload and a theme switch', async ({
    page,
    tmpPath
  }) => {
    await readyNotebook(page, 'redraw.ipynb', [
      '%%memdiag\nkept = [bytearray(1_000_000) for _ in range(12)]'
    ]);
    await page.notebook.runCell(0, true);
    const report = page.locator('.jp-Notebook .memdiag-report');
    const growth = report.locator('.memdiag-Detail-growth svg').first();
    await expect.poll(() => width(growth)).toBeGreaterThan(300);
    await page.notebook.save();
    await reload(page, `${tmpPath}/redraw.ipynb`);
    await expect.poll(() => width(growth)).toBeGreaterThan(300);
    // JupyterLab hides the whole shell for a frame while it switches themes.
    await darkTheme(page);
    await expect.poll(() => width(growth)).toBeGreaterThan(300);
    // The axes count in the text's units, and "memdiag's own time" stays on one line.
    const ticks = await report
      .locator('.memdiag-Detail-growth g.role-axis-label text')
      .allTextContents();
    expect(ticks.some(tick => / MB$/.test(tick))).toBe(true);
    expect(ticks.filter(tick => /^[\d.]+[kMG]$/.test(tick))).toEqual([]);
    const terms = report.locator('.memdiag-Detail-facts dt');
    const own = terms.filter({ hasText: "memdiag's own time" });
    expect((await own.boundingBox())!.height).toBeLessThanOrEqual(
      (await terms.first().boundingBox())!.height + 1
    );
    await report.locator('.memdiag-Detail-growth').scrollIntoViewIfNeeded();
    await page.screenshot({ path: 'test-results/trial-inline-dark.png' });
  });

  for (const theme of ['light', 'dark'] as const) {
    test(`the sidebar at its default width names, greys and fits (${theme})`, async ({
      page,
      tmpPath
    }) => {
      if (theme === 'dark') {
        await page.theme.setDarkTheme();
      }
      const name = `trial-${theme}.ipynb`;
      // One line each: the editor indents what follows a colon by itself.
      await readyNotebook(page, name, [
        'zero_cache = []',
        'zero_cache.append(bytes(5_000_000))',
        "Node = type('Node', (), {})",
        'for _ in range(500): a, b = Node(), Node(); a.peer, b.peer = b, a; a.blob = bytearray(20_000)',
        '%%memdiag\nkept = [bytearray(1_000_000) for _ in range(12)]'
      ]);
      await page.notebook.runCell(0, true);
      for (let i = 0; i < 3; i++) {
        await page.notebook.runCell(1, true);
      }
      for (const index of [2, 3, 4]) {
        await page.notebook.runCell(index, true);
      }
      await expect(page.locator(ROWS)).toHaveCount(7);
      const sidebar = page.locator(SIDEBAR);
      const sidebarWidth = await width(sidebar);
      expect(sidebarWidth).toBeGreaterThan(200);
      expect(sidebarWidth).toBeLessThan(320);

      await deltaOnScreen(page);

      // One name everywhere: the row's, the details' and the timeline's.
      const leakRow = page.locator(ROWS).filter({
        has: page.locator('.memdiag-ExecutionTable-chip', { hasText: 'leak' })
      });
      await leakRow.first().click();
      const rowName = await leakRow
        .first()
        .locator('td:nth-child(2)')
        .textContent();
      expect(rowName).toMatch(/^cell 2 · run 3$/);
      await expect(page.locator(`${DETAILS} .memdiag-Detail-name`)).toHaveText(
        rowName!
      );
      await expect(
        page.locator(`${DETAILS} .memdiag-Detail-facts dt`, {
          hasText: /^Cell$/
        })
      ).toHaveCount(0);

      // The traced and the cyclic executions' details: headers whole, nothing on top of another.
      for (const verdict of ['retains', 'cycles']) {
        await page
          .locator(ROWS)
          .filter({
            has: page.locator('.memdiag-ExecutionTable-chip', {
              hasText: verdict
            })
          })
          .first()
          .click();
        await expect(
          page.locator(`${DETAILS} .memdiag-Detail-verdict`)
        ).toHaveAttribute('data-verdict', verdict);
        expect(await headersOnOneLine(page, DETAILS)).toEqual([]);
        const headings = await page
          .locator(`${DETAILS} .memdiag-Detail-section`)
          .all();
        for (const section of headings) {
          const heading = (await section
            .locator('.memdiag-Detail-heading')
            .first()
            .boundingBox())!;
          const next = section.locator(':scope > .memdiag-Detail-heading + *');
          if ((await next.count()) && (await next.isVisible())) {
            const box = (await next.boundingBox())!;
            expect(box.y).toBeGreaterThanOrEqual(
              heading.y + heading.height - 1
            );
          }
        }
        await page.screenshot({
          path: `test-results/trial-${verdict}-${theme}.png`
        });
        const part = page.locator(
          `${DETAILS} .memdiag-Detail-${verdict === 'cycles' ? 'cycles' : 'sites'}`
        );
        await part.scrollIntoViewIfNeeded();
        await part.screenshot({
          path: `test-results/trial-${verdict}-part-${theme}.png`
        });
      }

      // Ask why, then restart: the answer and the details read as before the restart.
      await page.evaluate(() => {
        void (window as any).jupyterapp.commands.execute('memdiag:why-alive');
      });
      const why = page.locator(`${SIDEBAR} .memdiag-WhyPanel`);
      await why.getByLabel('Variable name or expression').fill('zero_cache');
      await why.getByRole('button', { name: 'Ask' }).click();
      await expect(why.locator('.memdiag-Why')).toBeVisible();
      await expect(why).not.toHaveAttribute('data-stale');
      await expect(why.locator('.memdiag-WhyPanel-scope')).toBeVisible();
      await expect(page.locator(`${DETAILS} .memdiag-Detail-when`)).toHaveCount(
        0
      );
      await page.screenshot({ path: `test-results/trial-why-${theme}.png` });

      await page.menu.clickMenuItem('Kernel>Restart Kernel…');
      await page.locator('.jp-Dialog .jp-mod-accept').click();
      await expect(
        page.locator(`${SIDEBAR} .memdiag-ExecutionTable-restart`)
      ).toHaveCount(1);
      await expect(why).toHaveAttribute('data-stale', '');
      await expect(why.locator('.memdiag-WhyPanel-when')).toHaveText(
        /before the restart/
      );
      await expect(
        page.locator(`${DETAILS} .memdiag-Detail-report`)
      ).toHaveClass(/memdiag-mod-stale/);
      await expect(page.locator(`${DETAILS} .memdiag-Detail-when`)).toHaveText(
        'before the restart'
      );
      // The restart's label sits clear of the x axis's ticks.
      const timeline = page.locator(`${SIDEBAR} .memdiag-Timeline`);
      const label = timeline.locator('text', { hasText: /^restart$/ });
      await expect(label).toHaveCount(1);
      const labelBox = (await label.boundingBox())!;
      for (const tick of await timeline
        .locator('g.role-axis-label text')
        .all()) {
        const box = await tick.boundingBox();
        if (box) {
          expect(overlaps(labelBox, box)).toBe(false);
        }
      }
      // Axes in MB, as the text says.
      const ticks = await timeline
        .locator('g.role-axis-label text')
        .allTextContents();
      expect(ticks.some(tick => / MB$/.test(tick))).toBe(true);
      expect(ticks.filter(tick => /^[\d.]+[kMG]$/.test(tick))).toEqual([]);
      expect(await page.evaluate(lowContrast, [SIDEBAR, 4.5])).toEqual([]);
      await page.screenshot({
        path: `test-results/trial-restart-${theme}.png`
      });

      // After a reload, the details of a run from before it are greyed and labelled as its row is.
      await page.notebook.save();
      await reload(page, `${tmpPath}/${name}`);
      await expect(page.locator(ROWS)).toHaveCount(7);
      await deltaOnScreen(page);
      await expect(
        page.locator(`${DETAILS} .memdiag-Detail-report`)
      ).toHaveClass(/memdiag-mod-stale/);
      await expect(page.locator(`${DETAILS} .memdiag-Detail-when`)).toHaveText(
        'before the restart'
      );
      await expect(page.locator(`${DETAILS} .memdiag-Detail-name`)).toHaveText(
        (await page.locator(`${ROWS} td:nth-child(2)`).first().textContent())!
          .replace('before the restart', '')
          .trim()
      );
      expect(await page.evaluate(lowContrast, [SIDEBAR, 4.5])).toEqual([]);
      await page.screenshot({ path: `test-results/trial-reload-${theme}.png` });
    });
  }
});
