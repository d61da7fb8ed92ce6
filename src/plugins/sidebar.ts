/**
 * memdiag:sidebar — the memory sidebar in the left area, restored with the layout.
 */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ITranslator } from '@jupyterlab/translation';

import { MemorySidebar } from '../sidebar';
import { IMemdiagTracker } from '../tokens';

export const sidebarPlugin: JupyterFrontEndPlugin<void> = {
  id: 'memdiag:sidebar',
  description: 'The memory sidebar: kernel status and the memory of every cell execution.',
  autoStart: true,
  requires: [IMemdiagTracker],
  optional: [ILayoutRestorer, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    tracker: IMemdiagTracker,
    restorer: ILayoutRestorer | null,
    translator: ITranslator | null
  ): void => {
    const sidebar = new MemorySidebar({ tracker, translator: translator ?? undefined });
    app.shell.add(sidebar, 'left', { rank: 600, type: 'memdiag' });
    restorer?.add(sidebar, sidebar.id);
  }
};
