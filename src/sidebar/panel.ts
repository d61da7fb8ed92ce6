/**
 * The memory sidebar: the kernel's status in the header, then the timeline, the executions and the
 * selected execution's details. Follows the current notebook; does no rendering work while hidden.
 */
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { SidePanel } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import { AccordionPanel } from '@lumino/widgets';

import { memoryIcon } from '../icons';
import { revealCell, revealLine } from '../navigate';
import { IReport } from '../protocol';
import { IMemdiagTracker } from '../tokens';
import { DetailSection } from './details';
import { StatusView } from './status';
import { ExecutionTable } from './table';
import { TimelineView } from './timeline';
import { Selection } from './view';
import { WorkersView } from './workers';

/** The sidebar's widget id: tests and the layout restorer rely on it. */
export const SIDEBAR_ID = 'memdiag-sidebar';

export class MemorySidebar extends SidePanel {
  constructor(options: MemorySidebar.IOptions) {
    const translator = options.translator ?? nullTranslator;
    super({ translator });
    const trans = translator.load('memdiag');
    this.id = SIDEBAR_ID;
    this.addClass('memdiag-Sidebar');
    this.title.icon = memoryIcon;
    this.title.caption = trans.__('Memory (memdiag)');
    this.node.setAttribute('role', 'region');
    this.node.setAttribute('aria-label', trans.__('memdiag memory sidebar'));

    const selection = this._selection;
    const pick = (report: IReport): void => {
      selection.report = report;
      const panel = this._tracker.current?.panel;
      if (panel && report.cell_id) {
        void revealCell(panel, report.cell_id);
      }
    };
    const jumpToLine = (report: IReport, line: number): void => {
      const panel = this._tracker.current?.panel;
      if (panel && report.cell_id) {
        void revealLine(panel, report.cell_id, line);
      }
    };
    this._status = new StatusView({
      trans,
      selection,
      settings: options.settings
    });
    this.header.addWidget(this._status);
    this._details = new DetailSection({
      trans,
      selection,
      translator,
      onJumpToLine: jumpToLine
    });
    this._views = [
      this._status,
      new TimelineView({ trans, selection, onPick: pick }),
      new ExecutionTable({ trans, selection, onPick: pick }),
      this._details
    ];
    for (const view of this._views.slice(1)) {
      this.addWidget(view);
    }
    // Not added here: the section adds itself while the notebook has Dask workers to show.
    this._workers = new WorkersView({ trans, selection, host: this });
    this._workers.presentChanged.connect((_, present) => {
      // Room for the section when it comes; a section the user folded means the user arranges them.
      const content = this.content;
      const folded =
        content instanceof AccordionPanel &&
        content.widgets.some(w => w !== this._workers && w.isHidden);
      if (present && this._sized && !folded) {
        requestAnimationFrame(() => this._size());
      }
    });
    this._views.push(this._workers);
    this._tracker = options.tracker;
    this._tracker.currentChanged.connect(this._follow, this);
    this._follow();
  }

  /** Select an execution of the current notebook: its row comes on screen and the details show it. */
  showReport(report: IReport): void {
    if (this._tracker.current?.model.executions.includes(report)) {
      this._selection.report = report;
    }
  }

  /** Open "Why is … alive?" in the details, where its answer stays; `name` is filled in when given. */
  openWhy(name?: string): void {
    const content = this.content;
    if (content instanceof AccordionPanel) {
      // A collapsed section: expand it first.
      content.expand(content.widgets.indexOf(this._details));
    }
    this._details.openWhy(name);
  }

  set settings(settings: ISettingRegistry.ISettings | null) {
    this._status.settings = settings;
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    // Once, so a size the user dragged stays; again only when the Workers section comes.
    if (!this._sized) {
      this._sized = true;
      requestAnimationFrame(() => this._size());
    }
  }

  /**
   * The timeline with both its panels and legends, a few rows of executions, and as much to the details, the
   * longest section; with the Workers section the details give it room, never the executions (the trial's table
   * showed two rows of nineteen once the workers' section had taken its share).
   */
  private _size(): void {
    const content = this.content;
    if (!(content instanceof AccordionPanel) || !this.isAttached) {
      return;
    }
    const workers = content.widgets.includes(this._workers);
    const sizes = content.widgets.map(widget =>
      widget instanceof TimelineView
        ? workers
          ? 0.35
          : 0.4
        : widget instanceof ExecutionTable
          ? 0.2
          : widget instanceof DetailSection
            ? workers
              ? 0.25
              : 0.4
            : 0.2
    );
    content.setRelativeSizes(sizes);
  }

  dispose(): void {
    this._tracker.currentChanged.disconnect(this._follow, this);
    this._workers.dispose();
    super.dispose();
  }

  private _follow(): void {
    const memory = this._tracker.current;
    if (this._selection.report && memory !== this._views[0].memory) {
      this._selection.report = null;
    }
    for (const view of this._views) {
      view.memory = memory;
    }
  }

  private _sized = false;
  private _tracker: IMemdiagTracker;
  private _selection = new Selection();
  private _status: StatusView;
  private _details: DetailSection;
  private _workers: WorkersView;
  private _views: Array<
    StatusView | TimelineView | ExecutionTable | DetailSection | WorkersView
  >;
}

export namespace MemorySidebar {
  export interface IOptions {
    tracker: IMemdiagTracker;
    translator?: ITranslator;
    settings?: ISettingRegistry.ISettings | null;
  }
}
