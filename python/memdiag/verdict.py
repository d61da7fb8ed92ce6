"""From one report and the earlier runs of the same cell to a verdict. Pure: no IPython, no gc, no I/O.

Kinds, most severe first: native, leak, cycles, retains, ok.

A leak is judged by what Python keeps, per re-run (DESIGN.md, "Principles learned from real notebooks"). Each re-run
has two measures, both in bytes:
- `gross`: what the run left behind that Python can account for: tracemalloc's count of everything still held on a
  traced run; otherwise the larger of the census of survivors (with the untracked payload they own) and the names that
  grew or were bound, plus what IPython's output cache and history took for this run;
- `net`: how much more the allocators hold in use from this run's start to the next run's start (glibc's in-use bytes
  plus the interpreter's block count times the mean block size), or RSS where mallinfo2 is missing. Net growth is
  blind to what RSS lies about (a warm allocator absorbing the leak, calloc'd pages not touched yet) and to what a
  rebinding frees (yesterday's DataFrame, released when today's is bound).
What a re-run kept is the smaller of the two, never negative: memory Python accounts for that also stayed. The first
run of a cell builds its state and never counts toward a slope. RSS confirms, and alone decides only `native`.

`native` is growth no Python object holds, on a traced run (tracemalloc saw every Python allocation), after malloc_trim
gave back what the allocator kept: native_bytes in one run, or leak_bytes_per_run on each of leak_runs re-runs, as a
leak is judged, where glibc's in-use bytes grew by as much beyond what Python accounts for (native_kept).
"""
from collections import namedtuple

SEVERITY = ("native", "leak", "cycles", "retains")
# On the RSS basis only (no mallinfo2): allocator drift (pymalloc arenas pinned while 60 MB were replaced) stays a
# small share of what the run moved; a leak keeps most of what it allocates.
LEAK_SHARE_OF_CHURN = 0.05
BLOCK_BYTES = 64  # mean size of a small object when the census gives none (probes/heap.py)
MAX_BLOCK_BYTES = 512  # pymalloc's largest block: bigger allocations are in mallinfo2's count already
MIN_BLOCK_SAMPLE = 1000  # survivors needed before their mean size stands for the blocks the run added
# A leak that was seen stays a leak while each re-run keeps at least this share of the threshold: noise near the
# threshold must not flip it (DESIGN: a verdict is stable).
HOLD_SHARE = 0.5
# A re-run that left this many more small objects (the interpreter's block count, start to next start) piled up Python
# objects: what it kept beyond Python's accounting is theirs (a figure left open holds its canvas: 3,000-16,000
# blocks a run). Between two cells the kernel itself adds 100-300.
NATIVE_MAX_BLOCKS = 1000
NATIVE_AGREE = 0.85  # the RSS measure of native growth this share of the allocators' or more: the two agree
Outcome = namedtuple("Outcome", "verdict suspect record")
Step = namedtuple("Step", "gross net churn basis unexplained blocks")


def format_bytes(n):
    """`8 MB`, `5.01 MB`, `40.4 MB`, `120 MB`, `-2.5 kB`, `12 B`: decimal units with two or three significant digits,
    trailing zeros dropped, exactly as the frontend's formatBytes (src/format.ts) shows them, so that a badge and the
    reason beside it say the same number; "?" for None."""
    if n is None:
        return "?"
    sign = "-" if n < 0 else ""
    value = abs(n)
    unit = 0
    while value >= 1000 and unit < len(_UNITS) - 1:
        value /= 1000
        unit += 1
    digits = 0 if unit == 0 or value >= 100 else 1 if value >= 10 else 2
    text = f"{value:.{digits}f}"
    if digits:
        text = text.rstrip("0").rstrip(".")
    return f"{sign}{text} {_UNITS[unit]}"


_UNITS = ("B", "kB", "MB", "GB", "TB")


# -- the measures of one run -------------------------------------------------------------------------------------
def run_growth(report, trimmed=True):
    """RSS this run added (bytes), less tracemalloc's own tables on a traced run (they were resident when RSS was
    read) and, when asked, less what malloc_trim gave back right after the cell and the pages the previous cell's
    trim gave back that this one touched again (free memory the allocator kept, either way: native.after)."""
    rss = report["rss"]
    growth = rss["after"] - rss["before"] - (report.get("traced", {}).get("overhead") or 0)
    if trimmed:
        native = report.get("native", {})
        growth -= (native.get("trimmed") or 0) + (native.get("refaulted") or 0)
    return growth


