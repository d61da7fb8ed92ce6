"""What the allocators hold in use, resident or not: the net measure of what a run kept, blind to RSS's two lies.

RSS misses memory a warm allocator hands out again (a freed 400 MB frame leaves free chunks that absorb the next
leak) and calloc'd zero pages that are not touched yet (`bytes(5_000_000)`). Two cheap counters are not fooled:

- glibc's `mallinfo2()`: `uordblks + hblkhd` is the bytes malloc has handed out and not got back (its heap and its
  mmapped chunks), resident or not: big Python objects (over 512 bytes), numpy buffers and C extensions' mallocs.
  1-4 µs a call, whatever the heap size. Not on musl or macOS, and it misses mimalloc on free-threaded builds.
- `sys.getallocatedblocks()`: how many memory blocks the interpreter has allocated and not freed. pymalloc's arenas
  are mmapped directly, so mallinfo2 never sees small objects; their count does (a few µs: it visits the arenas).

The two are read before and after each cell; the verdict turns the block count into bytes with the mean size of the
cell's own survivors (verdict.block_bytes).
"""
import ctypes
import ctypes.util
import sys


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


def before(ctx):
    """Before the cell: ctx.heap_before = in_use() (bytes, or None), ctx.blocks_before = sys.getallocatedblocks()."""
    ctx.heap_before = in_use()
    ctx.blocks_before = sys.getallocatedblocks()


def after(ctx):
    """After the cell's garbage was freed: report["heap"] = {"before", "after": glibc's in-use bytes (mallinfo2
    uordblks + hblkhd; None where unavailable), "blocks_before", "blocks_after": sys.getallocatedblocks() counts},
    plus "skipped": why, when mallinfo2 is missing or does not see Python's objects (free-threaded builds)."""
    section = {"before": ctx.heap_before, "after": in_use(),
               "blocks_before": ctx.blocks_before, "blocks_after": sys.getallocatedblocks()}
    why = unavailable()
    if why:
        section["skipped"] = why
    ctx.report["heap"] = section
