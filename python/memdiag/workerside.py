"""What memdiag runs inside Dask worker processes, through `client.run` (probes/cluster.py sends these functions).

Workers need no memdiag: probes/cluster.py compiles this file's source into a namespace that is no importable module,
so cloudpickle sends each function by value. Hence the rules here: the standard library only (and the worker object
distributed passes as `dask_worker`), imports inside the functions, no memdiag import, nothing raised for a reading
that fails (a field is None instead). State kept between two calls lives on the worker object, under one attribute.

Units: bytes for memory, seconds for time.
"""

STATE_ATTR = "_memdiag_state"


def read_memory(dask_worker):
    """This worker's memory now, in Dask's own terms (distributed.scheduler.MemoryState): a dict with
    "name" (str), "address" (str), "rss" (bytes: the process's resident set, as the worker's SystemMonitor reads it
    with psutil), "managed" (bytes: sizeof() of the keys held in memory, less the in-memory size of those spilled;
    never above rss), "unmanaged" (rss - managed), "spilled" (bytes on disk) and "memory_limit" (bytes, or None).

    A fresh reading, not the last heartbeat's."""
    try:
        rss = int(dask_worker.monitor.get_process_memory())
    except Exception:  # noqa: BLE001 - an old worker without the monitor method
        import psutil

        rss = int(psutil.Process().memory_info().rss)
    try:
        spilled_memory, spilled_disk = dask_worker.data.spilled_total
    except AttributeError:  # spilling disabled: data is a plain dict
        spilled_memory, spilled_disk = 0, 0
    nbytes = int(getattr(dask_worker.state, "nbytes", 0) or 0)
    managed = min(rss, max(0, nbytes - int(spilled_memory)))
    manager = getattr(dask_worker, "memory_manager", None)
    limit = getattr(manager, "memory_limit", None)
    return {"name": str(dask_worker.name), "address": str(dask_worker.address), "rss": rss, "managed": managed,
            "unmanaged": rss - managed, "spilled": int(spilled_disk),
            "memory_limit": int(limit) if limit else None}


def give_back(dask_worker):
    """Ask glibc to return the free memory it keeps to the OS (`malloc_trim(0)`, as Dask's docs on unmanaged memory
    advise), then read the memory again: read_memory's dict plus "trimmed" (bytes of RSS given back, >= 0) and
    "trim" (False where there is no malloc_trim: not glibc)."""
    import ctypes
    import ctypes.util

    before = read_memory(dask_worker)["rss"]
    done = False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
        done = True
    except (OSError, AttributeError):
        pass
    out = read_memory(dask_worker)
    out["trimmed"] = max(before - out["rss"], 0)
    out["trim"] = done
    return out


def _is_container(value):
    return type(value) in (list, dict, set, tuple, bytearray, frozenset) or type(value).__name__ == "deque"


def _size(value, limit=100_000):
    """Bytes a global keeps: its own size plus, for a container, its items' own sizes (one level, `limit` items)."""
    import sys

    try:
        total = sys.getsizeof(value)
        if type(value) is dict:
            for n, (k, v) in enumerate(dict.items(value)):
                if n >= limit:
                    break
                total += sys.getsizeof(k) + sys.getsizeof(v)
        elif _is_container(value) and type(value) is not bytearray:
            for n, item in enumerate(value):
                if n >= limit:
                    break
                total += sys.getsizeof(item)
        return total
    except Exception:  # noqa: BLE001 - a hostile __sizeof__ on the worker
        return 0


def _globals(skip):
    """{(module, name): (id, len or -1)} of every module global, modules whose top-level name is in `skip` left out."""
    import sys

    seen = {}
    for modname, module in list(sys.modules.items()):
        if module is None or modname.split(".", 1)[0] in skip:
            continue
        try:
            namespace = module.__dict__
        except Exception:  # noqa: BLE001
            continue
        if type(namespace) is not dict:
            continue
        for name, value in list(dict.items(namespace)):
            if type(name) is not str or name.startswith("__"):
                continue
            try:
                length = len(value) if _is_container(value) else -1
            except Exception:  # noqa: BLE001
                length = -1
            seen[(modname, name)] = (id(value), length)
    return seen


def trace_start(nframes, skip, dask_worker=None):
    """Start tracemalloc on this worker (`nframes` frames per allocation) and remember its module globals (modules
    whose top-level name is in `skip`, the worker's machinery, left out). Returns {"started": bool, "why": str or
    None}: a tracemalloc already running (someone else's) is left alone and not read."""
    import tracemalloc

    if tracemalloc.is_tracing():
        setattr(dask_worker, STATE_ATTR, None)
        return {"started": False, "why": "tracemalloc was already running on this worker"}
    state = {"globals": _globals(skip)}
    setattr(dask_worker, STATE_ATTR, state)
    answer = {"started": True, "why": None}  # made before tracing starts: no site of ours in the cell's
    tracemalloc.start(nframes)
    return answer


