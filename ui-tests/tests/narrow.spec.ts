/**
 * The default sidebar width (~250 px), as a fresh user first sees it: figures never wrap, the timeline fits its
 * section with every panel and legend, a restart breaks the line, the executions' header stays put, and
 * inline tables never break a word.
 */
import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import { readyNotebook, SIDEBAR, STATUS } from './notebook';
import type { Locator } from '@playwright/test';

const ROWS = `${SIDEBAR} .memdiag-ExecutionTable-row`;
const TIMELINE = `${SIDEBAR} .memdiag-Timeline`;
const CHART = `${TIMELINE} .memdiag-Timeline-chart`;

const CELLS = [
  'zero_cache = []',
  'zero_cache.append(bytes(5_000_000))',
  // The output cache keeps it: a long fact label, "Output cache (Out[n], history)".
  'import numpy as np\nnp.zeros(400_000)',
  // The editor indents the loop's body itself as the text is typed: no line after it.
  '%%memdiag --lines\nsummary = []\nfor i in range(3):\nsummary.append([float(j) for j in range(200_000)])'
];

/** Words of `node`'s text that the layout broke over two lines (an empty list when none is). */
function brokenWords(nodes: Element[]): string[] {
  const broken: string[] = [];
  for (const node of nodes) {
    const walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
    for (let text = walker.nextNode(); text; text = walker.nextNode()) {
      const value = text.textContent ?? '';
      for (const match of value.matchAll(/\S+/g)) {
        const range = document.createRange();
        range.setStart(text, match.index!);
        range.setEnd(text, match.index! + match[0].length);
        const tops = new Set(
          [...range.getClientRects()]
            .filter(rect => rect.width > 0)
            .map(rect => Math.round(rect.top))
        );
        if (tops.size > 1) {
          broken.push(match[0]);
        }
      }
    }
  }
  return broken;
}

/** Whether each node's text is on one line. */
function lineCounts(nodes: Element[]): number[] {
  return nodes.map(node => {
    const range = document.createRange();
    range.selectNodeContents(node);
    return new Set(
      [...range.getClientRects()]
        .filter(rect => rect.width > 0)
        .map(rect => Math.round(rect.top))
    ).size;
  });
}

async function drawn(page: IJupyterLabPageFixture): Promise<void> {
  await expect(page.locator(CHART)).toHaveAttribute('data-draws', /\d+/);
  // Let a refit (a second drawing) settle.
  await page.waitForTimeout(800);
}

async function inside(inner: Locator, outer: Locator): Promise<void> {
  const box = (await outer.boundingBox())!;
  const each = (await inner.boundingBox())!;
  expect(each.y).toBeGreaterThanOrEqual(box.y - 1);
  expect(each.y + each.height).toBeLessThanOrEqual(box.y + box.height + 1);
  expect(each.x + each.width).toBeLessThanOrEqual(box.x + box.width + 1);
}

// Restarts must reach the server (Galata's kernel mock answers them with 201, which JupyterLab refuses).
test.use({ kernels: null });