def churn(report):
    """How far RSS went above `before` during the run, in bytes (None without an exact peak)."""
    peak = report["rss"].get("peak")
    if peak is None:
        return None
    return max(peak - report["rss"]["before"] - (report.get("traced", {}).get("overhead") or 0), 0)


def marks_before(report):
    """{"rss", "heap", "blocks"} at the start of the run: RSS bytes, glibc in-use bytes (or None), block count."""
    heap = report.get("heap") or {}
    return {"rss": report["rss"]["before"], "heap": heap.get("before"), "blocks": heap.get("blocks_before")}


def marks_after(report):
    """The same counters at the end of the run (RSS less tracemalloc's tables and what malloc_trim gave back)."""
    heap = report.get("heap") or {}
    return {"rss": report["rss"]["before"] + run_growth(report), "heap": heap.get("after"),
            "blocks": heap.get("blocks_after")}


def block_bytes(report):
    """Bytes per allocated block for this run: the mean size of the cell's survivors, within pymalloc's range, when
    they are many (a few thousand blocks of IPython's own come and go each cell: a handful of big survivors must not
    turn them into megabytes); BLOCK_BYTES otherwise."""
    objects = report.get("objects", {})
    new, size = objects.get("new") or 0, objects.get("size") or 0
    if new < MIN_BLOCK_SAMPLE or size <= 0:
        return BLOCK_BYTES
    return int(min(max(size / new, 16), MAX_BLOCK_BYTES))


def net_growth(start, end, per_block=BLOCK_BYTES):
    """(bytes, basis) the allocators hold in use more at `end` than at `start` (marks as above); basis is "heap" when
    mallinfo2 and the block count were read at both ends, else "rss"."""
    if end is None:
        return None, None
    if None not in (start.get("heap"), end.get("heap"), start.get("blocks"), end.get("blocks")):
        return end["heap"] - start["heap"] + (end["blocks"] - start["blocks"]) * per_block, "heap"
    return end["rss"] - start["rss"], "rss"


def native_unexplained(report):
    """Bytes of the run's RSS growth Python did not explain after malloc_trim (probes/native.py), or None when it could
    not be judged."""
    return (report.get("native") or {}).get("unexplained")


def _named(report):
    return sum(max(v.get("delta", 0), 0) for v in report.get("variables", []))


def ipython_cache(report):
    """Bytes IPython's output cache (Out[n]) and history (output bundles, text reprs) took for this run, less what a
    name of the cell counted already (`named`: a cell ending in `df` shows the frame it bound to df)."""
    section = report.get("ipython") or {}
    return max((section.get("out") or 0) + (section.get("history") or 0) - (section.get("named") or 0), 0)


# What importing a module leaves behind: not the user's data, so not counted as retained when the cell imported.
_MODULE_MACHINERY = {"function", "type", "dict", "tuple", "code", "cell", "list", "set", "frozenset", "str",
                     "getset_descriptor", "method_descriptor", "member_descriptor", "wrapper_descriptor",
                     "builtin_function_or_method", "property", "classmethod", "staticmethod", "module", "weakref",
                     "weakref.ReferenceType", "_frozen_importlib.ModuleSpec",
                     "_frozen_importlib_external.SourceFileLoader", "_frozen_importlib_external.ExtensionFileLoader",
                     "functools.partial", "re.Pattern",
                     "classmethod_descriptor", "mappingproxy", "method", "enum.EnumType", "abc.ABCMeta"}


def _census_retained(report):
    """Bytes of the cell's survivors and of the untracked values it bound (an ndarray a re-run rebinds: no name's delta
    counts it, its old value freed), each once; an import cell's, its growth rows but the modules' own."""
    objects = report.get("objects", {})
    imports = report.get("imports")
    if not imports:
        return objects.get("size", 0) + (objects.get("bound") or {}).get("size", 0)
    packages = tuple(f"{name.split('.')[0]}." for name in imports.get("modules", []))
    return sum(g["size"] for g in objects.get("growth", [])
               if g["type"] not in _MODULE_MACHINERY and not g["type"].startswith(packages))


