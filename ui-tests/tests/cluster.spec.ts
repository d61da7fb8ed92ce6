/**
 * A notebook that drives a real Dask LocalCluster (2 worker processes): the Workers section, the cluster's
 * pill on the leaking cell's badge, the cluster's total on the timeline, "Give memory back", the workers'
 * findings in the inline report of `%%memdiag --workers`, and bars and words readable in Light and Dark.
 */
import { expect, test } from '@jupyterlab/galata';
import { cellAt as cell, SIDEBAR, STATUS } from './notebook';
import type { Page } from '@playwright/test';

import { contrastRatio, parseCssColor } from '../../src/contrast';
import { lowContrast } from './contrast';

const WORKERS = `${SIDEBAR} .memdiag-Workers`;

// The workers import leakymod as a user's helper module: its CACHE lives in each worker process. Cells are
// typed into the editor, which indents after a colon: one statement a line.
const START = `import pathlib, sys
pathlib.Path('leakymod.py').write_text('CACHE = []\\n')
sys.path.insert(0, str(pathlib.Path.cwd()))
import leakymod, os
from distributed import Client, LocalCluster
kw = dict(processes=True, threads_per_worker=1, dashboard_address=None)
cluster = LocalCluster(n_workers=2, memory_limit='400MB', **kw)
client = Client(cluster)`;

// 4 tasks of 8 MB a run: about 32 MB more on the workers each time.
const LEAK = `load = lambda i: leakymod.CACHE.append(os.urandom(8_000_000)) or i
res = client.gather(client.map(load, range(4), pure=False))`;

// One traced run on the workers: where the memory went and what holds it.
const TRACE = `%%memdiag --workers
res = client.gather(client.map(load, range(4), pure=False))`;

const STOP = 'client.close(); cluster.close()';

/**
 * Contrast of what the Workers section draws, against the sidebar's background: bars and swatches need 3:1
 * (WCAG 1.4.11), text 4.5:1 (1.4.3). Colours are read as the browser computed them.
 */
async function contrasts(page: Page): Promise<Record<string, number>> {
  const colours = await page.evaluate(() => {
    const style = (selector: string) => {
      const node = document.querySelector(selector);
      return node ? window.getComputedStyle(node) : null;
    };
    const read = (selector: string, property: string) =>
      style(selector)?.getPropertyValue(property) ?? '';
    const workers = '#memdiag-sidebar .memdiag-Workers';
    return {
      panel: read('#memdiag-sidebar', 'background-color'),
      managed: read(
        `${workers} .memdiag-Workers-swatch[data-part="managed"]`,
        'background-color'
      ),
      unmanaged: read(
        `${workers} .memdiag-WorkerBar-part[data-part="unmanaged"]`,
        'border-top-color'
      ),
      spilled: read(
        `${workers} .memdiag-Workers-swatch[data-part="spilled"]`,
        'background-color'
      ),
      limit: read(`${workers} .memdiag-WorkerBar-limit`, 'border-right-color'),
      usage: read(`${workers} .memdiag-Worker-usage`, 'color'),
      parts: read(`${workers} .memdiag-Worker-parts`, 'color'),
      when: read(`${workers} .memdiag-Workers-when`, 'color'),
      pillText: read('.memdiag-CellBadge .memdiag-ClusterPill', 'color'),
      pillBack: read(
        '.memdiag-CellBadge .memdiag-ClusterPill',
        'background-color'
      ),
      verdictText: read(`${workers} .memdiag-ClusterPill`, 'color'),
      verdictBack: read(`${workers} .memdiag-ClusterPill`, 'background-color')
    };
  });
  const parse = (name: keyof typeof colours) => {
    const colour = parseCssColor(colours[name]);
    if (!colour) {
      throw new Error(`${name}: unreadable colour "${colours[name]}"`);
    }
    return colour;
  };
  const panel = parse('panel');
  const ratio = (name: keyof typeof colours, against = panel) =>
    Math.round(contrastRatio(parse(name), against) * 100) / 100;
  return {
    managed: ratio('managed'),
    unmanaged: ratio('unmanaged'),
    spilled: ratio('spilled'),
    limit: ratio('limit'),
    usage: ratio('usage'),
    parts: ratio('parts'),
    when: ratio('when'),
    pill: ratio('pillText', parse('pillBack')),
    verdict: ratio('verdictText', parse('verdictBack'))
  };
}

