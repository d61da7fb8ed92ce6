/**
 * The conversation with one notebook's kernel: bootstrap the kernel side, accept its comm,
 * validate every message, and feed the reports to the notebook's model. Survives kernel
 * restarts and kernel changes.
 */
import { ISessionContext } from '@jupyterlab/apputils';
import { Kernel, KernelMessage } from '@jupyterlab/services';
import { PromiseDelegate, UUID } from '@lumino/coreutils';
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { NotebookMemoryModel } from './model';
import {
  IReplyMap,
  IRequestMap,
  CommMessage,
  KernelConfig,
  parseKernelMessage,
  parseReplyResult,
  OldProtocolError,
  ProtocolError,
  RequestAction,
  requestMessage
} from './comm';

/** The comm target both sides use. */
export const COMM_TARGET = 'memdiag';

/** Loads the extension when needed and (re)opens the comm; leaves no name in the user's namespace. */
export const BOOTSTRAP_CODE = '__import__("memdiag")._bootstrap()';

/** How long a request may wait for its reply. */
const REQUEST_TIMEOUT_MS = 60_000;

/** How long a bootstrapped kernel side may take to say hello (a busy kernel answers after its cell). */
export const HELLO_TIMEOUT_MS = 20_000;

/**
 * - `no-kernel`: the notebook has no kernel.
 * - `connecting`: waiting for the kernel's info or its comm.
 * - `ready`: the kernel side is loaded and talking.
 * - `not-loaded`: auto-load is off and nobody loaded the kernel side yet.
 * - `missing`: the kernel's environment cannot import memdiag.
 * - `unsupported`: not a Python kernel.
 * - `outdated`: the kernel speaks a newer protocol than this frontend.
 * - `too-old`: the kernel's memdiag is older than this frontend (it lacks the bootstrap, or says an older
 *   protocol).
 * - `no-answer`: the kernel side was loaded but never said hello.
 * - `error`: the bootstrap failed for another reason (see `detail`).
 */
export type BridgeStatus =
  | 'no-kernel'
  | 'connecting'
  | 'ready'
  | 'not-loaded'
  | 'missing'
  | 'unsupported'
  | 'outdated'
  | 'too-old'
  | 'no-answer'
  | 'error';

export class KernelBridge implements IDisposable {
  constructor(options: KernelBridge.IOptions) {
    this._sessionContext = options.sessionContext;
    this._model = options.model;
    this._autoLoad = options.autoLoad;
    this._helloTimeoutMs = options.helloTimeoutMs ?? HELLO_TIMEOUT_MS;
    this._sessionContext.kernelChanged.connect(this._onKernelChanged, this);
    this._attach(this._sessionContext.session?.kernel ?? null);
  }

  get model(): NotebookMemoryModel {
    return this._model;
  }

  get status(): BridgeStatus {
    return this._status;
  }

  /** A few words on the status: the kernel's language, or the error. */
  get detail(): string {
    return this._detail;
  }

  /** The kernel-side memdiag version, once it said hello. */
  get kernelVersion(): string | null {
    return this._kernelVersion;
  }

  /** The kernel-side configuration, as last reported. */
  get config(): KernelConfig | null {
    return this._config;
  }

