import { expect, test } from '@jupyterlab/galata';

test.describe('untrusted notebooks', () => {
  test('corrupted memdiag metadata is ignored and the notebook opens', async ({
    page,
    tmpPath
  }) => {
    const hostile = '<img src=x onerror="window.__pwned=1">';
    const good = {
      schema: 1,
      cell_id: 'c-good',
      execution_count: 1,
      run: 1,
      duration_s: 0.1,
      overhead_s: 0.01,
      rss: { before: 1e8, after: 1.3e8, peak: 1.3e8, limit: null },
      verdict: {
        kind: 'retains',
        flags: ['retains'],
        bytes_per_run: null,
        reason: hostile
      },
      errors: [hostile]
    };
    const cells = [
      { id: 'c-bad1', metadata: { memdiag: 'garbage' } },
      {
        id: 'c-bad2',
        metadata: {
          memdiag: { reports: [{ schema: 1, verdict: 'x' }, null, 7] }
        }
      },
      {
        id: 'c-bad3',
        metadata: {
          memdiag: { reports: [{ ...good, cell_id: 'c-bad3', schema: 99 }] }
        }
      },
      { id: 'c-good', metadata: { memdiag: { reports: [good] } } }
    ].map(({ id, metadata }) => ({
      cell_type: 'code',
      id,
      metadata,
      source: `# ${id}`,
      outputs: [],
      execution_count: null
    }));
    const notebook = {
      nbformat: 4,
      nbformat_minor: 5,
      cells,
      metadata: {
        kernelspec: {
          name: 'python3',
          display_name: 'Python 3',
          language: 'python'
        }
      }
    };
    const warnings: string[] = [];
    page.on('console', m => {
      if (m.type() === 'warning' && m.text().includes('memdiag')) {
        warnings.push(m.text());
      }
    });
    await page.evaluate(
      async ({ path, content }) => {
        await (window as any).jupyterapp.serviceManager.contents.save(path, {
          type: 'notebook',
          format: 'json',
          content
        });
        await (window as any).jupyterapp.commands.execute('docmanager:open', {
          path
        });
      },
      { path: `${tmpPath}/corrupted.ipynb`, content: notebook }
    );
    const cellNodes = page.locator('.jp-Notebook .jp-Cell');
    await expect(cellNodes).toHaveCount(4);
    // The valid report shows; the broken ones are dropped, with one warning.
    await expect(cellNodes.nth(3)).toHaveAttribute(
      'data-memdiag-verdict',
      'retains'
    );
    for (const i of [0, 1, 2]) {
      await expect(cellNodes.nth(i)).not.toHaveAttribute(
        'data-memdiag-verdict',
        /.*/
      );
    }
    expect(warnings.some(w => w.includes('malformed'))).toBe(true);
    // Kernel-supplied text stays text.
    await expect(
      cellNodes.nth(3).locator('.memdiag-CellBadge')
    ).toHaveAttribute('title', new RegExp('<img'));
    expect(await page.locator('.jp-Notebook img[src="x"]').count()).toBe(0);
    expect(await page.evaluate(() => (window as any).__pwned)).toBeUndefined();
  });
});
