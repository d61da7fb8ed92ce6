/**
 * The answer to "why is NAME alive?", rendered as text: the kernel's strings never become markup.
 */

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
    ['size', 'Size (bytes)'],
    ['summary', 'Summary']
  ]) {
    const value = result[key];
    if (typeof value === 'string' || typeof value === 'number') {
      const dt = document.createElement('dt');
      dt.textContent = label;
      const dd = document.createElement('dd');
      dd.textContent = String(value);
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
