"""Why is it alive: chains from what a cell retained up to a named root, found by one batched search.

objgraph walks the heap once per object (100 targets at 1M objects: ~143 s); here every level of referrers for all
targets comes from one `gc.get_referrers(*frontier)` call (0.44 s), under a time budget. Roots are resolved by identity
first (probes/roots.py), so the search stops as soon as a chain reaches a name a user knows. Runs with the gc unfrozen
(get_referrers skips the permanent generation), for flagged or deep cells only, or on request.
"""
import collections
import functools
import gc
import time
import types

from .. import advice, machinery, protocol
from ..gcguard import RAW
from .census import array_base, biggest_untracked, rank_targets, referents
from .cycles import attribute_edge
from .kept import kept_size, our_refs, retained_size
from .roots import Roots, frame_locals, label

# By id: `type(x) in (list, ...)` compares with ==, which runs a metaclass's __eq__.
_CONTAINERS = frozenset(map(id, (list, dict, set, collections.deque)))
_NAMED_PAYLOAD = frozenset(map(id, (types.FrameType, list, tuple, dict)))
MAX_DEPTH = 12
MAX_TARGETS = 12
# gc.get_referrers(*objs) checks each heap edge against every object asked about: a level costs heap x frontier.
MAX_FRONTIER = 1024
# get_referrers' C scan beats a Python pass over the heap until ~1,000 objects at once (1M objects: 100 of them
# 0.23 s against 1.5 s; 1,000: 1.3 s against 1.4 s).
NARROW_FRONTIER = 768
MAX_PARENTS = 256
MAX_SAME_TYPE_PARENTS = 4
PAYLOAD_REFERENTS = 256  # referents of a target looked at for the one that is its bytes
MIN_CHAIN_BYTES = 1024  # a chain to less than this (or 1% of the biggest) is not what keeps the cell's memory
BUDGET_S = 1.0
DEEP_BUDGET_S = 3.0


def _edge(src, dst):
    if type(src) is functools._lru_cache_wrapper:
        return ".cache"
    # type(x), never x.__class__: a referrer's __class__ may lie, or be a dead weakproxy's (ReferenceError).
    if issubclass(type(src), types.ModuleType):
        return "." + protocol.short(next((k for k, v in vars(src).items() if v is dst), "?"), 60)
    if issubclass(type(src), type) and type(dst) is dict:
        return ".__dict__"  # a class's own namespace: its attributes follow as ['name']
    if type(src) is types.FrameType:
        name = next((n for n, v in frame_locals(src) if v is dst), None)
        if name is not None:
            return f".f_locals[{protocol.key_repr(name)}]"
    return attribute_edge(src, dst)


