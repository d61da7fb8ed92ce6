"""The Dask workers a notebook drives: their memory before and after each cell, read fresh through `client.run`.

Nothing happens, and nothing is imported, unless `distributed` is already in sys.modules and a default Client exists
(`distributed.client.default_client()`, the client a notebook's `Client(...)` becomes). Then each cell costs two
`client.run` round trips (a few ms for a handful of workers), each bounded by CALL_TIMEOUT_S: a dead or slow cluster
never hangs the cell. After a timeout the readings pause for PAUSE_S and the reports say so.

Per worker the figures are Dask's own (distributed.scheduler.MemoryState): `rss` the process's resident set,
`managed` sizeof() of the keys in memory, `unmanaged` = rss - managed, `spilled` bytes on disk. The functions that run
on the workers are memdiag/workerside.py, sent by value (workers need no memdiag).

With `%%memdiag --workers`, tracemalloc runs on the workers for the cell (started before it, stopped after it, also
when the cell fails): the top allocation sites and the module globals the cell's tasks left behind, per worker.

Failures never reach the cell: a lost worker, a client closed during or between cells, a timeout are said in the
section (`lost`, `skipped`, `errors`).
"""
import linecache
import os
import re
import sys
import time
import types

from .. import advice, cellargs, machinery, protocol
from . import traced

CALL_TIMEOUT_S = 2.0  # one client.run round trip; normally 3-10 ms
PAUSE_S = 30.0  # after a timeout, the cluster is left alone this long
WORKER_FRAMES = 6  # %%memdiag --workers: frames per allocation (the task's line is a few frames below the worker's)
TOP_N = 8
MIN_GLOBAL_BYTES = 64 * 1024  # a module global the cell's tasks grew by less is not shown
MIN_SITE_BYTES = 1024  # as the kernel's sites (probes/traced.py): at least 1 KiB and 1% of what the worker retained
MIN_SITE_SHARE = 0.01
_SOURCE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "workerside.py")


class Watch:
    """What the probe remembers between cells (one per recorder): the scheduler last seen (to say once that its client
    is gone), why the last client could not be read (said once), the monotonic time until which readings pause after
    a timeout, and the worker functions."""

    def __init__(self):
        self.scheduler = None
        self.said = None
        self.paused_until = 0.0
        self.paused_why = None
        self._functions = None

    def functions(self):
        """workerside.py's functions, compiled into a namespace that is no module, so cloudpickle sends them by
        value: {name: function}."""
        if self._functions is None:
            with open(_SOURCE, encoding="utf-8") as f:
                source = f.read()
            namespace = {"__name__": "memdiag_workerside", "__builtins__": __builtins__}
            exec(compile(source, "<memdiag workerside>", "exec"), namespace)
            self._functions = namespace
        return self._functions


def find_client():
    """(client, why): the default dask.distributed Client when distributed is imported and one is active, else
    (None, None); (None, a sentence) for a client memdiag cannot read (asynchronous, not running). Imports nothing."""
    module = sys.modules.get("distributed.client")
    if module is None:
        return None, None
    try:
        client = module.default_client()
    except Exception:  # noqa: BLE001 - ValueError("No clients found"), or an odd distributed
        return None, None
    if getattr(client, "asynchronous", False):
        return None, "an asynchronous Client: memdiag cannot wait for it from the cell's thread"
    status = str(getattr(client, "status", "running"))
    if status != "running":
        return None, f"the Client is {status!r}, not running: its workers were not read"
    return client, None


def scheduler_address(client):
    """The scheduler's address as the client knows it (str), '?' when unknown."""
    try:
        return protocol.short(str(client.scheduler.address), 120)
    except Exception:  # noqa: BLE001
        return "?"


def call(client, function, *args, timeout=CALL_TIMEOUT_S):
    """Run `function(*args)` on every worker the scheduler knows, like `client.run(..., on_error="return")` but with a
    hard timeout (distributed's own `sync(..., callback_timeout=...)`). Returns {worker address: result or the
    Exception it raised there}; raises TimeoutError (asyncio's or the builtin) when the cluster does not answer in
    `timeout` seconds, and whatever the client raises when it cannot send."""
    return client.sync(client._run, function, *args, on_error="return", callback_timeout=timeout)


def _split(answers):
    good, bad = {}, {}
    for address, value in answers.items():
        if isinstance(value, dict):
            good[str(address)] = value
        else:
            bad[str(address)] = f"{protocol.type_name(value)}: {protocol.short(str(value), 120)}"
    return good, bad


