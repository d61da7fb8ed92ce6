"""The objects a cell created that survive it, by type, with counts and sizes.

With the gc frozen before the cell, `gc.get_objects()` lists only the cell's own survivors (~25 ns each), whatever the
heap size. Counting by type runs at C speed (Counter over map); sizes come from a strided sample, extrapolated per type.

Payload by its own type: a survivor is sized by its own getsizeof, and the untracked objects it holds (bytes,
bytearray, str, numpy arrays, dicts and tuples of them: never in gc lists) are counted under their own types, with
their own bytes, each once (by id): a list holding three 5 MB bytes objects is `bytes 15 MB` and `list 88 B`. A numpy
array's bytes are those of the buffer it owns; a view's are its base's, or those of the bytearray or bytes it was made
from (np.frombuffer, through a memoryview), unless that base is bound to a name the cell left alone. The untracked
values the cell bound to names, left in Out[n] or appended to a container it grew are counted the same way, after the
survivors' payload (so an array both named and held by a new list counts once). The growth shows at most MAX_ROWS
types, each taking or holding at least MIN_ROW_SHARE of the total; the rest are summed into one "other" row.

No object is kept: the cycle probe's collection must still be able to free the cell's garbage.
"""
import gc
import itertools
import sys
from collections import Counter

from .. import machinery, protocol
from ..gcguard import RAW

MAX_ROWS = 8  # growth rows shown; the rest are summed into one "other" row
MIN_ROW_SHARE = 0.01  # a row takes or holds at least this share of the total bytes
OTHER = "other"
USER_FROZEN = ("the gc was frozen by the user (gc.freeze()): the census and the cycle probe need a freeze of their "
               "own, so they are off until gc.unfreeze()")
SAMPLE_TARGET = 20_000  # objects looked at for sizes, whatever the cell made
REFERENTS_SAMPLED = 512  # referents looked at in one container, at most
PAYLOAD_BUDGET = 100_000  # referents looked at by one census, whatever the cell made (16 per survivor at least)
TARGETS_KEPT = 24
MIN_TARGET_SIZE = 4096  # smaller survivors are IPython's bookkeeping far more often than the user's data
_BASE_DEPTH = 32  # links of .base followed, at most


