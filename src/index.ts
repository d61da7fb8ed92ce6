import { JupyterFrontEndPlugin } from '@jupyterlab/application';

import { cellsPlugin } from './plugins/cells';
import { corePlugin } from './plugins/core';
import { sidebarPlugin } from './plugins/sidebar';

export * from './tokens';

const plugins: JupyterFrontEndPlugin<any>[] = [corePlugin, sidebarPlugin, cellsPlugin];

export default plugins;
