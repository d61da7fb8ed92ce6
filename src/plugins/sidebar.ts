/**
 * memdiag:sidebar — the memory sidebar in the left area, restored with the layout.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

// eslint-disable-next-line jupyter/prefer-lazy-imports -- the sidebar is added to the shell: activation needs it at once
import { MemorySidebar } from '../sidebar/panel';
import { IMemdiagTracker } from '../tokens';

/** A short one-line selection in the active cell's editor: what the user most likely asks about. */
function selectedName(tracker: IMemdiagTracker): string | undefined {
  const editor = tracker.current?.panel.content.activeCell?.editor;
  if (!editor) {
    return undefined;
  }
  const { start, end } = editor.getSelection();
  const text = editor.model.sharedModel
    .getSource()
    .slice(editor.getOffsetAt(start), editor.getOffsetAt(end))
    .trim();
  return text && text.length <= 200 && !text.includes('\n') ? text : undefined;
}
// eslint-disable-next-line jupyter/prefer-lazy-imports -- the settings id loads the sidebar's settings: activation needs it at once
import { PLUGIN_ID } from './core';

export const sidebarPlugin: JupyterFrontEndPlugin<void> = {
  id: 'memdiag:sidebar',
  description:
    'The memory sidebar: kernel status, timeline, executions and details.',
  autoStart: true,
  requires: [IMemdiagTracker],
  optional: [ILayoutRestorer, ITranslator, ISettingRegistry],
  activate: (
    app: JupyterFrontEnd,
    tracker: IMemdiagTracker,
    restorer: ILayoutRestorer | null,
    translator: ITranslator | null,
    settingRegistry: ISettingRegistry | null
  ): void => {
    const sidebar = new MemorySidebar({
      tracker,
      translator: translator ?? undefined
    });
    if (app.name !== 'JupyterLab') {
      // Notebook 7 lists side panels by label in its View menu; JupyterLab's side bar shows icons only.
      sidebar.title.label = (translator ?? nullTranslator)
        .load('memdiag')
        .__('Memory');
    }
    app.shell.add(sidebar, 'left', { rank: 600, type: 'memdiag' });

    const trans = (translator ?? nullTranslator).load('memdiag');
    app.commands.addCommand('memdiag:why-alive', {
      describedBy: { args: { type: 'object', properties: {} } },
      label: trans.__('Why Is … Alive? (memdiag)'),
      caption: trans.__(
        'Show, in the memory sidebar, the references that keep an object alive'
      ),
      isEnabled: () => tracker.current?.bridge.status === 'ready',
      execute: () => {
        app.shell.activateById(sidebar.id);
        sidebar.openWhy(selectedName(tracker));
      }
    });
    // For the commands that run a cell (a leak check, a diagnosis): their result is shown in the sidebar.
    app.commands.addCommand('memdiag:show-execution', {
      describedBy: {
        args: {
          type: 'object',
          properties: {
            cellId: {
              type: 'string',
              description: 'The cell the report is of'
            },
            executionCount: {
              type: 'number',
              description: "The report's execution count"
            }
          },
          required: ['cellId', 'executionCount']
        }
      },
      label: trans.__('Show an Execution in the Memory Sidebar'),
      execute: args => {
        const { cellId, executionCount } = args;
        const report = tracker.current?.model
          .forCell(typeof cellId === 'string' ? cellId : '')
          .find(r => r.execution_count === executionCount);
        if (report) {
          sidebar.showReport(report);
        }
      }
    });
    restorer?.add(sidebar, sidebar.id);
    void settingRegistry?.load(PLUGIN_ID).then(settings => {
      sidebar.settings = settings;
    });
  }
};
