"""The kernel's own survivors are not the cell's (probes/leftovers.py): a two-line cell reports what it made.

Before, `x = [1, 2, 3]; y = {'a': x}` reported 25 new objects in rows of str, list, tuple, cell, code, generator,
method: the census's own closure cells, memdiag's progress records, IPython's event arguments, history records and
linecache entry, the `with` blocks of the kernel's threads. Through a real kernel, and one by one where that is pure.
"""
import asyncio
import itertools
import threading
import time

from kernel import new_id

# What memdiag and IPython leave around a cell: never a row of the user's growth.
KERNEL_ROWS = {"cell", "generator", "coroutine", "method", "tuple_iterator", "code"}


def _runs(k, code, runs=3):
    cell = new_id()
    for _ in range(runs):
        k.execute(code, cell_id=cell)
    return [r for r in k.reports() if r["cell_id"] == cell]


def test_a_two_line_cell_reports_its_own_objects(shared_kernel):
    reports = _runs(shared_kernel, "x = [1, 2, 3]\ny = {'a': x}", runs=4)[1:]  # the first may compile what others reuse
    clean = 0
    for report in reports:
        rows = {row["type"]: row for row in report["objects"]["growth"]}
        assert rows["dict"]["count"] >= 1 and rows["list"]["count"] >= 1, rows
        clean += not KERNEL_ROWS & rows.keys()
    # A kernel thread caught halfway through its work (ipykernel's IOPub thread sending a message) may leave a closure
    # cell or an iterator of its own in one run; memdiag's and IPython's own are never there.
    assert clean >= len(reports) - 1, [r["objects"]["growth"] for r in reports]


def test_the_history_threads_write_is_not_the_cells(tmp_path):
    """With IPython's history in a file, as every user has it, a thread writes each cell's input to sqlite while the
    cell runs and the census comes: its `with` blocks' bound __exit__, cursor, iterators and rows were rows of a
    two-line cell in 32 runs of 38 (the other tests' in-memory history has no such thread)."""
    from kernel import Kernel

    k = Kernel(history=tmp_path / "history.sqlite")
    try:
        k.execute("%load_ext memdiag")
        assert k.value("get_ipython().history_manager.save_thread is not None") is True
        reports = _runs(k, "x = [1, 2, 3]\ny = {'a': x}", runs=12)[1:]
    finally:
        k.close()
    rows = [{row["type"]: row["count"] for row in r["objects"]["growth"]} for r in reports]
    clean = [r for r in rows if r == {"dict": 1, "list": 1, "int": 3}]
    # As above: a kernel thread caught halfway through its work may leave one run an object of its own.
    assert len(clean) >= len(reports) - 1, rows


def test_a_cell_after_a_pause_counts_nothing_of_memdiags_timer(shared_kernel):
    """memdiag's timer thread (progress.py) sleeps until woken LINGER_S after the last cell, and the next cell's
    post-cell work wakes it: the arguments of its wait (a tuple of True and the timeout) were a `tuple` row, with a
    bool and a float, under every cell that came after a pause, as a user's do."""
    shared_kernel.execute("from memdiag import progress as _p; _p.LINGER_S = 0.05")
    cell = new_id()
    try:
        for _ in range(6):
            time.sleep(0.3)  # the thread is asleep until woken
            shared_kernel.execute("x = [1, 2, 3]\ny = {'a': x}", cell_id=cell)
    finally:
        shared_kernel.execute("_p.LINGER_S = 5.0; del _p")
    reports = [r for r in shared_kernel.reports() if r["cell_id"] == cell][1:]
    rows = [{row["type"]: row["count"] for row in r["objects"]["growth"]} for r in reports]
    clean = [r for r in rows if r == {"dict": 1, "list": 1, "int": 3}]
    # As above: a kernel thread caught halfway through its work may leave one run an object of its own.
    assert len(clean) >= len(reports) - 1, rows


