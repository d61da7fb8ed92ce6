"""`%%memdiag --native`: memray records the cell's native allocations with their stacks (C and Python frames).

The tracker is entered in pre_run_cell and left first thing in post_run_cell (the cell's source is never touched);
what the cell allocated and still held when it ended is summarised into `native.allocations`, biggest first.
memray hooks the allocators through the libraries' symbol tables: a malloc called through a ctypes function pointer
(resolved with dlsym) is invisible to it; valgrind (`%%memdiag --valgrind`) sees those.
"""
import os
import shutil
import tempfile

from . import cellargs, machinery, protocol

MISSING = "memdiag: --native needs memray, which is not installed: pip install memray (Linux and macOS)."
TOP_N = 10
MAX_FRAMES = 12

# Frames that carry no information about who allocated: the eval loop, call plumbing, tracemalloc's wrappers.
_PLUMBING_PREFIXES = ("_PyEval_", "_PyObject_Vectorcall", "PyObject_Vectorcall", "_PyObject_MakeTpCall",
                      "_PyFunction_Vectorcall", "cfunction_", "method_vectorcall", "trace_call_function",
                      "PyEval_EvalCode", "tracemalloc_", "_PyObject_Call", "PyObject_Call", "object_vacall")
# Frames where the kernel's own work starts (runners, such as contextlib or threading, run anyone's code).
_KERNEL_KINDS = (machinery.KIND_KERNEL, machinery.KIND_OWN)
# tracemalloc's own bookkeeping (a %%memdiag cell traces): not the cell's memory.
_BOOKKEEPING = frozenset({"traceback_new", "tracemalloc_add_trace", "raw_malloc", "hashtable_new", "_Py_hashtable_set",
                          "_Py_hashtable_new_full"})


def load():
    """The memray module, or None when it cannot be imported."""
    try:
        import memray
    except ImportError:
        return None
    return memray


def before(ctx):
    """Before a `%%memdiag --native` cell (any other cell: nothing): start a memray Tracker with native traces,
    writing to a capture file in a new temporary directory; ctx.memray = (tracker, tmpdir, path). Nothing when
    memray is missing (the magic prints MISSING)."""
    opts = cellargs.from_raw_cell(ctx.raw_cell)
    if opts is None or not opts.native:
        return
    memray = load()
    if memray is None:
        return  # the magic prints MISSING
    tmp = tempfile.mkdtemp(prefix="memdiag-memray-")
    path = os.path.join(tmp, "cell.bin")
    tracker = memray.Tracker(path, native_traces=True)
    try:
        tracker.__enter__()
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    ctx.memray = (tracker, tmp, path)


def after(ctx):
    """Leave the tracker, first thing after the cell; the capture is read later, when RSS has been measured."""
    held, ctx.memray = ctx.memray, None
    if held is None:
        return
    tracker, tmp, path = held
    ctx.memray_capture = (tmp, path)
    tracker.__exit__(None, None, None)


def merge(ctx):
    """After the native probe wrote its section: add what memray saw to it (summarise's keys into report["native"])
    and remove the capture."""
    capture, ctx.memray_capture = ctx.memray_capture, None
    if capture is None:
        return
    tmp, path = capture
    try:
        section = summarise(path, ctx.cell_file, ctx.cell_offset if ctx.cell_offset is not None else 1)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    ctx.report.setdefault("native", {"unexplained": None}).update(section)


def release(ctx):
    """Whatever happened to the cell, no tracker stays active and no capture file stays behind."""
    try:
        after(ctx)
    finally:
        capture, ctx.memray_capture = ctx.memray_capture, None
        if capture is not None:
            shutil.rmtree(capture[0], ignore_errors=True)


def _frame_text(frame, cell_file, offset):
    function, filename, line = frame[0], frame[1], frame[2]
    if cell_file and filename == cell_file:
        return protocol.short(f"{function} (cell line {line + offset})", 160)
    if not filename or filename == "<unknown>":
        return protocol.short(str(function), 160)
    return protocol.short(f"{function} ({filename}:{line})", 160)


def _stack(frames, cell_file, offset):
    """The record's frames worth reading, innermost first, down to the cell's own frame."""
    kind_of = machinery.file_kinds()
    shown = []
    for frame in frames:
        function, filename = str(frame[0]), str(frame[1])
        if function.startswith(_PLUMBING_PREFIXES):
            continue
        kind = kind_of(filename)
        if kind in _KERNEL_KINDS:
            break
        if kind is not None:  # a runner's frame (contextlib, threading, importlib): it called someone's code
            continue
        shown.append(_frame_text(frame, cell_file, offset))
        if cell_file and filename == cell_file or len(shown) >= MAX_FRAMES:
            break
    return shown


def _is_noise(frames, cell_file):
    names = {str(f[0]) for f in frames[:6]}
    if names & _BOOKKEEPING:
        return True
    files = [str(f[1]) for f in frames]
    if cell_file and cell_file in files:
        return False
    # Allocations by the kernel's own Python code while the tracker ran (sending the output, the magic itself).
    kind_of = machinery.file_kinds()
    return any(kind_of(name) in _KERNEL_KINDS for name in files)


def summarise(path, cell_file=None, offset=1):
    """What the cell allocated and still held when it ended, from a memray capture file: {"allocations": the
    TOP_N biggest, [{"size" (bytes), "count" (allocations), "stack" (frame texts, innermost first)}], "held": bytes,
    "tracked_peak": memray's peak (bytes), "tracked_allocations": a count, "kernel_noise": bytes left out as the
    kernel's own or tracemalloc's}."""
    import memray

    reader = memray.FileReader(path)
    try:
        meta = reader.metadata
        rows, held, noise = [], 0, 0
        for record in reader.get_leaked_allocation_records(merge_threads=True):
            frames = list(record.hybrid_stack_trace(max_stacks=64))
            if _is_noise(frames, cell_file):
                noise += record.size
                continue
            held += record.size
            rows.append((record.size, record.n_allocations, frames))
        rows.sort(key=lambda r: r[0], reverse=True)
        allocations = [{"size": size, "count": count, "stack": _stack(frames, cell_file, offset)}
                       for size, count, frames in rows[:TOP_N]]
        return {"allocations": allocations, "held": held, "tracked_peak": int(meta.peak_memory),
                "tracked_allocations": int(meta.total_allocations), "kernel_noise": noise}
    finally:
        reader.close()


def summary_lines(report):
    """Text for terminal IPython and text/plain."""
    native = report.get("native") or {}
    allocations = native.get("allocations")
    if allocations is None:
        return []
    from .verdict import format_bytes

    out = [f"Native allocations still held (memray): {format_bytes(native.get('held', 0))}, "
           f"peak while the cell ran {format_bytes(native.get('tracked_peak', 0))}"]
    for row in allocations[:5]:
        out.append(f"  {format_bytes(row['size'])} in {row['count']} allocations:")
        out.extend(f"    {frame}" for frame in row["stack"][:6])
    return out
