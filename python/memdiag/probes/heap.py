"""What the allocators hold in use, resident or not: the net measure of what a run kept, blind to RSS's two lies.

RSS misses memory a warm allocator hands out again (a freed 400 MB frame leaves free chunks that absorb the next
leak) and calloc'd zero pages that are not touched yet (`bytes(5_000_000)`). Two counters are not fooled:

- glibc's `mallinfo2()`: `uordblks + hblkhd` is the bytes malloc has handed out and not got back (its heap and its
  mmapped chunks), resident or not: big Python objects (over 512 bytes), numpy buffers and C extensions' mallocs.
  It walks glibc's free chunks: 1-4 µs a call on a tidy heap, 1.5 ms with 50,000 free chunks (measured: 100,000
  bytearrays of 0.6-3.6 kB, every other one freed). Not on musl or macOS, and it misses mimalloc on free-threaded
  builds.
- `sys.getallocatedblocks()`: how many memory blocks the interpreter has allocated and not freed. pymalloc's arenas
  are mmapped directly, so mallinfo2 never sees small objects; their count does. It visits every pymalloc pool (a 16
  KiB page of small objects), cache-cold after a cell: about 0.2 ms at 1M live objects, 0.5-1.7 ms at 5M.

mallinfo2 is read before and after each cell. The block count is read after each cell, and before it only when the
kernel did not stay idle since the previous cell: when glibc's in-use bytes and RSS both moved by less than IDLE_BYTES
since the previous cell's reading (a default run's), that reading is carried over as this cell's `blocks_before`
(`blocks_carried` in the report). What the kernel does between two cells (IPython's history of the cell, memdiag's
report on the comm) is then counted with the cell: 100-300 blocks, a few kB, far below any verdict's threshold; and a
re-run's growth was already measured from one run's start to the next's, across that gap. The verdict turns the
block count into bytes with the mean size of the cell's own survivors (verdict.block_bytes).
"""
import ctypes
import ctypes.util
import os
import sys

# What glibc's in-use bytes and RSS may each move between the previous cell's end and this cell's start for the
# previous cell's block count to stand for this cell's start (bytes). Small objects made between cells come with
# bigger allocations (the list or dict that holds them grows), which mallinfo2 sees.
IDLE_BYTES = 1 << 20


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                 "keepcost")]


_reader = {"fn": None, "why": None}


def _mallinfo2():
    """glibc's mallinfo2 as a ctypes function, or None (and the reason, in words, in _reader["why"])."""
    if _reader["fn"] is None and _reader["why"] is None:
        if not sys.platform.startswith("linux"):
            _reader["why"] = f"no glibc mallinfo2 on {sys.platform}: net growth is read from RSS only"
        else:
            try:
                libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
                fn = libc.mallinfo2  # glibc 2.33+
                fn.restype = _MallInfo2
                fn.argtypes = []
                _reader["fn"] = fn
            except (OSError, AttributeError):
                _reader["why"] = "the C library has no mallinfo2 (glibc 2.33+): net growth is read from RSS only"
    return _reader["fn"]


def free_threaded():
    """True on a free-threaded build (PEP 703): objects live in mimalloc, which neither mallinfo2 nor malloc_trim
    see."""
    is_gil_enabled = getattr(sys, "_is_gil_enabled", None)
    return is_gil_enabled is not None and not is_gil_enabled()


def in_use():
    """Bytes glibc's malloc has handed out and not got back (int), or None where mallinfo2 is unavailable."""
    fn = _mallinfo2()
    if fn is None:
        return None
    info = fn()
    return int(info.uordblks + info.hblkhd)


def unavailable():
    """Why the allocator counter cannot be read here (a sentence), or None when it can."""
    if _mallinfo2() is None:
        return _reader["why"]
    if free_threaded():
        return "free-threaded build: Python objects live in mimalloc, which mallinfo2 does not see"
    return None


def carried_blocks(last, heap_now, rss_now):
    """The previous cell's block count when the kernel stayed idle since: `last` {"pid", "heap", "rss", "blocks"} as
    after() left it (or None), `heap_now` and `rss_now` this cell's in_use() and RSS (bytes). Returns an int, or None
    when the count must be read again (another process, no mallinfo2, or either counter moved by IDLE_BYTES or more)."""
    if not last or last["pid"] != os.getpid() or heap_now is None or last["heap"] is None or rss_now is None:
        return None
    if abs(heap_now - last["heap"]) >= IDLE_BYTES or abs(rss_now - last["rss"]) >= IDLE_BYTES:
        return None
    return last["blocks"]


def before(ctx):
    """Before the cell (after rss.before): ctx.heap_before = in_use() (bytes, or None); ctx.blocks_before = the previous
    cell's sys.getallocatedblocks() when carried_blocks allows it (ctx.blocks_carried = True), else read now."""
    ctx.heap_before = in_use()
    carried = carried_blocks(ctx.recorder.last_heap, ctx.heap_before, ctx.rss_before)
    ctx.blocks_carried = carried is not None
    ctx.blocks_before = sys.getallocatedblocks() if carried is None else carried
    ctx.recorder.last_heap = None


def after(ctx):
    """After the cell's garbage was freed: report["heap"] = {"before", "after": glibc's in-use bytes (mallinfo2
    uordblks + hblkhd; None where unavailable), "blocks_before", "blocks_after": sys.getallocatedblocks() counts},
    plus "blocks_carried": True when blocks_before is the previous cell's reading (see the module's header), and
    "skipped": why, when mallinfo2 is missing or does not see Python's objects (free-threaded builds).

    A default run leaves its readings for the next cell (ctx.recorder.last_heap); a traced or deep run does not: what
    it does after this point (tracemalloc's tables freed, memray's merge, the `--lines` report) is no idle kernel."""
    heap_after, blocks_after = in_use(), sys.getallocatedblocks()
    section = {"before": ctx.heap_before, "after": heap_after, "blocks_before": ctx.blocks_before,
               "blocks_after": blocks_after}
    if ctx.blocks_carried:
        section["blocks_carried"] = True
    why = unavailable()
    if why:
        section["skipped"] = why
    ctx.report["heap"] = section
    if not (ctx.trace or ctx.deep):
        # RSS as rss.after read it, just before: what the probes did since is the kernel's work between cells too.
        rss_after = (ctx.report.get("rss") or {}).get("after")
        ctx.recorder.last_heap = {"pid": os.getpid(), "heap": heap_after, "blocks": blocks_after,
                                  "rss": rss_after if rss_after is not None else ctx.recorder.rss_reader.rss()}