/** The inline report's bars against the notebook under them: each part 3:1 at least (WCAG 1.4.11). */
async function barContrasts(page: Page): Promise<Record<string, boolean>> {
  const colours = await page.evaluate(() => {
    const inline = '.jp-Notebook .memdiag-report .memdiag-Detail-cluster';
    const read = (selector: string, property: string) => {
      const node = document.querySelector(selector);
      return node
        ? window.getComputedStyle(node).getPropertyValue(property)
        : '';
    };
    return {
      panel: read('.jp-Notebook', 'background-color'),
      managed: read(
        `${inline} .memdiag-Workers-swatch[data-part="managed"]`,
        'background-color'
      ),
      unmanaged: read(
        `${inline} .memdiag-WorkerBar-part[data-part="unmanaged"]`,
        'border-top-color'
      ),
      limit: read(`${inline} .memdiag-WorkerBar-limit`, 'border-right-color')
    };
  });
  const panel = parseCssColor(colours.panel);
  const ok = (value: string) => {
    const colour = parseCssColor(value);
    return !!colour && !!panel && contrastRatio(colour, panel) >= 3;
  };
  return {
    managed: ok(colours.managed),
    unmanaged: ok(colours.unmanaged),
    limit: ok(colours.limit)
  };
}

function expectReadable(ratios: Record<string, number>): void {
  for (const part of ['managed', 'unmanaged', 'spilled', 'limit']) {
    expect(ratios[part], `${part} against the panel`).toBeGreaterThanOrEqual(3);
  }
  for (const text of ['usage', 'parts', 'when', 'pill', 'verdict']) {
    expect(ratios[text], `${text} text`).toBeGreaterThanOrEqual(4.5);
  }
}

