"""The kernel's own survivors of a cell: what IPython, ipykernel and memdiag hold at the census's moment, by identity.

From before the cell until the census the gc is frozen, so every tracked object made in between is a survivor, the
kernel's as much as the user's: a two-line cell `x = [1, 2, 3]; y = {'a': x}` left 25 of them where the user made
two. The census (_leave_out_held) takes out those found here:

- IPython's records of the cell: its linecache entry (the cell's lines, for tracebacks) and the history manager's
  input and output caches (held);
- memdiag's progress records (Progress.records);
- IPython's call of the post_run_cell hooks: the event's argument tuple, the copy of the callback list it iterates and
  that copy's iterator (event_call, among the survivors of those types when the sample holds all of them);
- generators and coroutines that run the machinery's code, and methods bound to the machinery's objects
  (runs_machinery): the `with` blocks and waits of the kernel's threads.

- what the kernel's other threads are working on (thread_locals): the locals of the innermost THREAD_FRAMES frames
  of each thread the kernel started (ipykernel's IOPub and control threads, IPython's history thread), which only
  their running frames hold. ipykernel 7's threads wait in `selectors.select`, whose `ready = []` is made after the
  freeze on every cell: a `list` row under every cell, before.

And before the census of a cell that ended within a few milliseconds of its start, the kernel's threads are given
half a millisecond to finish sending its first messages (settle): a thread caught halfway through left one such cell
in four a few tuples, lists and bound methods, held only by its C stack.

IPython writes each cell's input to its history file (sqlite, on disk) from a thread of its own, woken as the cell
starts; a write takes 3-5 ms here, most of it the commit's fsync, with the GIL released. A census that comes while it
is writing counts what its stack holds: the `with` blocks' bound `__exit__` of the lock and the connection, a cursor,
the rows' tuples and strings (a two-line cell showed a `builtin_function_or_method` row in 32 runs of 38, a
`sqlite3.Cursor` in 6, with the history on disk as every user has it; the tests' in-memory history has no thread). A
census of fewer than FEW_SURVIVORS objects, where these would be rows of their own, waits for that write to end, and
in a kernel for the IOPub thread to send what the cell queued (wait_for_kernel_threads, at most HISTORY_WAIT_S each:
a message in flight is its frames in a closure on that thread's stack alone); a bigger one counts them among
thousands, below any row.

From the roots, held() goes down through tuples, lists, dicts, sets and their iterators only, LEVELS deep: an instance
or a bound method is not looked into (its __self__ may be the user's). The user's own threads are not looked at:
what they hold is the user's.

- the kernel's records of what the cell printed or displayed (output_records): IPython 9 keeps every output in
  `HistoryManager.outputs[n]` (a HistoryOutput, its bundle dict, the printed pieces' list), ipykernel 7 buffers a
  stream's text in a StringIO keyed by a frozenset of the request's header items, and the flush it schedules waits in
  the IOPub thread's event loop (a TimerHandle, its Context, a partial, bound methods). A cell that printed one line
  had 34 such survivors, rows of str, tuple, list, dict, frozenset, partial and StringIO under every print. As it
  displays, ipykernel sets the request's parent header in ContextVars: the context's new mapping (HAMT nodes), the
  variables and header dicts were rows under every plot (context_records). The queues of the event loops the
  kernel runs (the IOPub thread's, a Dask client's) and, of the loop the cell ran in, the callbacks that run the
  kernel's code (an async cell's). These roots are walked through any of the cell's survivors (`new`), of whatever
  type: they hold only the kernel's. A StringIO keeps the pieces written to it in a list no referrer shows until it is
  read: the buffers are read before the census (join_stream_buffers).
"""
import collections
import contextvars
import functools
import gc
import io
import itertools
import linecache
import operator
import os
import sys
import threading
import time
import types

from .. import machinery, protocol

