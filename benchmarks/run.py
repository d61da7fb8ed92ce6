"""memdiag's cost per cell against the naive per-cell triage, on heaps of 100k, 1M and 5M live objects.

Usage: .venv/bin/python benchmarks/run.py [--sizes 100000,1000000,5000000] [--quick]
Each heap size runs in its own interpreter (a fresh IPython shell, in process, no kernel), side by side in one run:
  - memdiag default mode: median time memdiag adds to a small cell (its hooks' own clock, and wall time against the
    same cell without memdiag);
  - naive triage: gc.collect() + objgraph.growth() after the cell, what a user would otherwise run;
  - slowdown of an allocation-heavy cell under each tracing policy (off, suspect = default, always) against no memdiag.
Prints a Markdown table and writes benchmarks/results/<date>.json and latest.json.
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SMALL_CELL = "x = [1, 2, 3]\ny = {'a': x}"
HEAVY_CELL = "rows = [(i, str(i), i * 0.5) for i in range(200_000)]\ntotal = sum(r[2] for r in rows)"


def _median_time(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def child(size, repeat):
    sys.path.insert(0, str(HERE.parent / "python"))
    import gc

    import objgraph
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.run_cell(f"heap = [[None] for _ in range({size})]", store_history=True)
    gc.collect()
    live = len(gc.get_objects())
    run = lambda code: shell.run_cell(code, store_history=True)  # noqa: E731

    def with_policy(policy, loaded):
        if loaded:
            import memdiag

            shell.extension_manager.load_extension("memdiag")
            memdiag.config.update({"trace": policy, "enabled": True})
        else:
            shell.extension_manager.unload_extension("memdiag")

    # Warm up both paths once (imports, caches).
    with_policy("suspect", True)
    run(SMALL_CELL)
    run(HEAVY_CELL)
    import memdiag

    before = len(memdiag.history())
    for _ in range(repeat * 2):
        run(SMALL_CELL)
    reports = memdiag.history()[before:]
    hook_overhead = statistics.median(r["overhead_s"] for r in reports)
    wall_with = _median_time(lambda: run(SMALL_CELL), repeat * 2)
    with_policy(None, False)
    wall_without = _median_time(lambda: run(SMALL_CELL), repeat * 2)

    def naive():
        run(SMALL_CELL)
        gc.collect()
        objgraph.growth(limit=10)

    objgraph.growth(limit=10)  # its baseline
    naive_time = _median_time(naive, max(3, repeat // 2)) - wall_without

    heavy = {}
    heavy["none"] = _median_time(lambda: run(HEAVY_CELL), repeat)
    for policy in ("off", "suspect", "always"):
        with_policy(policy, True)
        heavy[policy] = _median_time(lambda: run(HEAVY_CELL), repeat)
        with_policy(None, False)
    return {
        "size": size,
        "live_objects": live,
        "memdiag_hooks_s": hook_overhead,
        "memdiag_wall_added_s": max(wall_with - wall_without, 0.0),
        "naive_triage_s": naive_time,
        "ratio_naive_over_memdiag": naive_time / hook_overhead if hook_overhead else None,
        "heavy_cell_s": heavy,
        "heavy_slowdown": {p: heavy[p] / heavy["none"] for p in ("off", "suspect", "always")},
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000,5000000")
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--child", type=int)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.repeat)))
        return
    rows = []
    for size in map(int, args.sizes.split(",")):
        out = subprocess.run([sys.executable, __file__, "--child", str(size), "--repeat", str(args.repeat)],
                             capture_output=True, text=True, check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f"  measured {size:,} objects", file=sys.stderr)
    first, last = rows[0], rows[-1]
    at_1m = next((r for r in rows if r["size"] == 1_000_000), rows[len(rows) // 2])
    summary = {
        "cost_growth_smallest_to_largest": last["memdiag_hooks_s"] / first["memdiag_hooks_s"],
        "naive_over_memdiag_at_1M": at_1m["ratio_naive_over_memdiag"],
        "default_mode_heavy_cell_slowdown": max(r["heavy_slowdown"]["suspect"] for r in rows),
    }
    result = {"date": datetime.date.today().isoformat(), "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
              f"Python {platform.python_version()}", "rows": rows, "summary": summary}
    print(markdown(result))
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    for name in (f"{result['date']}.json", "latest.json"):
        (results / name).write_text(json.dumps(result, indent=1) + "\n")


def markdown(result):
    ms = lambda s: f"{s * 1000:.2f} ms"  # noqa: E731
    lines = [f"memdiag benchmark, {result['date']} ({result['machine']})", "",
             "| live objects | memdiag per cell (hooks) | memdiag per cell (wall) | naive gc.collect + objgraph.growth "
             "| naive / memdiag | heavy cell: off | suspect (default) | always |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in result["rows"]:
        s = r["heavy_slowdown"]
        lines.append(f"| {r['live_objects']:,} | {ms(r['memdiag_hooks_s'])} | {ms(r['memdiag_wall_added_s'])} | "
                     f"{ms(r['naive_triage_s'])} | {r['ratio_naive_over_memdiag']:.0f}x | {s['off']:.2f}x | "
                     f"{s['suspect']:.2f}x | {s['always']:.2f}x |")
    sm = result["summary"]
    lines += ["", f"- cost growth from the smallest to the largest heap: {sm['cost_growth_smallest_to_largest']:.2f}x "
              "(target <= 2x)",
              f"- naive triage / memdiag at 1M objects: {sm['naive_over_memdiag_at_1M']:.0f}x (target >= 100x)",
              f"- default mode on an allocation-heavy cell: {sm['default_mode_heavy_cell_slowdown']:.2f}x "
              "(target <= 1.10x)"]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
