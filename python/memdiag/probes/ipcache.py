"""IPython's own caches of a cell's results: what they took in this run, in bytes.

A cell whose last line is an expression leaves its value in `Out[n]` (and `_n`, `_oh[n]`, `_`), and IPython 9 also
keeps every output bundle it displayed (`HistoryManager.outputs[n]`: the text/plain repr, HTML, PNG) and the text repr
again in `HistoryManager.output_hist_reprs[n]`, for as long as the kernel lives. That memory is held by Python objects:
it is never native, and re-running such a cell grows it like any other leak. Read by identity after the cell, only for
the entries of this execution count: no heap walk.
"""
import gc
import itertools
import sys

from .kept import our_refs
from .variables import cheap_size


def _bundle_size(bundle, seen):
    """getsizeof of a mime bundle's values (str or bytes: the reprs IPython keeps), plus the dict itself; a value
    whose id is in `seen` (a set, updated) is counted once: IPython keeps the same text repr in the bundle and in
    output_hist_reprs (an 8.9 MB repr counted twice read 42 MB for a 33 MB result)."""
    if type(bundle) is not dict:
        return 0
    total = sys.getsizeof(bundle)
    for value in list(bundle.values()):
        if type(value) is str or type(value) is bytes:
            total += _once(value, seen)
        elif type(value) is list:  # a stream: the pieces of text the cell printed
            total += sys.getsizeof(value) + sum(_once(v, seen) for v in value if type(v) is str or type(v) is bytes)
    return total


def _once(text, seen):
    if id(text) in seen:
        return 0
    seen.add(id(text))
    return sys.getsizeof(text)


def _newest(mapping, old_len):
    """The entries added to a dict since it had `old_len` of them (dicts keep insertion order); reads only those."""
    if not isinstance(mapping, dict):
        return []
    added = len(mapping) - old_len
    return list(itertools.islice(reversed(dict.items(mapping)), added)) if added > 0 else []


def _caches(shell):
    """IPython's result caches as (Out, HistoryManager.outputs, HistoryManager.output_hist_reprs); None where absent."""
    history = getattr(shell, "history_manager", None)
    out = shell.user_ns.get("Out")
    return (out if isinstance(out, dict) else None,
            getattr(history, "outputs", None), getattr(history, "output_hist_reprs", None))


def namespaces(shell):
    """The kernel's long-lived containers a cell adds to: user_ns, Out (also _oh) and IPython's history dicts."""
    history = getattr(shell, "history_manager", None)
    found = [shell.user_ns, *_caches(shell), getattr(history, "exceptions", None)]
    return [c for c in found if isinstance(c, dict)]


def before(ctx):
    """Before the cell: ctx.cache_lens = the lengths of Out, HistoryManager.outputs and output_hist_reprs (0 where
    absent); ctx.untracked_namespaces = the kernel's containers the gc does not track yet (an Out of arrays and
    numbers): one that becomes tracked during the cell is not one of the cell's survivors."""
    shell = ctx.recorder.shell
    ctx.cache_lens = tuple(len(c) if isinstance(c, dict) else 0 for c in _caches(shell))
    ctx.untracked_namespaces = [c for c in namespaces(shell) if not gc.is_tracked(c)]


def after(ctx):
    """report["ipython"] = {"out": bytes of the values the cell left in Out[n], "history": bytes of the output
    bundles and text reprs IPython keeps for it, "named": bytes of `out` that a name's delta counted already (a cell
    ending in `df` for the frame it bound to df; only when not 0)}. The Out value becomes ctx.out_value (a backref
    target); an untracked one is added to ctx.untracked."""
    if ctx.cache_lens is None:
        return
    out, outputs, reprs = _caches(ctx.recorder.shell)
    old_out, old_outputs, old_reprs = ctx.cache_lens
    section = {"out": 0, "history": 0, "keys": []}
    ours = our_refs([ctx.targets], ctx.sizes)
    for key, value in _newest(out, old_out):
        if type(key) is int:
            section["keys"].append(key)
        size = cheap_size(value, None, ours)
        section["out"] += size
        if id(value) in ctx.named_ids:  # variables.after ran first: the name counted these bytes
            section["named"] = section.get("named", 0) + size
        if ctx.out_value is None:
            ctx.out_value = value  # a backref target: the answer to "why is it alive?" is Out[n]
        if not gc.is_tracked(value):
            ctx.untracked.append((type(value), size))
    seen = set()
    for _, entries in _newest(outputs, old_outputs):
        for entry in entries if isinstance(entries, list) else ():
            section["history"] += _bundle_size(getattr(entry, "bundle", None), seen)
    for _, text in _newest(reprs, old_reprs):
        if type(text) is str:
            section["history"] += _once(text, seen)
    ctx.report["ipython"] = section
