/**
 * Backref chains merged into one tree, drawn as an indented tree that fits the width it is given.
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

/** Pixels per row of the tree, and of indentation per level. */
const TREE_ROW = 20;
const TREE_INDENT = 14;
/** A label never gets less than this, however deep its node (it is cut with an ellipsis; its tooltip is whole). */
const MIN_LABEL = 60;
const TREE_PADDING = 5;

/** One row of the indented tree: a node with its place and the elbow to its parent. */
interface ITreeRow extends ITreeNode {
  text: string;
  x: number;
  y: number;
  /** Where the elbow to its parent starts: the parent's x and y (its own for a root). */
  px: number;
  py: number;
  limit: number;
}

/**
 * The nodes of `tree` (backrefTree) in reading order, each on a row of its own, indented by its depth: a parent,
 * then its children's subtrees, roots in the order the kernel ranked them. Pure layout: ids and numbers.
 */
function indentedRows(
  tree: ReadonlyArray<ITreeNode>,
  width: number
): ITreeRow[] {
  const children = new Map<string, ITreeNode[]>();
  for (const node of tree) {
    if (node.parent !== null) {
      const siblings = children.get(node.parent) ?? [];
      siblings.push(node);
      children.set(node.parent, siblings);
    }
  }
  const rows: ITreeRow[] = [];
  const place = new Map<string, { x: number; y: number }>();
  // Deeper than the width allows, rows stop moving right: a label keeps MIN_LABEL.
  const deepest = Math.max(
    0,
    Math.floor((width - MIN_LABEL - 20) / TREE_INDENT)
  );
  const visit = (node: ITreeNode): void => {
    const x = Math.min(node.depth - 1, deepest) * TREE_INDENT;
    const y = rows.length * TREE_ROW + TREE_ROW / 2;
    const parent = node.kind === 'root' ? undefined : place.get(node.parent!);
    place.set(node.id, { x, y });
    rows.push({
      ...node,
      text:
        (node.edge && node.kind !== 'root'
          ? `${node.edge} ${node.label}`
          : node.label) + (node.count > 1 ? ` ×${node.count}` : ''),
      x,
      y,
      px: parent?.x ?? x,
      py: parent?.y ?? y,
      limit: Math.max(MIN_LABEL, width - x - 20)
    });
    for (const child of children.get(node.id) ?? []) {
      visit(child);
    }
  };
  for (const root of children.get(tree[0].id) ?? []) {
    visit(root);
  }
  return rows;
}

/**
 * The backref chains merged into a tree (backrefTree), drawn as an indented tree `width` pixels wide, padding included: each node on a
 * row of its own under its parent, as a file browser shows folders, so a chain of any depth fits a sidebar (side by
 * side, three levels took 570 px and the sidebar cut them off). Labels longer than their row are cut with an
 * ellipsis; the tooltip and the chains' text below the tree give them whole.
 */
export function backrefTreeSpec(
  backrefs: ReadonlyArray<IBackref>,
  palette: IChartPalette,
  width = 300
): ChartSpec {
  // `width` is all the chart may take: the padding is inside it (autosize 'none' adds it around the view).
  const inner = Math.max(MIN_LABEL + 20, width - 2 * TREE_PADDING);
  const rows = indentedRows(backrefTree(backrefs), inner);
  const height = Math.max(1, rows.length) * TREE_ROW;
  // An elbow from the parent's marker down to the row, then across to the node: two rules.
  const elbow = (x: string, y: string, x2: string, y2: string): ChartSpec => ({
    type: 'rule',
    from: { data: 'tree' },
    encode: {
      update: {
        x: { field: x },
        y: { field: y },
        x2: { field: x2 },
        y2: { field: y2 },
        stroke: { value: palette.grid },
        strokeWidth: { value: 1.5 }
      }
    }
  });
  return {
    $schema: VEGA_SCHEMA,
    width: inner,
    height,
    padding: TREE_PADDING,
    background: 'transparent',
    autosize: 'none',
    data: [{ name: 'tree', values: rows }],
    scales: [
      {
        name: 'kind',
        type: 'ordinal',
        domain: ['root', 'node', 'leaf'],
        range: [palette.rss, palette.textMuted, palette.accent]
      }
    ],
    marks: [
      elbow('px', 'py', 'px', 'y'),
      elbow('px', 'y', 'x', 'y'),
      {
        type: 'symbol',
        from: { data: 'tree' },
        encode: {
          enter: {
            size: { value: 40 },
            stroke: { value: palette.text },
            strokeWidth: { value: 0.5 }
          },
          update: {
            x: { field: 'x' },
            y: { field: 'y' },
            fill: { scale: 'kind', field: 'kind' },
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
            limit: { field: 'limit' },
            tooltip: { field: 'text' }
          },
          update: {
            x: { field: 'x', offset: 8 },
            y: { field: 'y' }
          }
        }
      }
    ]
  };
}
