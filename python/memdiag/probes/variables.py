"""The user's names: which ones the cell bound anew, rebound, or grew in place, with cheap sizes.

Before the cell only ids and lengths are kept (no references). Lengths are read only from types we know
(builtins, deques, lru_cache wrappers, numpy, pandas) by exact type, so no user __len__ or __getattr__ runs.
The grown containers' newest items are what a re-run appended: they are the usual leak.
"""
import collections
import functools
import gc
import itertools
import operator
import types

from .. import protocol
from .census import _is_a, _pandas_types, _refcounts, limit_rows, pandas_size
from .kept import items_size, kept_size, our_refs

TOP_N = 20
NEW_ITEMS_SIZED = 1000
# IPython's own bookkeeping names, reported through their roots (Out[n], _) by the backrefs, not as user variables.
_IPYTHON_NAMES = {"In", "Out", "_ih", "_oh", "_dh", "_", "__", "___", "_i", "_ii", "_iii", "exit", "quit",
                  "get_ipython", "__builtin__", "__builtins__", "__name__", "__doc__", "__package__", "__loader__",
                  "__spec__"}
_SIZED = (list, dict, set, frozenset, bytearray, collections.deque, collections.OrderedDict,
          collections.defaultdict, collections.Counter)
# By identity: `type(v) in (...)` would run the == of a user's metaclass.
_SIZED_IDS = frozenset(map(id, _SIZED))
_LRU = functools._lru_cache_wrapper


def is_ipython_name(name):
    """True for IPython's own names in the user namespace (In, Out, _, _5, _i5, exit, __builtins__...): not the
    user's variables."""
    if name in _IPYTHON_NAMES:
        return True
    # _5, _i5: output and input history entries
    return name.startswith("_") and (name[1:].isdigit() or (name[:2] == "_i" and name[2:].isdigit()))


def length(value):
    """A cheap growth measure for known container types, by exact type (len(), an lru_cache's currsize, a DataFrame's
    cells), None for anything else."""
    tp = type(value)
    if id(tp) in _SIZED_IDS:
        return len(value)
    if tp is _LRU:
        try:
            return value.cache_info().currsize
        except Exception:  # noqa: BLE001
            return None
    if _is_frame(value):
        rows, columns = value.shape
        return rows * columns  # its cells: a new column grows it as new rows do
    kinds = _pandas_types()
    return len(value) if kinds is not None and _is_a(tp, kinds[1]) else None


def _is_frame(value):
    kinds = _pandas_types()
    return kinds is not None and _is_a(type(value), kinds[0])


def cheap_size(value, memo=None, ours=None, met=None):
    """Bytes: a pandas object's memory_usage (census.pandas_size), otherwise kept.kept_size (getsizeof; a numpy view
    with its base buffer; the untracked payload; the tracked objects below it nothing else holds, sampled; `memo`:
    the cell's, see census.held_size; `ours`: kept.our_refs; `met`: a set for the ids of the objects read, see
    kept_size)."""
    size = pandas_size(value)
    return size if size is not None else kept_size(value, memo, ours, met)


def newest_items(value, grown):
    """The `grown` most recently added items of a container (dicts and lru caches keep insertion order)."""
    tp = type(value)
    if tp is _LRU:
        return _newest_results(value, grown)
    if isinstance(value, dict):
        return list(itertools.islice(reversed(value.values()), grown))
    if isinstance(value, (list, collections.deque)):
        return list(itertools.islice(reversed(value), grown))
    return []


def _newest_results(cache, grown):
    """The `grown` newest results an lru_cache keeps. Its entries (functools._lru_list_elem) show the gc nothing; the
    cache itself lists, oldest first, each entry's key, result and type after its own type (CPython 3.10-3.13): the
    results read from there are what the entries keep (5 kB each of a cache of bytes, where an entry is 56 B). Its
    entries in order when the layout is not that one."""
    refs = gc.get_referents(cache)
    caches = [r for r in refs if type(r) is dict]
    if not caches:
        return []
    count = len(caches[0])  # the cache's dict comes before the wrapper's own __dict__
    block = refs[1:1 + 3 * count]
    if len(block) == 3 * count and all(isinstance(kind, type) for kind in block[2::3]):
        return block[1::3][::-1][:grown]
    return list(itertools.islice(reversed(caches[0].values()), grown))


