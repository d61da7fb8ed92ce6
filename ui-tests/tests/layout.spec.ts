import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import { readyNotebook, SIDEBAR, STATUS } from './notebook';

import { lowContrast } from './contrast';

const ROWS = `${SIDEBAR} .memdiag-ExecutionTable-row`;

const CELLS = [
  'zero_cache = []',
  'zero_cache.append(bytes(5_000_000))',
  'held = bytearray(30_000_000)',
  'x = 1'
];

/** Three verdicts in one notebook, at JupyterLab's default sidebar width, the leak's row selected. */
async function threeVerdicts(
  page: IJupyterLabPageFixture,
  name: string
): Promise<void> {
  await readyNotebook(page, name, CELLS);
  await page.notebook.runCell(0, true);
  for (let i = 0; i < 3; i++) {
    await page.notebook.runCell(1, true);
  }
  for (const index of [2, 3]) {
    await page.notebook.runCell(index, true);
  }
  await expect(page.locator(ROWS)).toHaveCount(6);
  await page
    .locator(ROWS)
    .filter({
      has: page.locator('.memdiag-ExecutionTable-chip', { hasText: 'leak' })
    })
    .first()
    .click();
  await expect(
    page.locator(`${SIDEBAR} .memdiag-Timeline-chart`)
  ).toHaveAttribute('data-draws', /\d+/);
}