LEVELS = 3  # containers followed below a root, at most
# The ContextVars of ipykernel (the request's parent header, by channel and for output and display) and decimal's
# (a Context made in each copy of the context a request runs in): what they hold is the kernel's.
KERNEL_CONTEXT_VARS = frozenset({"parent_header", "shell_parent", "shell_parent_ident", "decimal_context"})
_BASE_EVENTS = os.path.join("asyncio", "base_events.py")
_HAMT_NODES = frozenset({"hamt", "hamt_bitmap_node", "hamt_array_node", "hamt_collision_node"})
# Below the output records, at most: a message waiting to be sent is a closure's cell's argument tuple's list of frames.
RECORD_LEVELS = 6
LINECACHE_NEWEST = 4  # linecache entries looked at, newest first (one per cell; a traceback adds its files')
THREAD_FRAMES = 3  # a kernel thread's innermost frames whose locals are its work in progress (select, the loop's turn)
SHORT_CELL_S = 0.005  # a cell shorter than this (seconds) may end before the kernel's threads are done with its start
SETTLE_S = 0.0005  # and they are given this long (seconds) before its census
FEW_SURVIVORS = 2_000  # a census of fewer survivors waits for the kernel's threads (history write, IOPub queue)
HISTORY_WAIT_S = 0.02  # at most this long (seconds) for each; then the census goes on
OUTPUTS_NEWEST = 4  # IPython's output records looked at, newest first (one list per cell that printed or displayed)
HISTORY_POLL_S = 0.0002  # how often (seconds) the write is looked at, the GIL released in between
_CONTAINERS = (tuple, list, dict, set, frozenset, type(iter(())), type(iter([])), type(iter({})),
               type(iter({}.values())), type(iter({}.items())), type(iter(set())))
_CONTAINER_IDS = frozenset(map(id, _CONTAINERS))
_LIST_ITERATOR = type(iter([]))
_LOCK = type(threading.Lock())
_CODE_OF = {types.GeneratorType: "gi_code", types.CoroutineType: "cr_code", types.AsyncGeneratorType: "ag_code"}
_BOUND = (types.MethodType, types.BuiltinMethodType)
# The types of what events.trigger makes to call the hooks: the argument tuple, the callback list's copy, its iterator.
EVENT_TYPES = (tuple, list, _LIST_ITERATOR)


def event_call(shell, result, survivors):
    """[objects] among `survivors` that IPython's events.trigger made to call the post_run_cell hooks of `shell` with
    `result`: the argument tuple (result,), the copy of the shell's callback list it iterates, and that copy's
    iterator."""
    callbacks = getattr(getattr(shell, "events", None), "callbacks", None)
    callbacks = callbacks.get("post_run_cell") if type(callbacks) is dict else None
    if type(callbacks) is not list:
        callbacks = None
    found, iterators = [], []
    for obj in survivors:
        tp = type(obj)
        if tp is tuple and len(obj) == 1 and obj[0] is result:
            found.append(obj)
        elif (tp is list and callbacks is not None and obj is not callbacks and len(obj) == len(callbacks)
              and all(map(operator.is_, obj, callbacks))):
            found.append(obj)
        elif tp is _LIST_ITERATOR:
            iterators.append(obj)
    copies = {id(obj) for obj in found if type(obj) is list}
    if copies and iterators:
        found.extend(it for it in iterators if any(id(seq) in copies for seq in gc.get_referents(it)))
    return found


def _kernel_threads():
    """[innermost frame] of every other thread the kernel started: those whose outermost frame that is not
    `threading`'s own (Thread.run, _bootstrap) runs the kernel's or memdiag's code. Read from sys._current_frames();
    [] where it fails."""
    try:
        frames = sys._current_frames()
    except Exception:  # noqa: BLE001 - an interpreter without it
        return []
    # This thread's own frame first out: kept in a local, it would make this frame a reference cycle that holds, until
    # the next collection, the census's frames and every list held() built (a 30 MB bytearray a cell had let go of).
    frames.pop(threading.get_ident(), None)
    kind = machinery.file_kinds()
    threads = []
    for innermost in frames.values():
        outermost, frame = None, innermost
        while frame is not None:
            if frame.f_code.co_filename != threading.__file__:
                outermost = frame.f_code.co_filename
            frame = frame.f_back
        if kind(outermost) in (machinery.KIND_KERNEL, machinery.KIND_OWN):
            threads.append(innermost)
    return threads


def _kernel_streams():
    """[sys.stdout, sys.stderr] where they are the kernel's streams (ipykernel's OutStream), not one the user put in
    their place (what a redirect holds is theirs)."""
    return [stream for stream in (sys.stdout, sys.stderr) if machinery.is_machinery_type(type(stream))]


def _stream_buffers(stream):
    """The StringIO buffers of a kernel stream: ipykernel 7's `_buffers` ({frozenset(header items): StringIO}), or
    ipykernel 6's `_buffer`."""
    buffers = getattr(stream, "_buffers", None)
    found = list(dict.values(buffers)) if isinstance(buffers, dict) else [getattr(stream, "_buffer", None)]
    return [buffer for buffer in found if type(buffer) is io.StringIO]