def _timed_out(watch, exc, when):
    watch.paused_until = time.monotonic() + PAUSE_S
    watch.paused_why = (f"the cluster did not answer {when} within {CALL_TIMEOUT_S:g} s; its workers are not read "
                        f"for {PAUSE_S:g} s")
    return watch.paused_why


def _is_timeout(exc):
    return isinstance(exc, TimeoutError) or type(exc).__name__ == "TimeoutError"


def _skipped_section(scheduler, why):
    return {"scheduler": scheduler or "?", "workers": [], "skipped": protocol.short(why, 300),
            "verdict": {"kind": "ok", "bytes_per_run": None, "reason": "The workers were not read.", "workers": []}}


def before(ctx):
    """Before the cell: with an active Client, read every worker's memory (ctx.cluster_before: {address: reading},
    ctx.cluster_marks: {address: {"unmanaged", "managed"}} in bytes, for the run log) and, for `%%memdiag --workers`,
    start tracemalloc on the workers. With none: nothing, except once after a client seen earlier went away."""
    watch = ctx.recorder.cluster_watch
    client, why = find_client()
    if client is None:
        if why is not None and why != watch.said:  # a client that cannot be read: said once, not on every cell
            ctx.report["cluster"] = _skipped_section(watch.scheduler, why)
        elif why is None and watch.scheduler is not None:
            ctx.report["cluster"] = _skipped_section(
                watch.scheduler, "the Client memdiag read before was closed (or its scheduler went away) between cells")
        watch.said, watch.scheduler = why, None
        return
    watch.said = None
    scheduler = scheduler_address(client)
    watch.scheduler = scheduler
    if time.monotonic() < watch.paused_until:
        ctx.report["cluster"] = _skipped_section(scheduler, watch.paused_why)
        return
    functions = watch.functions()
    t0 = time.perf_counter()
    try:
        good, bad = _split(call(client, functions["read_memory"]))
    except Exception as exc:  # noqa: BLE001 - a dead scheduler, a closed loop
        why = _timed_out(watch, exc, "before the cell") if _is_timeout(exc) else (
            f"reading the workers failed: {protocol.type_name(exc)}: {protocol.short(str(exc), 150)}")
        ctx.report["cluster"] = _skipped_section(scheduler, why)
        return
    ctx.cluster_client = client
    ctx.cluster_before = good
    ctx.cluster_errors = [f"{address} before the cell: {text}" for address, text in bad.items()]
    ctx.cluster_marks = {a: {"unmanaged": r["unmanaged"], "managed": r["managed"]} for a, r in good.items()}
    opts = cellargs.from_raw_cell(ctx.raw_cell) if ctx.deep else None
    if opts is not None and getattr(opts, "workers", False):
        ctx.cluster_tracing = True  # even if the call fails half-way: stopping where it never started is harmless
        try:
            started, failed = _split(call(client, functions["trace_start"], WORKER_FRAMES,
                                          sorted(machinery.WORKER)))
            ctx.cluster_errors += [f"{a} --workers: {text}" for a, text in failed.items()]
            ctx.cluster_errors += [f"{a} --workers: {r['why']}" for a, r in started.items() if not r["started"]]
        except Exception as exc:  # noqa: BLE001
            ctx.cluster_errors.append(f"--workers: tracing could not start: {protocol.type_name(exc)}")
    ctx.cluster_cost = time.perf_counter() - t0


def after(ctx):
    """After the cell: stop the workers' tracing (--workers), read every worker again and write report["cluster"]:
    {"scheduler", "workers": [rows], "lost": [...], "duration_s", "errors"} (see protocol/README.md); the verdict is
    added by clusterverdict. A worker gone, a client closed during the cell, a timeout: said, never raised."""
    client = ctx.cluster_client
    if client is None:
        return
    watch = ctx.recorder.cluster_watch
    functions = watch.functions()
    scheduler = watch.scheduler
    t0 = time.perf_counter()
    section = {"scheduler": scheduler, "workers": [], "lost": [], "errors": ctx.cluster_errors}
    if ctx.cluster_tracing:
        ctx.cluster_tracing = False
        section["traced"] = _stop_tracing(ctx, client, functions, section)
    status = str(getattr(client, "status", "running"))
    if status != "running":
        watch.scheduler = None
        ctx.report["cluster"] = dict(_skipped_section(scheduler, f"the Client was closed during the cell ({status!r})"),
                                     errors=section["errors"])
        return
    try:
        good, bad = _split(call(client, functions["read_memory"]))
    except Exception as exc:  # noqa: BLE001
        why = _timed_out(watch, exc, "after the cell") if _is_timeout(exc) else (
            f"reading the workers after the cell failed: {protocol.type_name(exc)}: {protocol.short(str(exc), 150)}")
        ctx.report["cluster"] = dict(_skipped_section(scheduler, why), errors=section["errors"])
        return
    section["workers"], section["lost"] = rows(ctx.cluster_before, good, bad)
    section["duration_s"] = round(ctx.cluster_cost + time.perf_counter() - t0, 6)
    ctx.report["cluster"] = section


