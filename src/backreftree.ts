/**
 * Backref chains merged into one tree, drawn with Vega's stratify and tree transforms.
 * Pure module; kernel strings (root names, type labels, edges) stay data values.
 */
import { ChartSpec, IChartPalette, VEGA_SCHEMA } from './chartbase';
import { IBackref } from './protocol';

/** One node of the merged backref tree. `id`s are ours; kernel strings live in `label` and `edge`. */
export interface ITreeNode {
  id: string;
  parent: string | null;
  label: string;
  edge: string;
  kind: 'top' | 'root' | 'node' | 'leaf';
  /** How many chains end here. */
  count: number;
  depth: number;
}

/**
 * Merge backref chains into one tree: each named root (`cache`, `Out[3]`, `sys.last_traceback`)
 * is a child of an invisible top, and chains sharing a prefix share nodes.
 */
export function backrefTree(backrefs: ReadonlyArray<IBackref>): ITreeNode[] {
  const nodes: ITreeNode[] = [
    {
      id: 't',
      parent: null,
      label: '',
      edge: '',
      kind: 'top',
      count: 0,
      depth: 0
    }
  ];
  const children = new Map<string, string>();
  const child = (
    parent: ITreeNode,
    label: string,
    edge: string,
    kind: ITreeNode['kind']
  ): ITreeNode => {
    // A JSON tuple is an unambiguous key whatever characters the kernel's strings hold.
    const key = JSON.stringify([parent.id, edge, label]);
    let id = children.get(key);
    if (id === undefined) {
      id = `n${nodes.length}`;
      children.set(key, id);
      nodes.push({
        id,
        parent: parent.id,
        label,
        edge,
        kind,
        count: 0,
        depth: parent.depth + 1
      });
    }
    return nodes.find(node => node.id === id)!;
  };
  for (const backref of backrefs) {
    let node = child(nodes[0], backref.root, '', 'root');
    for (const link of backref.chain) {
      node = child(node, link.label, link.edge, 'node');
    }
    node.count++;
  }
  const parents = new Set(nodes.map(node => node.parent));
  for (const node of nodes) {
    if (node.kind === 'node' && !parents.has(node.id)) {
      node.kind = 'leaf';
    }
  }
  return nodes;
}

/** A chain as one line of text: `cache → list[3] → bytearray`. */
export function chainText(backref: IBackref): string {
  const parts = [backref.root];
  backref.chain.forEach((link, i) => {
    const next = backref.chain[i + 1];
    parts.push(next && next.edge ? `${link.label}${next.edge}` : link.label);
  });
  return parts.join(' → ');
}

const TREE_COLUMN = 150;
const TREE_ROW = 22;
/** Leaves have nothing to their right: their labels get more room. */
const LEAF_LABEL = 260;

/** The backref chains merged into a tree, drawn with Vega's stratify and tree transforms. */
export function backrefTreeSpec(
  backrefs: ReadonlyArray<IBackref>,
  palette: IChartPalette
): ChartSpec {
  const tree = backrefTree(backrefs);
  const parents = new Set(tree.map(node => node.parent));
  const nodes = tree.map(node => ({
    ...node,
    text:
      (node.edge && node.kind !== 'root'
        ? `${node.edge} ${node.label}`
        : node.label) + (node.count > 1 ? ` ×${node.count}` : ''),
    shown: node.kind === 'top' ? 0 : 1,
    limit: parents.has(node.id) ? TREE_COLUMN - 14 : LEAF_LABEL - 14
  }));
  const leaves = nodes.filter(
    node => node.kind === 'leaf' || (node.kind === 'root' && node.count > 0)
  );
  const depth = Math.max(1, ...nodes.map(node => node.depth));
  const height = Math.max(1, leaves.length) * TREE_ROW;
  // The tree spreads depths over `size`; depth 0 is the invisible top, shifted out of view.
  const treeWidth = depth * TREE_COLUMN;
  // Columns 1..depth are drawn; the last one's labels get LEAF_LABEL.
  const width = (depth - 1) * TREE_COLUMN + LEAF_LABEL;
  return {
    $schema: VEGA_SCHEMA,
    width,
    height,
    padding: 5,
    background: 'transparent',
    // 'pad' would grow the view to include the invisible top node left of the roots.
    autosize: 'none',
    data: [
      {
        name: 'tree',
        values: nodes,
        transform: [
          { type: 'stratify', key: 'id', parentKey: 'parent' },
          {
            type: 'tree',
            method: 'tidy',
            separation: true,
            size: [height, treeWidth],
            as: ['y', 'x', 'layer', 'children']
          }
        ]
      },
      {
        name: 'links',
        source: 'tree',
        transform: [
          { type: 'treelinks' },
          { type: 'linkpath', orient: 'horizontal', shape: 'diagonal' }
        ]
      }
    ],
    scales: [
      {
        name: 'kind',
        type: 'ordinal',
        domain: ['top', 'root', 'node', 'leaf'],
        range: [palette.grid, palette.rss, palette.textMuted, palette.accent]
      }
    ],
    marks: [
      {
        type: 'path',
        from: { data: 'links' },
        encode: {
          update: {
            path: { field: 'path' },
            x: { value: -TREE_COLUMN },
            stroke: { value: palette.grid },
            strokeWidth: { value: 1.5 },
            strokeOpacity: { field: 'source.shown' }
          }
        }
      },
      {
        type: 'symbol',
        from: { data: 'tree' },
        encode: {
          enter: {
            size: { value: 50 },
            stroke: { value: palette.text },
            strokeWidth: { value: 0.5 }
          },
          update: {
            x: { field: 'x', offset: -TREE_COLUMN },
            y: { field: 'y' },
            fill: { scale: 'kind', field: 'kind' },
            opacity: { field: 'shown' },
            tooltip: { field: 'text' }
          }
        }
      },
      {
        type: 'text',
        from: { data: 'tree' },
        encode: {
          enter: {
            text: { field: 'text' },
            font: { value: palette.font },
            fontSize: { value: palette.fontSize },
            fill: { value: palette.text },
            baseline: { value: 'middle' },
            align: { value: 'left' },
            limit: { field: 'limit' }
          },
          update: {
            x: { field: 'x', offset: 8 - TREE_COLUMN },
            y: { field: 'y' },
            opacity: { field: 'shown' }
          }
        }
      }
    ]
  };
}
