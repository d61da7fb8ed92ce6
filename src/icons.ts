import { LabIcon } from '@jupyterlab/ui-components';

import memorySvg from '../style/icons/memory.svg';

export const memoryIcon = new LabIcon({
  name: 'memdiag:memory',
  svgstr: memorySvg
});