def join_stream_buffers():
    """Have the kernel's output streams' buffers (io.StringIO, see output_records) join what the cell printed into
    their own text: on 3.10 and 3.11 a StringIO written to twice or more keeps the pieces in a list of its own, which no
    gc referrer shows, until it is read: a `list` row, with the pieces as `str`, under every cell that printed (a
    print writes its text and its newline apart). read(0) at the end where writes leave it reads nothing and turns
    the list into the StringIO's text (getvalue keeps a list of one joined string); 3.12 keeps no list."""
    for stream in _kernel_streams():
        for buffer in _stream_buffers(stream):
            buffer.read(0)


def settle(shell, cell_s):
    """Before the census of a cell that ran for `cell_s` seconds in `shell`: when it ran for less than SHORT_CELL_S in
    a kernel (ipykernel's shell has a `kernel`), give the kernel's threads SETTLE_S seconds, the GIL released, to
    finish the work the cell's start gave them: ipykernel's IOPub thread sends the cell's status and input messages,
    and the tuples, lists and bound methods on its C stack were 5-7 survivors of one such cell in four (none in 78
    with the wait). A longer cell leaves them time enough on its own; a terminal IPython has no such thread."""
    if cell_s < SHORT_CELL_S and getattr(shell, "kernel", None) is not None:
        time.sleep(SETTLE_S)


def history_writing(shell):
    """True while IPython's history thread (HistorySavingThread) of `shell` has a write to do (its save_flag set) or
    is doing one (it holds the history manager's input or output cache lock). Reads no frame: sys._current_frames()
    would make frame objects of the other threads' stacks, new survivors of the cell."""
    history = getattr(shell, "history_manager", None)
    thread = getattr(history, "save_thread", None)
    if not isinstance(thread, threading.Thread) or not thread.is_alive():
        return False
    flag = getattr(history, "save_flag", None)
    if isinstance(flag, threading.Event) and flag.is_set():
        return True
    for name in ("db_input_cache_lock", "db_output_cache_lock"):
        lock = getattr(history, name, None)
        if type(lock) is _LOCK and lock.locked():
            return True
    return False


def iopub_thread():
    """ipykernel's IOPub thread (its IOPubThread, which sends every message the cell's output makes), found through
    sys.stdout when that is the kernel's stream; None elsewhere."""
    streams = [stream for stream in _kernel_streams() if stream is sys.stdout]
    thread = getattr(streams[0], "pub_thread", None) if streams else None
    return thread if callable(getattr(thread, "schedule", None)) else None


def wait_for_kernel_threads(shell):
    """Before the census of a few survivors, let the kernel's threads finish what the cell gave them: sleep, the GIL
    released, while history_writing(shell), for at most HISTORY_WAIT_S seconds; then, in a kernel, have the IOPub
    thread run a lock's release after what is queued (it runs its events in order: the message it is sending when
    asked, popped from its queue and held by its stack alone, is sent by then), for at most HISTORY_WAIT_S seconds;
    then sleep HISTORY_POLL_S more (a thread lets go of its last objects after its locks). Returns the seconds
    waited."""
    start = time.perf_counter()
    deadline = start + HISTORY_WAIT_S
    while history_writing(shell) and time.perf_counter() < deadline:
        time.sleep(HISTORY_POLL_S)
    pub = iopub_thread()
    if pub is not None:
        done = threading.Lock()
        done.acquire()
        try:
            pub.schedule(done.release)
            done.acquire(timeout=HISTORY_WAIT_S)
        except Exception:  # noqa: BLE001 - a closed or odd IOPub thread: the census goes on
            pass
    time.sleep(HISTORY_POLL_S)
    return time.perf_counter() - start


def thread_locals():
    """[values] of the locals of the innermost THREAD_FRAMES frames of every other thread the kernel started (see the
    module's header), the gc-tracked ones only."""
    values = []
    for frame in _kernel_threads():
        for _ in range(THREAD_FRAMES):
            if frame is None:
                break
            values.extend(filter(gc.is_tracked, frame.f_locals.values()))
            frame = frame.f_back
    return values


