"""Cyclic garbage the cell made: how much automatic collections freed, and the types, sizes and closing edges of the
rest.

The gc is frozen, so collections only look at the cell's own objects. Default mode collects the generations the cell's
automatic collections moved its objects into (gcguard.promoted_to): generation 0 when none ran, every generation when
generation 1 was collected a few times at most (a few tens of thousands of objects), generation 0 alone after a longer
cell (its size is bounded by the gc threshold, not by the cell; collecting the oldest after a cell that kept 1,000,000
objects took 50-100 ms). Traced and deep runs, and CPython 3.14.0-3.14.4 (incremental GC), collect every generation,
which is still only the cell's objects. DEBUG_SAVEALL keeps the garbage for a moment so it
can be named, then it is released and really freed.
"""
import gc
import itertools
import sys
import types
from collections import Counter

from .. import gcguard, machinery, protocol
from ..gcguard import RAW, collected
from .census import group_size, held_size

INCREMENTAL_GC = sys.implementation.name == "cpython" and (3, 14, 0) <= sys.version_info[:3] < (3, 14, 5)
MAX_ANALYSED = 50_000
MAX_GROUPS = 10
MAX_EDGES = 6
# Items looked through to name a dict's key for an edge: a registry of 24,000 loggers holds the newest at its end.
EDGE_SCAN = 1_000_000


def after(ctx):
    """After the cell, the gc still frozen: collect the cell's cyclic garbage with DEBUG_SAVEALL, name it, free it.

    report["gc"] = {"collected": objects automatic collections freed during the cell plus those this collection
    found, "during": the automatic part, "cycles": describe()'s groups, the kernel's own left out}, plus "machinery":
    {"groups", "objects", "size"} of the kernel's groups when there were any. "skipped": why, when the gc was not
    frozen for the cell, or the user disabled it or set debug flags.
    """
    state = ctx.gc
    during = collected() - state.collected_before if state.collected_before is not None else 0
    section = {"collected": during, "during": during, "cycles": []}
    ctx.report["gc"] = section
    if not state.frozen:
        # without our freeze a collection would walk the user's whole heap
        section["skipped"] = gcguard.not_frozen_reason(state)
        return
    if not gcguard.may_collect(state):
        # the user turned the gc off or is debugging it: leave their garbage alone
        section["skipped"] = "the gc is disabled or in debug mode (the user's gc.disable() or gc.set_debug())"
        return
    # CPython 3.14.0-3.14.4 collect in increments (two generations): a cycle an automatic collection moved to the old
    # generation during the cell is found only by a full collection, which, with the gc frozen, is of the cell's own.
    # A traced run (every deep run but `%%memdiag --lines` without --trace) collects every generation of the cell's;
    # another the generations its automatic collections moved objects into, within a bound (promoted_to): 2,000
    # objects with a reference to themselves, made in a list the cell dropped, had been moved out of generation 0
    # before they were garbage, and collecting generation 0 alone found 496 of their 4,004 objects ("ok" where the
    # cell made 1.8 MB of cyclic garbage a run).
    generation = 2 if (ctx.trace or INCREMENTAL_GC) else gcguard.promoted_to(state)
    found = _collect_saved(generation, section)
    section["collected"] = during + found


def _collect_saved(generation, section):
    start = len(gc.garbage)
    garbage = []
    try:
        gc.set_debug(gc.DEBUG_SAVEALL)
        found = RAW.collect(generation)
        garbage = gc.garbage[start:]
    finally:
        del gc.garbage[start:]  # even when interrupted: gc.garbage would keep the cell's garbage forever
        gc.set_debug(0)
    try:
        hidden = {}
        section["cycles"] = describe(garbage[:MAX_ANALYSED], hidden)
        if hidden.get("groups"):
            section["machinery"] = hidden
    finally:
        garbage.clear()
        # SAVEALL moved the garbage to an older generation, still cyclic: free it now, while only young objects count.
        # Even with nothing saved, this collection pays for itself: it moves the cell's survivors out of the young
        # generations, and the collections memdiag's own allocations set off afterwards no longer walk them (a cell
        # leaving 10,000 lists at 5M objects: 0.15 ms less of memdiag's time with it than without).
        RAW.collect(min(generation + 1, 2))
    return found


