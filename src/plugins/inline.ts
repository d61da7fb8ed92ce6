/**
 * memdiag:inline-jump — an inline `%%memdiag` report cannot reach its cell's editor (renderers
 * only see their data), so it sends a DOM event up; this plugin catches it at the notebook and
 * puts the cursor on that line of the cell the report belongs to.
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';

import { IJumpDetail, JUMP_EVENT } from '../mime';

function jump(panel: NotebookPanel, event: Event): void {
  const detail = (event as CustomEvent<IJumpDetail>).detail;
  const target = event.target;
  if (!detail || !Number.isInteger(detail.line) || !(target instanceof Node)) {
    return;
  }
  const notebook = panel.content;
  const index = notebook.widgets.findIndex(cell => cell.node.contains(target));
  if (index < 0) {
    return;
  }
  event.stopPropagation();
  const cell = notebook.widgets[index];
  const lines = cell.model.sharedModel.getSource().split('\n').length;
  notebook.activeCellIndex = index;
  notebook.deselectAll();
  notebook.mode = 'edit';
  cell.editor?.setCursorPosition({ line: Math.min(Math.max(detail.line, 1), lines) - 1, column: 0 });
  cell.editor?.focus();
}

export const inlineJumpPlugin: JupyterFrontEndPlugin<void> = {
  id: 'memdiag:inline-jump',
  description: "Moves the cursor to a cell's line picked in its inline memdiag report.",
  autoStart: true,
  requires: [INotebookTracker],
  activate: (app: JupyterFrontEnd, notebooks: INotebookTracker): void => {
    const listen = (panel: NotebookPanel): void => {
      const listener = (event: Event): void => jump(panel, event);
      panel.node.addEventListener(JUMP_EVENT, listener);
      panel.disposed.connect(() => panel.node.removeEventListener(JUMP_EVENT, listener));
    };
    notebooks.forEach(listen);
    notebooks.widgetAdded.connect((_, panel) => listen(panel));
  }
};
