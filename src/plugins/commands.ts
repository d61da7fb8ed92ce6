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
  Notification,
  showDialog,
  showErrorMessage
} from '@jupyterlab/apputils';
import { CodeCell } from '@jupyterlab/cells';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ReadonlyPartialJSONObject } from '@lumino/coreutils';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { IReport } from '../protocol';
import { IMemdiagTracker, INotebookMemory } from '../tokens';
// eslint-disable-next-line jupyter/prefer-lazy-imports -- the settings id reads the settings when the commands are added: activation needs it at once
import { PLUGIN_ID } from './core';

/** The commands act on the current notebook and cell: they take no arguments. */
const NO_ARGS = { args: { type: 'object' as const, properties: {} } };

/** The cell commands: from the cell context menu they act on the cell right-clicked (schema/plugin.json). */
const CELL_ARGS = {
  args: {
    type: 'object' as const,
    properties: {
      fromContextMenu: {
        type: 'boolean' as const,
        description:
          'Act on the code cell under the context menu, not the active one'
      }
    }
  }
};

namespace CommandIDs {
  export const openSidebar = 'memdiag:open-sidebar';
  export const diagnoseCell = 'memdiag:diagnose-cell';
  export const checkLeaks = 'memdiag:check-leaks';
  /** Defined by memdiag:sidebar, where its answer is shown; listed in the palette here with the others. */
  export const whyAlive = 'memdiag:why-alive';
  export const clearData = 'memdiag:clear-data';
  export const loadKernel = 'memdiag:load-kernel';
}

const DEFAULT_LEAK_CHECK_RUNS = 4;

/** How long a run's report may take to arrive after the cell's reply. */
const REPORT_WAIT_MS = 15_000;

