/**
 * memdiag:plugin — follows every notebook, loads the kernel side and keeps the reports.
 * Owns the settings in schema/plugin.json.
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';

import { DEFAULT_MAX_EXECUTIONS } from '../model';
import { IMemdiagTracker } from '../tokens';
import { MemdiagTracker } from '../tracker';

export const PLUGIN_ID = 'memdiag:plugin';

export const corePlugin: JupyterFrontEndPlugin<IMemdiagTracker> = {
  id: PLUGIN_ID,
  description: 'Follows notebooks, loads memdiag in their Python kernels and keeps the memory reports.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ISettingRegistry],
  provides: IMemdiagTracker,
  activate: (
    app: JupyterFrontEnd,
    notebooks: INotebookTracker,
    settingRegistry: ISettingRegistry | null
  ): IMemdiagTracker => {
    let autoLoad = true;
    const tracker = new MemdiagTracker({
      notebooks,
      autoLoad: () => autoLoad,
      maxExecutions: DEFAULT_MAX_EXECUTIONS
    });
    if (settingRegistry) {
      void settingRegistry.load(PLUGIN_ID).then(settings => {
        const apply = (): void => {
          autoLoad = settings.get('autoLoad').composite !== false;
          const history = settings.get('historyLength').composite;
          if (typeof history === 'number' && history > 0) {
            tracker.setMaxExecutions(history);
          }
        };
        apply();
        settings.changed.connect(apply);
      });
    }
    return tracker;
  }
};
