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
census of fewer than FEW_SURVIVORS objects, where these would be rows of their own, waits for that write to end
(wait_for_history, at most HISTORY_WAIT_S); a bigger one counts them among thousands, below any row.

From the roots, held() goes down through tuples, lists, dicts, sets and their iterators only, LEVELS deep: an instance
or a bound method is not looked into (its __self__ may be the user's). The user's own threads are not looked at:
what they hold is the user's.
"""
import gc
import itertools
import linecache
import operator
import sys
import threading
import time
import types

from .. import machinery, protocol

LEVELS = 3  # containers followed below a root, at most
LINECACHE_NEWEST = 4  # linecache entries looked at, newest first (one per cell; a traceback adds its files')
THREAD_FRAMES = 3  # a kernel thread's innermost frames whose locals are its work in progress (select, the loop's turn)
SHORT_CELL_S = 0.005  # a cell shorter than this (seconds) may end before the kernel's threads are done with its start
SETTLE_S = 0.0005  # and they are given this long (seconds) before its census
FEW_SURVIVORS = 2_000  # a census of fewer survivors waits for IPython's history thread to end its write
HISTORY_WAIT_S = 0.02  # at most this long (seconds); then the census goes on
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


def wait_for_history(shell):
    """Sleep, the GIL released, while history_writing(shell), for at most HISTORY_WAIT_S seconds, then once more
    (HISTORY_POLL_S: the thread lets go of the write's last objects after its locks). Returns the seconds waited."""
    start = time.perf_counter()
    deadline = start + HISTORY_WAIT_S
    while history_writing(shell) and time.perf_counter() < deadline:
        time.sleep(HISTORY_POLL_S)
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


def held(shell, extra=()):
    """{id: object} of what the kernel holds now (see the module's header): the roots and, through containers only,
    what they refer to, LEVELS deep, of the objects the gc tracks (the census's survivors are all tracked). `extra`:
    more roots (memdiag's own records, the hook's argument tuple)."""
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
    found.update((id(root), root) for root in roots)
    # Only what the gc tracks can be a survivor: an untracked referent is passed over at C speed.
    level = list(filter(gc.is_tracked, gc.get_referents(*roots)))
    del roots
    for depth in range(LEVELS + 1):
        deeper = []
        for obj in level:
            key = id(obj)
            if key in found:
                continue
            found[key] = obj
            if depth < LEVELS and id(type(obj)) in _CONTAINER_IDS:
                deeper.append(obj)
        if not deeper:
            break
        level = list(filter(gc.is_tracked, gc.get_referents(*deeper)))
    return found


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


# Types whose objects runs_machinery decides one by one (by id).
ASSOCIATED = frozenset(map(id, (*_CODE_OF, *_BOUND)))