def python_retained(report):
    """Bytes the cell holds at the Python level after it ended, as this run can tell (imported modules don't count):
    what a user's names and survivors hold; with tracing, what the cell's own lines allocated and still hold."""
    traced = report.get("traced", {})
    cache = ipython_cache(report)  # Out[n] and the history of this cell's output: held for the cell, never an import's
    if traced.get("enabled") and traced.get("retained") is not None:
        return max(traced["retained"], cache)
    return max(_named(report) + cache, _census_retained(report))


def python_gross(report):
    """Bytes this run left behind that Python accounts for: everything tracemalloc saw still held on a traced run
    (IPython's formatter and history included); else survivors or names, plus IPython's caches for this run."""
    traced = report.get("traced", {})
    cache = ipython_cache(report)
    if traced.get("enabled") and traced.get("retained") is not None:
        everything = traced.get("retained_all")
        return everything if everything is not None else traced["retained"] + cache
    return max(_named(report) + cache, _census_retained(report), cache)


def cyclic_garbage(report, previous_runs=()):
    """(objects, bytes, bytes per object or None) of the user's cyclic garbage. IPython's own (a formatted traceback)
    and an import's do not count: importing numpy or matplotlib makes a thousand cycles of its own.

    Automatic collections during the cell free cycles before memdiag's own collection can see them: they are counted
    (gcguard's callback), but their bytes are estimated at the mean size of the garbage seen (the same loop made
    both), never left out: 9,990 objects of which 262 were seen holding 292 kB are about 11 MB. When automatic
    collections freed all of it, the mean comes from the newest earlier run of the cell that saw some
    (`previous_runs`' "cycle_object_bytes"): whether the collector ran first is chance, not what the cell did.

    None of it when the cycle probe did not run ("skipped"): without memdiag's freeze a collection during the cell (the
    user's `del frame; gc.collect()`) frees the whole heap's garbage, not what the cell made."""
    gc_section = report.get("gc", {})
    if report.get("imports") or gc_section.get("skipped"):
        return 0, 0, None
    groups = [g for g in gc_section.get("cycles", []) if not g.get("internal")]
    seen = sum(g.get("objects", 0) for g in groups)
    size = sum(g.get("size", 0) for g in groups)
    objects = seen
    mean = size / seen if seen else next((rec["cycle_object_bytes"] for rec in reversed(previous_runs)
                                          if rec.get("cycle_object_bytes")), None)
    if not report.get("raised"):
        # Automatic collections during a cell that raised may have freed IPython's traceback garbage: not counted.
        during = gc_section.get("during", 0)
        objects += during
        if mean:
            size += round(mean * during)
    return objects, size, mean


def _seen_cycles(report):
    return sum(g.get("objects", 0) for g in (report.get("gc") or {}).get("cycles", []) if not g.get("internal"))


def run_record(report):
    """What the history keeps of a run for the verdicts of later runs: numbers only, no user objects.

    {"gross": python_gross (bytes), "block_bytes": block_bytes, "after": marks_after, "churn": churn (bytes or None),
    "unexplained": native.unexplained (bytes or None)}.
    """
    keys = (report.get("ipython") or {}).get("keys") or []
    return {"gross": python_gross(report), "block_bytes": block_bytes(report), "after": marks_after(report),
            "churn": churn(report), "unexplained": native_unexplained(report),
            "out_keys": [k for k in keys if type(k) is int][:8], "raised": bool(report.get("raised"))}


def _step(gross, start, end, per_block, moved, unexplained, own_end=None):
    net, basis = net_growth(start, end, per_block)
    # The blocks the run itself added, from its start to its own end (`own_end`): what the kernel does before the
    # next run (memdiag keeping a traced run's report, with its sites and chains: 3,900 blocks) is not the cell's.
    own_end = own_end or end
    blocks = None
    if own_end is not None and None not in (start.get("blocks"), own_end.get("blocks")):
        blocks = own_end["blocks"] - start["blocks"]
    return Step(gross, net, moved, basis, unexplained, blocks)