# IPython's names met so far (_i5, _5: one or two more per cell, never the user's): skipped by one set lookup, not
# parsed again on every cell (a namespace of a thousand cells' history).
_IPYTHON_SEEN = set()


def _user_names(ns):
    """[(name, value)] of the user's names in `ns`, in its order: not IPython's (is_ipython_name), not modules."""
    out = []
    for k, v in list(ns.items()):
        if type(k) is not str or k in _IPYTHON_SEEN:
            continue
        if is_ipython_name(k):
            _IPYTHON_SEEN.add(k)
            continue
        if not issubclass(type(v), types.ModuleType):
            out.append((k, v))
    return out


# {name: (id(value), length or None, bytes, type name)}: the size this probe last read of a name's value (no reference
# kept). A re-run that rebinds a name frees the old value when only the name held it: its Δ is then what the new value
# adds. A deleted name is shown with that size and type.
_SIZED_BEFORE = {}


def _only_named(ns, names):
    """{name: bytes}: of `names` (in ns, each with a size read when its value was bound or grew, its id and length
    unchanged since), those whose value nothing but the namespace holds, with that size. Read by refcount on a list of
    the values alone: a value under k of these names has 2k + 1 references when the namespace holds it alone (each
    name, each entry of the list, the read: _NAMED_REFS for one), so `a = b = big; del a, b` frees it."""
    values = list(map(ns.get, names))
    counts = _refcounts(values)
    names_of = collections.Counter(map(id, values))
    expected = [_NAMED_REFS + 2 * (names_of[ident] - 1) for ident in map(id, values)]
    values.clear()
    sole = map(operator.eq, counts, expected)
    return {name: _SIZED_BEFORE[name][2] for name in itertools.compress(names, sole)}


def _named_refs():
    """What _only_named reads for a value only its namespace holds (3 on CPython 3.10-3.13), read the same way."""
    probe = {"name": []}
    return _refcounts(list(map(probe.get, ["name"])))[0]


_NAMED_REFS = _named_refs()


def before(ctx):
    """Before the cell: ctx.names = {name: (id(value), length or None)} of the user's names (no reference kept);
    ctx.names_sole = {name: bytes} of those whose value only the name holds, sized on an earlier run (_only_named)."""
    ns = ctx.recorder.shell.user_ns
    ctx.names = {name: (id(value), length(value)) for name, value in _user_names(ns)}
    known = [name for name, seen in ctx.names.items() if _SIZED_BEFORE.get(name, (None,))[:2] == seen]
    ctx.names_sole = _only_named(ns, known) if known else {}


