/**
 * KernelBridge against a real kernel: a Jupyter server started here (the repository's .venv), its kernels
 * driven through @jupyterlab/services, memdiag loaded in them by the bridge itself.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

import { ISessionContext } from '@jupyterlab/apputils';
import { Kernel, KernelManager, ServerConnection } from '@jupyterlab/services';
import { Signal } from '@lumino/signaling';

import { BridgeStatus, KernelBridge } from '../kernelbridge';
import { NotebookMemoryModel } from '../model';
import { MemdiagTracker } from '../tracker';

const ROOT = path.resolve(__dirname, '..', '..');
const JUPYTER = path.join(ROOT, '.venv', 'bin', 'jupyter');
const TOKEN = 'memdiag-jest';

jest.setTimeout(120_000);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port'))
      );
    });
  });
}

/** What a notebook's session context gives the bridge: its kernel and a signal when that changes. */
class FakeSessionContext {
  constructor(kernel: Kernel.IKernelConnection | null) {
    this.session = kernel ? { kernel } : null;
  }

  readonly kernelChanged = new Signal<
    this,
    {
      name: 'kernel';
      oldValue: Kernel.IKernelConnection | null;
      newValue: Kernel.IKernelConnection | null;
    }
  >(this);

  session: { kernel: Kernel.IKernelConnection | null } | null;

  change(kernel: Kernel.IKernelConnection | null): void {
    const oldValue = this.session?.kernel ?? null;
    this.session = { kernel };
    this.kernelChanged.emit({ name: 'kernel', oldValue, newValue: kernel });
  }

  asContext(): ISessionContext {
    return this as unknown as ISessionContext;
  }
}

let server: ChildProcess | null = null;
let manager: KernelManager;
const kernels: Kernel.IKernelConnection[] = [];

beforeAll(async () => {
  if (!fs.existsSync(JUPYTER)) {
    throw new Error(`${JUPYTER} is missing: run make install first`);
  }
  const port = await freePort();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'memdiag-jest-'));
  server = spawn(
    JUPYTER,
    [
      'server',
      `--port=${port}`,
      '--ip=127.0.0.1',
      '--no-browser',
      `--ServerApp.token=${TOKEN}`,
      `--ServerApp.root_dir=${root}`,
      '--ServerApp.allow_root=True'
    ],
    { stdio: 'ignore' }
  );
  const baseUrl = `http://127.0.0.1:${port}/`;
  // A loaded machine (jest's other workers, a build) has taken over 20 s to start the server: wait up to 90 s of the
  // hook's 120, and stop at once if the server exits.
  const started = Date.now();
  for (;;) {
    try {
      const response = await fetch(`${baseUrl}api/status?token=${TOKEN}`);
      if (response.ok) {
        break;
      }
    } catch {
      // Not listening yet.
    }
    if (server.exitCode !== null) {
      throw new Error(`the Jupyter server exited (${server.exitCode})`);
    }
    if (Date.now() - started > 90_000) {
      throw new Error('the Jupyter server did not start within 90 s');
    }
    await new Promise(resolve => setTimeout(resolve, 100));
  }
  const serverSettings = ServerConnection.makeSettings({
    baseUrl,
    wsUrl: `ws://127.0.0.1:${port}/`,
    token: TOKEN,
    appendToken: true,
    // jsdom's WebSocket is a real client (it runs on ws).
    WebSocket,
    fetch,
    Request,
    Headers
  });
  manager = new KernelManager({ serverSettings });
  await manager.ready;
});

afterAll(async () => {
  for (const kernel of kernels) {
    await kernel.shutdown().catch(() => undefined);
  }
  manager?.dispose();
  server?.kill();
});

async function startKernel(): Promise<Kernel.IKernelConnection> {
  const kernel = await manager.startNew({ name: 'python3' });
  kernels.push(kernel);
  await kernel.info;
  return kernel;
}

function statusOf(bridge: KernelBridge, wanted: BridgeStatus): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new Error(
            `bridge is ${bridge.status} (${bridge.detail}), not ${wanted}`
          )
        ),
      60_000
    );
    const check = (): void => {
      if (bridge.status === wanted) {
        clearTimeout(timer);
        bridge.stateChanged.disconnect(check);
        resolve();
      }
    };
    bridge.stateChanged.connect(check);
    check();
  });
}

/** Run code as the notebook cell `cellId`; resolves when the model holds a report of it. */
async function runCell(
  kernel: Kernel.IKernelConnection,
  model: NotebookMemoryModel,
  cellId: string,
  code: string
): Promise<void> {
  const before = model.forCell(cellId).length;
  await kernel.requestExecute({ code }, true, { cellId }).done;
  for (let i = 0; model.forCell(cellId).length === before; i++) {
    if (i > 200) {
      throw new Error(`no report for ${cellId}`);
    }
    await new Promise(resolve => setTimeout(resolve, 50));
  }
}

