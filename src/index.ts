import { JupyterFrontEndPlugin } from '@jupyterlab/application';

import { cellsPlugin } from './plugins/cells';
import { commandsPlugin } from './plugins/commands';
import { corePlugin } from './plugins/core';
import { sidebarPlugin } from './plugins/sidebar';

export * from './tokens';

const plugins: JupyterFrontEndPlugin<any>[] = [corePlugin, sidebarPlugin, cellsPlugin, commandsPlugin];

export default plugins;
