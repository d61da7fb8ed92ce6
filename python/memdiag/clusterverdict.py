"""The cluster's verdict: what a cell did to the Dask workers' memory, by the method of verdict.py. Pure: no IPython,
no distributed, no I/O.

A re-run's step is how much the workers' unmanaged memory (Dask's term: RSS less the managed keys' sizeof) grew, in
total over the workers read at both ends, from one run's start to the next run's start (the current run: from its
start to its end, after malloc_trim when the step crossed the threshold). Managed memory is data the notebook keeps in
Dask on purpose (`x = df.persist()`, futures it holds): it never makes a leak, only `retains`. The kinds:

- leak: `leak_runs` consecutive re-run steps each add at least `leak_bytes_per_run` in total; once seen it holds while
  each re-run adds about half as much (verdict.HOLD_SHARE), as the kernel's leak does;
- retains: the cell added at least `retain_bytes` of managed memory and the workers still hold it at its end;
- ok.

The kernel's own verdict is not changed: report["verdict"]["flags"] gains "cluster-leak" or "cluster-retains".
"""
from .verdict import HOLD_SHARE, format_bytes, streak

FLAGS = {"leak": "cluster-leak", "retains": "cluster-retains"}


def marks_before(section):
    """{address: {"unmanaged", "managed"}} (bytes) of the workers read before the cell, from a cluster section."""
    return {r["address"]: {"unmanaged": r["unmanaged_before"], "managed": r["managed_before"]}
            for r in (section or {}).get("workers", []) if r.get("unmanaged_before") is not None}


def marks_after(section):
    """The same for the end of the cell (after malloc_trim when the probe trimmed)."""
    return {r["address"]: {"unmanaged": r["unmanaged"], "managed": r["managed"]}
            for r in (section or {}).get("workers", [])}


def growth(start, end, key="unmanaged"):
    """(total, {address: bytes}) of `key` grown from `start` to `end` (marks as above) over the workers in both;
    (None, {}) when no worker is in both."""
    if not start or not end:
        return None, {}
    per = {a: end[a][key] - start[a][key] for a in start if a in end}
    if not per:
        return None, {}
    return sum(per.values()), per


def steps(report, previous_runs):
    """Re-run steps of the cell, oldest first, the current run's last: [(total bytes, {address: bytes})]. A run's step
    ends at the next run's start when that run followed it directly, else at its own end; first runs and runs without
    readings at both ends make no step."""
    out = []
    for rec in previous_runs:
        start = (rec.get("start") or {}).get("cluster")
        end = (rec.get("next") or {}).get("cluster") or (rec.get("cluster") or {}).get("after")
        if rec.get("run", 1) < 2:
            continue
        total, per = growth(start, end)
        if total is not None:
            out.append((total, per))
    current = current_step(report)
    if current is not None:
        out.append(current)
    return out


def current_step(report):
    """This run's own step (total, {address: bytes}) from its start to its end, or None (a first run, no readings)."""
    section = report.get("cluster")
    if report.get("run", 1) < 2 or not section:
        return None
    total, per = growth(marks_before(section), marks_after(section))
    return None if total is None else (total, per)


def should_trim(report, previous_runs, cfg):
    """True when this run's step crosses what would make or keep a leak: the workers are then asked to give free memory
    back (malloc_trim) before the verdict is decided, so that allocator retention is not called a leak."""
    current = current_step(report)
    if current is None:
        return False
    previous = (previous_runs[-1].get("cluster") or {}) if previous_runs else {}
    return current[0] >= _hold(cfg, previous) if previous.get("kind") == "leak" else \
        current[0] >= cfg["leak_bytes_per_run"]


def _hold(cfg, previous):
    return max(cfg["leak_bytes_per_run"] * HOLD_SHARE, HOLD_SHARE * (previous.get("bytes_per_run") or 0))


def _names(section):
    return {r["address"]: r["name"] for r in section.get("workers", [])}