def _payload(target, size):
    """The one untracked referent that is most of what `target` keeps (at least half of `size` bytes: a frame's 30 MB
    local, a list's one big item), with the edge to it; None when no single one is, or it cannot be named. Only frames
    and plain containers: naming an instance's attribute reads its __dict__, which 3.11+ would build."""
    if id(type(target)) not in _NAMED_PAYLOAD:
        return None
    refs, _ = referents(target, PAYLOAD_REFERENTS)  # a list of 1M items is not copied to look at 256 of them
    best, best_size = biggest_untracked(refs)
    if best is None or best_size < max(MIN_CHAIN_BYTES, size // 2):
        return None
    edge = _edge(target, best)
    return (best, edge) if edge else None


def _ours(ref):
    # Frames of memdiag itself (materialized by a traceback or a debugger) hold our locals, not the user's data.
    return type(ref) is types.FrameType and machinery.file_kind(ref.f_code.co_filename) == machinery.KIND_OWN


def search(shell, targets, budget_s=BUDGET_S, walk=True, info=None, payloads=True, sizes=None, rebound=frozenset(),
           roots=None):
    """One chain per target, from a named root down to it: a list of {"type", "root", "chain": [{"label", "edge"}]}
    (targets with no chain found are left out). `budget_s`: seconds the heap walk may take.

    A target that is simply the value of a user's name is searched further ("what else holds it?": a figure kept by
    pyplot, an instance kept by a class registry); when nothing else does, its chain is the name alone.
    With walk=False only identity roots are tried (no heap pass). `info` (a dict), when given, gets
    "truncated": True when the time budget ran out before every target had its chain. `payloads`: a chain goes on to
    the one untracked object that is most of its target's bytes (a frame's local); off for `why`, whose chains end at
    the object asked about. `sizes`: the cell's memo of held sizes (census.held_size). `rebound`: names the cell
    rebinds; an object on the way that is one's value is searched further too, at any depth: the next run rebinds
    the name, so what keeps a leaking re-run's objects is their other holder (pyplot's figures, not `fig`).
    `roots`: the Roots(shell) to use when the caller made them already; released when the search ends, as its own.
    """
    roots = Roots(shell) if roots is None else roots
    parent = {}  # id(child) -> [(referrer, edge), ...]: a few, since the first referrer found may lead nowhere
    resolved = {}  # id(obj) -> (root name, links under the root)
    by_name = {}  # id(obj) -> (its user-name root, obj): a target's, or a rebound name's value's; the fallback answer
    mine = {id(parent), id(resolved), id(targets), id(by_name)}
    deadline = time.perf_counter() + budget_s
    frontier = list(targets)
    mine.add(id(frontier))
    seen = {id(t) for t in targets}
    user_ns = shell.user_ns
    try:
        for depth in range(MAX_DEPTH if walk else 1):
            pending = []
            for obj in frontier:
                hit = roots.resolve(obj)
                if hit is not None and not hit[1] and roots.is_user_name(hit[0]) and (
                        depth == 0 or hit[0] in rebound):
                    other = roots.other(obj)
                    entry = by_name[id(obj)] = (hit, obj)
                    mine.add(id(entry))  # our tuple holds it: never a holder at the next level
                    if other is not None:  # another root holds it by identity (pyplot's figures): no search
                        resolved[id(obj)] = other
                    else:
                        pending.append(obj)
                elif hit is not None:
                    resolved[id(obj)] = hit
                else:
                    pending.append(obj)
            if not walk or not pending or time.perf_counter() > deadline:
                break
            mine.add(id(pending))
            wanted = {id(o): o for o in pending}
            mine.add(id(wanted))
            level_start = time.perf_counter()
            referrers = _referrers(pending, wanted)
            level_cost = time.perf_counter() - level_start
            mine.add(id(referrers))
            frontier = []
            mine.add(id(frontier))
            fan_in = {}  # (child id, referrer type id) -> referrers of that type kept for that child
            # Oldest first (get_referrers lists the young generation first): roots are old, a fan of siblings is new.
            for ref in reversed(referrers):
                if id(ref) in mine or _ours(ref):
                    continue
                kept_as_parent = False
                for child in gc.get_referents(ref):
                    cid = id(child)
                    if cid not in wanted or cid in resolved or len(parent.get(cid, ())) >= MAX_PARENTS:
                        continue
                    if ref is user_ns and cid in by_name:
                        continue  # we know that name already; look for the other holders
                    name = roots.container_root(ref, child)
                    if name is not None:
                        resolved[cid] = (name, [])
                        continue
                    # 8,000 Loggers all point at one Manager: siblings of one type are one path, not 8,000; a few of
                    # them leave room in the frontier (and the budget) for the holder that leads to a root.
                    sibling = (cid, id(type(ref)))
                    if fan_in.get(sibling, 0) >= MAX_SAME_TYPE_PARENTS:
                        continue
                    fan_in[sibling] = fan_in.get(sibling, 0) + 1
                    kept_as_parent = True
                    holders = parent.get(cid)
                    if holders is None:
                        holders = parent[cid] = []
                        mine.add(id(holders))
                    # The edge is named only for the chains returned: naming it can read an instance's __dict__,
                    # which on 3.11+ builds that dict (memory, and a holder later searches miss).
                    link = (ref, None)
                    mine.add(id(link))  # our own tuples hold referrers: never a holder at the next level
                    holders.append(link)
                if (kept_as_parent and id(ref) not in seen and not roots.is_container(ref)
                        and not roots.is_machinery(ref) and len(frontier) < MAX_FRONTIER
                        and not machinery.is_machinery_type(type(ref))):
                    seen.add(id(ref))
                    frontier.append(ref)
            # Every target has its chain: further levels would only widen the frontier (a level costs a heap pass).
            # Targets that are a user name's value keep looking for their other holders.
            if not by_name and all(_path_to_root(t, parent, resolved) is not None for t in targets):
                break
            # Stop before a level that would overrun the budget (its cost grows with the frontier).
            if time.perf_counter() + level_cost * len(frontier) / max(len(pending), 1) > deadline:
                frontier = [o for o in frontier if roots.resolve(o) is not None]
            del referrers, pending, wanted
        if info is not None and time.perf_counter() > deadline:
            info["truncated"] = any(_path_to_root(t, parent, resolved) is None for t in targets)
        # A target a user's name holds and something else too (a cell ending in the frame it bound: Out[n]) is
        # answered by both: `%reset -f out` alone would free nothing.
        also = {}
        target_ids = set(map(id, targets))
        for tid, (hit, obj) in by_name.items():
            if not _path_to_root(obj, parent, resolved):
                resolved[tid] = hit
            elif tid in target_ids and hit[0] not in rebound:  # a rebound name lets go of it on the next run
                also[tid] = hit[0]
        by_name.clear()
        # What a user's name holds is kept by that name, not by the chain: a failed call's frame holding the global X
        # it was passed keeps its own local, not X too.
        named = frozenset(map(id, dict.values(user_ns)))
        return _chains(targets, parent, resolved, roots, payloads, sizes, our_refs([targets, frontier], sizes),
                       named, also)
    finally:
        roots.release()
        parent.clear()
        frontier = None


def _referrers(pending, wanted):
    """gc.get_referrers for up to several hundred objects; for a wider frontier one pass with a set lookup per edge is
    cheaper than get_referrers' linear scan of its arguments for every edge of the heap."""
    if len(pending) <= NARROW_FRONTIER:
        args = tuple(pending)
        # The call's own argument tuple refers to every object asked about: it is ours, not a holder.
        return [ref for ref in RAW.get_referrers(*args) if ref is not args]
    get_referents = gc.get_referents
    return [o for o in RAW.get_objects() if any(id(r) in wanted for r in get_referents(o))]


def _path_to_root(obj, parent, resolved, depth=0, visiting=None):
    """(resolved ancestor, [(node, its holder)] from just under it down to obj), or None (depth-first over parents)."""
    if id(obj) in resolved:
        return obj, []
    if depth > MAX_DEPTH:
        return None
    visiting = visiting if visiting is not None else set()
    visiting.add(id(obj))
    for ref, _ in parent.get(id(obj), ()):
        if id(ref) in visiting:
            continue
        found = _path_to_root(ref, parent, resolved, depth + 1, visiting)
        if found is not None:
            return found[0], found[1] + [(obj, ref)]
    return None


def _chains(targets, parent, resolved, roots, payloads, sizes=None, ours=None, named=frozenset(), also=None):
    chains, keys = [], set()
    for target in targets:
        found = _path_to_root(target, parent, resolved)
        if found is None:
            continue
        root_obj, path = found
        root, links = resolved[id(root_obj)]
        # A root resolved with links (Out[3] -> its items) starts at the root object, not at the one resolved.
        chain = [{"label": (roots.root_label(root) if links else None) or label(root_obj), "edge": ""}] + list(links)
        chain += [{"label": label(obj), "edge": protocol.short(_edge(holder, obj), 60)} for obj, holder in path]
        size = kept_size(target, sizes, ours, old=named)
        base = array_base(target)
        payload = _payload(target, size) if base is None and payloads else None
        if base is not None:  # getsizeof(view) leaves out the memory a numpy view keeps alive
            chain.append({"label": f"{label(base)} ({base.nbytes:,} bytes)", "edge": ".base"})
        elif payload is not None:  # the local or the array that is the bytes: the name a user can `del`
            chain.append({"label": label(payload[0]), "edge": protocol.short(payload[1], 60)})
        key = (root, tuple(link["edge"] for link in chain))
        if machinery.is_machinery_module(root.split("[")[0]):
            continue  # reached through IPython's or our own machinery: not an answer a user can act on
        if key not in keys:
            keys.add(key)
            shown = target if payload is None else payload[0]
            entry = {"type": protocol.type_name(shown), "root": protocol.short(root, 80), "chain": chain,
                     "size": size}
            tip = advice.for_root(root, chain)
            if tip:
                entry["advice"] = tip
            holder = path[-1][1] if path else None
            chains.append((entry, holder if id(type(holder)) in _CONTAINERS else None))
            name = (also or {}).get(id(target))
            if name is not None:  # its own name too, after the other holder (a tie in size keeps this order)
                chains.append(({"type": entry["type"], "root": protocol.short(name, 80),
                                "chain": [{"label": label(target), "edge": ""}], "size": size}, None))
    return _rank(chains, ours)


def _rank(chains, ours=None):
    """Chains as a user reads them, from [(entry, the target's holder when it is a list, dict, set or deque)]: the ones
    that differ only in their last step, an item of one container (a DataFrame's blocks `[0]`, `[1]`), merged into
    one with a `count` and their bytes summed (or the holder's retained size, when larger: the targets were a sample
    of its items); the roots that keep the most first; chains that keep next to nothing of what the others keep (a
    function object beside a 40 MB frame) left out."""
    merged, holders = {}, {}
    for entry, holder in chains:
        chain = entry["chain"]
        key = (entry["root"], entry["type"], tuple((link["label"], link["edge"]) for link in chain[:-1]),
               chain[-1]["label"] if chain else "")
        # Only items of one container (a list's [0], a blocks tuple's [1]) merge: two locals of a frame are two
        # answers, each under its own key.
        mergeable = len(chain) > 1 and chain[-1]["edge"].startswith("[")
        if not mergeable:
            key += (chain[-1]["edge"] if chain else "",)
        if key in merged and mergeable:
            merged[key]["size"] += entry["size"]
            merged[key]["count"] = merged[key].get("count", 1) + 1
        else:
            merged[key] = entry
            holders[key] = holder
    for key, entry in merged.items():
        holder = holders[key]
        if entry.get("count", 1) > 1 and holder is not None:
            # The targets were a sample of what one container holds (its newest items): the root keeps all of it.
            entry["size"] = max(entry["size"], retained_size(holder, ours))
    holders.clear()
    ranked = sorted(merged.values(), key=lambda c: c["size"], reverse=True)
    if ranked:
        floor = max(MIN_CHAIN_BYTES, ranked[0]["size"] // 100)
        ranked = [c for c in ranked if c["size"] >= floor] or ranked[:1]
    return ranked


def _targets(ctx, roots=None):
    """What the cell retained: values of new names, the newest items of grown containers, the biggest new objects
    (with `roots`, a Roots for a search by identity alone: only those it names)."""
    ns = ctx.recorder.shell.user_ns
    from .variables import newest_items

    picked = [] if ctx.out_value is None else [ctx.out_value]  # the cell's result, held by Out[n]
    leak = "leak" in ctx.report["verdict"]["flags"]
    earlier = _earlier_results(ctx)
    if leak:
        # What leaked is what the earlier runs left behind: their results still in Out[n] come first.
        picked = earlier + picked
    else:
        # A re-run that holds: the earlier runs' results still in Out[n] are held too (run twice, 24 MB each: both).
        picked = picked + earlier
    for name, status, added in ctx.names_changed:
        if name not in ns:
            continue
        value = ns[name]
        if status != "grown" and leak and picked:
            continue  # a rebound name holds this run's new value, not what the earlier runs leaked
        picked.extend(newest_items(value, max(added, 1)) if status == "grown" else [value])
    extra = rank_targets(ctx, None if roots is None else roots.resolve)  # the census's biggest survivors
    picked.extend(extra)
    extra.clear()
    unique, ids = [], set()
    for obj in picked:
        if id(obj) not in ids and not issubclass(type(obj), (int, float, type(None))):
            ids.add(id(obj))
            unique.append(obj)
    return unique[:MAX_TARGETS]


def _earlier_results(ctx):
    """The values earlier runs of this cell left in Out[n] (their execution counts are in the run records)."""
    out = ctx.recorder.shell.user_ns.get("Out")
    if not isinstance(out, dict):
        return []
    keys = [k for rec in ctx.previous_runs for k in rec.get("out_keys", ()) if type(k) is int]
    return [out[k] for k in keys[-MAX_TARGETS // 2:] if k in out]


def after(ctx):
    """For a flagged or deep cell (the recorder decides): report["backrefs"] = chains (search) from named roots to
    what the cell retained: Out[n], the values of new or rebound names, the newest items of grown containers and the
    survivors the census kept, at most MAX_TARGETS. The heap is walked, within BUDGET_S seconds (DEEP_BUDGET_S deep),
    for leaks, cycles, native memory, traced runs (deep ones but `--lines` alone) and a cell's first run; otherwise
    roots by identity only."""
    flags = set(ctx.report["verdict"]["flags"])
    # A heap pass per level is paid for leaks, cycles, native memory, traced runs (every deep run but `--lines`
    # without --trace, which keeps to the cell's own speed) and a cell's first run; a cell that merely keeps holding a
    # lot on every re-run gets its cheap, identity-only answer, for which the roots are found first.
    walk = ctx.trace or ctx.run == 1 or bool(flags & {"leak", "cycles", "native"})
    roots = None if walk else Roots(ctx.recorder.shell)
    try:
        targets = _targets(ctx, roots)
        if targets:
            budget = DEEP_BUDGET_S if ctx.deep else BUDGET_S
            info = {}
            rebound = frozenset(name for name, status, _ in ctx.names_changed if status == "rebound")
            given, roots = roots, None  # the search releases them, whatever happens
            ctx.report["backrefs"] = search(ctx.recorder.shell, targets, budget, walk, info, sizes=ctx.sizes,
                                            rebound=rebound if flags & {"leak", "native"} else frozenset(),
                                            roots=given)
            if info.get("truncated"):
                ctx.report["backrefs_truncated"] = True
        targets.clear()
    finally:
        if roots is not None:
            roots.release()
