/**
 * Bring a cell, or a line of it, into view: from the timeline, the table and allocation sites.
 */
import { NotebookPanel } from '@jupyterlab/notebook';

function cellIndex(panel: NotebookPanel, cellId: string): number {
  return panel.content.widgets.findIndex(cell => cell.model.id === cellId);
}

/** Activate the cell and scroll it into view; false when the cell is gone. */
export async function revealCell(
  panel: NotebookPanel,
  cellId: string
): Promise<boolean> {
  const notebook = panel.content;
  const index = cellIndex(panel, cellId);
  if (index < 0) {
    return false;
  }
  notebook.activeCellIndex = index;
  notebook.deselectAll();
  await notebook.scrollToItem(index, 'smart');
  return true;
}

/** Put the cursor on a 1-based line of the cell's source. */
export async function revealLine(
  panel: NotebookPanel,
  cellId: string,
  line: number
): Promise<boolean> {
  if (!(await revealCell(panel, cellId))) {
    return false;
  }
  const cell = panel.content.activeCell;
  if (!cell) {
    return false;
  }
  const lines = cell.model.sharedModel.getSource().split('\n').length;
  const target = Math.min(Math.max(line, 1), lines) - 1;
  cell.inViewport = true;
  await cell.ready;
  panel.content.mode = 'edit';
  cell.editor?.setCursorPosition({ line: target, column: 0 });
  cell.editor?.focus();
  return true;
}