def rerun_steps(report, previous_runs):
    """Steps of each re-run of the cell, oldest first; the current run's own (from its start to its end) comes last.
    Each is Step(gross, net, churn, basis, unexplained, blocks): bytes, bytes (None when not measured), bytes (None
    without an exact peak), "heap" or "rss" (net_growth's), bytes of the run's RSS growth Python did not explain after
    malloc_trim (native.unexplained; None when it could not be judged), how many more blocks the interpreter had
    allocated by the run's own end (None when not read).

    A completed re-run is measured from its start to the next run's start when the next run followed it directly
    (its end still includes output in flight); else from its start to its end."""
    steps = []
    for rec in previous_runs:
        if rec.get("run", 1) < 2 or "gross" not in rec or "start" not in rec or rec.get("raised"):
            continue  # a run that raised is no step: the next error replaces what its error keeps
        steps.append(_step(rec["gross"], rec["start"], rec.get("next") or rec.get("after"), rec["block_bytes"],
                           rec.get("churn"), rec.get("unexplained"), rec.get("after")))
    if report.get("run", 1) >= 2 and not report.get("raised"):
        steps.append(_step(python_gross(report), marks_before(report), marks_after(report), block_bytes(report),
                           churn(report), native_unexplained(report)))
    return steps


def kept(step):
    """Bytes a re-run kept: what Python accounts for, as far as the allocators kept it too (never negative)."""
    if step.net is None:
        return 0
    return max(0, min(step.gross, step.net))


def native_kept(step):
    """Bytes a re-run kept that no Python object holds, as both measures say it: the RSS growth Python did not explain
    after malloc_trim (native.unexplained), and, where the allocators' in-use bytes were read, their growth beyond
    what Python accounts for (net - gross). RSS alone moves with pages a library maps once; glibc's in-use bytes do
    not, but miss what a C library allocates with its own allocator (jemalloc, mmap): those are left to the one-run
    threshold (native_bytes). 0 when not measured, and when the interpreter's objects grew too (NATIVE_MAX_BLOCKS or
    more): Python objects piling up that own C-level memory (pyplot's open figures, each with its canvas's pixels)
    are Python's leak, whose bytes Python cannot see, not a C extension's. Never negative.

    Where the two agree (the RSS measure at least NATIVE_AGREE of the allocators'), the allocators' figure is the
    one given: malloc_trim gives back free memory that was not the run's too, so the RSS measure of a C library's
    10,000,000 bytes a run read 9.3 MB where glibc's in-use bytes grew by 10.0 MB."""
    if step.unexplained is None or step.net is None or step.blocks is None or step.blocks >= NATIVE_MAX_BLOCKS:
        return 0
    if step.basis == "heap":
        heap = step.net - step.gross
        return max(0, heap if step.unexplained >= NATIVE_AGREE * heap else step.unexplained)
    return max(0, step.unexplained)


def _sustained(window, current, runs, is_step, was, holds):
    """True when the last `runs` re-runs (`window`, Steps) are each a step (`is_step(step)`), or, for a cell flagged
    so on its previous run (`was`), when this re-run (`current`, or None) still `holds(step)`: noise near the
    threshold does not flip a verdict either way (DESIGN: a verdict is stable)."""
    if len(window) >= runs and all(map(is_step, window)):
        return True
    return was and current is not None and holds(current)


def streak(steps, counts):
    """How many of the last re-runs (`steps`, oldest first), in a row up to the newest, `counts(step)` holds for."""
    n = 0
    for step in reversed(steps):
        if not counts(step):
            break
        n += 1
    return n


def _is_step(step, threshold):
    if kept(step) < threshold:
        return False
    # RSS alone moves with allocator drift: on that basis a step must be most of what the run moved.
    return step.basis != "rss" or step.churn is None or step.net >= LEAK_SHARE_OF_CHURN * step.churn


