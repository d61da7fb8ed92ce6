"""RSS growth that Python-level allocations don't explain, and what glibc's malloc_trim gives back.

RSS lies both ways: freed memory often stays resident (glibc and pymalloc keep it), and a C library's allocations never
show in Python's accounting. Python-level memory is tracemalloc's count of everything still held on a traced run
(IPython's formatter and history allocations included, though their sites are not shown), else the census and the
names' sizes, plus IPython's caches. When the unexplained part is large, malloc_trim(0) returns what is free to the OS:
RSS that drops was allocator retention, what stays is native. Memory taken by importing modules is reported as
imports, never as a leak. On free-threaded builds objects live in mimalloc, which malloc_trim cannot shrink.
"""
import ctypes
import ctypes.util
import os
import re
import sys
from collections import Counter

from .. import protocol
from ..machinery import is_machinery_module
from ..verdict import python_gross, run_growth
from .heap import free_threaded

_trim = None
_IMPORT_STATEMENT = re.compile(r"^\s*(import|from)\s|__import__\(|import_module\(|%pip|%conda", re.MULTILINE)
MAX_PACKAGES = 8
MANY_IMPORTS = 20  # a cell without an import statement that still imports this many modules set something up


def _load_trim():
    global _trim
    if _trim is None:
        _trim = False
        if sys.platform.startswith("linux"):
            try:
                libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
                _trim = libc.malloc_trim
                _trim.argtypes = [ctypes.c_size_t]
                _trim.restype = ctypes.c_int
            except (OSError, AttributeError):
                _trim = False
    return _trim


def malloc_trim():
    """Call glibc's malloc_trim(0) when there is one (it returns free heap memory to the OS); True when it ran."""
    trim = _load_trim()
    if not trim:
        return False
    trim(0)
    return True


def before(ctx):
    """Before the cell: ctx.modules_before = len(sys.modules), to tell what the cell imported."""
    ctx.modules_before = len(sys.modules)


def imported(ctx):
    """The names of the modules the cell imported (a tuple, in import order) when it is an import cell, else (): it
    imported modules and has an import statement (a groupby that pulls in two pandas modules lazily is not one, and
    its memory is its own), or imported MANY_IMPORTS without one. What the kernel imports for itself while running a
    cell (IPython.core.logger on the first one) does not count. Read once, the first time it is asked (the census
    asks, before memdiag's own work after the cell), and kept on ctx.imported."""
    if ctx.imported is None:
        added = len(sys.modules) - (ctx.modules_before if ctx.modules_before is not None else len(sys.modules))
        names = [n for n in list(sys.modules)[-added:] if not is_machinery_module(n)] if added > 0 else []
        # A tuple, () for any other cell: made after the gc was frozen, a new empty list kept on ctx was one of the
        # census's survivors, a `list` row on every cell.
        ctx.imported = tuple(names) if names and (_IMPORT_STATEMENT.search(ctx.raw_cell or "") or
                                                  len(names) >= MANY_IMPORTS) else ()
    return ctx.imported


