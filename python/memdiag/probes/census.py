"""The objects a cell created that survive it, by type, with counts and sizes.

With the gc frozen before the cell, `gc.get_objects()` lists only the cell's own survivors (~25 ns each), whatever the
heap size. Counting by type runs at C speed (Counter over map); sizes come from a strided sample, extrapolated per type,
and include the untracked objects the survivors hold (bytes, bytearray, str, numpy arrays never appear in gc lists).
No object is kept: the cycle probe's collection must still be able to free the cell's garbage.
"""
import gc
import itertools
import sys
from collections import Counter

from .. import machinery, protocol
from ..gcguard import RAW

TOP_N = 20
USER_FROZEN = ("the gc was frozen by the user (gc.freeze()): the census and the cycle probe need a freeze of their "
               "own, so they are off until gc.unfreeze()")
SAMPLE_TARGET = 20_000  # objects looked at for sizes, whatever the cell made
REFERENTS_SAMPLED = 512
TARGETS_KEPT = 24
MIN_TARGET_SIZE = 4096  # smaller survivors are IPython's bookkeeping far more often than the user's data


def untracked_size(obj):
    """getsizeof of obj's direct untracked referents (the payload of containers: bytes, arrays, strings), in bytes.

    A big container is sampled (REFERENTS_SAMPLED evenly spaced items, scaled up): the cost stays bounded.
    """
    tp = type(obj)
    if tp is list or tp is tuple:
        stride = max(1, len(obj) // REFERENTS_SAMPLED)
        refs = obj[::stride]  # a slice, not a copy of every referent
    elif tp is dict and len(obj) > REFERENTS_SAMPLED:
        stride = len(obj) // REFERENTS_SAMPLED
        refs = list(itertools.islice(obj.values(), 0, None, stride))
    else:
        try:
            refs = gc.get_referents(obj)
        except Exception:  # noqa: BLE001
            return 0
        stride = max(1, len(refs) // REFERENTS_SAMPLED)
        refs = refs[::stride]
    total = 0
    for ref in refs:
        if not gc.is_tracked(ref) and not issubclass(type(ref), type):
            total += sizeof(ref)
            rtp = type(ref)
            if rtp is dict or rtp is tuple:
                # An untracked dict or tuple holds only untracked values (a 3.10 instance's __dict__ of one 5 MB
                # bytes): no census lists them, so their payload is counted here, one level down, sampled.
                total += _values_size(ref)
    return total * stride


def _values_size(container):
    """getsizeof of the values of a dict or tuple (sampled when big), never through user code (exact types only)."""
    values = dict.values(container) if type(container) is dict else container
    n = len(container)
    stride = max(1, n // REFERENTS_SAMPLED)
    return sum(map(sizeof, itertools.islice(values, 0, None, stride))) * stride


def _pandas_size(obj):
    """pandas' __sizeof__ is memory_usage(deep=True), O(rows) for string and object columns (~0.2 s for a 300k-row
    column, several times per cell): take the shallow memory_usage, as the variables probe does. None: not pandas."""
    pd = sys.modules.get("pandas")
    if pd is None:
        return None
    tp = type(obj)
    try:
        if issubclass(tp, pd.DataFrame):
            return int(obj.memory_usage(index=True, deep=False).sum())
        if issubclass(tp, (pd.Series, pd.Index)):
            return int(obj.memory_usage(deep=False))
    except Exception:  # noqa: BLE001 - a broken subclass: fall back to getsizeof
        return None
    return None


def sizeof(obj):
    """Cheap, honest size in bytes: getsizeof (pandas: shallow memory_usage), plus the base buffer of a numpy view
    (getsizeof leaves it out); 0 when the object's own __sizeof__ raises."""
    try:
        size = _pandas_size(obj)
        if size is None:
            size = sys.getsizeof(obj)
    except Exception:  # noqa: BLE001 - a user __sizeof__ may raise
        return 0
    base = array_base(obj)
    if base is not None:
        nbytes = getattr(base, "nbytes", 0)
        size += nbytes if isinstance(nbytes, int) else 0
    return size if isinstance(size, int) else 0


def _ndarray_type():
    numpy = sys.modules.get("numpy")
    return getattr(numpy, "ndarray", None) if numpy is not None else None


def array_base(obj):
    """The ndarray that owns the memory of a view or of an ndarray subclass (a MaskedArray's data, a matrix), or None.

    Checked through the type's MRO (no user __getattr__ or __class__ runs); `.base` is numpy's own C getter.
    """
    ndarray = _ndarray_type()
    tp = type(obj)
    # By identity: `in` would run == of a user's metaclass.
    if ndarray is None or not any(klass is ndarray for klass in type.__dict__["__mro__"].__get__(tp)):
        return None
    base = ndarray.base.__get__(obj)
    seen = 0
    while base is not None and isinstance(base, ndarray) and ndarray.base.__get__(base) is not None and seen < 32:
        base = ndarray.base.__get__(base)
        seen += 1
    return base if base is not None and isinstance(base, ndarray) else None


def _sampled_sizes(objs, counts):
    stride = max(1, len(objs) // SAMPLE_TARGET)
    sums, seen = {}, {}
    for obj in objs[::stride]:
        tid = id(type(obj))
        sums[tid] = sums.get(tid, 0) + sizeof(obj) + untracked_size(obj)
        seen[tid] = seen.get(tid, 0) + 1
    return {tid: sums[tid] * counts[tid] // seen[tid] for tid in sums}


def after(ctx):
    """After the cell, the gc still frozen: report["objects"] = {"new": how many gc-tracked objects the cell created
    survive it, "size": their bytes (sampled, extrapolated per type, with the untracked payload they hold), "growth":
    the TOP_N biggest types, [{"type", "count", "size"}], "machinery": {"count", "size"} of the kernel's own, not
    counted above}; or {"new": 0, "growth": [], "skipped": why} when the gc was not frozen for this cell.
    ctx.census_types: the 8 biggest types, for keep_targets."""
    if not ctx.gc.frozen:
        reason = USER_FROZEN if ctx.gc.user_frozen else "the gc was not frozen for this cell"
        ctx.report["objects"] = {"new": 0, "growth": [], "skipped": reason}
        return
    objs = RAW.get_objects()
    # Keyed by id: hashing a class runs its metaclass's __hash__/__eq__ (user code; None makes classes unhashable).
    counts = Counter(map(id, map(type, objs)))
    types = dict(zip(map(id, map(type, objs)), map(type, objs), strict=True))
    sizes = _sampled_sizes(objs, counts)
    del objs
    # What IPython, ipykernel, asyncio and memdiag made around the cell (handles, futures, tokens of a formatted
    # traceback) is not the user's: counted apart, never a row.
    internal = {tid for tid, tp in types.items() if machinery.is_machinery_type(tp)}
    growth = sorted(((sizes.get(tid, 0), n, tid) for tid, n in counts.items() if tid not in internal),
                    key=lambda g: g[:2], reverse=True)
    ctx.census_types = [types[tid] for _, _, tid in growth[:8]]
    ctx.report["objects"] = {
        "new": sum(n for _, n, _ in growth),
        "size": sum(s for s, _, _ in growth),
        "growth": [{"type": protocol.type_name(tp=types[tid]), "count": n, "size": s}
                   for s, n, tid in growth[:TOP_N]],
        "machinery": {"count": sum(counts[tid] for tid in internal),
                      "size": sum(sizes.get(tid, 0) for tid in internal)},
    }


def keep_targets(ctx):
    """Keep a few of the biggest survivors as backref targets (ctx.targets, at most TARGETS_KEPT), for cells that may
    be flagged (after cycles freed garbage)."""
    if not ctx.gc.frozen or not ctx.census_types or not ctx.interesting:
        return
    wanted = {id(tp) for tp in ctx.census_types if not machinery.is_machinery_type(tp)}
    picked = []
    objs = RAW.get_objects()
    # Our own young containers are in that list too: keeping one in `picked` would make a cycle holding the user's data.
    mine = {id(ctx), id(ctx.gc), id(ctx.report), id(ctx.census_types), id(picked), id(objs)}
    for obj in objs[::max(1, len(objs) // SAMPLE_TARGET)]:
        if id(type(obj)) in wanted and id(obj) not in mine:
            picked.append((sizeof(obj) + untracked_size(obj), id(obj), obj))
            if len(picked) > 4 * TARGETS_KEPT:
                picked.sort(key=lambda p: p[:2], reverse=True)
                del picked[TARGETS_KEPT:]
    del objs
    picked.sort(key=lambda p: p[:2], reverse=True)
    # Small survivors are kept too when their type is not a builtin: 8,000 Loggers of 500 B each are the leak.
    ctx.targets = [obj for size, _, obj in picked[:TARGETS_KEPT]
                       if size >= MIN_TARGET_SIZE or protocol.type_attr(type(obj), "__module__") != "builtins"]
    picked.clear()