# -- the verdict ---------------------------------------------------------------------------------------------------
def decide(report, previous_runs, cfg):
    """Verdict of one report, given the earlier run records of the same cell (oldest first) and the thresholds
    (`cfg`: the settings as a dict, Config.as_dict(); thresholds in bytes).

    Returns Outcome(verdict, suspect, record): `verdict` is the report's {"kind", "flags", "bytes_per_run",
    "reason", "bytes", "per_run", "kept"} (bytes_per_run: bytes each re-run kept, averaged over the last leak_runs
    re-runs, or None before any re-run; bytes: the figure the reason states for the kind; per_run: True when that
    figure is per re-run, a leak's or a steady native leak's; kept: run_kept, bytes this run kept, or None);
    `suspect` asks for the next run of the cell to be traced; `record` is what the history keeps of this run
    (run_record plus the verdict's kind, flags, bytes_per_run and cycle_object_bytes: the mean size of its cyclic
    garbage, bytes per object, or None).
    """
    flags, reasons = [], {}
    previous = previous_runs[-1] if previous_runs else {}
    was_leak = previous.get("kind") == "leak" or "leak" in previous.get("flags", ())
    threshold = cfg["leak_bytes_per_run"]
    steps = rerun_steps(report, previous_runs)
    window = steps[-cfg["leak_runs"]:]
    per_run = [kept(s) for s in window]
    bytes_per_run = int(sum(per_run) / len(per_run)) if per_run else None
    current = steps[-1] if steps and report.get("run", 1) >= 2 and not report.get("raised") else None
    hold = max(threshold * HOLD_SHARE, HOLD_SHARE * (previous.get("bytes_per_run") or 0))
    def leak_holds(step):
        return _is_step(step, hold)

    leak = _sustained(window, current, cfg["leak_runs"], lambda s: _is_step(s, threshold), was_leak, leak_holds)
    # The reason counts every re-run in a row that kept so much (4 on a fourth re-run), not only the window's.
    leak_streak = max(len(window), streak(steps, leak_holds))
    if not leak:
        # Not a leak: what this re-run kept, as the reason says it (an average of earlier runs would contradict it).
        bytes_per_run = kept(current) if current is not None else None
    if leak:
        flags.append("leak")
        reasons["leak"] = (f"each re-run of this cell keeps about {format_bytes(bytes_per_run)} more that Python "
                           f"holds ({leak_streak} consecutive re-runs)")

    native = native_unexplained(report) or 0
    traced = report.get("traced", {}).get("enabled", False)
    # Native growth below native_bytes a run is a leak too when every re-run of the window repeats it, as the leak's
    # own threshold and window judge what Python keeps (a C library keeping 10 MB a run: ok on every run before).
    per_run_native = [native_kept(s) for s in window]

    def native_holds(step):
        return native_kept(step) >= threshold * HOLD_SHARE

    steady = not leak and _sustained(window, current, cfg["leak_runs"], lambda s: native_kept(s) >= threshold,
                                     previous.get("kind") == "native", native_holds)
    native_per_run = int(sum(per_run_native) / len(per_run_native)) if steady else None
    native_streak = max(len(window), streak(steps, native_holds))
    native_suspect = (native >= cfg["native_bytes"] or steady) and not report.get("imports")
    native_each_run = False
    if native_suspect and traced:
        flags.append("native")
        if native_per_run is not None:  # every re-run of the window repeats it: said per re-run, whatever its size
            native, native_each_run = native_per_run, True
            grown = (f"each re-run of this cell keeps about {format_bytes(native)} more that no Python object holds, "
                     f"{native_streak} consecutive re-runs")
        else:
            grown = f"{format_bytes(native)} of RSS growth is not held by any Python object"
        reasons["native"] = (f"{grown} (tracemalloc saw every Python allocation) and malloc_trim did not give it "
                             "back: likely a leak in native code (a C extension)")

    objects, size, cycle_mean = cyclic_garbage(report, previous_runs)
    if objects >= cfg["cycle_objects"] or size >= cfg["cycle_bytes"]:
        flags.append("cycles")
        reasons["cycles"] = (f"the cell made {objects:,} objects in reference cycles "
                             f"({'about ' if objects > _seen_cycles(report) else ''}{format_bytes(size)}), "
                             "freed only by the cycle collector")

    retained = python_retained(report)
    held = held_unseen(report)
    if retained >= cfg["retain_bytes"]:
        flags.append("retains")
        reasons["retains"] = f"the cell still holds {format_bytes(retained)} after it ended"
    elif held >= cfg["retain_bytes"] and retained < held / 2 and not report.get("imports"):
        flags.append("retains")
        reasons["retains"] = (f"the cell still holds about {format_bytes(held)} after it ended (allocators' in-use "
                              f"memory after malloc_trim), of which Python-level accounting sees "
                              f"{format_bytes(retained)}: the rest is in memory memdiag cannot look into "
                              "(a C extension's buffers and containers)")

    kind = next((k for k in SEVERITY if k in flags), "ok")
    if kind == "ok":
        reason = "nothing above the thresholds"
        if report.get("imports"):
            count = report["imports"]["count"]
            reason = (f"imported {count} module{'s' if count != 1 else ''}; their memory and cyclic garbage are the "
                      "import's, not counted")
        elif native_suspect:
            reason = f"{format_bytes(native)} of RSS growth not explained by Python yet: the next run is traced"
    else:
        reason = reasons[kind]
        others = [k for k in flags if k != kind]
        if others:
            reason += "; also " + ", ".join(others)
    if report.get("interrupted"):
        # Stopped by the user, not failed: its memory is whatever it had made (a loop's global list), not an error's.
        reason += ("; this run was interrupted, so it counts toward no leak" if report.get("run", 1) >= 2
                   else "; this run was interrupted")
    elif report.get("raised") and report.get("run", 1) >= 2:
        reason += ("; this run raised: what its error keeps is replaced by the next error (earlier errors' frames "
                   "wait, as cyclic garbage, for the next full collection), so a failing re-run counts toward no leak")
    elif was_leak and "leak" not in flags and current is not None:
        reason += "; " + _no_longer_leak(current, previous)
    elif current is not None and current.net is not None and current.net <= -threshold:
        reason += f"; this re-run gave back {format_bytes(-current.net)}"
    reason = reason[0].upper() + reason[1:] + "."
    # Growth Python cannot account for yet is traced on the next run: tracemalloc settles whose it is.
    suspect = bool(set(flags) & {"leak", "native", "cycles"}) or native_suspect or (
        current is not None and (current.net or 0) >= threshold)
    sorted_flags = [k for k in SEVERITY if k in flags]
    # The figure the reason states for its kind, for a badge that says the same number.
    figures = {"leak": bytes_per_run, "native": native, "cycles": size,
               "retains": retained if retained >= cfg["retain_bytes"] else held}
    figure = figures.get(kind)
    if kind == "native" and native_each_run:
        bytes_per_run = native  # what each re-run kept is native memory: what Python kept (~0) would mislead
    verdict = {"kind": kind, "flags": sorted_flags, "bytes_per_run": bytes_per_run, "reason": reason,
               "bytes": int(figure) if figure is not None else None,
               "per_run": kind == "leak" or (kind == "native" and native_each_run), "kept": run_kept(report, current)}
    record = dict(run_record(report), kind=kind, flags=sorted_flags, bytes_per_run=bytes_per_run,
                  cycle_object_bytes=cycle_mean)
    return Outcome(verdict, suspect, record)