def after(ctx):
    """After the cell, gc given back: report["native"] = {"unexplained": bytes of RSS growth that Python-level memory
    (verdict.python_gross plus IPython's history of this run) does not explain, less what malloc_trim gave back; None
    when it cannot be judged here, "explained": those Python-level bytes, "trimmed": bytes malloc_trim(0) gave back,
    None when it did not run (only for RSS growth of at least min(leak_bytes_per_run, native_bytes); report["rss"]
    then gets "after_trim", the RSS read right after it, as a traced run does after traced.after's trim), "refaulted":
    bytes of the growth that were pages the previous cell's trim gave back, touched again (refaulted_bytes; only when
    this run did not trim, and not 0), "skipped": why, when it cannot be judged}. report["imports"] = {"count",
    "modules": the first 20 names, "packages": [{"name": a top-level package, "modules": how many of its modules}]
    the MAX_PACKAGES with the most} when the cell imported."""
    report = ctx.report
    names = imported(ctx)
    if names:
        packages = Counter(name.partition(".")[0] for name in names)
        report["imports"] = {"count": len(names), "modules": [protocol.short(n, 80) for n in names[:20]],
                             "packages": [{"name": protocol.short(name, 80), "modules": n}
                                          for name, n in packages.most_common(MAX_PACKAGES)]}
    rss = report["rss"]
    # Everything Python holds explains RSS: the cell's objects, and IPython's output cache and history of it. So does
    # output in flight: the bundles displayed this run are still being serialized and sent on iopub (a 10 MB
    # bytearray's repr is a 40 MB string, copied again into the message) when RSS is read.
    explained = python_gross(report) + ((report.get("ipython") or {}).get("history") or 0)
    growth = run_growth(report, trimmed=False)
    recorder, cfg = ctx.recorder, ctx.recorder.config
    refaulted = refaulted_bytes(recorder.last_trim, growth - explained)
    recorder.last_trim = None
    section = {"unexplained": max(growth - explained - refaulted, 0), "explained": explained, "trimmed": None}
    # Growth that Python does not explain, big enough to matter (a leak step, or native), is checked against the
    # allocator first: what malloc_trim gives back was free memory glibc kept (e.g. after its mmap threshold moved),
    # not memory the cell holds. Growth Python explains is never trimmed: giving a re-run's arrays back to the OS
    # makes the next run fault every page in again (a 50 ms numpy cell ran 1.5x slower). Nor are the pages the last
    # trim gave back when this cell touched them again: trimming them once more, every run, cost a 150 ms pandas cell
    # 1.7 ms of trim and its body the page faults of 15 MB.
    if growth - explained - refaulted >= min(cfg.leak_bytes_per_run, cfg.native_bytes) and malloc_trim():
        already = report["traced"].get("overhead") or 0  # tracemalloc's tables, trimmed and discounted already
        rss["after_trim"] = recorder.rss_reader.rss()  # where the next cell starts from: its Δ RSS adds up
        given_back = max(rss["after"] - already - rss["after_trim"], 0)
        # The trim's own reading is the whole truth: the pages it gave back include any touched again.
        section["trimmed"] = given_back
        section["unexplained"] = max(growth - given_back - explained, 0)
        if given_back:
            recorder.last_trim = {"pid": os.getpid(), "bytes": given_back}
    else:
        if refaulted:
            section["refaulted"] = refaulted
        if report["traced"].get("enabled"):
            # traced.after trimmed already (tracemalloc's tables, and the run's free pages with them): the next cell
            # starts from there too.
            settled = recorder.rss_reader.rss()
            if settled < rss["after"]:
                rss["after_trim"] = settled
    why = cannot_judge()
    if why:
        # Without a working malloc_trim, memory the allocator keeps looks exactly like a native leak: say so, and
        # let no verdict rest on it.
        section["skipped"] = why
        section["unexplained"] = None
    report["native"] = section


def refaulted_bytes(last_trim, unexplained):
    """Bytes of this run's RSS growth that Python does not explain (`unexplained`) which are pages the previous
    recorded cell's malloc_trim gave back (`last_trim`: {"pid", "bytes"} or None), touched again: free memory glibc
    had kept resident before memdiag trimmed it, not memory this cell holds. At most what that trim gave back, once; 0
    in another process (a fork) or when nothing was trimmed."""
    if not last_trim or last_trim["pid"] != os.getpid() or unexplained <= 0:
        return 0
    return int(min(last_trim["bytes"], unexplained))


def cannot_judge():
    """Why RSS that Python doesn't explain cannot be called native on this build (a sentence), or None."""
    if free_threaded():
        return ("free-threaded build: objects live in mimalloc, which malloc_trim cannot shrink, so memory the "
                "allocator keeps cannot be told from a native leak; use %%memdiag --valgrind or --native")
    if not malloc_trim_available():
        return ("no glibc malloc_trim here: memory the allocator keeps cannot be told from a native leak; use "
                "%%memdiag --native (memray)")
    return None


def malloc_trim_available():
    """True where glibc's malloc_trim can be called (Linux with glibc)."""
    malloc_trim_fn = _load_trim()
    return bool(malloc_trim_fn)