for (const theme of ['light', 'dark'] as const) {
  test(`the sidebar and the inline report at the default width (${theme})`, async ({
    page
  }) => {
    if (theme === 'dark') {
      await page.theme.setDarkTheme();
    }
    await readyNotebook(page, `narrow-${theme}.ipynb`, CELLS);
    await page.notebook.runCell(0, true);
    for (let i = 0; i < 3; i++) {
      await page.notebook.runCell(1, true);
    }
    await page.notebook.runCell(2, true);
    await page.notebook.runCell(3, true);
    await expect(page.locator(ROWS)).toHaveCount(6);
    const width = (await page.locator(SIDEBAR).boundingBox())!.width;
    expect(width).toBeLessThan(320);

    // 1. The leak's details: "Kept per re-run" beside its figure, the figure on one line.
    await page
      .locator(ROWS)
      .filter({
        has: page.locator('.memdiag-ExecutionTable-chip', { hasText: 'leak' })
      })
      .first()
      .click();
    const facts = page.locator(`${SIDEBAR} .memdiag-Detail-facts`);
    await expect(
      facts.locator('dt', { hasText: 'Kept per re-run' })
    ).toHaveCount(1);
    expect(await facts.locator('dd').evaluateAll(lineCounts)).toEqual(
      expect.arrayContaining([1])
    );
    expect(
      (await facts.locator('dd').evaluateAll(lineCounts)).filter(n => n !== 1)
    ).toEqual([]);
    expect(await facts.locator('dt, dd').evaluateAll(brokenWords)).toEqual([]);
    // 3. What keeps the leak alive: the chains' tree is drawn within the sidebar (side by side, three levels took
    // 570 px and were cut off).
    const tree = page.locator(
      `${SIDEBAR} .memdiag-Detail-backrefs .memdiag-Detail-chart svg`
    );
    await expect(tree).toHaveCount(1);
    await tree.scrollIntoViewIfNeeded();
    await expect(tree.locator('text').first()).toBeVisible();
    const detailBox = (await page
      .locator(`${SIDEBAR} .memdiag-Detail`)
      .boundingBox())!;
    const treeBox = (await tree.boundingBox())!;
    expect(treeBox.x).toBeGreaterThanOrEqual(detailBox.x - 1);
    expect(treeBox.x + treeBox.width).toBeLessThanOrEqual(
      detailBox.x + detailBox.width + 1
    );
    // The output cache's long label.
    await page.locator(ROWS).nth(1).click();
    await expect(
      facts.locator('dt', { hasText: 'Output cache (Out[n], history)' })
    ).toHaveCount(1);
    expect(
      (await facts.locator('dd').evaluateAll(lineCounts)).filter(n => n !== 1)
    ).toEqual([]);
    expect(await facts.locator('dt, dd').evaluateAll(brokenWords)).toEqual([]);

    // 6. A click that scrolls the table leaves its header on screen, under the section's title.
    const table = page.locator(`${SIDEBAR} .memdiag-ExecutionTable`);
    await page.locator(ROWS).last().click();
    await table.evaluate(node => (node.scrollTop = node.scrollHeight));
    const header = table.locator('th').first();
    await inside(header, table);

    // 2. The timeline fits its section: both panels, their three legends (the lines, the verdicts, what the
    // Δ RSS panel's ticks are), nothing under the edge.
    await drawn(page);
    const timeline = page.locator(TIMELINE);
    expect(
      await timeline.evaluate(node => node.scrollHeight - node.clientHeight)
    ).toBeLessThanOrEqual(1);
    const legends = timeline.locator('g.role-legend');
    await expect(legends).toHaveCount(3);
    for (const legend of await legends.all()) {
      await inside(legend, timeline);
    }
    for (const axis of await timeline.locator('g.role-axis').all()) {
      await inside(axis, timeline);
    }
    for (const name of ['RSS after', 'kept by the run']) {
      await expect(
        timeline.locator('g.role-legend text', { hasText: name })
      ).toHaveCount(1);
    }
    await page.screenshot({ path: `test-results/narrow-${theme}.png` });

    // 7. The inline report in a ~330 px split: no word broken in its tables.
    const cell = await page.notebook.getCellLocator(3);
    await cell!.scrollIntoViewIfNeeded();
    const report = cell!.locator('.memdiag-report').first();
    await expect(report.locator('.memdiag-Detail-lines')).toBeVisible();
    await report.evaluate(node => {
      (node as HTMLElement).style.width = '330px';
    });
    await report
      .locator('.memdiag-Detail-lines details')
      .evaluate(node => ((node as HTMLDetailsElement).open = true));
    const words = await report
      .locator(
        '.memdiag-Detail-table td:not(.memdiag-Detail-code), .memdiag-Detail-table th'
      )
      .evaluateAll(brokenWords);
    expect(words).toEqual([]);
    // 4. The loop's body keeps its indentation.
    await expect(
      report.locator('.memdiag-Detail-lines td.memdiag-Detail-code').nth(2)
    ).toHaveCSS('white-space', 'pre');
    expect(
      await report
        .locator('.memdiag-Detail-lines td.memdiag-Detail-code')
        .nth(2)
        .textContent()
    ).toMatch(/^ {4}summary\.append/);
    await expect(report.locator('.memdiag-Detail-lines')).toContainText(
      '– for the lines of a loop'
    );
    await report.screenshot({
      path: `test-results/narrow-inline-${theme}.png`
    });
  });

  test(`a restart in the sidebar at the default width (${theme})`, async ({
    page
  }) => {
    if (theme === 'dark') {
      await page.theme.setDarkTheme();
    }
    await page.notebook.createNew(`narrow-restart-${theme}.ipynb`, {
      kernel: 'python3'
    });
    await page.sidebar.openTab('memdiag-sidebar');
    await expect(page.locator(STATUS)).toHaveAttribute(
      'data-memdiag-status',
      'ready'
    );
    await page.notebook.setCell(
      0,
      'code',
      '%%memdiag\nkept = [bytearray(1_000_000) for _ in range(12)]'
    );
    await page.notebook.runCell(0, true);
    await page.notebook.addCell('code', 'x = bytearray(30_000_000)');
    await page.notebook.runCell(1, true);
    await expect(page.locator(ROWS)).toHaveCount(2);
    const timeline = page.locator(TIMELINE);
    const table = page.locator(`${SIDEBAR} .memdiag-ExecutionTable`);
    // 3, 6, 8. A restart: the line breaks there, the label stays clear of the points, old rows are marked
    // once, and the stale inline report says so in its heading.
    await page.menu.clickMenuItem('Kernel>Restart Kernel…');
    await page.locator('.jp-Dialog .jp-mod-accept').click();
    await expect(page.locator(STATUS)).toHaveAttribute(
      'data-memdiag-status',
      'ready'
    );
    await page.notebook.runCell(1, true);
    await expect(page.locator(ROWS)).toHaveCount(3);
    await drawn(page);
    // Two series (RSS after, peak), each in two kernels.
    await expect(timeline.locator('g.mark-line path')).toHaveCount(4);
    const label = timeline.locator('text', { hasText: /^restart$/ });
    await expect(label).toHaveCount(1);
    const labelBox = (await label.boundingBox())!;
    for (const point of await timeline.locator('g.mark-symbol path').all()) {
      const box = (await point.boundingBox())!;
      const apart =
        box.x > labelBox.x + labelBox.width ||
        box.x + box.width < labelBox.x ||
        box.y > labelBox.y + labelBox.height ||
        box.y + box.height < labelBox.y;
      expect(apart).toBe(true);
    }
    expect(
      await timeline.evaluate(node => node.scrollHeight - node.clientHeight)
    ).toBeLessThanOrEqual(1);
    const divider = page.locator(
      `${SIDEBAR} .memdiag-ExecutionTable-restartText`
    );
    await divider.scrollIntoViewIfNeeded();
    await inside(divider, table);
    const heights = await page
      .locator(ROWS)
      .evaluateAll(rows => rows.map(row => row.getBoundingClientRect().height));
    // A stale row is as tall as a live one (its chip's dashed edge aside): "before the restart" is said once,
    // by the divider, not on two more lines of every row.
    expect(Math.max(...heights)).toBeLessThanOrEqual(Math.min(...heights) + 3);
    await expect(
      page.locator(`${ROWS}.memdiag-mod-stale`).first()
    ).toHaveAttribute('title', /before the restart/);
    const report = page.locator('.jp-Notebook .memdiag-report').first();
    await expect(
      report.locator('.memdiag-Detail-execution .memdiag-Detail-whenStale')
    ).toBeVisible();
    await expect(report.locator('.memdiag-Detail-execution')).toContainText(
      'before the restart'
    );
    await page.screenshot({ path: `test-results/narrow-restart-${theme}.png` });
  });
}