def context_records():
    """[objects] of the context the cell runs in that are the kernel's: its mapping's nodes (a HAMT, replaced by every
    ContextVar.set) and the variables in KERNEL_CONTEXT_VARS with their values. ipykernel runs each request in a
    copy of a context and sets the request's parent header in ContextVars as it displays: the nodes, the variables,
    the header dicts (and decimal's context, made afresh in each copy) were rows under every plot. A variable the cell
    set by another name, and its value, stay the cell's."""
    context = contextvars.copy_context()
    found = []
    level = [obj for obj in gc.get_referents(context) if type(obj).__name__ in _HAMT_NODES]
    while level:
        found.extend(level)
        level = [obj for obj in gc.get_referents(*level) if type(obj).__name__ in _HAMT_NODES]
    for var, value in context.items():
        if var.name in KERNEL_CONTEXT_VARS:
            found.append(var)
            found.append(value)
    return found


def output_records(shell, loops=()):
    """[roots] of the kernel's records of the cell's output (see the module's header): the current context's
    (context_records), the OUTPUTS_NEWEST newest entries of IPython's HistoryManager.outputs; for sys.stdout and
    sys.stderr when they are the kernel's streams, their buffers, the IOPub thread's queue and its event loop's
    callbacks (loop_queues); the callbacks of the event `loops` given (a Dask client's: its periodic heartbeats,
    rescheduled while the cell ran); and those of the running loop that run the kernel's code, the one it runs now
    included (an async cell left `Task.task_wakeup` of the task that ran it, with its argument tuples, on every run).
    Private attributes are read with getattr and checked by type: a version without them gives fewer roots, never an
    error."""
    roots = context_records()
    outputs = getattr(getattr(shell, "history_manager", None), "outputs", None)
    if isinstance(outputs, dict):
        roots.extend(itertools.islice(reversed(dict.values(outputs)), OUTPUTS_NEWEST))
    loops = list(loops)
    for stream in _kernel_streams():
        # ipykernel 7's buffers are keyed by frozensets of the request's header items: the dict is a root too.
        buffers = getattr(stream, "_buffers", None)
        if isinstance(buffers, dict):
            roots.append(buffers)
        roots.extend(_stream_buffers(stream))
        # What the cell asked the IOPub thread to send and it has not yet sent: closures holding a message's frames.
        events = getattr(getattr(stream, "pub_thread", None), "_events", None)
        if type(events) is collections.deque and all(events is not root for root in roots):
            roots.append(events)
        loops.append(getattr(getattr(stream, "_io_loop", None), "asyncio_loop", None))
    done = []
    for loop in loops:
        if loop is not None and all(loop is not seen for seen in done):
            done.append(loop)
            roots.extend(loop_queues(loop))
    # The loop the cell itself ran in (ipykernel's): only the callbacks that run the kernel's code (waking the task
    # that ran the cell, the interrupt handler's clean-up); a task of the user's, and what it holds, stay the user's.
    asyncio = sys.modules.get("asyncio")
    running = getattr(asyncio, "_get_running_loop", None)
    loop = running() if callable(running) else None
    if loop is not None and all(loop is not seen for seen in done):
        kind = machinery.file_kinds()
        task_type = getattr(asyncio, "Task", None)
        handles = [handle for queue in loop_queues(loop) for handle in list(queue)]
        running_handle = _running_handle()
        if running_handle is not None:
            handles.append(running_handle)
        roots.extend(handle for handle in handles if _runs_kernel_code(handle, task_type, kind))
    return roots


def _running_handle():
    """The asyncio Handle this thread's event loop is running now (the `handle` local of BaseEventLoop._run_once
    below this frame: popped from the loop's queue, held by that frame alone), or None."""
    frame = sys._getframe(1)
    try:
        while frame is not None:
            code = frame.f_code
            if code.co_name == "_run_once" and code.co_filename.endswith(_BASE_EVENTS):
                return frame.f_locals.get("handle")
            frame = frame.f_back
        return None
    finally:
        del frame  # a frame kept in a local of its own callee's frame would be a reference cycle


def _runs_kernel_code(handle, task_type, kind):
    """True for an asyncio Handle whose callback runs the kernel's or memdiag's code: a function of theirs, or a
    step of a task whose coroutine is theirs. Read through types, never an attribute of the user's objects."""
    callback = getattr(handle, "_callback", None)
    while type(callback) is functools.partial:  # add_done_callback(partial(...)): the function it calls
        callback = callback.func
    bound = type(callback) is _BOUND[0] or type(callback) is _BOUND[1]  # a callable of the user's: not asked
    target = callback.__self__ if bound else None
    if isinstance(task_type, type) and issubclass(type(target), task_type):
        code = getattr(target.get_coro(), "cr_code", None)
    elif type(callback) is types.FunctionType:
        code = callback.__code__
    else:
        return False
    return code is not None and kind(code.co_filename) in (machinery.KIND_OWN, machinery.KIND_KERNEL)


