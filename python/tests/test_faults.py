"""Issue 7, items 2 and 3 (kernel side): interrupts, clients that send no cellId, two clients, threads, a closed comm,
a second bootstrap. The gc and tracemalloc are left as found whatever happens."""
import json
import time

import pytest
from kernel import Kernel, new_id
from test_footprint import gc_state

CLEAN = [0, True, 0, 0]  # freeze count, enabled, debug flags, len(gc.garbage)
TRACING = "import tracemalloc; print(tracemalloc.is_tracing())"
SLEEPY = "import time\nfor _ in range(600):\n    time.sleep(0.05)"


def _tracing(k):
    return k.execute(TRACING)["stdout"].strip() == "True"


def _interrupt(k, code, cell_id):
    """Run code, interrupt the kernel while it sleeps in the cell; returns the reply."""
    msg_id = k.submit(code, cell_id=cell_id)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # wait until the cell itself runs (memdiag's before() is done)
        msg = k.kc.iopub_channel.get_msg(timeout=30)
        if msg["msg_type"] == "execute_input" and msg["parent_header"].get("msg_id") == msg_id:
            break
    time.sleep(0.5)
    k.km.interrupt_kernel()
    return k.wait_all([msg_id])[msg_id]


@pytest.mark.parametrize("prefix", ["", "%%memdiag\n"])
def test_interrupted_cell_leaves_gc_and_tracemalloc_as_found(kernel, prefix):
    k = kernel
    k.execute("%load_ext memdiag")
    k.execute("%memdiag trace always")  # the cell is traced while it is interrupted
    cell = new_id()
    reply = _interrupt(k, prefix + SLEEPY, cell)
    assert reply["status"] == "error"
    assert any(o["content"].get("ename") == "KeyboardInterrupt" for o in reply["outputs"] if o["msg_type"] == "error")
    assert gc_state(k) == CLEAN
    k.execute("%memdiag trace off")
    assert not _tracing(k)
    report = next(r for r in k.reports() if r["cell_id"] == cell)
    assert report["raised"] and report["traced"]["enabled"] and not report["errors"]
    assert report["mode"] == ("deep" if prefix else "traced")
    # Said as what it was: stopped by the user, not an error whose frames keep memory.
    assert report["interrupted"] is True and "interrupted" in report["verdict"]["reason"], report["verdict"]
    # the kernel goes on recording
    k.execute("after = 1", cell_id="after-interrupt")
    assert k.reports()[-1]["cell_id"] == "after-interrupt"


INTERRUPT_IN = '''
import memdiag.recorder as _r
def _kbi(ctx):
    raise KeyboardInterrupt
_saved = (_r._BEFORE, _r._AFTER_FROZEN, _r._AFTER_THAWED)
'''


@pytest.mark.parametrize("stage", ["_BEFORE", "_AFTER_FROZEN", "_AFTER_THAWED"])
def test_keyboard_interrupt_during_memdiags_own_work(shared_kernel, stage):
    """An interrupt that lands in memdiag's hooks (simulated by a probe that raises it), with the gc frozen, held off
    (%%memdiag) and tracemalloc on: all given back, the cell's own output intact, and the next cells recorded."""
    k = shared_kernel
    k.execute(INTERRUPT_IN)
    k.execute(f"_r.{stage} = _r.{stage} + (('kbi', _kbi),)")
    try:
        for prefix in ("", "%%memdiag\n"):
            cell = new_id()
            out = k.execute(prefix + "x_kbi = [[] for _ in range(100)]\nprint('ran')", cell_id=cell)
            assert out["stdout"].startswith("ran\n")
            assert gc_state(k) == CLEAN
            assert not _tracing(k)
    finally:
        k.execute("_r._BEFORE, _r._AFTER_FROZEN, _r._AFTER_THAWED = _saved")
    k.execute("ok_again = 1", cell_id="kbi-after")
    assert k.reports()[-1]["cell_id"] == "kbi-after" and not k.reports()[-1]["errors"]
    assert gc_state(k) == CLEAN


def test_user_gc_calls_inside_cells(shared_kernel):
    """gc.disable(), gc.freeze(), gc.set_debug() called by the cell itself, in default and deep mode, are kept."""
    k = shared_kernel
    for prefix in ("", "%%memdiag\n"):
        k.execute(prefix + "import gc\ngc.disable()\ncyc = [[] for _ in range(10)]")
        assert gc_state(k) == [0, False, 0, 0]
        k.execute("gc.enable()")
        k.execute(prefix + "gc.set_debug(gc.DEBUG_UNCOLLECTABLE)\nl = []; l.append(l); del l")
        assert gc_state(k) == [0, True, gc_debug_uncollectable(k), 0]
        k.execute("gc.set_debug(0)")
        k.execute(prefix + "gc.freeze()")
        frozen, enabled, debug, garbage = gc_state(k)
        assert frozen > 0 and enabled and debug == 0 and garbage == 0
        k.execute("gc.unfreeze()")
        assert gc_state(k) == CLEAN
        k.execute(prefix + "gc.set_debug(gc.DEBUG_SAVEALL)\nl = []; l.append(l); del l\ngc.collect()")
        saved = k.value("len(gc.garbage)")
        assert saved >= 1  # the user's SAVEALL garbage is theirs: kept, not cleared by memdiag
        k.execute("gc.set_debug(0); gc.garbage.clear()")
        assert gc_state(k) == CLEAN