  /** Emitted when the status, the detail or the config changes. */
  get stateChanged(): ISignal<this, void> {
    return this._stateChanged;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** Load the kernel side now (also when auto-load is off). */
  async load(): Promise<void> {
    const kernel = this._kernel;
    if (!kernel) {
      return;
    }
    this._setStatus('connecting');
    let reply: KernelMessage.IExecuteReplyMsg;
    try {
      reply = await kernel.requestExecute(
        {
          code: BOOTSTRAP_CODE,
          silent: true,
          store_history: false,
          stop_on_error: false
        },
        true
      ).done;
    } catch (reason) {
      if (kernel === this._kernel) {
        this._setStatus('error', String(reason));
      }
      return;
    }
    if (kernel !== this._kernel || this._isDisposed) {
      return;
    }
    const content = reply.content;
    if (content.status === 'error') {
      const missing =
        content.ename === 'ModuleNotFoundError' ||
        content.ename === 'ImportError';
      // A memdiag from before the bootstrap existed.
      const old =
        content.ename === 'AttributeError' &&
        content.evalue.includes('_bootstrap');
      this._setStatus(
        missing ? 'missing' : old ? 'too-old' : 'error',
        `${content.ename}: ${content.evalue}`
      );
    } else if (content.status === 'aborted') {
      this._setStatus('error', 'the bootstrap was aborted');
    } else if (this._status !== 'ready') {
      // The kernel opens the comm and its hello makes the bridge ready; a silence must end in words.
      this._waitForHello(kernel);
    }
  }

  /**
   * Send a request to the kernel side and wait for its reply, whose result is checked against what
   * `action` answers: a malformed result rejects like an error reply.
   */
  request<K extends RequestAction>(
    action: K,
    args: IRequestMap[K]
  ): Promise<IReplyMap[K]> {
    const comm = this._comm;
    if (!comm || comm.isDisposed || this._status !== 'ready') {
      return Promise.reject(
        new Error('memdiag is not connected to this kernel')
      );
    }
    const requestId = UUID.uuid4();
    const pending = new PromiseDelegate<IReplyMap[K]>();
    const timer = setTimeout(() => {
      this._pending.delete(requestId);
      pending.reject(new Error(`memdiag: no reply to "${action}"`));
    }, REQUEST_TIMEOUT_MS);
    this._pending.set(requestId, {
      timer,
      reject: reason => pending.reject(reason),
      resolve: result => {
        const parsed = parseReplyResult(action, result);
        if (parsed === null) {
          pending.reject(
            new Error(`memdiag: the kernel's reply to "${action}" is malformed`)
          );
        } else {
          pending.resolve(parsed);
        }
      }
    });
    comm.send(requestMessage(requestId, action, args));
    return pending.promise;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    clearTimeout(this._helloTimer);
    this._detach();
    this._sessionContext.kernelChanged.disconnect(this._onKernelChanged, this);
    Signal.clearData(this);
  }

  private _onKernelChanged(
    _: ISessionContext,
    change: { newValue: Kernel.IKernelConnection | null }
  ): void {
    if (change.newValue && change.newValue === this._kernel) {
      // A restart keeps the connection object; the status handler restarts the conversation.
      return;
    }
    if (this._kernel && this._kernel.id !== change.newValue?.id) {
      // Another kernel (or none): what the old one reported belongs to the past. A new connection to the
      // same kernel process is not a new segment.
      this._model.startSegment();
    }
    this._detach();
    this._attach(change.newValue);
  }

  private _attach(kernel: Kernel.IKernelConnection | null): void {
    this._kernel = kernel;
    if (!kernel) {
      this._setStatus('no-kernel');
      return;
    }
    kernel.registerCommTarget(COMM_TARGET, this._onCommOpen);
    kernel.statusChanged.connect(this._onKernelStatus, this);
    void this._start(kernel);
  }

  private _detach(): void {
    const kernel = this._kernel;
    if (kernel && !kernel.isDisposed) {
      kernel.removeCommTarget(COMM_TARGET, this._onCommOpen);
      kernel.statusChanged.disconnect(this._onKernelStatus, this);
    }
    this._kernel = null;
    // Tell the kernel we left: the kernel side stops sending to a comm nobody reads.
    const comm = this._comm;
    if (comm && !comm.isDisposed && kernel && !kernel.isDisposed) {
      try {
        comm.close();
      } catch {
        // The connection is already gone.
      }
    }
    this._dropComm();
  }

  private async _start(kernel: Kernel.IKernelConnection): Promise<void> {
    this._setStatus('connecting');
    if (kernel.status !== 'idle') {
      // Talking to a kernel that is still starting or restarting can stall its start-up handshake.
      this._startWhenIdle = true;
      return;
    }
    this._startWhenIdle = false;
    let language = '';
    try {
      language = (await kernel.info).language_info.name ?? '';
    } catch (reason) {
      if (kernel === this._kernel) {
        this._setStatus('error', String(reason));
      }
      return;
    }
    if (
      kernel !== this._kernel ||
      this._isDisposed ||
      this._status === 'ready'
    ) {
      return;
    }
    if (language.toLowerCase() !== 'python') {
      this._setStatus('unsupported', language);
    } else if (this._autoLoad()) {
      await this.load();
    } else {
      this._setStatus('not-loaded');
    }
  }

  private _waitForHello(kernel: Kernel.IKernelConnection): void {
    clearTimeout(this._helloTimer);
    this._helloTimer = setTimeout(() => {
      if (
        kernel === this._kernel &&
        !this._isDisposed &&
        this._status === 'connecting'
      ) {
        this._setStatus('no-answer');
      }
    }, this._helloTimeoutMs);
  }

  private _onKernelStatus(
    kernel: Kernel.IKernelConnection,
    status: Kernel.Status
  ): void {
    if (
      status === 'restarting' ||
      status === 'autorestarting' ||
      status === 'dead'
    ) {
      this._model.startSegment();
    }
    if (status === 'idle' || status === 'dead') {
      // The cell's report ends its progress; a cell whose report never came must not keep it.
      this._model.setProgress(null);
    }
    if (
      status === 'restarting' ||
      status === 'autorestarting' ||
      status === 'starting'
    ) {
      this._startWhenIdle = true;
      this._dropComm();
      this._setStatus('connecting');
    } else if (status === 'idle' && this._startWhenIdle) {
      void this._start(kernel);
    }
  }

  /** Arrow function: registered as a comm target callback. */
  private _onCommOpen = (
    comm: Kernel.IComm,
    msg: KernelMessage.ICommOpenMsg
  ): void => {
    if (this._isDisposed) {
      return;
    }
    // The kernel keeps one comm; a new one replaces the old.
    this._dropComm();
    this._comm = comm;
    // A dropped comm (a kernel change, a newer comm) must not feed this notebook any more.
    comm.onMsg = message => {
      if (this._comm === comm) {
        this._handle(message.content.data);
      }
    };
    comm.onClose = () => {
      if (this._comm === comm) {
        this._comm = null;
      }
    };
    this._handle(msg.content.data);
  };

  private _dropComm(): void {
    this._comm = null;
    for (const { reject, timer } of this._pending.values()) {
      clearTimeout(timer);
      reject(new Error('memdiag: the kernel connection was reset'));
    }
    this._pending.clear();
  }

  private _handle(data: unknown): void {
    let message: CommMessage | null;
    try {
      message = parseKernelMessage(data);
    } catch (error) {
      if (error instanceof OldProtocolError) {
        this._setStatus('too-old', error.message);
        return;
      }
      if (error instanceof ProtocolError) {
        this._setStatus('outdated', error.message);
        return;
      }
      throw error;
    }
    if (!message) {
      return;
    }
    switch (message.type) {
      case 'hello':
        clearTimeout(this._helloTimer);
        this._kernelVersion = message.version;
        this._config = message.config;
        this._model.merge(message.history);
        this._setStatus('ready', '');
        break;
      case 'report':
        this._model.add(message.report);
        break;
      case 'progress':
        this._model.setProgress({
          cell_id: message.cell_id,
          execution_count: message.execution_count,
          stage: message.stage,
          text: message.text,
          elapsed_s: message.elapsed_s
        });
        break;
      case 'config':
        this._config = message.config;
        this._stateChanged.emit();
        break;
      case 'reply': {
        const pending = this._pending.get(message.request_id);
        if (pending) {
          this._pending.delete(message.request_id);
          clearTimeout(pending.timer);
          if (message.ok) {
            pending.resolve(message.result);
          } else {
            pending.reject(
              new Error(message.error ?? 'memdiag: request failed')
            );
          }
        }
        break;
      }
    }
  }

  private _setStatus(status: BridgeStatus, detail = ''): void {
    if (status === this._status && detail === this._detail) {
      return;
    }
    this._status = status;
    this._detail = detail;
    this._stateChanged.emit();
  }

  private _sessionContext: ISessionContext;
  private _model: NotebookMemoryModel;
  private _autoLoad: () => boolean;
  private _helloTimeoutMs: number;
  private _helloTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  private _kernel: Kernel.IKernelConnection | null = null;
  private _comm: Kernel.IComm | null = null;
  private _pending = new Map<string, Private.IPending>();
  private _startWhenIdle = false;
  private _status: BridgeStatus = 'no-kernel';
  private _detail = '';
  private _kernelVersion: string | null = null;
  private _config: KernelConfig | null = null;
  private _isDisposed = false;
  private _stateChanged = new Signal<this, void>(this);
}

export namespace KernelBridge {
  export interface IOptions {
    sessionContext: ISessionContext;
    model: NotebookMemoryModel;
    /** Read at each kernel start: whether to load the kernel side without being asked. */
    autoLoad: () => boolean;
    /** How long the loaded kernel side may take to say hello; HELLO_TIMEOUT_MS when absent. */
    helloTimeoutMs?: number;
  }
}

namespace Private {
  /** A request waiting for its reply. */
  export interface IPending {
    timer: ReturnType<typeof setTimeout>;
    /** Check the reply's result against the request's action, and settle the request. */
    resolve(result: unknown): void;
    reject(reason: Error): void;
  }
}