def trace_stop(skip, top_n, min_bytes, dask_worker=None):
    """Stop what trace_start started and say what the cell left on this worker:

    {"traced": bool, "why": str or None, "retained": bytes still held of what was allocated while tracing,
    "machinery": the part of it that is no site's (allocated under the worker's machinery, see _site_of),
    "peak": tracemalloc's peak (bytes),
    "sites": [{"file", "line", "size" (bytes), "count" (blocks)}] (the `top_n` biggest, each at the innermost frame of
    the user's before the machinery `skip` in its stack, see _site_of; cloudpickled functions have the file
    "<dynamic-code>"),
    "globals": [{"module", "name", "type", "status" ("new", "grown" or "rebound"), "size" (bytes it keeps now),
    "added" (items added, or None), "added_size" (bytes of those)}] (at least `min_bytes` each, biggest first, `top_n`
    of them)}. Safe to call when tracing never started."""
    import tracemalloc

    state = getattr(dask_worker, STATE_ATTR, None)
    if state is None:
        if tracemalloc.is_tracing():
            return {"traced": False, "why": "tracemalloc was already running on this worker", "sites": [],
                    "globals": []}
        return {"traced": False, "why": "tracing had not started on this worker", "sites": [], "globals": []}
    setattr(dask_worker, STATE_ATTR, None)
    try:
        snapshot = tracemalloc.take_snapshot()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    grown = _grown(state["globals"], skip, top_n, min_bytes)  # before anything of ours could touch a module global
    sites, machinery = _sites(snapshot, skip, top_n)
    retained = sum(trace.size for trace in snapshot.traces)
    del snapshot
    return {"traced": True, "why": None, "retained": retained, "machinery": machinery, "peak": peak, "sites": sites,
            "globals": grown}


def _frame_kinds(skip):
    """A memoizing function filename -> "machinery", "helper", "neutral" or "user", for this worker's frames.

    machinery: a file of a module whose top-level name is in `skip`, found from the modules this worker imported (a
    package's directory, a plain module's file), as the kernel finds its own (memdiag/machinery.py), so wherever
    distributed is installed (site-packages, dist-packages, a source checkout); `<frozen importlib._bootstrap>` too.
    helper: the rest of the standard library (functools, copyreg, weakref, logging, `<frozen os>`): the site of no
    allocation, it belongs to whoever called it. neutral: code with no file (`<string>` of a dataclass or a namedtuple).
    user: everything else, the tasks' code (`<dynamic-code>` for a function cloudpickle sent by value) and libraries.
    own: tracemalloc's (reading the traces while memdiag's own `<dynamic-code>` calls it)."""
    import os
    import sys
    import tracemalloc

    def normal(path):
        path = path[:-1] if path.endswith(".pyc") else path
        return path.replace("\\", "/")

    skip, dirs, files = set(skip), set(), set()
    for name in skip:
        module = sys.modules.get(name)
        if module is None:
            continue
        try:
            filename = module.__dict__.get("__file__")
            paths = module.__dict__.get("__path__")
            paths = list(paths) if paths is not None else None
        except Exception:  # noqa: BLE001 - a module replaced by something odd
            continue
        if paths is not None:
            dirs.update(normal(str(p)).rstrip("/") + "/" for p in paths if isinstance(p, str) and p)
        elif isinstance(filename, str) and filename:
            files.add(normal(filename))
    dirs = sorted(dirs, key=len, reverse=True)
    stdlib = normal(os.path.dirname(os.__file__)) + "/"  # not sysconfig: it would grow its globals
    kinds = {tracemalloc.__file__: "own"}

    def kind(filename):
        found = kinds.get(filename)
        if found is not None:
            return found
        if filename.startswith("<frozen "):
            found = "machinery" if filename[8:-1].split(".", 1)[0] in skip else "helper"
        elif filename.startswith("<") and filename != "<dynamic-code>":
            found = "neutral"
        else:
            path = normal(filename)
            if path in files or any(path.startswith(d) for d in dirs):
                found = "machinery"
            elif path.startswith(stdlib) and "-packages/" not in path[len(stdlib):]:
                found = "helper"
            else:
                found = "user"
        kinds[filename] = found
        return found

    return kind


def _site_of(frames, kind_of):
    """The frame an allocation is the user's at (frames oldest first), or None for the worker's own: the innermost
    frame that is the user's, as the kernel's sites skip IPython's frames. The machinery's frames are passed over (a
    task that calls into distributed or imports a module allocated at its own line), and so are the standard
    library's helpers (they belong to their caller) and code with no file; a tracemalloc frame makes it nobody's
    (memdiag's own reading). A stack with no frame of the user's in the frames kept (distributed unpickling a message
    through copyreg, logging its records) is the machinery's."""
    for frame in reversed(frames):
        kind = kind_of(frame.filename)
        if kind == "user":
            return frame
        if kind == "own":
            return None
    return None


def _sites(snapshot, skip, top_n):
    kind_of = _frame_kinds(skip)
    totals, machinery = {}, 0
    for trace in snapshot.traces:
        chosen = _site_of(trace.traceback, kind_of)
        if chosen is None:  # the worker's own work (messages, bookkeeping): no site of the cell's
            machinery += trace.size
            continue
        key = (chosen.filename, chosen.lineno)
        size, count = totals.get(key, (0, 0))
        totals[key] = (size + trace.size, count + 1)
    ranked = sorted(totals.items(), key=lambda item: item[1][0], reverse=True)[:top_n]
    return [{"file": f, "line": line, "size": size, "count": count} for (f, line), (size, count) in ranked], machinery


def _grown(before, skip, top_n, min_bytes):
    import sys

    rows = []
    for key, (ident, length) in _globals(skip).items():
        old = before.get(key)
        if old is not None and old[0] == ident and (length < 0 or length <= old[1]):
            continue
        module = sys.modules.get(key[0])
        value = getattr(module, "__dict__", {}).get(key[1])
        size = _size(value)
        status = "new" if old is None else ("grown" if old[0] == ident else "rebound")
        added = length - old[1] if status == "grown" else (length if length >= 0 else None)
        if status == "grown" and type(value) is list and 0 < added <= 100_000:
            size_added = sum(sys.getsizeof(item) for item in value[-added:])
        else:
            size_added = size
        if size_added < min_bytes:
            continue
        rows.append({"module": key[0], "name": key[1], "type": type(value).__qualname__, "status": status,
                     "size": size, "added": added, "added_size": size_added})
    rows.sort(key=lambda row: row["added_size"], reverse=True)
    return rows[:top_n]