test.describe('Dask workers', () => {
  // The restart at the end must reach the server (Galata's kernel mock answers it with 201).
  test.use({ kernels: null });

  test('a LocalCluster: workers in the sidebar, a worker-global leak on the badge, memory given back', async ({
    page
  }) => {
    test.setTimeout(180000);
    await page.notebook.createNew('cluster.ipynb', { kernel: 'python3' });
    await page.notebook.setCell(0, 'code', START);
    await page.notebook.addCell('code', LEAK);
    await page.notebook.addCell('code', TRACE);
    await page.notebook.addCell('code', STOP);
    await page.sidebar.openTab('memdiag-sidebar');
    await expect(page.locator(STATUS)).toHaveAttribute(
      'data-memdiag-status',
      'ready'
    );
    // No cluster yet: no Workers section.
    await expect(page.locator(WORKERS)).toHaveCount(0);

    await page.notebook.runCell(0, true);
    for (let run = 0; run < 4; run++) {
      await page.notebook.runCell(1, true);
    }
    // The tasks ran: no traceback under either cell.
    for (const index of [0, 1]) {
      await expect(
        cell(page, index).locator('.jp-OutputArea')
      ).not.toContainText('Error');
    }

    const workers = page.locator(WORKERS);
    await expect(workers).toBeVisible();
    await expect(workers.locator('.memdiag-Worker')).toHaveCount(2);
    await expect(workers.locator('.memdiag-Workers-when')).toHaveText(
      'After cell 2 · run 4'
    );
    // Each worker against its own 400 MB limit.
    for (const usage of await workers.locator('.memdiag-Worker-usage').all()) {
      await expect(usage).toHaveText(/^\d+(\.\d+)? MB of 400 MB$/);
    }
    await expect(
      workers.locator('.memdiag-WorkerBar-part[data-part="unmanaged"]')
    ).toHaveCount(2);
    await expect(
      workers.locator('.memdiag-Workers-verdict .memdiag-ClusterPill')
    ).toHaveText(/^workers \+\d+(\.\d+)? MB\/run$/);

    // The row and the details carry it too: a leak on the workers is not an "ok" row (the trial's table and
    // details said only ok).
    const leakRow = page
      .locator(`${SIDEBAR} .memdiag-ExecutionTable-row`, {
        hasText: 'cell 2 · run 4'
      })
      .first();
    await expect(leakRow.locator('.memdiag-ClusterPill')).toHaveAttribute(
      'data-cluster',
      'leak'
    );
    await expect(leakRow.locator('.memdiag-ClusterPill')).toHaveText('workers');
    await page.screenshot({ path: 'test-results/cluster-table.png' });
    // The details show the newest execution, this one.
    await expect(
      page.locator(
        `${SIDEBAR} .memdiag-Detail-clusterVerdict .memdiag-ClusterPill`
      )
    ).toHaveText(/^workers \+\d+(\.\d+)? MB\/run$/);

    // The badge carries the cluster's verdict; the kernel's own stays about the kernel.
    const pill = cell(page, 1).locator(
      '.memdiag-CellBadge .memdiag-ClusterPill'
    );
    await expect(pill).toHaveAttribute('data-cluster', 'leak');
    const slope = Number(
      /\+(\d+(?:\.\d+)?) MB/.exec((await pill.textContent()) ?? '')?.[1]
    );
    expect(slope).toBeGreaterThan(26);
    expect(slope).toBeLessThan(40);
    await expect(cell(page, 1)).not.toHaveAttribute(
      'data-memdiag-verdict',
      'leak'
    );

    // The Workers section takes its room from the details, not the executions: the trial's table showed two
    // rows of nineteen once the section had come.
    const table = page.locator(`${SIDEBAR} .memdiag-ExecutionTable`);
    // (A row of one line: the leak's rows carry the workers' pill under their chip.)
    const rowHeight = await page
      .locator(`${SIDEBAR} .memdiag-ExecutionTable-row`, {
        hasText: 'cell 1 · run 1'
      })
      .evaluate(row => row.getBoundingClientRect().height);
    await expect
      .poll(async () =>
        table.evaluate(node => node.getBoundingClientRect().height)
      )
      .toBeGreaterThanOrEqual(4 * rowHeight);

    // The cluster's total on the timeline: its own panel, in Dask's terms.
    const timeline = page.locator(`${SIDEBAR} .memdiag-Timeline-chart svg`);
    await expect(timeline).toContainText('unmanaged');
    await expect(timeline).toContainText('Workers');

    expectReadable(await contrasts(page));
    // The picture for the README: the timeline and the workers, at the sidebar's default width.
    await page.setViewportSize({ width: 1024, height: 1200 });
    for (const section of ['Executions', 'Details']) {
      await page
        .locator(`${SIDEBAR} .jp-AccordionPanel-title`, { hasText: section })
        .click();
    }
    // As a user drags the handle: the timeline tall enough for its workers panel.
    await page.evaluate(() => {
      const sidebar = [...window.jupyterapp.shell.widgets('left')].find(
        widget => widget.id === 'memdiag-sidebar'
      ) as unknown as {
        content: {
          widgets: unknown[];
          setRelativeSizes(sizes: number[]): void;
        };
      };
      const sizes = sidebar.content.widgets.map((_, i) => (i === 0 ? 5 : 4));
      sidebar.content.setRelativeSizes(sizes);
    });
    await expect(
      page
        .locator(`${SIDEBAR} .memdiag-Timeline-chart svg`)
        .getByText('Workers')
    ).toBeInViewport();
    await expect(workers.locator('.memdiag-Workers-giveBack')).toBeInViewport();
    await page.screenshot({ path: 'test-results/cluster-light.png' });

    await page.theme.setDarkTheme();
    await expect(workers.locator('.memdiag-Worker')).toHaveCount(2);
    expectReadable(await contrasts(page));
    await page.screenshot({ path: 'test-results/cluster-dark.png' });
    await page.theme.setLightTheme();

    // Give memory back: malloc_trim on the workers, between cells; the answer says what came back.
    await workers.locator('.memdiag-Workers-giveBack').click();
    const result = workers.locator('.memdiag-Workers-result');
    await expect(result).toBeVisible();
    await expect(result).toHaveText(
      /^(Gave back \d+(\.\d+)? [kMG]?B|The workers had no free memory to give back): worker 0: .*, worker 1: .*\.$/
    );
    await expect(workers.locator('.memdiag-Workers-when')).toHaveText(
      'Now, after giving memory back'
    );
    await expect(workers.locator('.memdiag-Worker-delta').first()).toHaveText(
      /^(-\d+(\.\d+)? [kMG]?B|±0 B)$/
    );
    await page.screenshot({ path: 'test-results/cluster-give-back.png' });

    // %%memdiag --workers: the section names the worker global the tasks grew, and the task's line.
    await page.notebook.runCell(2, true);
    await expect(workers.locator('.memdiag-Workers-when')).toHaveText(
      'After cell 3 · run 1'
    );
    const traced = workers.locator('.memdiag-Workers-traced');
    await expect(traced.first().locator('code').first()).toHaveText(
      'leakymod.CACHE'
    );
    await expect(traced.nth(1)).toContainText('leakymod.CACHE.append');
    await traced.nth(1).scrollIntoViewIfNeeded();
    await page.screenshot({ path: 'test-results/cluster-traced.png' });

    // The same findings inline, in the cell's own report: the verdict, the workers, the global and the line.
    const inline = cell(page, 2).locator(
      '.memdiag-report .memdiag-Detail-cluster'
    );
    await expect(inline).toBeVisible();
    await expect(inline.locator('.memdiag-Worker')).toHaveCount(2);
    await expect(inline.locator('tbody tr')).toHaveCount(2);
    const inlineTraced = inline.locator('.memdiag-Workers-traced');
    await expect(inlineTraced.first().locator('code').first()).toHaveText(
      'leakymod.CACHE'
    );
    await expect(
      inlineTraced.first().locator('.memdiag-Workers-chain')
    ).toContainText('module leakymod (worker process).CACHE');
    await expect(
      inlineTraced.first().locator('.memdiag-Workers-advice')
    ).toContainText('client.run');
    // The task's line: defined in the LEAK cell, run by this one's tasks.
    await expect(inlineTraced.nth(1).locator('li').first()).toContainText(
      /on [01]: (cell|In\[\d+\]):\d+ .*leakymod\.CACHE\.append/
    );
    await inline.scrollIntoViewIfNeeded();
    for (const theme of ['light', 'dark'] as const) {
      if (theme === 'dark') {
        await page.theme.setDarkTheme();
        await expect(inline.locator('.memdiag-Worker')).toHaveCount(2);
      }
      expect(
        await page.evaluate(lowContrast, ['.jp-Notebook .memdiag-report', 4.5])
      ).toEqual([]);
      expect(await barContrasts(page)).toEqual({
        managed: true,
        unmanaged: true,
        limit: true
      });
      await page.screenshot({
        path: `test-results/cluster-inline-${theme}.png`
      });
      // Figures vary from run to run (RSS, which worker ran which task): masked; words, bars and colours compared.
      expect(
        await inline.screenshot({
          mask: [
            inline.locator('.memdiag-Workers-summary'),
            inline.locator('.memdiag-Workers-scheduler'),
            inline.locator('.memdiag-Worker-usage'),
            inline.locator('.memdiag-Worker-delta'),
            inline.locator('td:nth-child(n+2)'),
            inlineTraced.nth(1)
          ]
        })
      ).toMatchSnapshot(`cluster-inline-${theme}.png`, {
        maxDiffPixelRatio: 0.02
      });
    }
    await page.theme.setLightTheme();

    await page.notebook.runCell(3, true);
    // After client.close(): no workers, so nothing is offered to give memory back.
    await expect(workers).toContainText('No workers');
    await expect(workers.locator('.memdiag-Workers-giveBack')).toHaveCount(0);

    // After a restart the cluster is gone with its kernel: the leak's workers, selected, say so, greyed, with
    // nothing to give back (the trial's sidebar still offered the dead cluster's button).
    await page.menu.clickMenuItem('Kernel>Restart Kernel…');
    await page.locator('.jp-Dialog .jp-mod-accept').click();
    await expect(page.locator(STATUS)).toHaveAttribute(
      'data-memdiag-status',
      'ready'
    );
    // The Executions section was folded for the README's picture above: opened again to pick the row (from the
    // keyboard: with the Workers section gone, its title sits under the status bar's edge).
    await page
      .locator(`${SIDEBAR} .jp-AccordionPanel-title`, { hasText: 'Executions' })
      .press('Enter');
    await page
      .locator(`${SIDEBAR} .memdiag-ExecutionTable-row`, {
        hasText: 'cell 2 · run 4'
      })
      .click();
    await expect(workers).toHaveClass(/memdiag-mod-stale/);
    await expect(workers.locator('.memdiag-Workers-when')).toHaveText(
      'After cell 2 · run 4, before the restart: these workers belonged to the kernel that was restarted'
    );
    await expect(workers.locator('.memdiag-Worker')).toHaveCount(2);
    await expect(workers.locator('.memdiag-Workers-giveBack')).toHaveCount(0);
    for (const theme of ['light', 'dark'] as const) {
      if (theme === 'dark') {
        await page.theme.setDarkTheme();
        await expect(workers.locator('.memdiag-Worker')).toHaveCount(2);
      }
      expect(
        await page.evaluate(lowContrast, [
          '#memdiag-sidebar .memdiag-Workers',
          4.5
        ])
      ).toEqual([]);
      // The leak cell's badge, of the earlier kernel too: its workers' pill untinted, still readable.
      await expect(
        cell(page, 1).locator('.memdiag-CellBadge.memdiag-mod-stale')
      ).toHaveCount(1);
      expect(
        await page.evaluate(lowContrast, [
          '.jp-Notebook .memdiag-CellBadge',
          4.5
        ])
      ).toEqual([]);
      await workers.scrollIntoViewIfNeeded();
      await page.screenshot({
        path: `test-results/cluster-restarted-${theme}.png`
      });
    }
    await page.theme.setLightTheme();
  });
});