def loop_queues(loop):
    """[the scheduled and the ready callbacks] of an asyncio event loop (its `_scheduled` list and `_ready` deque),
    where it has them."""
    queues = (getattr(loop, "_scheduled", None), getattr(loop, "_ready", None))
    return [q for q in queues if type(q) is list or type(q) is collections.deque]


def held(shell, extra=(), new=frozenset(), loops=()):
    """{id: object} of what the kernel holds now (see the module's header): the roots and, through containers only,
    what they refer to, LEVELS deep, of the objects the gc tracks (the census's survivors are all tracked). `extra`:
    more roots (memdiag's own records, the hook's argument tuple). `new`: ids of the cell's survivors through which
    the output records (output_records, with the event `loops`' callbacks) are walked whatever their type."""
    roots = []
    found = {}
    cache = getattr(linecache, "cache", None)
    if isinstance(cache, dict):
        # An entry ((size, mtime, lines, name), or a lazy one's (getline,)) and what it holds, not each line: strings
        # are never survivors, and a library file a traceback or a warning read has thousands.
        for entry in itertools.islice(reversed(cache.values()), LINECACHE_NEWEST):
            found[id(entry)] = entry
            if type(entry) is tuple:
                found.update((id(item), item) for item in entry if gc.is_tracked(item))
    history = getattr(shell, "history_manager", None)
    for name in ("db_input_cache", "db_output_cache"):
        value = getattr(history, name, None) if history is not None else None
        if type(value) is list:
            roots.append(value)
    # The history's sqlite connections (the manager's and its thread's): each keeps a weak reference to every cursor
    # it made in a list of its own, dead ones included until it prunes them.
    for owner in (history, getattr(history, "save_thread", None)):
        db = getattr(owner, "db", None) if owner is not None else None
        if db is not None and protocol.type_attr(type(db), "__module__") == "sqlite3":
            roots.append(db)
    roots.extend(extra)
    roots.extend(thread_locals())
    _walk(roots, found, frozenset(), LEVELS)
    del roots
    _walk(output_records(shell, loops), found, new, RECORD_LEVELS)
    return found


def _walk(roots, found, through, levels):
    """Add `roots` to `found` ({id: object}) and, `levels` deep, the tracked objects they refer to through containers
    and through the objects whose ids are in `through` (also those an earlier walk found without going below them)."""
    found.update((id(root), root) for root in roots)
    seen = set(map(id, roots))
    # Only what the gc tracks can be a survivor: an untracked referent is passed over at C speed.
    level = list(filter(gc.is_tracked, gc.get_referents(*roots)))
    for depth in range(levels + 1):
        deeper = []
        for obj in level:
            key = id(obj)
            if key in seen:
                continue
            seen.add(key)
            found[key] = obj
            if depth < levels and (id(type(obj)) in _CONTAINER_IDS or key in through):
                deeper.append(obj)
        if not deeper:
            break
        level = list(filter(gc.is_tracked, gc.get_referents(*deeper)))


def runs_machinery(obj, kind=None):
    """True for a generator or coroutine running the machinery's code, or a method bound to one of the machinery's
    objects (a lock's or a context manager's __exit__ waiting on a kernel thread's stack): the kernel's, whoever holds
    it. Read through the types' own descriptors: no user code runs. `kind`: machinery.file_kinds(), when many are
    asked in a row."""
    tp = type(obj)
    attr = _CODE_OF.get(tp)
    if attr is not None:
        return (kind or machinery.file_kind)(getattr(obj, attr).co_filename) is not None
    if tp is _BOUND[0] or tp is _BOUND[1]:
        return machinery.is_machinery_type(type(obj.__self__))
    return False


def bound_to(obj, held):
    """True for a method bound to one of the objects `held` ({id: object}, held()): what the kernel holds runs it
    (a running handle's Context.run, made as the loop calls it and held by the loop's stack alone)."""
    tp = type(obj)
    return (tp is _BOUND[0] or tp is _BOUND[1]) and id(obj.__self__) in held


def made_of(obj, held):
    """True for a tuple whose items are all among the objects `held` ({id: object}): the arguments a call on the
    kernel's stack unpacked (a running handle's `Context.run(callback, *args)`), held by that stack alone."""
    return type(obj) is tuple and len(obj) > 0 and all(id(item) in held for item in obj)


# Types whose objects runs_machinery decides one by one (by id).
ASSOCIATED = frozenset(map(id, (*_CODE_OF, *_BOUND)))
