/**
 * Setting up a notebook the way every memdiag test starts: a new notebook on the real python3 kernel with the given
 * code cells, the memdiag sidebar open, and memdiag in that kernel ready (its hello answered).
 */
import { expect, IJupyterLabPageFixture } from '@jupyterlab/galata';

export const SIDEBAR = '#memdiag-sidebar';
export const STATUS = `${SIDEBAR} .memdiag-Status`;

/** A new notebook `name` with one code cell per source, the sidebar open and memdiag ready; nothing is run. */
export async function readyNotebook(
  page: IJupyterLabPageFixture,
  name: string,
  cells: string[]
): Promise<void> {
  await page.notebook.createNew(name, { kernel: 'python3' });
  await page.notebook.setCell(0, 'code', cells[0]);
  for (const source of cells.slice(1)) {
    await page.notebook.addCell('code', source);
  }
  await page.sidebar.openTab('memdiag-sidebar');
  await expect(page.locator(STATUS)).toHaveAttribute(
    'data-memdiag-status',
    'ready'
  );
}

/** The notebook's cell node at `index` (0-based). */
export function cellAt(page: IJupyterLabPageFixture, index: number) {
  return page.locator('.jp-Notebook .jp-Cell').nth(index);
}
