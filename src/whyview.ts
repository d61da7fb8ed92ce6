/**
 * The answer to "why is NAME alive?", rendered as text: the kernel's strings never become markup.
 */
import { formatBytes } from './format';

/** What the dialog says when it is accepted with nothing typed. */
export const WHY_EMPTY_HINT = 'Type a name or expression, e.g. df or Out[3]';

/** One answer of the name dialog: whether it was accepted, and the text typed. */
export interface IWhyAnswer {
  accept: boolean;
  value: string | null | undefined;
}

/**
 * The expression to ask about, trimmed, or null when the user cancelled. An empty answer is never
 * taken silently: the dialog is asked again with `hint` (WHY_EMPTY_HINT, translated) as its label.
 */
export async function askWhyExpression(
  ask: (label: string) => Promise<IWhyAnswer>,
  label: string,
  hint: string = WHY_EMPTY_HINT
): Promise<string | null> {
  for (let current = label; ; current = hint) {
    const answer = await ask(current);
    if (!answer.accept) {
      return null;
    }
    const expression = (answer.value ?? '').trim();
    if (expression) {
      return expression;
    }
  }
}

/** `20 MB (itself 128 B)`: what the object keeps alive, and its own header when that differs. */
function sizeText(size: number, own: unknown): string {
  const text = formatBytes(size);
  return typeof own === 'number' && own !== size ? `${text} (itself ${formatBytes(own)})` : text;
}

function isDict(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function chainText(entry: unknown): string | null {
  if (!isDict(entry) || typeof entry.root !== 'string' || !Array.isArray(entry.chain)) {
    return null;
  }
  const links = entry.chain
    .filter(isDict)
    .map(link => [link.edge, link.label].filter(part => typeof part === 'string' && part).join(' '));
  return [entry.root, ...links].join(' → ');
}

/** A node describing the result of a `why` request, whatever subset of fields the kernel sent. */
export function renderWhy(result: unknown): HTMLElement {
  const root = document.createElement('div');
  root.className = 'memdiag-Why';
  if (!isDict(result)) {
    root.textContent = 'The kernel sent an answer memdiag cannot read.';
    return root;
  }
  const facts = document.createElement('dl');
  for (const [key, label] of [
    ['name', 'Name'],
    ['type', 'Type'],
    ['refcount', 'References'],
    ['size', 'Keeps alive'],
    ['summary', 'Summary']
  ]) {
    const value = result[key];
    if (typeof value === 'string' || typeof value === 'number') {
      const dt = document.createElement('dt');
      dt.textContent = label;
      const dd = document.createElement('dd');
      dd.textContent =
        key === 'size' && typeof value === 'number' && Number.isFinite(value)
          ? sizeText(value, result.own_size)
          : String(value);
      facts.append(dt, dd);
    }
  }
  if (result.immortal === true) {
    // PEP 683 (Python 3.12+): the refcount of an immortal object is a sentinel, not a count of references.
    const dt = document.createElement('dt');
    dt.textContent = 'References';
    const dd = document.createElement('dd');
    dd.textContent = 'immortal (never freed)';
    facts.append(dt, dd);
  }
  root.appendChild(facts);
  const section = (title: string, lines: string[]): void => {
    if (!lines.length) {
      return;
    }
    const heading = document.createElement('h4');
    heading.textContent = title;
    const list = document.createElement('ul');
    for (const line of lines) {
      const item = document.createElement('li');
      item.textContent = line;
      list.appendChild(item);
    }
    root.append(heading, list);
  };
  const referrers = Array.isArray(result.referrers) ? result.referrers : [];
  section(
    'Referrers',
    referrers.map(item => (typeof item === 'string' ? item : JSON.stringify(item))).slice(0, 50)
  );
  const backrefs = Array.isArray(result.backrefs) ? result.backrefs : [];
  section(
    'Kept alive by',
    backrefs.map(chainText).filter((line): line is string => line !== null)
  );
  return root;
}
