import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import { readyNotebook } from './notebook';

/**
 * Step 5 inline: %%memdiag --valgrind and --native show their stacks in the cell's report.
 * valgrind runs the cell in a fresh interpreter 20-50x slower: give it time on a loaded machine.
 */

const MALLOC = [
  '%%memdiag --valgrind',
  'import ctypes',
  'libc = ctypes.CDLL(None)',
  'libc.malloc.restype = ctypes.c_void_p',
  'libc.malloc.argtypes = [ctypes.c_size_t]',
  'address = libc.malloc(2_000_000)'
].join('\n');

async function runOne(
  page: IJupyterLabPageFixture,
  name: string,
  source: string
): Promise<void> {
  await readyNotebook(page, name, [source]);
  await page.notebook.runCell(0, true);
}

for (const theme of ['light', 'dark'] as const) {
  test(`a --valgrind cell shows the block it leaked, its size and stack (${theme})`, async ({
    page
  }) => {
    test.setTimeout(300_000);
    if (theme === 'dark') {
      await page.theme.setDarkTheme();
    }
    await runOne(page, `valgrind-${theme}.ipynb`, MALLOC);
    const report = page
      .locator('.jp-Notebook .jp-Cell')
      .first()
      .locator('.memdiag-report');
    const leaked = report.getByRole('region', {
      name: 'Leaked blocks (valgrind)'
    });
    await expect(leaked).toBeVisible({ timeout: 240_000 });
    const site = leaked
      .locator('.memdiag-Native-site')
      .filter({ hasText: '2 MB' });
    await expect(site).toHaveCount(1);
    await expect(site.locator('.memdiag-Native-count')).toHaveText('1 block');
    await expect(site.locator('.memdiag-Native-kind')).toHaveText(
      /^(definitely|possibly) lost$/
    );
    // The stack is folded; opening it shows the C frames of the call.
    const stack = site.getByRole('list', {
      name: 'Stack, innermost frame first'
    });
    await expect(stack).toBeHidden();
    await site.locator('summary').click();
    await expect(stack).toBeVisible();
    await expect(stack).toContainText('ffi_call');
    await leaked.scrollIntoViewIfNeeded();
    await page.screenshot({ path: `test-results/valgrind-${theme}.png` });
  });
}

test('a --native cell lists memray allocations with their stack down to the cell line', async ({
  page
}) => {
  await runOne(
    page,
    'memray.ipynb',
    '%%memdiag --native\nimport numpy as np\narr = np.ones(2_500_000)'
  );
  const report = page
    .locator('.jp-Notebook .jp-Cell')
    .first()
    .locator('.memdiag-report');
  const native = report.getByRole('region', {
    name: 'Native allocations (memray)'
  });
  await expect(native).toBeVisible();
  const site = native.locator('.memdiag-Native-site').first();
  await expect(site.locator('.memdiag-Native-size')).toHaveText('20 MB');
  await expect(site.locator('.memdiag-Native-where')).toHaveText(
    '<module> (cell line 3)'
  );
  await site.locator('summary').click();
  // The cell's frame is a cell line the editor can jump to.
  await site.getByRole('button', { name: 'cell line 3' }).click();
  await expect(page.getByText('Ln 3, Col 1')).toBeVisible();
  await native.scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'test-results/memray-light.png' });
});
