import {
  expect,
  galata,
  IJupyterLabPageFixture,
  test
} from '@jupyterlab/galata';
import { readyNotebook, SIDEBAR } from './notebook';

const ROWS = `${SIDEBAR} .memdiag-ExecutionTable-row`;

/** A cell whose report names files of the Python environment (json's decoder allocates the list). */
const LIBRARY_CELL =
  '%%memdiag\nimport json\nkept = json.loads("[" + ",".join([\'{"a": [1, 2, 3]}\'] * 20000) + "]")';

async function runAndSave(
  page: IJupyterLabPageFixture,
  name: string,
  tmpPath: string
): Promise<any> {
  await readyNotebook(page, name, [LIBRARY_CELL]);
  await page.notebook.runCell(0, true);
  await expect(page.locator(ROWS)).toHaveCount(1);
  await page.notebook.save();
  return page.evaluate(async path => {
    const response = await fetch(
      `/api/contents/${path}?content=1&type=notebook`
    );
    return (await response.json()).content.cells[0].metadata;
  }, `${tmpPath}/${name}`);
}

test.describe('what the notebook file keeps', () => {
  test("reports are saved without the user's home or the environment's prefix", async ({
    page,
    tmpPath
  }) => {
    const metadata = await runAndSave(page, 'paths.ipynb', tmpPath);
    const saved = JSON.stringify(metadata.memdiag);
    expect(metadata.memdiag.reports).toHaveLength(1);
    expect(metadata.memdiag.times).toHaveLength(1);
    // The report did name a library file: it is there, without the environment's prefix.
    expect(saved).toContain('json/decoder.py');
    expect(saved).not.toMatch(/\/(home|root|Users)\//);
    expect(saved).not.toMatch(/\/lib\/python3\.\d+\//);
  });

  test.describe('with saveReports off', () => {
    test.use({
      mockSettings: {
        ...galata.DEFAULT_SETTINGS,
        'memdiag:plugin': { saveReports: false }
      }
    });

    test('nothing is saved in the notebook', async ({ page, tmpPath }) => {
      const metadata = await runAndSave(page, 'nothing.ipynb', tmpPath);
      expect(metadata.memdiag).toBeUndefined();
    });
  });
});
