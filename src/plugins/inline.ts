/**
 * memdiag:inline-jump — an inline `%%memdiag` report cannot reach its cell's editor (renderers
 * only see their data), so it sends a DOM event up; this plugin catches it at the notebook and
 * puts the cursor on that line of the cell the report belongs to.
 */
import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';

// eslint-disable-next-line jupyter/prefer-lazy-imports -- the jump listener is added to every notebook: activation needs it at once
import { IJumpDetail, JUMP_EVENT } from '../mime';
import { revealLine } from '../navigate';

function jump(panel: NotebookPanel, event: Event): void {
  const detail = (event as CustomEvent<IJumpDetail>).detail;
  const target = event.target;
  if (!detail || !Number.isInteger(detail.line) || !(target instanceof Node)) {
    return;
  }
  const cell = panel.content.widgets.find(widget =>
    widget.node.contains(target)
  );
  if (cell) {
    event.stopPropagation();
    void revealLine(panel, cell.model.id, detail.line);
  }
}

export const inlineJumpPlugin: JupyterFrontEndPlugin<void> = {
  id: 'memdiag:inline-jump',
  description:
    "Moves the cursor to a cell's line picked in its inline memdiag report.",
  autoStart: true,
  requires: [INotebookTracker],
  activate: (app: JupyterFrontEnd, notebooks: INotebookTracker): void => {
    const listen = (panel: NotebookPanel): void => {
      const listener = (event: Event): void => jump(panel, event);
      panel.node.addEventListener(JUMP_EVENT, listener);
      panel.disposed.connect(() =>
        panel.node.removeEventListener(JUMP_EVENT, listener)
      );
    };
    notebooks.forEach(listen);
    notebooks.widgetAdded.connect((_, panel) => listen(panel));
  }
};