def test_what_a_cell_prints_is_the_kernels_to_send(shared_kernel):
    """A cell that prints: ipykernel buffers the text in a StringIO keyed by a frozenset of the request's header items
    and schedules its flush on the IOPub thread's loop (a TimerHandle with its Context, a partial, bound methods), and
    IPython 9 records it in HistoryManager.outputs (a HistoryOutput, its bundle dict, the pieces' list): 34 survivors
    in rows of str, tuple, list, dict, frozenset, partial and StringIO under every print."""
    reports = _runs(shared_kernel, "x = [1, 2, 3]\nprint('hello', len(x))", runs=5)[1:]
    rows = [{row["type"]: row["count"] for row in r["objects"]["growth"]} for r in reports]
    # The buffer's StringIO also kept the printed pieces in a list no gc referrer shows, until read: a `list` row.
    clean = [r for r in rows if r == {"list": 1, "int": 3}]
    assert len(clean) >= len(reports) - 1, rows


def test_a_plot_leaves_none_of_the_kernels_messages(shared_kernel):
    """A plot shown inline: ipykernel sets the request's parent header in ContextVars as it displays (a new mapping of
    the context: HAMT nodes, the variables, header dicts with their datetime), and the PNG's message waits on the
    IOPub thread; 14 survivors in rows of ContextVar, str, dict, hamt, decimal.Context and datetime under every plot.
    What is left is matplotlib's own: matplotlib_inline's list of figures to draw, made anew by each show, and on
    matplotlib 3.10 the font properties its caches keep of every plot (28 FontProperties, their dicts and tuples)."""
    shared_kernel.execute("import matplotlib\nmatplotlib.use('module://matplotlib_inline.backend_inline')\n"
                          "import matplotlib.pyplot as plt")
    reports = _runs(shared_kernel, "plt.plot([1, 2, 3]); plt.show()", runs=5)[1:]
    rows = [{row["type"] for row in r["objects"]["growth"]} for r in reports]
    kernels = {"_contextvars.ContextVar", "_contextvars.Context", "hamt", "hamt_bitmap_node", "decimal.Context",
               "datetime.datetime", "bytes", "cell", "code", "function", "functools.partial"}
    clean = [r for r in rows if not r & kernels]
    assert len(clean) >= len(reports) - 1, rows


def test_an_async_cell_leaves_nothing_of_the_loop_that_ran_it(shared_kernel):
    """An async cell runs as a task of ipykernel's event loop: the handle waking the task that ran it (running as the
    census comes, held by the loop's frame), the interrupt handler's clean-up, their argument tuples and Context.run
    were 4 survivors (3 tuples, a builtin method) of `await asyncio.sleep(0.01)` on every run, the last tuple the
    running handle's call unpacked (`Context.run(callback, *args)`) on the C stack alone."""
    shared_kernel.execute("import asyncio")
    reports = _runs(shared_kernel, "await asyncio.sleep(0.01)", runs=4)[1:]
    clean = [r for r in reports if r["objects"]["new"] == 0 and r["objects"]["growth"] == []]
    assert len(clean) >= len(reports) - 1, [r["objects"]["growth"] for r in reports]


def test_a_cell_that_binds_a_string_leaves_no_survivors(shared_kernel):
    """A str is not tracked by the gc: nothing the cell made survives as an object the census counts. memdiag's own
    record that the cell imported nothing, made after the freeze, was a `list` row on every cell."""
    reports = _runs(shared_kernel, "s = 'abc' * 10", runs=4)[1:]
    clean = [r for r in reports if r["objects"]["new"] == 0 and r["objects"]["growth"] == []]
    # As above: a kernel thread caught halfway through its work may leave one run an object of its own.
    assert len(clean) >= len(reports) - 1, [r["objects"] for r in reports]


def test_the_users_generators_and_methods_stay_rows(shared_kernel):
    """A few of them (every one in the census's sample, where the kernel's are told apart one by one) stay the
    user's."""
    code = ("def numbers():\n    yield from range(3)\n\n"
            "gens = [numbers() for _ in range(6)]\nbound = [gens.append for _ in range(6)]")
    report = _runs(shared_kernel, code, runs=2)[-1]
    rows = {row["type"]: row for row in report["objects"]["growth"]}
    # At least: a kernel thread caught mid-work may add one of its own (contextvars' Context.run)
    assert rows["generator"]["count"] >= 6, rows
    assert rows["builtin_function_or_method"]["count"] >= 6, rows


