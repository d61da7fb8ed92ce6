/**
 * memdiag:plugin — follows every notebook, loads the kernel side, keeps the reports, and applies the
 * settings in schema/plugin.json to every kernel.
 */
import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';

import { KernelConfig } from '../comm';
import { configMatches, kernelConfig } from '../config';
// eslint-disable-next-line jupyter/prefer-lazy-imports -- the model holds every notebook's reports: activation needs it at once
import { DEFAULT_MAX_EXECUTIONS } from '../model';
import { IMemdiagTracker, INotebookMemory } from '../tokens';
// eslint-disable-next-line jupyter/prefer-lazy-imports -- the tracker follows notebooks from the start: activation needs it at once
import { MemdiagTracker } from '../tracker';

export const PLUGIN_ID = 'memdiag:plugin';

export const corePlugin: JupyterFrontEndPlugin<IMemdiagTracker> = {
  id: PLUGIN_ID,
  description:
    'Follows notebooks, loads memdiag in their Python kernels and keeps the memory reports.',
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
    let saveReports = true;
    let wanted: KernelConfig = {};
    const tracker = new MemdiagTracker({
      notebooks,
      autoLoad: () => autoLoad,
      saveReports: () => saveReports,
      maxExecutions: DEFAULT_MAX_EXECUTIONS
    });

    // What was last asked of each bridge: a kernel that adjusts a value must not be asked again and again.
    const asked = new WeakMap<INotebookMemory, string>();
    const sync = (memory: INotebookMemory): void => {
      const bridge = memory.bridge;
      const request = JSON.stringify(wanted);
      if (
        bridge.status !== 'ready' ||
        !Object.keys(wanted).length ||
        configMatches(bridge.config, wanted) ||
        asked.get(memory) === request
      ) {
        return;
      }
      asked.set(memory, request);
      bridge.request('config', wanted).catch(reason => {
        console.warn('memdiag: the kernel refused the settings', reason);
      });
    };
    const follow = (memory: INotebookMemory): void => {
      memory.bridge.stateChanged.connect(() => {
        if (memory.bridge.status !== 'ready') {
          asked.delete(memory);
        }
        sync(memory);
      });
      sync(memory);
    };
    tracker.forEach(follow);
    tracker.added.connect((_, memory) => follow(memory));

    if (settingRegistry) {
      void settingRegistry.load(PLUGIN_ID).then(settings => {
        const apply = (): void => {
          const composite = settings.composite;
          autoLoad = composite.autoLoad !== false;
          saveReports = composite.saveReports !== false;
          const history = composite.historyLength;
          if (typeof history === 'number' && history > 0) {
            tracker.setMaxExecutions(history);
          }
          wanted = kernelConfig(composite);
          tracker.forEach(sync);
        };
        apply();
        settings.changed.connect(apply);
      });
    }
    return tracker;
  }
};