def after(ctx):
    """After the cell: report["variables"] = up to TOP_N rows, the biggest change first: {"name", "status" ("new",
    "rebound", "grown" or "deleted"), "type", "size" (bytes, cheap_size; a deleted name's, as last read), "delta"
    (bytes the name added: its size, 0 when another name held the value before the cell, an earlier name of this
    cell's counted it (`a = np.ones(n); b = a`), or the cell did not make it (census: ctx.older_values), less what
    it keeps of values only earlier names held; when rebound, less the old value's size if only the name held that
    and nothing the cell bound holds it now; its newest items' when grown; when deleted, minus the size it freed, 0
    when something else still holds the value), "added" (items; grown only)}. Deleted names are those sized on an
    earlier run (no reference is kept to size them later). ctx.names_changed: (name, status, items added, at most 8)
    of the rows of names still bound, for the backrefs; ctx.named_ids: ids of the values a new or rebound name's
    delta counted."""
    seen, ctx.names = ctx.names, None
    sole, ctx.names_sole = ctx.names_sole or {}, None
    if seen is None:
        return
    rows = []
    current = _user_names(ctx.recorder.shell.user_ns)
    alive = set(map(id, map(operator.itemgetter(1), current)))
    named = set(map(operator.itemgetter(0), seen.values()))
    # The values only a name held before the cell, by id, with their sizes: freed when their name goes, unless the cell
    # moved them (`holder = [rows]; del rows`): a value it bound keeps them now, read among what that value keeps.
    solely = {seen[name][0]: size for name, size in sole.items()}
    moved = set()  # ids of such values a value the cell bound keeps now
    freed = set()  # ids of old values counted as freed: once, whichever of their names is met first
    ours = our_refs([ctx.targets], ctx.sizes)  # the census's heavy survivors, held while the chains may need them
    for name, value in current:
        old = seen.get(name)
        if old is None or old[0] != id(value):
            met = set() if solely else None
            size = cheap_size(value, ctx.sizes, ours, met)
            # A value a name held before the cell (`old = df`), or any the cell did not make (`t = module.TABLE`, read
            # by the census), is not what the cell added.
            older = id(value) in named or id(value) in ctx.older_values or id(value) in ctx.named_ids
            row = {"name": name, "status": "new" if old is None else "rebound", "type": protocol.type_name(value),
                   "size": size, "delta": 0 if older else size}
            if not older:
                ctx.named_ids.add(id(value))
            for ident in met & solely.keys() if met else ():
                if ident != id(value) and ident not in moved:
                    moved.add(ident)
                    row["delta"] -= solely[ident]
            rows.append(row)
            _SIZED_BEFORE[name] = (id(value), length(value), size, row["type"])
            if not gc.is_tracked(value):  # an ndarray, bytes, a str: no census sees them
                ctx.untracked.append((type(value), size))
            continue
        now = length(value)
        if now is not None and old[1] is not None and now > old[1]:
            # Sized before its newest items are listed: the list would hold them too, and they would not look the
            # container's own (its size lagged one run behind).
            size = cheap_size(value, ctx.sizes, ours)
            known = _SIZED_BEFORE.get(name)
            if _is_frame(value):  # a new column (`df['x'] = ...`) or rows: what the frame's size grew by
                delta = max(size - known[2], 0) if known is not None and known[0] == id(value) else 0
            else:
                items = newest_items(value, min(now - old[1], NEW_ITEMS_SIZED))
                delta = items_size(items, ours) * (now - old[1]) // max(len(items), 1)
                items.clear()
            rows.append({"name": name, "status": "grown", "type": protocol.type_name(value), "size": size,
                         "delta": delta, "added": now - old[1]})
            _SIZED_BEFORE[name] = (id(value), now, size, rows[-1]["type"])
    bound = set(map(operator.itemgetter(0), current))
    current.clear()

    def frees(name):
        ident = seen[name][0]
        if name not in sole or ident in alive or ident in moved or ident in freed:
            return 0
        freed.add(ident)
        return sole[name]

    for row in rows:
        if row["status"] == "rebound":
            row["delta"] -= frees(row["name"])
    changed = len(rows)
    for name in seen.keys() - bound:
        known = _SIZED_BEFORE.get(name)
        if known is not None and known[:2] == seen[name]:
            rows.append({"name": name, "status": "deleted", "type": known[3], "size": known[2], "delta": -frees(name)})
    for name in _SIZED_BEFORE.keys() - bound:
        del _SIZED_BEFORE[name]
    ctx.names_changed = [(r["name"], r["status"], min(r.get("added", 0), 8))
                         for r in sorted(rows[:changed], key=lambda r: r["delta"], reverse=True)[:TOP_N]]
    rows.sort(key=lambda r: (abs(r["delta"]), r["size"]), reverse=True)
    ctx.report["variables"] = rows[:TOP_N]


def add_untracked_growth(ctx):
    """Fold the untracked values the cell bound (names, Out[n]) into the type growth when the census did not: it
    counts them itself (its "bound" entry), each once together with the payload the survivors hold, so an ndarray both
    named and held by a new list is one object. When the census failed part way, they are merged here by type name
    with cheap_size's bytes (an object reached twice may then count twice), and the rows limited again."""
    objects = ctx.report.get("objects")
    if not ctx.untracked or not isinstance(objects, dict) or "skipped" in objects or "bound" in objects:
        return
    rows = {row["type"]: row for row in objects.get("growth", [])}
    for tp, size in ctx.untracked:
        if any(tp is kind for kind in (int, float, bool, type(None))) or size < 1024:
            continue
        name = protocol.type_name(tp=tp)
        row = rows.get(name)
        if row is None:
            row = rows[name] = {"type": name, "count": 0, "size": 0}
        row["count"] += 1
        row["size"] += size
    objects["growth"] = limit_rows(list(rows.values()), sum(row["size"] for row in rows.values()))