def run_kept(report, step=None):
    """Bytes this run kept, from its start to its end, as a re-run's are judged (kept: what Python accounts for, as far
    as the allocators kept it too; never negative), for any run, the first and a failing one included; `step`, when
    given, is that Step already measured. A rebinding re-run keeps about nothing though its new value is 10 MB; a
    leaking re-run keeps what it leaked. None when the run's growth was not measured."""
    if step is None:
        step = _step(python_gross(report), marks_before(report), marks_after(report), block_bytes(report),
                     churn(report), native_unexplained(report))
    return int(kept(step)) if step.net is not None else None


def _no_longer_leak(step, previous):
    before = previous.get("bytes_per_run")
    earlier = f" (earlier re-runs kept about {format_bytes(before)} each)" if before else ""
    if step.net is not None and step.net < 0:
        return f"no longer a leak: this re-run gave back {format_bytes(-step.net)}{earlier}"
    return f"no longer a leak: this re-run kept {format_bytes(kept(step))}{earlier}"


def held_unseen(report):
    """Bytes malloc holds in use more after this run than before it (mallinfo2; RSS after malloc_trim where it is
    missing), whether or not Python accounts for them. Small objects are left out: their block count says how many,
    not how big, and what the census cannot see is in big C-level buffers (an lru_cache's results, an extension's)."""
    start, end = marks_before(report), marks_after(report)
    if start.get("heap") is not None and end.get("heap") is not None:
        return max(end["heap"] - start["heap"], 0)
    return max(end["rss"] - start["rss"], 0)