def release(ctx):
    """Whatever happened to the cell and to memdiag's own work: stop the workers' tracing if it still runs, and drop
    the client (the context must not keep it alive)."""
    client, ctx.cluster_client = ctx.cluster_client, None
    if ctx.cluster_tracing and client is not None:
        ctx.cluster_tracing = False
        try:
            call(client, ctx.recorder.cluster_watch.functions()["trace_stop"], sorted(machinery.WORKER), 0, 1 << 62)
        except Exception:  # noqa: BLE001 - a dead cluster stops its tracing by dying
            pass


def rows(before_readings, after_readings, failed):
    """(workers, lost) from the readings before and after the cell ({address: workerside.read_memory dict}) and the
    workers that answered with an error after it ({address: message}).

    workers: [{"name", "address", "rss_before" (bytes, None for a worker that joined during the cell), "rss_after",
    "managed", "unmanaged", "spilled", "memory_limit" (bytes or None), "managed_before", "unmanaged_before" (bytes or
    None)}] in the workers' name order; lost: [{"name", "address", "rss_before", "why"}] for workers read before the
    cell and not after it (died, or removed by the scheduler)."""
    workers, lost = [], []
    for address, now in after_readings.items():
        then = before_readings.get(address)
        row = {"name": protocol.short(now["name"], 80), "address": protocol.short(address, 120),
               "rss_before": then["rss"] if then else None, "rss_after": now["rss"], "managed": now["managed"],
               "unmanaged": now["unmanaged"], "spilled": now["spilled"], "memory_limit": now["memory_limit"],
               "managed_before": then["managed"] if then else None,
               "unmanaged_before": then["unmanaged"] if then else None}
        if then is None:
            row["joined"] = True
        workers.append(row)
    for address, then in before_readings.items():
        if address not in after_readings:
            why = failed.get(address) or "no longer known to the scheduler (the worker died or was removed)"
            lost.append({"name": protocol.short(then["name"], 80), "address": protocol.short(address, 120),
                         "rss_before": then["rss"], "why": protocol.short(why, 200)})
    workers.sort(key=lambda r: (r["name"], r["address"]))
    return workers, lost


def give_back(client, watch):
    """Ask every worker to return free memory to the OS (malloc_trim(0)) and read it again: {"scheduler", "workers":
    [{"name", "address", "trimmed" (bytes of RSS given back), "rss", "managed", "unmanaged", "spilled",
    "memory_limit", "trim" (False where there is no malloc_trim)}], "trimmed" (bytes, the sum), "errors": [str]}.
    Raises what `call` raises (a timeout, a closed client)."""
    good, bad = _split(call(client, watch.functions()["give_back"]))
    workers = [dict(r, address=a) for a, r in sorted(good.items(), key=lambda item: str(item[1]["name"]))]
    return {"scheduler": scheduler_address(client), "workers": workers,
            "trimmed": sum(r["trimmed"] for r in workers), "errors": [f"{a}: {t}" for a, t in bad.items()]}


def trim_and_reread(ctx):
    """The verdict's request before it calls a leak: malloc_trim(0) on the workers, then the `after` figures of each
    row are the trimmed ones; report["cluster"]["trimmed"] = bytes given back in all. Nothing without a client."""
    client, section = ctx.cluster_client, ctx.report.get("cluster")
    if client is None or not section or not section.get("workers"):
        return
    result = give_back(client, ctx.recorder.cluster_watch)
    by_address = {r["address"]: r for r in result["workers"]}
    for row in section["workers"]:
        now = by_address.get(row["address"])
        if now is not None:
            row.update(rss_after=now["rss"], managed=now["managed"], unmanaged=now["unmanaged"],
                       spilled=now["spilled"], trimmed=now["trimmed"])
    section["trimmed"] = result["trimmed"]
    section["errors"] = section.get("errors", []) + result["errors"]


