import { JupyterFrontEndPlugin } from '@jupyterlab/application';

import { corePlugin } from './plugins/core';
import { sidebarPlugin } from './plugins/sidebar';

export * from './tokens';

const plugins: JupyterFrontEndPlugin<any>[] = [corePlugin, sidebarPlugin];

export default plugins;
