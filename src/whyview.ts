/**
 * The answer to "why is NAME alive?", rendered as text: the kernel's strings never become markup.
 */
import { nullTranslator, TranslationBundle } from '@jupyterlab/translation';

import type { IWhyResult } from './comm';
import { formatBytes } from './format';
import { IBackref } from './protocol';

/** The expression to ask about, trimmed; null when nothing but spaces was typed. */
export function whyExpression(value: string): string | null {
  const expression = value.trim();
  return expression ? expression : null;
}

/** `20 MB (itself 128 B)`: what the object keeps alive, and its own header when that differs. */
function sizeText(
  size: number,
  own: number | undefined,
  trans: TranslationBundle
): string {
  const text = formatBytes(size);
  return own !== undefined && own !== size
    ? trans.__('%1 (itself %2)', text, formatBytes(own))
    : text;
}

function chainText(entry: IBackref): string {
  const links = entry.chain.map(link =>
    [link.edge, link.label].filter(part => part).join(' ')
  );
  return [entry.root, ...links].join(' → ');
}

/** A node describing the result of a `why` request (checked by comm.ts), as text. */
export function renderWhy(
  result: IWhyResult,
  trans: TranslationBundle = nullTranslator.load('memdiag')
): HTMLElement {
  const root = document.createElement('div');
  root.className = 'memdiag-Why';
  const facts = document.createElement('dl');
  const fact = (label: string, value: string): void => {
    const dt = document.createElement('dt');
    dt.textContent = label;
    const dd = document.createElement('dd');
    dd.textContent = value;
    facts.append(dt, dd);
  };
  fact(trans.__('Name'), result.name);
  fact(trans.__('Type'), result.type);
  if (result.immortal === true) {
    // PEP 683 (Python 3.12+): the refcount of an immortal object is a sentinel, not a count of references.
    fact(trans.__('References'), trans.__('immortal (never freed)'));
  } else if (result.refcount !== null) {
    fact(trans.__('References'), String(result.refcount));
  }
  if (result.size !== undefined) {
    fact(
      trans.__('Keeps alive'),
      sizeText(result.size, result.own_size, trans)
    );
  }
  if (result.summary !== undefined) {
    fact(trans.__('Summary'), result.summary);
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
  section(trans.__('Referrers'), (result.referrers ?? []).slice(0, 50));
  section(trans.__('Kept alive by'), (result.backrefs ?? []).map(chainText));
  return root;
}
