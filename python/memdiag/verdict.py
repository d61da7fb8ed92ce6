"""From one report and the earlier runs of the same cell to a verdict. Pure: no IPython, no gc, no I/O.

Kinds, most severe first: native, leak, cycles, retains, ok. A leak is a slope over re-runs, measured from one run's
`before` to the next run's `before` (a run's `after` still includes output in flight); the first run of a cell is not a
re-run (it builds the cell's state), so it never counts toward a slope.
"""
from collections import namedtuple

SEVERITY = ("native", "leak", "cycles", "retains")
LEAK_SHARE_OF_CHURN = 0.05
Outcome = namedtuple("Outcome", "verdict suspect")


def format_bytes(n):
    if n is None:
        return "?"
    sign = "-" if n < 0 else ""
    n = abs(n)
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{sign}{n / scale:.1f} {unit}"
    return f"{sign}{n} B"


def run_growth(report, trimmed=True):
    """RSS this run added, less tracemalloc's own tables on a traced run (they were resident when RSS was read) and,
    when asked, less what malloc_trim gave back right after the cell (free memory the allocator was keeping)."""
    rss = report["rss"]
    growth = rss["after"] - rss["before"] - (report.get("traced", {}).get("overhead") or 0)
    if trimmed:
        growth -= report.get("native", {}).get("trimmed") or 0
    return growth


def churn(report):
    """How far RSS went above `before` during the run (None without an exact peak)."""
    peak = report["rss"].get("peak")
    if peak is None:
        return None
    return max(peak - report["rss"]["before"] - (report.get("traced", {}).get("overhead") or 0), 0)


def rerun_growth(report, previous_runs):
    """(RSS added, churn) for each re-run of the cell, oldest first; the current run's own after-before comes last."""
    growth = []
    for rec in previous_runs:
        if rec.get("run", 1) < 2:
            continue
        if "next_before" in rec:
            growth.append((rec["next_before"] - rec["before"], rec.get("churn")))
        elif "after" in rec:
            growth.append((rec["after"] - rec["before"], rec.get("churn")))
    if report.get("run", 1) >= 2:
        growth.append((run_growth(report), churn(report)))
    return growth


def _is_step(step, cfg):
    """A re-run that kept memory: above the absolute threshold, and not a small remainder of a big churn.

    Allocator drift (a few MB of pymalloc arenas pinned while 60 MB were replaced) stays a small fraction of what the
    run moved; a leak keeps most of what it allocates.
    """
    growth, moved = step
    return growth >= cfg["leak_bytes_per_run"] and (moved is None or growth >= LEAK_SHARE_OF_CHURN * moved)


# What importing a module leaves behind: not the user's data, so not counted as retained when the cell imported.
_MODULE_MACHINERY = {"function", "type", "dict", "tuple", "code", "cell", "list", "set", "frozenset", "str",
                     "getset_descriptor", "method_descriptor", "member_descriptor", "wrapper_descriptor",
                     "builtin_function_or_method", "property", "classmethod", "staticmethod", "module", "weakref",
                     "weakref.ReferenceType", "_frozen_importlib.ModuleSpec", "_frozen_importlib_external.SourceFileLoader",
                     "_frozen_importlib_external.ExtensionFileLoader", "functools.partial", "re.Pattern",
                     "classmethod_descriptor", "mappingproxy", "method", "enum.EnumType", "abc.ABCMeta"}


def _census_retained(report):
    objects = report.get("objects", {})
    imports = report.get("imports")
    if not imports:
        return objects.get("size", 0)
    packages = tuple(f"{name.split('.')[0]}." for name in imports.get("modules", []))
    return sum(g["size"] for g in objects.get("growth", [])
               if g["type"] not in _MODULE_MACHINERY and not g["type"].startswith(packages))


def python_retained(report):
    """Bytes the cell retained at the Python level, as well as this run can tell; imported modules don't count."""
    traced = report.get("traced", {})
    if traced.get("enabled") and traced.get("retained") is not None:
        return traced["retained"]
    named = sum(max(v.get("delta", 0), 0) for v in report.get("variables", []))
    return max(named, _census_retained(report))


def cyclic_garbage(report):
    """(objects, bytes) of the user's cyclic garbage: IPython's own (a formatted traceback) does not count."""
    gc_section = report.get("gc", {})
    groups = [g for g in gc_section.get("cycles", []) if not g.get("internal")]
    objects = sum(g.get("objects", 0) for g in groups)
    size = sum(g.get("size", 0) for g in groups)
    if not report.get("raised"):
        # Automatic collections during a cell that raised may have freed IPython's traceback garbage: not counted.
        objects += gc_section.get("during", 0)
    return objects, size


def decide(report, previous_runs, cfg):
    flags, reasons = [], {}
    growth = rerun_growth(report, previous_runs)
    window = growth[-cfg["leak_runs"]:]
    bytes_per_run = int(sum(g for g, _ in window) / len(window)) if window else None
    native = report.get("native", {}).get("unexplained") or 0
    retained = python_retained(report)
    # RSS alone also grows from allocator fragmentation (pymalloc arenas pinned by a few survivors): a slope counts as
    # a leak only when this run shows where it goes, Python objects or native memory malloc_trim could not return.
    supported = retained >= cfg["leak_bytes_per_run"] // 2 or native >= cfg["native_bytes"]
    if len(window) >= cfg["leak_runs"] and all(_is_step(step, cfg) for step in window) and supported:
        flags.append("leak")
        reasons["leak"] = (f"each re-run of this cell keeps about {format_bytes(bytes_per_run)} more "
                           f"({len(window)} consecutive re-runs)")
    traced = report.get("traced", {}).get("enabled", False)
    native_suspect = native >= cfg["native_bytes"] and not report.get("imports")
    if native_suspect and traced:
        flags.append("native")
        reasons["native"] = (f"{format_bytes(native)} of RSS growth is not explained by Python allocations and "
                             "malloc_trim did not give it back: likely a leak in native code (a C extension)")
    objects, size = cyclic_garbage(report)
    if objects >= cfg["cycle_objects"] or size >= cfg["cycle_bytes"]:
        flags.append("cycles")
        reasons["cycles"] = (f"the cell made {objects:,} objects in reference cycles ({format_bytes(size)} seen), "
                             "freed only by the cycle collector")
    if retained >= cfg["retain_bytes"]:
        flags.append("retains")
        reasons["retains"] = f"the cell still holds {format_bytes(retained)} after it ended"
    kind = next((k for k in SEVERITY if k in flags), "ok")
    if kind == "ok":
        reason = "nothing above the thresholds"
        if report.get("imports"):
            reason = f"imported {report['imports']['count']} modules; their memory is not counted as retained"
        elif native_suspect:
            reason = f"{format_bytes(native)} of RSS growth not explained by Python yet: the next run is traced"
    else:
        reason = reasons[kind]
        others = [k for k in flags if k != kind]
        if others:
            reason += "; also " + ", ".join(others)
    reason = reason[0].upper() + reason[1:] + "."
    suspect = bool(set(flags) & {"leak", "native", "cycles"}) or native_suspect or (
        report.get("run", 1) >= 2 and bool(growth) and _is_step(growth[-1], cfg))
    sorted_flags = [k for k in SEVERITY if k in flags]
    return Outcome({"kind": kind, "flags": sorted_flags, "bytes_per_run": bytes_per_run, "reason": reason}, suspect)