describe('KernelBridge against a real kernel', () => {
  it('loads memdiag, gets reports, and after a restart marks the old ones stale and talks again', async () => {
    const kernel = await startKernel();
    const model = new NotebookMemoryModel();
    const bridge = new KernelBridge({
      sessionContext: new FakeSessionContext(kernel).asContext(),
      model,
      autoLoad: () => true
    });
    await statusOf(bridge, 'ready');
    await runCell(kernel, model, 'c1', 'held = bytearray(30_000_000)');
    const first = model.latest('c1')!;
    expect(first.verdict.kind).toBe('retains');
    expect(model.isStale(first)).toBe(false);

    await kernel.restart();
    await statusOf(bridge, 'ready');
    expect(model.isStale(first)).toBe(true);
    expect(model.latestLive()).toBeNull();
    await runCell(kernel, model, 'c1', 'x = 1');
    expect(model.latest('c1')).not.toBe(first);
    expect(model.isStale(model.latest('c1')!)).toBe(false);
    expect(model.executions).toHaveLength(2);
    bridge.dispose();
  });

  it('follows a kernel change: the new kernel is talked to, the old one’s reports are the past', async () => {
    const first = await startKernel();
    const second = await startKernel();
    const session = new FakeSessionContext(first);
    const model = new NotebookMemoryModel();
    const bridge = new KernelBridge({
      sessionContext: session.asContext(),
      model,
      autoLoad: () => true
    });
    await statusOf(bridge, 'ready');
    await runCell(first, model, 'a', 'y = 2');
    const old = model.latest('a')!;
    session.change(second);
    await statusOf(bridge, 'ready');
    expect(model.isStale(old)).toBe(true);
    await runCell(second, model, 'b', 'z = 3');
    expect(model.isStale(model.latest('b')!)).toBe(false);
    // The old kernel's comm target is gone: its reports no longer reach this notebook.
    await first.requestExecute({ code: 'w = 4' }, true, { cellId: 'a' }).done;
    await new Promise(resolve => setTimeout(resolve, 500));
    expect(model.forCell('a')).toHaveLength(1);
    bridge.dispose();
  });

  it('shares one bridge between two views of a notebook, and reconnects after one closes and the kernel restarts', async () => {
    const kernel = await startKernel();
    const session = new FakeSessionContext(kernel);
    const context = { ready: Promise.resolve(), path: 'views.ipynb' };
    const widgetAdded = new Signal<unknown, any>({});
    const currentChanged = new Signal<unknown, any>({});
    const panel = () => {
      const disposed = new Signal<unknown, void>({});
      return {
        context,
        sessionContext: session.asContext(),
        disposed,
        content: { model: { cells: [] } }
      };
    };
    const notebooks = {
      forEach: () => undefined,
      widgetAdded,
      currentChanged,
      currentWidget: null
    };
    const tracker = new MemdiagTracker({
      notebooks: notebooks as any,
      autoLoad: () => true
    });
    const one = panel();
    const two = panel();
    widgetAdded.emit(one);
    widgetAdded.emit(two);
    const memory = tracker.get(one as any)!;
    expect(tracker.get(two as any)).toBe(memory);
    expect(memory.panels).toHaveLength(2);
    await statusOf(memory.bridge, 'ready');
    await runCell(kernel, memory.model, 'v', 'kept = bytearray(1_000_000)');
    expect(memory.model.forCell('v')).toHaveLength(1);

    two.disposed.emit();
    expect(tracker.get(one as any)).toBe(memory);
    expect(memory.panels).toHaveLength(1);
    await kernel.restart();
    await statusOf(memory.bridge, 'ready');
    await runCell(kernel, memory.model, 'v', 'kept = 2');
    expect(memory.model.forCell('v')).toHaveLength(2);
    one.disposed.emit();
    expect(tracker.get(one as any)).toBeUndefined();
    expect(memory.bridge.isDisposed).toBe(true);
  });

  it('says when the kernel speaks an older protocol', async () => {
    const kernel = await startKernel();
    const bridge = new KernelBridge({
      sessionContext: new FakeSessionContext(kernel).asContext(),
      model: new NotebookMemoryModel(),
      autoLoad: () => false
    });
    await statusOf(bridge, 'not-loaded');
    // A memdiag whose hello says protocol 0.
    await kernel.requestExecute({
      code: [
        'import memdiag, comm',
        'memdiag._bootstrap = lambda: comm.create_comm(target_name="memdiag", data={"type": "hello", "protocol": 0, "version": "0.0.1", "config": {}, "history": []})'
      ].join('\n')
    }).done;
    await bridge.load();
    await statusOf(bridge, 'too-old');
    bridge.dispose();
  });

  it('gives up waiting for a hello that never comes, in words', async () => {
    const kernel = await startKernel();
    const bridge = new KernelBridge({
      sessionContext: new FakeSessionContext(kernel).asContext(),
      model: new NotebookMemoryModel(),
      autoLoad: () => false,
      helloTimeoutMs: 1500
    });
    await statusOf(bridge, 'not-loaded');
    await kernel.requestExecute({
      code: 'import memdiag\nmemdiag._bootstrap = lambda: None'
    }).done;
    await bridge.load();
    expect(bridge.status).toBe('connecting');
    await statusOf(bridge, 'no-answer');
    bridge.dispose();
  });
});