def _stop_tracing(ctx, client, functions, section):
    """The workers' tracing stopped (whatever the cell did); their sites and grown globals, per worker and merged."""
    try:
        good, bad = _split(call(client, functions["trace_stop"], sorted(machinery.WORKER), TOP_N, MIN_GLOBAL_BYTES,
                                timeout=max(CALL_TIMEOUT_S, 10.0)))  # a snapshot of a big heap takes a while
    except Exception as exc:  # noqa: BLE001
        section["errors"].append(f"--workers: tracing could not be stopped: {protocol.type_name(exc)}")
        return {"workers": [], "globals": []}
    section["errors"] += [f"{a} --workers: {text}" for a, text in bad.items()]
    cells = traced.Cells(ctx)
    codes = _notebook_functions(ctx, cells)
    per_worker, merged = [], {}
    names = {a: r.get("name", a) for a, r in (ctx.cluster_before or {}).items()}
    for address, result in sorted(good.items()):
        name = protocol.short(str(names.get(address, address)), 80)
        if not result.get("traced"):
            section["errors"].append(f"{address} --workers: {result.get('why')}")
            continue
        floor = max(MIN_SITE_BYTES, MIN_SITE_SHARE * (result["retained"] or 0))
        sites = [_site(s, cells, codes, ctx.raw_cell) for s in result["sites"] if s["size"] >= floor]
        per_worker.append({"name": name, "address": address, "retained": result["retained"],
                           "machinery": result.get("machinery"), "peak": result["peak"], "sites": sites})
        for g in result["globals"]:
            root = f"{g['module']}.{g['name']}"
            entry = merged.setdefault(root, {
                "root": protocol.short(root, 160), "type": protocol.short(g["type"], 80), "status": g["status"],
                "size": 0, "added": 0 if g["added"] is not None else None, "added_size": 0, "workers": [],
                "chain": [{"label": f"module {protocol.short(g['module'], 120)} (worker process)", "edge": ""},
                          {"label": protocol.short(g["type"], 80), "edge": f".{protocol.short(g['name'], 80)}"}],
                "advice": advice.for_worker_global(g["module"], g["name"], g["type"], g["status"])})
            entry["size"] += g["size"]
            entry["added_size"] += g["added_size"]
            if entry["added"] is not None and g["added"] is not None:
                entry["added"] += g["added"]
            entry["workers"].append(name)
    globals_ = sorted(merged.values(), key=lambda e: e["added_size"], reverse=True)[:TOP_N]
    return {"workers": per_worker, "globals": globals_}


def _notebook_functions(ctx, cells):
    """(function name, code) of the functions the notebook defined (values in the user's namespace compiled from a
    cell): cloudpickle sends them with co_filename "<dynamic-code>", so a worker's site is found back by its line."""
    found = []
    namespace = getattr(ctx.recorder.shell, "user_ns", None) or {}
    for value in list(namespace.values()):
        if type(value) is types.FunctionType:
            code = value.__code__
            if cells.is_cell(code.co_filename) or code.co_filename == ctx.cell_file:
                found.append(code)
    return found


def _span(code):
    lines = [line for _, _, line in code.co_lines() if line is not None]
    return (min(lines + [code.co_firstlineno]), max(lines + [code.co_firstlineno]))


def _site(site, cells, codes, raw_cell=""):
    filename, line = site["file"], int(site["line"])
    function = None
    if filename == "<dynamic-code>":
        # Of the notebook's functions that span the line: this cell's, else those this cell names (`client.map(load,
        # ...)` for a `load` an earlier cell defined), else any.
        matches = [c for c in codes if _span(c)[0] <= line <= _span(c)[1]]
        current = [c for c in matches if c.co_filename in cells.current]
        named = [c for c in matches if re.search(rf"\b{re.escape(c.co_name)}\b", raw_cell or "")]
        chosen = current or named or matches
        if len(chosen) == 1:  # several notebook functions on that line number: which one cannot be told
            filename, function = chosen[0].co_filename, chosen[0].co_name
    if filename == "<dynamic-code>":
        label, code, shown = "a function sent by value (cloudpickle)", "", line
    else:
        label = cells.label(filename) if cells.is_cell(filename) or filename in cells.current \
            else traced.display_path(filename)
        shown = cells.line(filename, line)
        code = linecache.getline(filename, line).strip()
    row = {"file": protocol.short(label, 200), "line": shown, "code": protocol.short(code, 160),
           "size": int(site["size"]), "count": int(site["count"])}
    if function is not None:
        row["function"] = protocol.short(function, 80)
    return row
