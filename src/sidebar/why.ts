/**
 * "Why is … alive?" in the sidebar's details: a name or expression, asked of the kernel, and the answer
 * kept on screen until the user closes it. Kernel strings are rendered as text (whyview.ts).
 */
import { TranslationBundle } from '@jupyterlab/translation';

import type { IWhyResult } from '../comm';
import { renderWhy, whyExpression } from '../whyview';

export class WhyPanel {
  constructor(options: WhyPanel.IOptions) {
    const trans = options.trans;
    this._trans = trans;
    this._ask = options.ask;
    this._segment = options.segment;
    const node = document.createElement('section');
    node.className = 'memdiag-WhyPanel';
    node.setAttribute('aria-label', trans.__('Why is … alive?'));
    node.hidden = true;
    const header = document.createElement('div');
    header.className = 'memdiag-WhyPanel-header';
    const heading = document.createElement('h3');
    heading.className = 'memdiag-Detail-heading';
    heading.textContent = trans.__('Why is … alive?');
    // It answers about the kernel as it is now, not about the execution whose details follow: said, and boxed.
    const scope = document.createElement('p');
    scope.className = 'memdiag-WhyPanel-scope';
    scope.textContent = trans.__(
      'Asks the running kernel, whatever execution is selected below.'
    );
    const close = document.createElement('button');
    close.className = 'memdiag-WhyPanel-close';
    close.type = 'button';
    close.textContent = '×';
    close.title = trans.__('Close');
    close.setAttribute('aria-label', trans.__('Close "Why is … alive?"'));
    close.addEventListener('click', () => this.close());
    header.append(heading, close);

    const form = document.createElement('form');
    form.className = 'memdiag-WhyPanel-form';
    const label = document.createElement('label');
    label.className = 'memdiag-WhyPanel-label';
    label.textContent = trans.__('Variable name or expression');
    const input = document.createElement('input');
    input.type = 'text';
    input.className = 'jp-mod-styled memdiag-WhyPanel-input';
    input.id = `memdiag-why-${++WhyPanel._ids}`;
    input.spellcheck = false;
    input.autocomplete = 'off';
    // A placeholder that cannot pass for a typed value: it says it is an example.
    input.placeholder = trans.__('for example: df');
    label.htmlFor = input.id;
    const ask = document.createElement('button');
    ask.type = 'submit';
    ask.className = 'jp-mod-styled jp-mod-accept memdiag-WhyPanel-ask';
    ask.textContent = trans.__('Ask');
    form.append(label, input, ask);
    form.addEventListener('submit', event => {
      event.preventDefault();
      void this._submit();
    });
    this._message = document.createElement('p');
    this._message.className = 'memdiag-WhyPanel-message';
    this._message.setAttribute('role', 'status');
    this._message.setAttribute('aria-live', 'polite');
    this._answer = document.createElement('div');
    this._answer.className = 'memdiag-WhyPanel-answer';
    this._when = document.createElement('p');
    this._when.className = 'memdiag-WhyPanel-when';
    this._when.hidden = true;
    this._when.textContent = trans.__(
      'Asked before the restart: the kernel that answered is gone.'
    );
    node.append(header, scope, form, this._message, this._when, this._answer);
    this.node = node;
    this._input = input;
  }

  readonly node: HTMLElement;

  /** Show the form (a name, when given, is filled in) and put the cursor in it. */
  open(name?: string): void {
    this.node.hidden = false;
    if (name) {
      this._input.value = name;
    }
    this._input.focus();
    this._input.select();
    // Run from the command palette, the command ends before the palette gives focus back to where it was (the
    // notebook, whose keys are then shortcuts): take it again once the palette has closed.
    requestAnimationFrame(() => {
      if (!this.node.hidden && document.activeElement !== this._input) {
        this._input.focus();
        this._input.select();
      }
    });
  }

  close(): void {
    this.node.hidden = true;
  }

  /** The live kernel's segment: an answer from an earlier one (before a restart) is greyed and says so. */
  set segment(value: number) {
    const stale = this._answerSegment !== null && value > this._answerSegment;
    this.node.classList.toggle('memdiag-mod-stale', stale);
    this._when.hidden = !stale;
    if (stale) {
      this.node.dataset.stale = '';
    } else {
      delete this.node.dataset.stale;
    }
  }

  private async _submit(): Promise<void> {
    const trans = this._trans;
    const expression = whyExpression(this._input.value);
    if (expression === null) {
      this._input.setAttribute('aria-invalid', 'true');
      this._say(
        trans.__(
          'Type a variable name or an expression first, e.g. df or Out[3].'
        ),
        'error'
      );
      this._input.focus();
      return;
    }
    this._input.removeAttribute('aria-invalid');
    this._say(trans.__('Asking the kernel about %1…', expression), 'busy');
    const generation = ++this._generation;
    const segment = this._segment();
    try {
      const result = await this._ask(expression);
      if (generation !== this._generation) {
        return;
      }
      this._say(trans.__('Why is %1 alive?', expression), 'answer');
      this._answer.replaceChildren(renderWhy(result, trans));
      this._answerSegment = segment;
      this.segment = this._segment();
    } catch (reason) {
      if (generation === this._generation) {
        this._answer.replaceChildren();
        this._answerSegment = null;
        this.segment = this._segment();
        this._say(
          trans.__(
            'memdiag could not answer: %1',
            reason instanceof Error ? reason.message : String(reason)
          ),
          'error'
        );
      }
    }
  }

  private _say(text: string, kind: 'error' | 'busy' | 'answer'): void {
    this._message.textContent = text;
    this._message.dataset.kind = kind;
  }

  /** Ids for the form's input, one per panel. */
  private static _ids = 0;
  private _trans: TranslationBundle;
  private _ask: (expression: string) => Promise<IWhyResult>;
  private _segment: () => number;
  /** The kernel segment the answer shown came from; null with no answer. */
  private _answerSegment: number | null = null;
  private _when: HTMLElement;
  private _input: HTMLInputElement;
  private _message: HTMLElement;
  private _answer: HTMLElement;
  private _generation = 0;
}

export namespace WhyPanel {
  export interface IOptions {
    trans: TranslationBundle;
    /** Ask the current notebook's kernel; rejects with a message to show. */
    ask: (expression: string) => Promise<IWhyResult>;
    /** The live kernel's segment now (NotebookMemoryModel.segment): a restart makes it grow. */
    segment: () => number;
  }
}
