"""On-request, whole-heap answers (%memdiag types/growth/why/cycles, the comm's `why`): steps 2-4 of the triage by hand.

These walk the heap, so they run only when asked, never per cell.
"""
import gc
import json
import os
import sys
import tempfile
import types
from collections import Counter

from . import protocol
from .gcguard import RAW
from .probes import backrefs, cycles
from .probes.census import own_size
from .probes.kept import retained_size
from .verdict import format_bytes


def _type_counts():
    return Counter(protocol.type_name(tp=tp) for tp in map(type, gc.get_objects()))


def most_common_types(limit=20):
    """[(type name, live count)] of the `limit` most common types among the gc-tracked objects of the whole heap,
    most first (untracked objects, such as ints, str and bytes, are not counted)."""
    return _type_counts().most_common(limit)


def growth(baseline):
    """Types whose live count grew since `baseline` (None: since nothing), after a full collection; returns (rows,
    new baseline): rows are (type name, count now, increase), biggest increase first, at most 30; the baseline is
    {type name: count} of every gc-tracked type."""
    gc.collect()
    counts = _type_counts()
    old = baseline or {}
    rows = sorted(((name, n, n - old.get(name, 0)) for name, n in counts.items() if n > old.get(name, 0)),
                  key=lambda r: r[2], reverse=True)
    return rows[:30], dict(counts)


def _immortal_refcount():
    """The refcount from which an object is immortal on this build when sys._is_immortal (3.14+) is missing.

    3.12 and 3.13 (PEP 683) pin an immortal object's count at 2**32-1 on 64-bit builds (measured on 3.12.1 and 3.13.0
    for None, True, small ints, '' and interned strings; 3.13 tests bit 31 of the low 32 bits) and at 2**30-1 on 32-bit
    ones. 3.11 starts its statically allocated objects (small ints, '', (), one-character strings) at 999,999,999: they
    are never freed either, and their count says nothing about who holds them. 3.10 has no such objects: None.
    No ordinary object comes near these counts (2**31 references alone take 16 GiB).
    """
    if sys.version_info >= (3, 12):
        return 2**31 if sys.maxsize > 2**32 else 2**30 - 1
    if sys.version_info >= (3, 11):
        return 999_999_999
    return None


IMMORTAL_REFCOUNT = _immortal_refcount()
IMMORTAL_SUMMARY = ("immortal: the interpreter never frees it, whatever refers to it (its reference count is fixed and "
                    "counts nothing)")


def is_immortal(obj):
    """True for an object the interpreter never frees: sys._is_immortal on 3.14+, else a refcount at or above
    IMMORTAL_REFCOUNT (3.11-3.13); always False on 3.10."""
    check = getattr(sys, "_is_immortal", None)  # 3.14+
    if check is not None:
        return bool(check(obj))
    return IMMORTAL_REFCOUNT is not None and sys.getrefcount(obj) >= IMMORTAL_REFCOUNT


def why(shell, expr):
    """Refcount, size, direct referrers and a backref chain of the value of `expr` in the user's namespace.

    Returns a JSON-safe dict {"name": expr, "type", "refcount" (int: references, why's own left out), "immortal":
    False, "size" (bytes it keeps alive: kept.retained_size, e.g. a numpy view's base buffer, a DataFrame's blocks, a
    container's untracked payload), "own_size" (bytes: its getsizeof alone), "referrers" (up to 20 gc-tracked holders as
    "type.edge", then untracked dicts and tuples under the user's names), "backrefs" (chains, as backrefs.search)}.
    An immortal object (None, True, small ints, the empty tuple; on 3.12 interned strings) gets "refcount": None,
    "immortal": True and a summary instead: its count is a constant, and nothing that refers to it keeps it alive.
    Raises ValueError when `expr` cannot be evaluated.
    """
    try:
        value = eval(expr, shell.user_global_ns, shell.user_ns)  # noqa: S307 - the user's own expression
    except Exception as exc:  # noqa: BLE001
        raise ValueError(f"cannot evaluate {protocol.short(expr, 80)!r}: {type(exc).__name__}: {exc}") from None
    if is_immortal(value):
        own = own_size(value)
        result = {"name": protocol.short(expr, 120), "type": protocol.type_name(value), "refcount": None,
                  "immortal": True, "summary": IMMORTAL_SUMMARY, "size": own, "own_size": own, "referrers": [],
                  "backrefs": []}
        return protocol.json_safe(result)
    # getrefcount counts its own argument and our local `value`
    refcount = sys.getrefcount(value) - 2
    # Plain loops: a comprehension would close over `value` and its closure cell would show up as a referrer.
    # The raw call (the magic has thawed the cell): through memdiag's wrapper of gc.get_referrers, 3.13 would list the
    # wrapper's own *args tuple as a holder.
    holders = []
    for holder in RAW.get_referrers(value):
        if type(holder) is not types.FrameType and len(holders) < 20:
            holders.append(holder)
    holder = None
    # The chains first, the edges after: naming an attribute edge reads the holder's __dict__, which on 3.11 and 3.12
    # turns its inline values into a dict, untracked when all its values are (bytes, numbers, str): gc.get_referrers
    # no longer sees that holder, and a search after it would find no chain.
    targets = [value]
    chains = backrefs.search(shell, targets, backrefs.DEEP_BUDGET_S, payloads=False)
    referrers = []
    for holder in holders:
        referrers.append(_namespace_referrer(shell, holder, value)
                         or f"{protocol.type_name(holder)}{cycles.attribute_edge(holder, value)}")
    holder = None
    holders.clear()
    referrers.extend(_untracked_holders(shell, value))
    result = {"name": protocol.short(expr, 120), "type": protocol.type_name(value), "refcount": refcount,
              "immortal": False, "size": retained_size(value), "own_size": own_size(value), "referrers": referrers,
              "backrefs": chains}
    return protocol.json_safe(result)