def decide(report, previous_runs, cfg):
    """(verdict, record) of the cluster section of `report`, given the cell's earlier run records (oldest first; their
    "start"/"next" carry "cluster" marks, their "cluster" the record below) and the thresholds (`cfg`, bytes).

    verdict: {"kind": "ok|retains|leak", "bytes_per_run": bytes of unmanaged memory each re-run kept (averaged over the
    last leak_runs re-runs for a leak; this re-run's otherwise, never negative; None before any re-run), "reason": str,
    "workers": [{"name", "address", "bytes_per_run"}] (the workers that grow, biggest first)}.
    record: {"kind", "bytes_per_run", "after": marks_after} for the run log. (None, None) without readings.
    """
    section = report.get("cluster")
    if not section or not section.get("workers"):
        return None, None
    threshold = cfg["leak_bytes_per_run"]
    previous = (previous_runs[-1].get("cluster") or {}) if previous_runs else {}
    was_leak = previous.get("kind") == "leak"
    all_steps = steps(report, previous_runs)
    window = all_steps[-cfg["leak_runs"]:]
    current = current_step(report)
    leak = len(window) >= cfg["leak_runs"] and all(total >= threshold for total, _ in window)
    if not leak and was_leak and current is not None and current[0] >= _hold(cfg, previous):
        leak = True
    if leak:
        per_run = int(sum(max(t, 0) for t, _ in window) / len(window))
        # Every re-run in a row that kept so much, as the kernel's leak reason counts them.
        runs = max(len(window), streak(all_steps, lambda step: step[0] >= _hold(cfg, previous)))
    else:
        window = [current] if current is not None else []
        per_run = max(current[0], 0) if current is not None else None
    names = _names(section)
    growers = []
    if window:
        addresses = set.intersection(*(set(per) for _, per in window))
        floor = threshold / (2 * max(len(addresses), 1))
        for address in addresses:
            mean = sum(per[address] for _, per in window) / len(window)
            if mean >= floor:
                growers.append({"name": names.get(address, address), "address": address, "bytes_per_run": int(mean)})
        growers.sort(key=lambda g: g["bytes_per_run"], reverse=True)
    managed, _ = growth(marks_before(section), marks_after(section), "managed")
    trimmed = section.get("trimmed")
    after_trim = f", after malloc_trim gave back {format_bytes(trimmed)}" if trimmed else ""
    lost = section.get("lost") or []
    if leak:
        kind = "leak"
        who = ", ".join(f"{g['name']} +{format_bytes(g['bytes_per_run'])}" for g in growers[:8]) or "spread out"
        reason = (f"each re-run of this cell leaves the workers' unmanaged memory about {format_bytes(per_run)} "
                  f"bigger ({runs} consecutive re-runs{after_trim}); workers: {who}. Unmanaged memory is not "
                  "data Dask holds for the notebook: globals, caches or leaks in the tasks' code")
    elif managed is not None and managed >= cfg["retain_bytes"]:
        kind = "retains"
        reason = (f"the workers hold {format_bytes(managed)} more managed memory after the cell: data kept in Dask "
                  "for the notebook (persisted collections, futures it holds), freed when those are released")
    else:
        kind = "ok"
        reason = "nothing above the thresholds on the workers"
        grown, _ = growth(marks_before(section), marks_after(section), "unmanaged")
        if current is None and grown is not None and grown >= threshold:
            # A first run that grew the workers: not a verdict yet, but not "nothing" either.
            reason = (f"the workers' unmanaged memory grew by {format_bytes(grown)} during the cell{after_trim} "
                      "(not data Dask holds for the notebook: globals, caches or leaks in the tasks' code); one run "
                      "cannot tell a leak from a one-off: run the cell again")
        if current is not None and per_run:
            reason += f"; this re-run left {format_bytes(per_run)} more unmanaged memory{after_trim}"
        if was_leak and current is not None:
            reason += f"; no longer a leak (earlier re-runs kept about {format_bytes(previous.get('bytes_per_run'))})"
    if lost:
        reason += "; lost during the cell: " + ", ".join(w["name"] for w in lost[:8])
    verdict = {"kind": kind, "bytes_per_run": per_run, "reason": reason[0].upper() + reason[1:] + ".",
               "workers": growers if kind == "leak" else []}
    return verdict, {"kind": kind, "bytes_per_run": per_run, "after": marks_after(section)}


def apply(report, previous_runs, cfg):
    """Decide and write: report["cluster"]["verdict"] and the flag in report["verdict"]["flags"] (the kernel's kind is
    left alone). Returns the run-log record (or None)."""
    verdict, record = decide(report, previous_runs, cfg)
    if verdict is None:
        return None
    report["cluster"]["verdict"] = verdict
    flag = FLAGS.get(verdict["kind"])
    if flag is not None:
        report["verdict"]["flags"] = list(report["verdict"].get("flags", [])) + [flag]
    return record
