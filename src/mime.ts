/**
 * The inline renderer of `%%memdiag` reports (application/vnd.memdiag.v1+json).
 *
 * Declared safe: it shows a report as text (textContent only) and as charts whose specs are
 * built in TypeScript from the report's data; nothing from the kernel is run, parsed as HTML,
 * loaded as a URL or used as a Vega spec. So it renders in untrusted notebooks too, which is
 * how a saved diagnosis is seen by the next person who opens the notebook.
 */
import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { nullTranslator, TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { IRenderedReport, renderReport } from './detail';
import { isNewerSchema, isReport } from './protocol';
import { RenderVega } from './vega';

export const MIME_TYPE = 'application/vnd.memdiag.v1+json';

/**
 * Bubbles from an inline report when the user picks a line of the cell: a renderer cannot
 * reach the cell's editor, the notebook-side plugin can (`detail.line` is 1-based).
 */
export const JUMP_EVENT = 'memdiag-jump-to-line';

export interface IJumpDetail {
  line: number;
}

/** The root node's class: tests and styles rely on it. */
const REPORT_CLASS = 'memdiag-report';

export class RenderedReport extends Widget implements IRenderMime.IRenderer {
  constructor(options: IRenderMime.IRendererOptions, renderVega?: RenderVega) {
    super();
    this._mimeType = options.mimeType;
    this._trans = (options.translator ?? nullTranslator).load('memdiag');
    this._renderVega = renderVega;
    this.addClass(REPORT_CLASS);
    this.node.setAttribute('role', 'region');
    this.node.setAttribute('aria-label', this._trans.__('memdiag report'));
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    this._rendering?.dispose();
    this._rendering = null;
    const data = model.data[this._mimeType];
    if (isNewerSchema(data)) {
      this._message(
        this._trans.__(
          'This report was made by a newer memdiag: update memdiag.'
        )
      );
      return;
    }
    if (!isReport(data)) {
      this._message(
        this._trans.__(
          'memdiag cannot read this report: its data is not a valid memdiag report.'
        )
      );
      return;
    }
    this._rendering = renderReport(this.node, data, {
      trans: this._trans,
      renderVega: this._renderVega,
      workers: true,
      staleWithCell: true,
      onJumpToLine: line =>
        this.node.dispatchEvent(
          new CustomEvent<IJumpDetail>(JUMP_EVENT, {
            bubbles: true,
            detail: { line }
          })
        )
    });
    // Output areas and screenshots wait for renderModel: let them see the charts.
    await this._rendering.ready;
  }

  dispose(): void {
    this._rendering?.dispose();
    this._rendering = null;
    super.dispose();
  }

  private _message(text: string): void {
    const p = document.createElement('p');
    p.className = 'memdiag-report-message';
    p.textContent = text;
    this.node.replaceChildren(p);
  }

  private _mimeType: string;
  private _trans: TranslationBundle;
  private _renderVega: RenderVega | undefined;
  private _rendering: IRenderedReport | null = null;
}

export const rendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [MIME_TYPE],
  createRenderer: options => new RenderedReport(options)
};

const extension: IRenderMime.IExtension = {
  id: 'memdiag:mime',
  description: 'Renders %%memdiag reports inline, with charts.',
  rendererFactory,
  // Below text/html (50): the bundle's HTML is only a fallback for other frontends.
  rank: 10,
  dataType: 'json'
};

export default extension;