for (const theme of ['light', 'dark'] as const) {
  test.describe(`the sidebar at its default width (${theme})`, () => {
    test.beforeEach(async ({ page }) => {
      if (theme === 'dark') {
        await page.theme.setDarkTheme();
      }
    });

    test('every verdict on screen, headers whole, charts reachable, readable text', async ({
      page
    }) => {
      await threeVerdicts(page, `layout-${theme}.ipynb`);
      const sidebar = page.locator(SIDEBAR);
      const width = (await sidebar.boundingBox())!.width;
      // JupyterLab's default left panel width.
      expect(width).toBeGreaterThan(200);
      expect(width).toBeLessThan(320);

      // The verdict of every row is inside the table's visible box, without scrolling.
      const table = page.locator(`${SIDEBAR} .memdiag-ExecutionTable`);
      const box = (await table.boundingBox())!;
      const chips = page.locator(`${ROWS} .memdiag-ExecutionTable-chip`);
      await expect(chips).toHaveCount(6);
      for (const chip of await chips.all()) {
        const chipBox = (await chip.boundingBox())!;
        expect(chipBox.x).toBeGreaterThanOrEqual(box.x);
        expect(chipBox.x + chipBox.width).toBeLessThanOrEqual(
          box.x + box.width
        );
      }
      expect(await chips.allTextContents()).toEqual(
        expect.arrayContaining(['leak', 'retains', 'ok'])
      );

      // Headers on one line each: none taller than the shortest. At this width the columns that say which run
      // to look at are shown, and nothing scrolls sideways (the peak, new objects and cycles give way).
      const shown = await page
        .locator(`${SIDEBAR} .memdiag-ExecutionTable th`)
        .evaluateAll(ths =>
          ths
            .filter(th => th.getBoundingClientRect().width > 0)
            .map(th => [th.textContent, th.getBoundingClientRect().height])
        );
      expect(shown.map(([text]) => text)).toEqual(['Verdict', 'Cell', 'Δ RSS']);
      const heights = shown.map(([, height]) => height as number);
      expect(Math.max(...heights)).toBeLessThanOrEqual(
        Math.min(...heights) + 1
      );
      expect(
        await table.evaluate(node => node.scrollWidth - node.clientWidth)
      ).toBeLessThanOrEqual(0);

      // One selected row, said to assistive technology.
      await expect(page.locator(`${ROWS}[aria-selected="true"]`)).toHaveCount(
        1
      );
      await expect(
        page.locator(
          `${ROWS}[aria-selected="true"] .memdiag-ExecutionTable-chip`
        )
      ).toHaveText('leak');

      // The timeline's legend can be scrolled to and seen.
      const timeline = page.locator(`${SIDEBAR} .memdiag-Timeline`);
      const legend = timeline.locator('g.role-legend').last();
      // The timeline may still redraw (the selection, the theme, a second pass at its measured height): every
      // reading is retried on the new drawing.
      await expect(async () => {
        await legend.scrollIntoViewIfNeeded({ timeout: 2000 });
        await expect(legend).toBeInViewport({ timeout: 2000 });
        const timelineBox = (await timeline.boundingBox())!;
        const legendBox = await legend.boundingBox();
        expect(legendBox).not.toBeNull();
        expect(legendBox!.y + legendBox!.height).toBeLessThanOrEqual(
          timelineBox.y + timelineBox.height + 1
        );
        // No legend runs past the chart's right edge (where the SVG cuts it).
        const svgBox = (await timeline.locator('svg').first().boundingBox())!;
        for (const each of await timeline.locator('g.role-legend').all()) {
          const eachBox = await each.boundingBox();
          expect(eachBox).not.toBeNull();
          expect(eachBox!.x + eachBox!.width).toBeLessThanOrEqual(
            svgBox.x + svgBox.width
          );
        }
      }).toPass();

      // The details, the longest section, get the most room.
      const details = page.locator(`${SIDEBAR} .memdiag-Detail`);
      const detailsHeight = (await details.boundingBox())!.height;
      expect(detailsHeight).toBeGreaterThan(
        (await table.boundingBox())!.height
      );

      // Text contrast >= 4.5 in the sidebar (charts included) and on the badges.
      expect(await page.evaluate(lowContrast, [SIDEBAR, 4.5])).toEqual([]);
      expect(
        await page
          .evaluate(lowContrast, ['.jp-Notebook', 4.5])
          .then(found => found.filter(item => /memdiag/.test(item.selector)))
      ).toEqual([]);

      await page.screenshot({ path: `test-results/layout-${theme}.png` });
      // Figures vary from run to run: masked, the layout and the colours are compared.
      const volatile = [
        page.locator(`${STATUS} .memdiag-Status-memory`),
        page.locator(`${STATUS} .memdiag-Status-version`),
        page.locator(`${STATUS} .memdiag-Status-meter`),
        page.locator(`${SIDEBAR} .memdiag-Timeline-chart`),
        page.locator(`${ROWS} td:nth-child(n+3)`),
        page.locator(`${SIDEBAR} .memdiag-Detail`)
      ];
      expect
        .soft(await sidebar.screenshot({ mask: volatile }))
        .toMatchSnapshot(`sidebar-${theme}.png`, { maxDiffPixelRatio: 0.02 });
      // A badge whose figure is exact (30,000,000 bytes held): compared as it is.
      const badge = page
        .locator('.jp-Notebook .jp-Cell')
        .nth(2)
        .locator('.memdiag-CellBadge');
      await expect(badge).toHaveText('holds 30 MB');
      expect(await badge.screenshot()).toMatchSnapshot(`badge-${theme}.png`, {
        maxDiffPixelRatio: 0.02
      });
    });

    test('the inline report', async ({ page }) => {
      await readyNotebook(page, `inline-${theme}.ipynb`, [
        '%%memdiag\nkept = [bytearray(1_000_000) for _ in range(12)]'
      ]);
      await page.notebook.runCell(0, true);
      const report = page.locator('.jp-Notebook .memdiag-report');
      await expect(report).toBeVisible();
      await expect(report.locator('svg').first()).toBeVisible();
      expect(
        await page.evaluate(lowContrast, ['.memdiag-report', 4.5])
      ).toEqual([]);
      // Figures and charts vary from run to run; the sections, headings and verdict are compared.
      const summary = report.locator('.memdiag-Detail-section').first();
      expect(
        await summary.screenshot({
          mask: [
            summary.locator('dd'),
            summary.locator('.memdiag-Detail-verdict')
          ]
        })
      ).toMatchSnapshot(`inline-summary-${theme}.png`, {
        maxDiffPixelRatio: 0.02
      });
    });
  });
}
