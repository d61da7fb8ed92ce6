import { JupyterFrontEndPlugin } from '@jupyterlab/application';

import { cellsPlugin } from './plugins/cells';
import { commandsPlugin } from './plugins/commands';
import { corePlugin } from './plugins/core';
import { inlineJumpPlugin } from './plugins/inline';
import { sidebarPlugin } from './plugins/sidebar';

export * from './tokens';

const plugins: JupyterFrontEndPlugin<unknown>[] = [
  corePlugin,
  sidebarPlugin,
  cellsPlugin,
  commandsPlugin,
  inlineJumpPlugin
];

export default plugins;