def is_internal(types):
    """Garbage IPython makes on its own (formatting a traceback, running the displayhook) is not the user's problem.

    One type of the kernel's (IPython, pygments, stack_data, memdiag...) in a cycle group is enough: users don't build
    cycles through IPython's objects. Runners' types (an asyncio future, a thread's lock) and the objects that make
    cycles in anyone's hands (frames, tracebacks, cells, code, generators) only when the group has nothing else."""
    return any(machinery.is_kernel_type(tp) for tp in types) or all(
        machinery.is_cycle_only_type(tp) or machinery.is_machinery_type(tp) for tp in types)


def describe(garbage, hidden=None):
    """Group garbage into connected components, then by type signature; name the edges that close each cycle.

    Returns at most MAX_GROUPS groups, biggest first: [{"types": type names, "objects": count, "size": bytes,
    "internal": the kernel's own (is_internal), "edges": up to MAX_EDGES edge texts}]. With `hidden` (a dict), the
    kernel's own groups are left out and only counted into it: {"groups", "objects", "size"}. Without, every group
    is described, flagged."""
    index = {id(o): i for i, o in enumerate(garbage)}
    parent = list(range(len(garbage)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    links = []
    for i, obj in enumerate(garbage):
        for ref in gc.get_referents(obj):
            j = index.get(id(ref))
            if j is not None:
                links.append((i, j))
                a, b = find(i), find(j)
                if a != b:
                    parent[a] = b
    members = {}
    for i in range(len(garbage)):
        members.setdefault(find(i), []).append(i)
    groups = {}
    for comp in members.values():
        by_name = {protocol.type_name(garbage[i]): type(garbage[i]) for i in comp}
        types = tuple(sorted(by_name))
        group = groups.setdefault(types, {"types": list(types), "objects": 0, "size": 0, "sample": comp,
                                          "internal": is_internal(by_name.values())})
        group["objects"] += len(comp)
        # The kernel's own garbage (IPython formatting a traceback: 200-400 objects an error) is only summed, in one
        # batch: sized one by one it took 12-40 ms of every failing cell's run.
        group["size"] += group_size([garbage[i] for i in comp]) if group["internal"] else \
            sum(held_size(garbage[i]) for i in comp)
    result = sorted(groups.values(), key=lambda g: (g["size"], g["objects"]), reverse=True)
    if hidden is not None:
        internal = [g for g in result if g["internal"]]
        hidden.update(groups=len(internal), objects=sum(g["objects"] for g in internal),
                      size=sum(g["size"] for g in internal))
        result = [g for g in result if not g["internal"]]
    result = result[:MAX_GROUPS]
    for group in result:
        sample = set(group.pop("sample"))
        group["edges"] = _edges(garbage, [(i, j) for i, j in links if i in sample], index)
    return result


def _edges(garbage, links, index):
    # An instance whose __dict__ is an object of its own (3.10; 3.11+ once materialized): `Node.__dict__ -> dict`,
    # `dict['peer'] -> Node` is said as Python spells it, `Node.peer -> Node`.
    owners = {}
    for i, j in links:
        if type(garbage[j]) is dict and attribute_edge(garbage[i], garbage[j]) == ".__dict__":
            owners[j] = i
    names = Counter()
    for i, j in links:
        if j in owners and owners[j] == i:
            continue
        if i in owners:
            key = attribute_edge(garbage[i], garbage[j])
            if key.startswith("['") and key.endswith("']") and key[2:-2].isidentifier():
                names[f"{protocol.type_name(garbage[owners[i]])}.{key[2:-2]} -> {protocol.type_name(garbage[j])}"] += 1
                continue
        names[_edge_label(garbage[i], garbage[j])] += 1
        if len(names) >= MAX_EDGES:
            break
    return [protocol.short(name, 120) for name, _ in names.most_common(MAX_EDGES)]


def _edge_label(src, dst):
    src_t, dst_t = protocol.type_name(src), protocol.type_name(dst)
    return f"{src_t}{attribute_edge(src, dst)} -> {dst_t}"


def attribute_edge(src, dst):
    """How src refers to dst, as Python spells it: `.attr`, `['key']`, `[3]`, or the C slot we can name."""
    # By type(src), never src.__class__ (it may lie), and through the base type's own methods: a dict subclass's
    # items() or a lying object's __getattr__ is user code that may hang.
    tp = type(src)
    if issubclass(tp, dict):
        for key, value in itertools.islice(dict.items(src), EDGE_SCAN):
            if value is dst:
                return f"[{protocol.key_repr(key)}]"
            if key is dst:
                return ".key"
        return ""
    if issubclass(tp, (list, tuple)):
        items = list.__getitem__(src, slice(10_000)) if issubclass(tp, list) else tuple.__getitem__(src, slice(10_000))
        for n, value in enumerate(items):
            if value is dst:
                return f"[{n}]"
        return ""
    name = _inline_attr(src, dst)
    if name is not None:
        return f".{protocol.short(name, 40)}"
    try:
        attrs = _plain_attr(src, "__dict__")
    except Exception:  # noqa: BLE001 - no __dict__, or a hostile descriptor
        attrs = None
    if isinstance(attrs, dict):
        if attrs is dst:
            return ".__dict__"
        for key, value in itertools.islice(dict.items(attrs), 1000):  # dict's own items: no subclass code runs
            if value is dst:
                return f".{protocol.short(key, 40)}" if type(key) is str else f"[{protocol.key_repr(key)}]"
    for slot in ("__closure__", "__self__", "__func__", "cell_contents", "__defaults__", "__globals__",
                 "f_locals", "tb_frame", "tb_next", "f_back", "__wrapped__", "__traceback__", "__context__"):
        try:
            if _plain_attr(src, slot) is dst:
                return f".{slot}"
        except Exception:  # noqa: BLE001 - not that kind of object
            continue
    return ""


_C_DESCRIPTORS = (types.GetSetDescriptorType, types.MemberDescriptorType)
_MRO = type.__dict__["__mro__"]
_VARS = type.__dict__["__dict__"]
_FLAGS = type.__dict__["__flags__"]


# 3.11+ keeps a plain instance's attributes inline, without a dict: reading `obj.__dict__` builds one (memory, and a
# dict of untracked values that gc.get_referrers then misses). Py_TPFLAGS_MANAGED_DICT marks such types.
_MANAGED_DICT = 1 << 4 if sys.version_info >= (3, 11) else 0
MAX_CODE_NAMES = 2000


def _inline_attr(src, dst):
    """The name of src's instance attribute that is dst, found without building src's __dict__ (3.11+): the attribute
    names the class's own methods use (their code's co_names), read with object.__getattribute__ when no class in the
    MRO defines that name (so no property or user __getattr__ runs). None when not found that way."""
    tp = type(src)
    if not _FLAGS.__get__(tp) & _MANAGED_DICT:
        return None
    namespaces = [_VARS.__get__(klass) for klass in _MRO.__get__(tp) if klass is not object]
    for name in _code_names(namespaces):
        if any(name in ns for ns in namespaces):
            continue  # a class attribute or a descriptor: not the instance's own
        try:
            if object.__getattribute__(src, name) is dst:
                return name
        except Exception:  # noqa: BLE001 - not set on this instance
            continue
    return None


def _code_names(namespaces):
    """The names the functions of these class namespaces read or set as attributes (co_names, nested code too),
    in order, at most MAX_CODE_NAMES."""
    names, stack = {}, []
    for ns in namespaces:
        for value in list(ns.values()):
            func = value.__func__ if type(value) is classmethod or type(value) is staticmethod else value
            if type(func) is types.FunctionType:
                stack.append(func.__code__)
    while stack and len(names) < MAX_CODE_NAMES:
        code = stack.pop(0)
        names.update(dict.fromkeys(code.co_names))
        stack.extend(c for c in code.co_consts if type(c) is types.CodeType)
    return list(names)[:MAX_CODE_NAMES]


def _plain_attr(src, name):
    """src.name when reading it runs no user code: a C slot or the instance's own dict, never a property, a class's
    __getattr__ or __getattribute__ (a lying proxy may hang). Raises AttributeError otherwise."""
    for klass in _MRO.__get__(type(src)):
        found = _VARS.__get__(klass).get(name)
        if found is not None:
            if not any(type(found) is kind for kind in _C_DESCRIPTORS):
                raise AttributeError(name)
            break
    return object.__getattribute__(src, name)