def _referents(obj, limit=REFERENTS_SAMPLED):
    """(referents, stride): obj's direct referents, `limit` evenly spaced ones when obj holds more (a list or tuple is
    sliced, a dict's values read through dict's own view: no copy of every referent, no user code)."""
    tp = type(obj)
    if tp is list or tp is tuple:
        stride = max(1, len(obj) // limit)
        return obj[::stride], stride
    if tp is dict and len(obj) > limit:
        stride = len(obj) // limit
        return list(itertools.islice(dict.values(obj), 0, None, stride)), stride
    try:
        refs = gc.get_referents(obj)
    except Exception:  # noqa: BLE001
        return [], 1
    stride = max(1, len(refs) // limit)
    return refs[::stride], stride


def untracked_size(obj):
    """getsizeof of obj's direct untracked referents (the payload of containers: bytes, arrays, strings), in bytes.

    Each referent is counted once. A big container is sampled (REFERENTS_SAMPLED evenly spaced items, scaled up): the
    cost stays bounded.
    """
    refs, stride = _referents(obj)
    total = 0
    # A frame refers to a local from its fast locals and again from its (untracked) f_locals dict: counted once.
    counted = set()
    for ref in refs:
        if not gc.is_tracked(ref) and not issubclass(type(ref), type) and id(ref) not in counted:
            counted.add(id(ref))
            total += sizeof(ref)
            rtp = type(ref)
            if rtp is dict or rtp is tuple:
                # An untracked dict or tuple holds only untracked values (a 3.10 instance's __dict__ of one 5 MB
                # bytes): no census lists them, so their payload is counted here, one level down, sampled.
                total += _values_size(ref, counted)
    return total * stride


def _values_size(container, counted):
    """getsizeof of the values of a dict or tuple not in `counted` (ids; sampled when big), never through user code
    (exact types only)."""
    values = dict.values(container) if type(container) is dict else container
    n = len(container)
    stride = max(1, n // REFERENTS_SAMPLED)
    total = 0
    for value in itertools.islice(values, 0, None, stride):
        if id(value) not in counted:
            counted.add(id(value))
            total += sizeof(value)
    return total * stride


def _pandas_types():
    pd = sys.modules.get("pandas")
    if pd is None:
        return None
    try:
        return pd.DataFrame, pd.Series, pd.Index
    except AttributeError:  # pandas half imported
        return None


def _pandas_size(obj):
    """pandas' __sizeof__ is memory_usage(deep=True), O(rows) for string and object columns (~0.2 s for a 300k-row
    column, several times per cell): take the shallow memory_usage, as the variables probe does. None: not pandas."""
    kinds = _pandas_types()
    if kinds is None:
        return None
    tp = type(obj)
    try:
        if issubclass(tp, kinds[0]):
            return int(obj.memory_usage(index=True, deep=False).sum())
        if issubclass(tp, kinds[1:]):
            return int(obj.memory_usage(deep=False))
    except Exception:  # noqa: BLE001 - a broken subclass: fall back to getsizeof
        return None
    return None


def own_size(obj):
    """obj's own bytes, without what it refers to: getsizeof; a pandas object's header only (its blocks are numpy
    arrays, counted as such; pandas' __sizeof__ would walk every string); 0 when __sizeof__ raises."""
    kinds = _pandas_types()
    try:
        if kinds is not None and issubclass(type(obj), kinds):
            size = object.__sizeof__(obj)
        else:
            size = sys.getsizeof(obj)
    except Exception:  # noqa: BLE001 - a user __sizeof__ may raise
        return 0
    return size if isinstance(size, int) else 0


def sizeof(obj):
    """Cheap, honest size in bytes: getsizeof (pandas: shallow memory_usage), plus the base buffer of a numpy view
    (getsizeof leaves it out); 0 when the object's own __sizeof__ raises. An array over memory numpy does not own
    (np.frombuffer of a bytearray) is its header only here: the bytearray has its own name more often than not, and
    the names probe would count it twice (retained_size, for `why`, and the census add it, once)."""
    try:
        size = _pandas_size(obj)
        if size is None:
            size = sys.getsizeof(obj)
    except Exception:  # noqa: BLE001 - a user __sizeof__ may raise
        return 0
    if not isinstance(size, int):
        return 0
    base = array_base(obj)
    return size + _ndarray_type().nbytes.__get__(base) if base is not None else size


def _ndarray_type():
    numpy = sys.modules.get("numpy")
    return getattr(numpy, "ndarray", None) if numpy is not None else None


def _is_a(tp, klass):
    # Through the MRO, by identity: isinstance may read __class__ (a user property), `in` would run a metaclass's ==.
    return any(k is klass for k in type.__dict__["__mro__"].__get__(tp))


def _root_array(obj, ndarray):
    """(the last ndarray in obj's chain of .base, what that one's .base is: None or the object it was made from)."""
    get_base = ndarray.base.__get__
    root, base = obj, get_base(obj)
    for _ in range(_BASE_DEPTH):
        if base is None or not _is_a(type(base), ndarray):
            break
        root, base = base, get_base(base)
    return root, base


def array_base(obj):
    """The ndarray that owns the memory of a view or of an ndarray subclass (a MaskedArray's data, a matrix), or None
    (not an array, an array that owns its data, or one whose memory numpy does not own: see buffer_owner).

    Checked through the type's MRO (no user __getattr__ or __class__ runs); `.base` is numpy's own C getter.
    """
    ndarray = _ndarray_type()
    if ndarray is None or not _is_a(type(obj), ndarray):
        return None
    root, base = _root_array(obj, ndarray)
    return root if root is not obj and base is None else None


def _exporter(obj):
    """The object whose memory a memoryview (chain) exposes, or obj; None for a released memoryview."""
    for _ in range(_BASE_DEPTH):
        if type(obj) is not memoryview:
            return obj
        try:
            obj = memoryview.obj.__get__(obj)
        except ValueError:  # released
            return None
    return obj


def buffer_owner(obj, _depth=0):
    """(owner, bytes) of the memory a numpy array or a memoryview exposes when obj does not own it: the ndarray at the
    end of an array's chain of .base (its nbytes), or the object that array or memoryview was made from (a bytearray
    or bytes: its getsizeof; anything else, an mmap: the bytes the array sees). None for anything else, and for an
    array that owns its data."""
    if type(obj) is memoryview:
        exporter = _exporter(obj)
        if exporter is None or exporter is obj:
            return None
        try:
            nbytes = memoryview.nbytes.__get__(obj)
        except ValueError:
            return None
        return _owner_of(exporter, nbytes, _depth)
    ndarray = _ndarray_type()
    if ndarray is None or not _is_a(type(obj), ndarray):
        return None
    root, base = _root_array(obj, ndarray)
    nbytes = ndarray.nbytes.__get__(root)
    if base is None:
        return (root, nbytes) if root is not obj else None
    exporter = _exporter(base)
    if exporter is None:
        return (root, nbytes) if root is not obj else None
    return _owner_of(exporter, nbytes, _depth)


def _owner_of(exporter, nbytes, depth):
    tp = type(exporter)
    if tp is bytes or tp is bytearray:
        return exporter, sys.getsizeof(exporter)
    if depth < 4:  # a memoryview of an array, an array made from that: the memory is the first array's
        inner = buffer_owner(exporter, depth + 1)
        if inner is not None:
            return inner
    ndarray = _ndarray_type()
    if ndarray is not None and _is_a(tp, ndarray):
        return exporter, ndarray.nbytes.__get__(exporter)
    return exporter, nbytes


class _Ledger:
    """Untracked objects counted under their own types, each once (by id): {id(type): [type, count, bytes]} per sink.

    Counts and bytes are weighted (a sampled holder stands for `weight` of its kind). `old`: ids never counted (values
    the user's names kept through the cell). `tracked_owners`: count a buffer's owner even when the gc tracks it (the
    census leaves those to the survivors' own sizes: new ones are survivors, the others are not the cell's)."""

    def __init__(self, old=frozenset(), tracked_owners=False):
        self.old = old
        self.seen = set()
        self.tracked_owners = tracked_owners

    def holdings(self, obj, weight, into, limit=REFERENTS_SAMPLED):
        """Count what obj holds that no gc list shows: its untracked referents (sampled) and the buffer it views;
        returns their weighted bytes."""
        total = 0
        owner = buffer_owner(obj)
        if owner is not None:
            total += self.add_owner(owner[0], owner[1], weight, into)
        refs, stride = _referents(obj, limit)
        for ref in refs:
            if not gc.is_tracked(ref) and not issubclass(type(ref), type):
                total += self.add(ref, weight * stride, into)
        return total

    def add(self, obj, weight, into, depth=1):
        """Count one untracked object (its own size), the buffer it views and, for an untracked dict or tuple, its
        values one level down; returns the weighted bytes added (0 when already counted)."""
        oid = id(obj)
        if oid in self.seen or oid in self.old:
            return 0
        self.seen.add(oid)
        tp = type(obj)
        total = _put(into, tp, weight, own_size(obj))
        owner = buffer_owner(obj)
        if owner is not None:
            total += self.add_owner(owner[0], owner[1], weight, into)
        if depth > 0 and (tp is dict or tp is tuple):
            # An untracked dict or tuple holds only untracked values (a 3.10 instance's __dict__ of one 5 MB bytes).
            values = dict.values(obj) if tp is dict else obj
            stride = max(1, len(obj) // REFERENTS_SAMPLED)
            for value in itertools.islice(values, 0, None, stride):
                total += self.add(value, weight * stride, into, depth - 1)
        return total

    def add_owner(self, owner, nbytes, weight, into):
        oid = id(owner)
        if oid in self.seen or oid in self.old or (not self.tracked_owners and gc.is_tracked(owner)):
            return 0
        self.seen.add(oid)
        return _put(into, type(owner), weight, nbytes)


def _put(into, tp, weight, size):
    row = into.get(id(tp))
    if row is None:
        row = into[id(tp)] = [tp, 0.0, 0.0]
    row[1] += weight
    row[2] += weight * size
    return weight * size


def retained_size(obj):
    """Bytes obj keeps alive, as `%memdiag why` tells it: a pandas object's shallow memory_usage (its blocks and
    index); a numpy array's header and the buffer it views (its base's, or the bytearray or bytes np.frombuffer read);
    a container's getsizeof plus its untracked payload (bytes, str, arrays with their buffers, each once), sampled
    like the census (REFERENTS_SAMPLED items, scaled up)."""
    size = _pandas_size(obj)
    if size is not None:
        return size
    ledger = _Ledger(tracked_owners=True)
    ledger.seen.add(id(obj))
    return own_size(obj) + int(ledger.holdings(obj, 1, {}))


# -- the census of one cell ------------------------------------------------------------------------------------------
def _bound_values(ctx):
    """(ids of the values the user's names kept through the cell, with the buffers they own; [(value, weight)] of
    the untracked values the cell bound to names, left in Out[n], or appended to a name it grew)."""
    from . import variables  # variables imports this module

    before = ctx.names
    if before is None:  # the variables probe failed before the cell: nothing to tell old from new
        return frozenset(), []
    ns = ctx.recorder.shell.user_ns
    old, bound = set(), []
    for name, value in variables._user_names(ns):
        seen = before.get(name)
        if seen is None or seen[0] != id(value):
            if not gc.is_tracked(value):
                bound.append((value, 1))
            continue
        old.add(id(value))
        owner = buffer_owner(value)
        if owner is not None:
            old.add(id(owner[0]))
        now = variables.length(value)
        if now is not None and seen[1] is not None and now > seen[1]:
            items = variables.newest_items(value, min(now - seen[1], variables.NEW_ITEMS_SIZED))
            weight = (now - seen[1]) / len(items) if items else 1
            bound.extend((item, weight) for item in items if not gc.is_tracked(item))
    out = ns.get("Out")
    if type(out) is dict and ctx.cache_lens is not None and len(out) > ctx.cache_lens[0]:
        added = len(out) - ctx.cache_lens[0]
        bound.extend((value, 1) for value in itertools.islice(reversed(out.values()), added)
                     if not gc.is_tracked(value))
    return old, bound


def _survivors(sample, counts, internal, ledger, rows, machinery_rows):
    """Own bytes and the payload each sampled survivor holds, extrapolated per type: ({id(type): own bytes},
    {id(type): payload bytes its survivors hold}); the payload goes to rows (machinery_rows for the kernel's)."""
    seen = Counter(map(id, map(type, sample)))
    weights = {tid: counts[tid] / n for tid, n in seen.items()}
    limit = max(16, min(REFERENTS_SAMPLED, PAYLOAD_BUDGET // max(1, len(sample))))
    own, held = dict.fromkeys(weights, 0.0), dict.fromkeys(weights, 0.0)
    for obj in sample:
        tid = id(type(obj))
        weight = weights[tid]
        own[tid] += own_size(obj) * weight
        held[tid] += ledger.holdings(obj, weight, machinery_rows if tid in internal else rows, limit)
    return own, held


def _row(tp, survivors, size, payload, holds):
    # survivors: an exact count; payload: extrapolated, rounded apart so that count - payload is the survivors.
    return {"type": protocol.type_name(tp=tp), "count": survivors + round(payload), "size": round(size),
            "payload": round(payload), "holds": round(holds)}


def limit_rows(rows, total):
    """At most MAX_ROWS rows (dicts with "type", "count", "size", optional "payload" and "holds"), each taking or
    holding at least MIN_ROW_SHARE of `total` bytes, biggest first, then one "other" row summing the rest (its
    "types": how many)."""
    floor = max(1, total * MIN_ROW_SHARE)
    ranked = sorted(rows, key=lambda r: (max(r["size"], r.get("holds", 0)), r["count"]), reverse=True)
    shown = [r for r in ranked if max(r["size"], r.get("holds", 0)) >= floor][:MAX_ROWS]
    kept = set(map(id, shown))
    rest = [r for r in ranked if id(r) not in kept]
    shown.sort(key=lambda r: (r["size"], r["count"]), reverse=True)
    if rest:
        shown.append({"type": OTHER, "count": sum(r["count"] for r in rest), "size": sum(r["size"] for r in rest),
                      "payload": sum(r.get("payload", 0) for r in rest), "types": len(rest)})
    return shown


def after(ctx):
    """After the cell, the gc still frozen: report["objects"] = {"new": how many gc-tracked objects the cell created
    survive it, "size": their bytes and those of the untracked payload they hold (sampled, extrapolated per type),
    "growth": rows by type, [{"type", "count", "size", "payload" (how many of count are untracked payload), "holds"
    (bytes of payload its objects hold, counted in other rows)}] as limit_rows keeps them, "bound": {"count", "size"}
    of the untracked values the cell bound to names, Out[n] or grown names and nothing else holds (in growth, not in
    size), "machinery": {"count", "size"} of the kernel's own, not counted above}; or {"new": 0, "growth": [],
    "skipped": why} when the gc was not frozen for this cell.
    ctx.census_types: the 8 survivor types that take or hold the most, for keep_targets."""
    if not ctx.gc.frozen:
        reason = USER_FROZEN if ctx.gc.user_frozen else "the gc was not frozen for this cell"
        ctx.report["objects"] = {"new": 0, "growth": [], "skipped": reason}
        return
    objs = RAW.get_objects()
    # An old container the gc did not track (Out holding only arrays and numbers) is tracked from the moment the cell
    # puts a list in it, and then looks new: it is the kernel's, not a survivor of this cell.
    became = {id(c) for c in ctx.untracked_namespaces if gc.is_tracked(c)}
    if became:
        objs = [o for o in objs if id(o) not in became]
    # Keyed by id: hashing a class runs its metaclass's __hash__/__eq__ (user code; None makes classes unhashable).
    counts = Counter(map(id, map(type, objs)))
    types = dict(zip(map(id, map(type, objs)), map(type, objs), strict=True))
    sample = objs[::max(1, len(objs) // SAMPLE_TARGET)]
    del objs
    # What IPython, ipykernel, asyncio and memdiag made around the cell (handles, futures, tokens of a formatted
    # traceback) is not the user's: counted apart, never a row.
    internal = {tid for tid, tp in types.items() if machinery.is_machinery_type(tp)}
    old, bound = _bound_values(ctx)
    ledger = _Ledger(old)
    payload, kernel_payload = {}, {}
    own, held = _survivors(sample, counts, internal, ledger, payload, kernel_payload)
    sample.clear()
    bound_size = bound_count = 0
    for value, weight in bound:
        added = ledger.add(value, weight, payload)
        if added:
            bound_size += added
            bound_count += weight
    bound.clear()
    user = [tid for tid in counts if tid not in internal]
    ctx.census_types = [types[tid] for tid in sorted(user, key=lambda t: own.get(t, 0) + held.get(t, 0),
                                                     reverse=True)[:8]]
    rows = {tid: [types[tid], counts[tid], own.get(tid, 0), 0, held.get(tid, 0)] for tid in user}
    for tid, (tp, n, size) in payload.items():
        if machinery.is_machinery_type(tp):
            kernel_payload[tid] = [tp, n, size]
            continue
        row = rows.setdefault(tid, [tp, 0, 0, 0, 0])
        row[2] += size
        row[3] += n
    size = sum(own.get(tid, 0) + held.get(tid, 0) for tid in user)
    ctx.report["objects"] = {
        "new": sum(counts[tid] for tid in user),
        "size": round(size),
        "growth": limit_rows([_row(*row) for row in rows.values()], size + bound_size),
        "bound": {"count": round(bound_count), "size": round(bound_size)},
        "machinery": {"count": sum(counts[tid] for tid in internal),
                      "size": round(sum(own.get(tid, 0) + held.get(tid, 0) for tid in internal))},
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
    mine.update(map(id, ctx.untracked_namespaces))  # Out, tracked since the cell put a list in it: a root, not a target
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