/** The report of one execution of a cell, once it arrived (null when none came in time). */
function reportOf(
  memory: INotebookMemory,
  cellId: string,
  executionCount: number | null
): Promise<IReport | null> {
  const model = memory.model;
  const find = (): IReport | undefined =>
    model
      .forCell(cellId)
      .find(
        report =>
          report.execution_count === executionCount && !model.isStale(report)
      );
  return new Promise(resolve => {
    const found = find();
    if (found || executionCount === null) {
      resolve(found ?? null);
      return;
    }
    const done = (report: IReport | null): void => {
      clearTimeout(timer);
      model.changed.disconnect(check);
      resolve(report);
    };
    const check = (): void => {
      const report = find();
      if (report) {
        done(report);
      }
    };
    const timer = setTimeout(() => done(find() ?? null), REPORT_WAIT_MS);
    model.changed.connect(check);
  });
}

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
    /**
     * The current notebook, connected, and the code cell the command acts on: the one right-clicked when run from
     * the cell context menu (a right-click in another cell's editor does not make it active), else the active one.
     */
    const target = (
      args: ReadonlyPartialJSONObject = {}
    ): { memory: INotebookMemory; cell: CodeCell } | null => {
      const memory = ready();
      if (!memory) {
        return null;
      }
      const notebook = memory.panel.content;
      let cell = notebook.activeCell;
      if (args.fromContextMenu === true) {
        const node = app.contextMenuHitTest(n =>
          n.classList.contains('jp-CodeCell')
        );
        cell = notebook.widgets.find(w => w.node === node) ?? cell;
      }
      return cell instanceof CodeCell ? { memory, cell } : null;
    };
    /** A command body acting on that cell, made the active one so the user sees which cell runs; does nothing
     * when there is none. */
    const onCell =
      (run: (memory: INotebookMemory, cell: CodeCell) => Promise<void>) =>
      async (args: ReadonlyPartialJSONObject): Promise<void> => {
        const found = target(args);
        if (found) {
          const notebook = found.memory.panel.content;
          const index = notebook.widgets.indexOf(found.cell);
          if (index >= 0 && index !== notebook.activeCellIndex) {
            notebook.activeCellIndex = index;
          }
          await run(found.memory, found.cell);
        }
      };
    /** Run the cell; its execution count when it ran without an error, else null. */
    const runCell = async (
      memory: INotebookMemory,
      cell: CodeCell
    ): Promise<{ ok: boolean; count: number | null }> => {
      const reply = await CodeCell.execute(cell, memory.panel.sessionContext);
      const content = reply?.content;
      return {
        ok: content?.status === 'ok',
        count:
          content && typeof content.execution_count === 'number'
            ? content.execution_count
            : null
      };
    };
    /** "cell 3", as the sidebar names it. */
    const nameOf = async (
      memory: INotebookMemory,
      cell: CodeCell
    ): Promise<string> => {
      const { cellName, cellPositions } = await import('../labels');
      const cells = memory.panel.content.model?.cells;
      const positions = cellPositions(
        cells ? Array.from(cells, c => c.id) : []
      );
      return cellName(cell.model.id, positions) ?? trans.__('this cell');
    };

    /** Select a command's result in the memory sidebar (when the sidebar plugin is there). */
    const showInSidebar = (report: IReport): void => {
      if (report.cell_id && commands.hasCommand('memdiag:show-execution')) {
        void commands.execute('memdiag:show-execution', {
          cellId: report.cell_id,
          executionCount: report.execution_count
        });
      }
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
      describedBy: CELL_ARGS,
      label: trans.__('Diagnose This Cell (memdiag)'),
      caption: trans.__(
        'Run the cell once with every probe: allocation sites, backrefs, cycles'
      ),
      isEnabled: args => !!target(args),
      execute: onCell(async (memory, cell) => {
        // The diagnosis is a run of the cell: whatever it does happens again.
        const answer = await showDialog({
          title: trans.__('Diagnose this cell?'),
          body: trans.__(
            'memdiag will run %1 once more, with every probe on. Everything the cell does happens again: files it writes, rows it appends, requests it sends, models it trains.',
            await nameOf(memory, cell)
          ),
          buttons: [
            Dialog.cancelButton(),
            Dialog.okButton({ label: trans.__('Run and diagnose') })
          ]
        });
        if (!answer.button.accept) {
          return;
        }
        try {
          await memory.bridge.request('deep_next', { cell_id: cell.model.id });
          const run = await runCell(memory, cell);
          const report = await reportOf(memory, cell.model.id, run.count);
          if (report) {
            showInSidebar(report);
          }
        } catch (reason) {
          await showErrorMessage(
            trans.__('memdiag could not diagnose the cell'),
            String(reason)
          );
        }
      })
    });

    commands.addCommand(CommandIDs.checkLeaks, {
      describedBy: CELL_ARGS,
      label: trans.__('Check This Cell for Leaks (memdiag)'),
      caption: trans.__(
        'Run the cell several times and measure what each run keeps'
      ),
      isEnabled: args => !!target(args),
      execute: onCell(async (memory, cell) => {
        const runs = leakCheckRuns;
        const answer = await showDialog({
          title: trans.__('Check this cell for leaks?'),
          body: trans.__(
            'memdiag will run %1 %2 times in a row. Everything the cell does happens %2 times: files it writes, rows it appends, requests it sends, models it trains.',
            await nameOf(memory, cell),
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
        const reports: IReport[] = [];
        for (let i = 0; i < runs; i++) {
          const run = await runCell(memory, cell);
          if (!run.ok) {
            await showErrorMessage(
              trans.__('Leak check stopped'),
              trans.__('The cell failed on run %1 of %2.', i + 1, runs)
            );
            return;
          }
          const report = await reportOf(memory, cell.model.id, run.count);
          if (report) {
            reports.push(report);
          }
        }
        // One line over the N runs: what each re-run kept, and the verdict.
        const { leakSummary } = await import('../leakcheck');
        const summary = leakSummary(await nameOf(memory, cell), runs, reports);
        const text =
          summary?.text ??
          trans.__(
            'Leak check: the cell ran %1 times but memdiag sent no report (are snapshots off?).',
            runs
          );
        const last = reports[reports.length - 1];
        if (last) {
          showInSidebar(last);
        }
        if (summary?.leak) {
          Notification.warning(text, { autoClose: false });
        } else {
          Notification.info(text, { autoClose: 10_000 });
        }
      })
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
