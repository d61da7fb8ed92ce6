/**
 * memdiag:cells — badges, verdict classes and `data-memdiag-verdict` on executed code cells.
 */
import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';

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
    const decorate = (memory: INotebookMemory): void => {
      const decorator = new NotebookDecorator(memory);
      memory.panel.disposed.connect(() => decorator.dispose());
    };
    tracker.forEach(decorate);
    tracker.added.connect((_, memory) => decorate(memory));
  }
};
