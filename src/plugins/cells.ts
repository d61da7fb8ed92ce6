/**
 * memdiag:cells — badges, verdict classes and `data-memdiag-verdict` on executed code cells.
 */
import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import type { NotebookPanel } from '@jupyterlab/notebook';

// eslint-disable-next-line jupyter/prefer-lazy-imports -- every open notebook is decorated: activation needs it at once
import { NotebookDecorator } from '../decorator';
import { IMemdiagTracker, INotebookMemory } from '../tokens';

export const cellsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'memdiag:cells',
  description:
    'Marks each executed code cell with its memory change and verdict.',
  autoStart: true,
  requires: [IMemdiagTracker],
  activate: (app: JupyterFrontEnd, tracker: IMemdiagTracker): void => {
    // Every view of a notebook is decorated: a second view (File › New View) shows the same badges.
    const decorate = (memory: INotebookMemory, panel: NotebookPanel): void => {
      const decorator = new NotebookDecorator(memory, panel);
      panel.disposed.connect(() => decorator.dispose());
    };
    tracker.forEach(memory =>
      memory.panels.forEach(panel => decorate(memory, panel))
    );
    tracker.viewAdded.connect((_, { memory, panel }) =>
      decorate(memory, panel)
    );
  }
};