_MODULE_DICT = types.ModuleType.__dict__["__dict__"].__get__


def _namespace_referrer(shell, holder, value):
    """A namespace holding `value`, as a user names it: the notebook's global `df` (not `dict['df']`), a module's
    global `mymod.df`, an item `frames['df']` of a dict the user bound to a name; None for any other holder."""
    if type(holder) is not dict:
        return None
    if holder is shell.user_ns or holder is shell.user_global_ns:
        prefix = ""
    else:
        name = holder.get("__name__")
        module = sys.modules.get(name) if type(name) is str else None
        # A real module's namespace (read through ModuleType's own descriptor: a subclass's code never runs).
        if module is not None and issubclass(type(module), types.ModuleType) and _MODULE_DICT(module) is holder:
            prefix = f"{protocol.short(name, 60)}."
        else:
            owner = next((name for name, item in list(shell.user_ns.items())
                          if item is holder and type(name) is str and not name.startswith("_")), None)
            if owner is None:
                return None
            keys = [key for key, item in list(holder.items())[:10_000] if item is value][:3]
            return ", ".join(f"{protocol.short(owner, 60)}[{protocol.key_repr(key)}]" for key in keys) or None
    names = [name for name, item in list(holder.items()) if item is value and type(name) is str][:3]
    return ", ".join(prefix + protocol.short(name, 60) for name in names) or None


def _untracked_holders(shell, value):
    """Holders gc.get_referrers cannot see: a dict or tuple whose items are all untracked (bytes, bytearray, numbers,
    arrays) is itself untracked. Look for `value` by identity one level under the user's names."""
    found = []
    for name, item in list(shell.user_ns.items()):
        if name.startswith("_") or gc.is_tracked(item):
            continue
        if isinstance(item, dict):
            keys = [key for key, member in item.items() if member is value]
            found += [f"dict {name}[{protocol.safe_repr(key, 40)}]" for key in keys[:5]]
        elif isinstance(item, tuple):
            found += [f"tuple {name}[{i}]" for i, member in enumerate(item) if member is value][:5]
        if len(found) >= 20:
            break
    return found


def cycles_now():
    """Cyclic garbage in the whole heap right now, named (DEBUG_SAVEALL), then freed: returns (groups, as
    cycles.describe for up to cycles.MAX_ANALYSED objects, number of objects found)."""
    debug = gc.get_debug()
    start = len(gc.garbage)
    try:
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        garbage = gc.garbage[start:]
        del gc.garbage[start:]
    finally:
        gc.set_debug(debug)
    try:
        return cycles.describe(garbage[: cycles.MAX_ANALYSED]), len(garbage)
    finally:
        garbage.clear()
        gc.collect()


def install_malloc_debug_kernelspec(user=False, prefix=None):
    """Install the kernelspec 'memdiag-malloc-debug' (this Python with PYTHONMALLOC=debug) through jupyter_client,
    for this user, under `prefix` or system-wide; returns the directory it was installed in."""
    from jupyter_client.kernelspec import KernelSpecManager

    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"Python {sys.version_info.major}.{sys.version_info.minor} (memdiag malloc-debug)",
        "language": "python",
        "env": {"PYTHONMALLOC": "debug", "PYTHONDONTWRITEBYTECODE": "1"},
        "metadata": {"debugger": True},
    }
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "kernel.json"), "w") as f:
            json.dump(spec, f, indent=1)
        return KernelSpecManager().install_kernel_spec(tmp, "memdiag-malloc-debug", user=user, prefix=prefix)


# -- text for the magics ---------------------------------------------------------------------------------------------
def format_types(rows):
    """Text of most_common_types' rows, one line per type: count, name."""
    return "\n".join(f"{n:>10,}  {name}" for name, n in rows)


def format_growth(rows):
    """Text of growth()'s rows, one line per type: name, count, increase; a sentence when nothing grew."""
    if not rows:
        return "no type grew since the previous call"
    return "\n".join(f"{name:<40} {n:>10,} {delta:>+10,}" for name, n, delta in rows)


def format_why(result):
    """Text of a why() result: type, refcount and size, then its referrers and chains (or that none was found)."""
    if result.get("immortal"):
        return (f"{result['name']}: {result['type']}, immortal, {format_bytes(result['size'])}\n"
                f"  {result.get('summary') or IMMORTAL_SUMMARY}")
    size = format_bytes(result["size"])
    own = result.get("own_size")
    if isinstance(own, int) and own != result["size"]:
        size += f" (itself {format_bytes(own)}, the rest what it holds)"
    lines = [f"{result['name']}: {result['type']}, refcount {result['refcount']}, {size}"]
    lines += [f"  referred to by {r}" for r in result["referrers"]]
    for chain in result["backrefs"]:
        path = "".join(link["edge"] or "" for link in chain["chain"][1:])
        lines.append(f"  reachable as {chain['root']}{path}")
    if not result["backrefs"]:
        lines.append("  no chain to a named root found within the budget")
    return "\n".join(lines)


def format_cycles(found):
    """Text of cycles_now()'s result: the number of objects, then each group's objects, size, types and edges."""
    groups, total = found
    if not total:
        return "no cyclic garbage right now"
    lines = [f"{total:,} objects in cyclic garbage (now freed):"]
    for group in groups:
        lines.append(f"  {group['objects']:,} objects, {format_bytes(group['size'])}: {', '.join(group['types'])}")
        lines += [f"    {edge}" for edge in group["edges"]]
    return "\n".join(lines)