def gc_debug_uncollectable(k):
    return k.value("__import__('gc').DEBUG_UNCOLLECTABLE")


def test_cells_without_cell_id_are_keyed_by_source(shared_kernel):
    k = shared_kernel
    code = "no_id = bytearray(1000)"
    for _ in range(3):
        k.execute(code)
    k.execute("no_id_other = 1")
    runs = [r for r in k.reports()[-4:]]
    assert [r["cell_id"] for r in runs] == [None] * 4
    assert [r["run"] for r in runs] == [1, 2, 3, 1]
    assert len({r["source_hash"] for r in runs[:3]}) == 1 and runs[3]["source_hash"] != runs[0]["source_hash"]


def test_console_and_notebook_on_one_kernel(shared_kernel):
    """A console (no cellId) and a notebook (cellId) on the same kernel: each cell recorded once, both see reports."""
    notebook = shared_kernel
    console = Kernel(km=notebook.km)
    try:
        cells = [new_id() for _ in range(3)]
        for n, cell in enumerate(cells):
            notebook.execute(f"nb_{n} = [0] * 1000", cell_id=cell)
            console.execute(f"con_{n} = [0] * 1000")
        history = notebook.value("[(r['cell_id'], r['errors']) for r in __import__('memdiag').history()[-6:]]")
        assert [h[0] for h in history] == [cells[0], None, cells[1], None, cells[2], None]
        assert all(not errors for _, errors in history)
        assert len(console.reports()) >= 6  # iopub goes to every client
    finally:
        console.close()


THREAD = '''
import threading, gc
stop = threading.Event()
errors_in_thread = []
def churn():
    try:
        n = 0
        while not stop.is_set():
            a = [dict(i=i) for i in range(2000)]
            b = []; b.append(b)
            n += 1
            if n % 20 == 0:
                gc.collect()
    except BaseException as exc:
        errors_in_thread.append(repr(exc))
worker = threading.Thread(target=churn, daemon=True)
worker.start()
'''


def test_threads_allocating_while_cells_run(shared_kernel, report_validator):
    k = shared_kernel
    k.execute(THREAD)
    try:
        start = len(k.reports())
        for n in range(12):
            prefix = "%%memdiag\n" if n % 4 == 0 else ""
            k.execute(prefix + f"t_{n} = [[i] for i in range(5000)]", cell_id=f"thr-{n}")
    finally:
        k.execute("stop.set(); worker.join()")
    assert k.value("errors_in_thread") == []
    for report in k.reports()[start:]:
        report_validator(report)
        assert not report["errors"], report["errors"]
    assert gc_state(k) == CLEAN


def test_comm_closed_by_frontend(shared_kernel):
    k = shared_kernel
    k.execute('__import__("memdiag")._bootstrap()', silent=True)
    comm_id = [m for m in k.comm_messages if m["msg_type"] == "comm_open"][-1]["content"]["comm_id"]
    k.kc.shell_channel.send(k.kc.session.msg("comm_close", {"comm_id": comm_id, "data": {}}))
    k.comm_messages.clear()
    for n in range(3):
        out = k.execute(f"closed_{n} = 1\nprint('fine')", cell_id=f"closed-{n}")
        assert out["stdout"] == "fine\n"
    assert not k.comm_messages  # nothing sent on a closed comm
    ids = k.value("[r['cell_id'] for r in __import__('memdiag').history()]")
    assert ids[-3:] == ["closed-0", "closed-1", "closed-2"]
    k.execute('__import__("memdiag")._bootstrap()', silent=True)  # a browser reload opens a new one
    hello = [m for m in k.comm_messages if m["msg_type"] == "comm_open"][-1]["content"]["data"]
    assert any(r["cell_id"] == "closed-2" for r in hello["history"])


def test_bootstrap_twice_keeps_one_set_of_hooks(kernel):
    k = kernel
    for _ in range(3):
        k.execute('__import__("memdiag")._bootstrap()', silent=True)
    k.comm_messages.clear()
    k.execute("once = 1", cell_id="once")
    assert [r["cell_id"] for r in k.reports()] == ["once"]
    hooks = k.value("[len([f for f in get_ipython().events.callbacks[e] if 'memdiag' in getattr(f, '__module__', '')])"
                    " for e in ('pre_run_cell', 'post_run_cell')] + "
                    "[len(__import__('memdiag')._state['recorder'].report_listeners)]")
    assert hooks == [1, 1, 2]
    assert gc_state(k) == CLEAN
    k.execute("%unload_ext memdiag")
    assert json.loads(k.execute("import gc; print(__import__('json').dumps("
                                "[getattr(gc.collect, '__memdiag_original__', None) is None, len(gc.callbacks)]))")
                      ["stdout"]) == [True, 0]