def test_what_runs_the_machinery_is_the_kernels():
    from memdiag.probes import leftovers

    def mine():
        yield 1

    cond = threading.Condition()
    assert leftovers.runs_machinery(cond.__exit__)  # threading's object
    assert leftovers.runs_machinery(threading.Lock().__exit__)  # _thread's
    assert not leftovers.runs_machinery(itertools.count().__next__)
    assert not leftovers.runs_machinery(mine())
    assert not leftovers.runs_machinery([].append)
    assert not leftovers.runs_machinery(len)
    coroutine = asyncio.sleep(0)  # asyncio's code
    try:
        assert leftovers.runs_machinery(coroutine)
    finally:
        coroutine.close()


def test_a_loops_callbacks_are_the_kernels_only_when_they_run_its_code():
    """Of the loop a cell ran in, only the handles whose callback is the kernel's code are roots: a task of the user's
    stays the user's, and a callable object of the user's is not even asked for an attribute (no user code runs)."""
    from memdiag import machinery
    from memdiag.probes import leftovers

    asked = []

    class Callback:
        def __getattr__(self, name):
            asked.append(name)
            raise AttributeError(name)

        def __call__(self):
            pass

    async def users():
        pass

    loop = asyncio.new_event_loop()
    try:
        kind = machinery.file_kinds()
        task = loop.create_task(users())
        handles = [loop.call_soon(Callback()), loop.call_soon(task.cancel), loop.call_soon(leftovers.settle, None, 1.0),
                   loop.call_soon(print)]
        found = [leftovers._runs_kernel_code(h, asyncio.Task, kind) for h in handles]
        assert found == [False, False, True, False], found
        assert asked == []
        loop.run_until_complete(asyncio.sleep(0))
    finally:
        loop.close()


def test_linecache_entries_are_the_kernels_without_reading_their_lines(monkeypatch):
    """The newest linecache entries and what they hold are the kernel's (a cell's lines, a library file a traceback
    read); their lines are strings, never survivors, and are not looked at one by one (7,000 of them: 0.1 ms a cell)."""
    import linecache

    from memdiag.probes import leftovers

    lines = [f"line {i}\n" for i in range(7000)]
    full = (len(lines), None, lines, "<lib>")
    getline = (lambda: lines)  # noqa: E731 - a lazy entry holds a function
    lazy = (getline,)
    monkeypatch.setattr(linecache, "cache", {"old": (1, None, ["x\n"], "<old>"), "lib": full, "lazy": lazy})
    found = leftovers.held(None)
    assert all(id(obj) in found for obj in (full, lines, lazy, getline))
    assert not any(id(line) in found for line in lines)


def test_a_kernel_threads_locals_are_held_and_reading_them_makes_no_garbage():
    """What a kernel thread's innermost frames hold is the kernel's (thread_locals); and reading the threads' frames
    leaves no reference cycle: this thread's own frame, kept in sys._current_frames()'s dict, once made the census's
    frames cyclic garbage that held a 30 MB bytearray a re-run had let go of until the next collection."""
    import gc

    from tornado.platform.asyncio import AsyncIOLoop

    from memdiag.probes import leftovers

    io_loop = AsyncIOLoop(make_current=False)  # ipykernel's threads run tornado's loops: the kernel's code outermost
    loop = io_loop.asyncio_loop
    started = threading.Event()
    io_loop.add_callback(started.set)
    thread = threading.Thread(target=io_loop.start, daemon=True)
    thread.start()
    try:
        assert started.wait(10)
        gc.collect()
        gc.disable()
        try:
            assert any(value is loop for value in leftovers.thread_locals())
            assert id(loop) in leftovers.held(None)
            assert gc.collect() == 0
        finally:
            gc.enable()
    finally:
        io_loop.add_callback(io_loop.stop)
        thread.join(10)
        io_loop.close()


def test_the_first_cell_after_loading_counts_nothing_memdiag_made(kernel):
    """What memdiag made lazily on its first cell (ctypes classes for mallinfo2 and malloc_trim, its timers' thread)
    and IPython's logger module, imported by a shell's first cell, are made at load: the first `cache = []` showed 50
    objects of code, functions, classes and deques beside the user's list."""
    k = kernel
    k.execute("%load_ext memdiag")
    k.execute("cache = []", cell_id="first-after-load")
    report = next(r for r in k.reports() if r["cell_id"] == "first-after-load")
    types = {row["type"] for row in report["objects"]["growth"]}
    assert not types & {"code", "function", "type", "cell", "_ctypes.PyCFuncPtrType", "StgDict", "_ctypes.StgDict",
                        "collections.deque", "IPython.core.logger.Logger"}, report["objects"]["growth"]
