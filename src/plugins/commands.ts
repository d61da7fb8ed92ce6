/**
 * memdiag:commands — the palette and cell context menu commands.
 */
import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  Dialog,
  ICommandPalette,
  InputDialog,
  showDialog,
  showErrorMessage
} from '@jupyterlab/apputils';
import { CodeCell } from '@jupyterlab/cells';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { IMemdiagTracker, INotebookMemory } from '../tokens';
// eslint-disable-next-line jupyter/prefer-lazy-imports -- the settings id reads the settings when the commands are added: activation needs it at once
import { PLUGIN_ID } from './core';

/** The commands act on the current notebook and cell: they take no arguments. */
const NO_ARGS = { args: { type: 'object' as const, properties: {} } };

namespace CommandIDs {
  export const openSidebar = 'memdiag:open-sidebar';
  export const diagnoseCell = 'memdiag:diagnose-cell';
  export const checkLeaks = 'memdiag:check-leaks';
  export const whyAlive = 'memdiag:why-alive';
  export const clearData = 'memdiag:clear-data';
  export const loadKernel = 'memdiag:load-kernel';
}

const DEFAULT_LEAK_CHECK_RUNS = 4;

export const commandsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'memdiag:commands',
  description:
    'Commands: diagnose a cell, check it for leaks, ask why an object is alive, clear the data.',
  autoStart: true,
  requires: [IMemdiagTracker],
  optional: [ICommandPalette, ISettingRegistry, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    tracker: IMemdiagTracker,
    palette: ICommandPalette | null,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null
  ): void => {
    const trans = (translator ?? nullTranslator).load('memdiag');
    const { commands } = app;
    let leakCheckRuns = DEFAULT_LEAK_CHECK_RUNS;
    void settingRegistry?.load(PLUGIN_ID).then(settings => {
      const read = (): void => {
        const runs = settings.get('leakCheckRuns').composite;
        leakCheckRuns =
          typeof runs === 'number' && runs >= 2
            ? runs
            : DEFAULT_LEAK_CHECK_RUNS;
      };
      read();
      settings.changed.connect(read);
    });

    const ready = (): INotebookMemory | null => {
      const memory = tracker.current;
      return memory && memory.bridge.status === 'ready' ? memory : null;
    };
    /** The current notebook, connected, and its active code cell: what the cell commands act on. */
    const target = (): { memory: INotebookMemory; cell: CodeCell } | null => {
      const memory = ready();
      const cell = memory?.panel.content.activeCell;
      return memory && cell instanceof CodeCell ? { memory, cell } : null;
    };
    /** A command body acting on that cell; does nothing when there is none. */
    const onCell =
      (run: (memory: INotebookMemory, cell: CodeCell) => Promise<void>) =>
      async (): Promise<void> => {
        const found = target();
        if (found) {
          await run(found.memory, found.cell);
        }
      };
    const runCell = async (
      memory: INotebookMemory,
      cell: CodeCell
    ): Promise<boolean> => {
      const reply = await CodeCell.execute(cell, memory.panel.sessionContext);
      return reply?.content.status === 'ok';
    };

    commands.addCommand(CommandIDs.openSidebar, {
      describedBy: NO_ARGS,
      label: trans.__('Show Memory Sidebar'),
      caption: trans.__('Open the memdiag memory sidebar'),
      execute: async () => {
        const { SIDEBAR_ID } = await import('../sidebar/panel');
        app.shell.activateById(SIDEBAR_ID);
      }
    });

    commands.addCommand(CommandIDs.diagnoseCell, {
      describedBy: NO_ARGS,
      label: trans.__('Diagnose This Cell (memdiag)'),
      caption: trans.__(
        'Run the cell once with every probe: allocation sites, backrefs, cycles'
      ),
      isEnabled: () => !!target(),
      execute: onCell(async (memory, cell) => {
        try {
          await memory.bridge.request('deep_next', { cell_id: cell.model.id });
          await runCell(memory, cell);
        } catch (reason) {
          await showErrorMessage(
            trans.__('memdiag could not diagnose the cell'),
            String(reason)
          );
        }
      })
    });

    commands.addCommand(CommandIDs.checkLeaks, {
      describedBy: NO_ARGS,
      label: trans.__('Check This Cell for Leaks (memdiag)'),
      caption: trans.__(
        'Run the cell several times and measure what each run keeps'
      ),
      isEnabled: () => !!target(),
      execute: onCell(async (memory, cell) => {
        const runs = leakCheckRuns;
        const answer = await showDialog({
          title: trans.__('Check this cell for leaks?'),
          body: trans.__(
            'memdiag will run this cell %1 times in a row. Everything the cell does happens %1 times: files it writes, rows it appends, requests it sends, models it trains.',
            runs
          ),
          buttons: [
            Dialog.cancelButton(),
            Dialog.okButton({ label: trans.__('Run %1 times', runs) })
          ]
        });
        if (!answer.button.accept) {
          return;
        }
        for (let i = 0; i < runs; i++) {
          if (!(await runCell(memory, cell))) {
            await showErrorMessage(
              trans.__('Leak check stopped'),
              trans.__('The cell failed on run %1 of %2.', i + 1, runs)
            );
            return;
          }
        }
      })
    });

    commands.addCommand(CommandIDs.whyAlive, {
      describedBy: NO_ARGS,
      label: trans.__('Why Is … Alive? (memdiag)'),
      caption: trans.__('Show the references that keep an object alive'),
      isEnabled: () => !!ready(),
      execute: async () => {
        const memory = ready();
        if (!memory) {
          return;
        }
        // An empty answer asks again, saying what to type: never silence.
        const { askWhyExpression, renderWhy } = await import('../whyview');
        const expression = await askWhyExpression(
          async label => {
            const answer = await InputDialog.getText({
              title: trans.__('Why is … alive?'),
              label,
              placeholder: trans.__('e.g. df')
            });
            return { accept: answer.button.accept, value: answer.value };
          },
          trans.__('A variable name or an expression'),
          trans.__('Type a name or expression, e.g. df or Out[3]')
        );
        if (expression === null) {
          return;
        }
        try {
          const result = await memory.bridge.request('why', {
            name: expression
          });
          await showDialog({
            title: trans.__('Why is %1 alive?', expression),
            body: new Widget({ node: renderWhy(result, trans) }),
            buttons: [Dialog.okButton()]
          });
        } catch (reason) {
          await showErrorMessage(
            trans.__('memdiag could not answer'),
            String(reason)
          );
        }
      }
    });

    commands.addCommand(CommandIDs.clearData, {
      describedBy: NO_ARGS,
      label: trans.__('Clear memdiag Data'),
      caption: trans.__(
        "Forget this notebook's memory reports, including those saved in its cells"
      ),
      isEnabled: () => !!tracker.current,
      execute: async () => {
        const memory = tracker.current;
        if (!memory) {
          return;
        }
        const answer = await showDialog({
          title: trans.__('Clear memdiag data?'),
          body: trans.__(
            "This removes the notebook's memory reports from the sidebar, the cells and the saved file."
          ),
          buttons: [
            Dialog.cancelButton(),
            Dialog.warnButton({ label: trans.__('Clear') })
          ]
        });
        if (answer.button.accept) {
          memory.clear();
        }
      }
    });

    commands.addCommand(CommandIDs.loadKernel, {
      describedBy: NO_ARGS,
      label: trans.__('Load memdiag in the Kernel'),
      isEnabled: () => {
        const status = tracker.current?.bridge.status;
        return (
          status === 'not-loaded' ||
          status === 'error' ||
          status === 'no-answer'
        );
      },
      execute: () => tracker.current?.bridge.load()
    });

    const category = trans.__('Memory (memdiag)');
    for (const command of Object.values(CommandIDs)) {
      palette?.addItem({ command, category });
    }
  }
};
