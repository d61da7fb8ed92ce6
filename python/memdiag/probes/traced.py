"""tracemalloc scoped to one cell: what the cell allocated and still holds, by source line.

Tracing slows the cell's own code 4-13x, so it runs only where it pays (deep mode, a suspected cell, or policy
`always`), with 1 frame, started last before the cell and stopped first after it. A user who traces on their own keeps
their tracing: then we only read, never stop or clear.
"""
import linecache
import os
import tracemalloc

from .. import protocol
from .native import malloc_trim

TOP_N = 10
_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

def _machinery():
    """Where the kernel's own allocations come from while it runs a cell (compiling it, sending messages, keeping
    history): not the user's memory, and noise at the top of the sites. Only packages already imported count."""
    import ast
    import codeop
    import sys

    paths = [tracemalloc.__file__, _HERE, ast.__file__, codeop.__file__,
             "<frozen importlib._bootstrap>", "<frozen importlib._bootstrap_external>"]
    for name in ("IPython", "ipykernel", "traitlets", "zmq", "tornado", "jupyter_client", "comm", "debugpy"):
        module = sys.modules.get(name)
        if module is not None and getattr(module, "__file__", None):
            paths.append(os.path.dirname(module.__file__))
    return tuple(paths)


_IGNORED = _machinery()


def _ignored(filename):
    if filename.endswith(".pyc"):  # as tracemalloc.Filter normalizes it
        filename = filename[:-1]
    return filename.startswith(_IGNORED)


def before(ctx):
    if not ctx.trace:
        return
    if tracemalloc.is_tracing():
        ctx.errors.append("traced: tracemalloc was already running (yours); not scoped to this cell")
        return
    ctx.data["tracing_started"] = True
    tracemalloc.start(1)


def _cell_files(ctx):
    """Filenames under which IPython compiled this cell, so its lines can be named In[n] and mapped to the editor."""
    files = set()
    for name, entry in list(linecache.cache.items()):
        if isinstance(entry, tuple) and len(entry) == 4 and entry[3] == name and not os.path.exists(name):
            body = "".join(entry[2])
            if body and body.strip() and body.strip() in ctx.raw_cell:
                files.add(name)
    return files


def after(ctx):
    if not ctx.data.pop("tracing_started", False):
        return
    try:
        snapshot = tracemalloc.take_snapshot()
        own = tracemalloc.get_tracemalloc_memory()
    finally:
        tracemalloc.stop()
    # tracemalloc's own tables (~60 B per live block) were resident when RSS was read: not the cell's memory. Give
    # them back to the OS now, or the next run's `before` would carry them into the slope.
    ctx.data["tracing_overhead"] = own
    malloc_trim()
    # Group first, then drop the machinery's lines: with 1 frame a trace's only frame is its line, so this equals
    # filter_traces, but costs a startswith per distinct line instead of a dozen fnmatch calls per live block
    # (filter_traces took ~30 s after a cell that kept 600k objects).
    stats = [stat for stat in snapshot.statistics("lineno") if not _ignored(stat.traceback[0].filename)]
    retained = sum(stat.size for stat in stats)
    cell_files = _cell_files(ctx)
    # %%memdiag runs the body: its line 1 is the cell's line 2. A deep run asked for by the frontend runs the cell as is.
    offset = 1 if ctx.raw_cell.lstrip().startswith("%%memdiag") else 0
    top = []
    for stat in stats[:TOP_N]:
        frame = stat.traceback[0]
        in_cell = frame.filename in cell_files
        top.append({
            "file": "cell" if in_cell else protocol.short(frame.filename),
            "line": frame.lineno + (offset if in_cell else 0),
            "code": protocol.short(linecache.getline(frame.filename, frame.lineno).strip()),
            "size": stat.size,
            "count": stat.count,
            "in_cell": in_cell,
        })
    ctx.report["traced"] = {"enabled": True, "retained": retained, "top": top, "overhead": own}
