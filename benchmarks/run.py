"""memdiag against what a user would otherwise run, side by side in one run, on heaps of 100k, 1M and 5M live objects.

Usage: .venv/bin/python benchmarks/run.py [--sizes 100000,1000000,5000000] [--quick] [--cells 1000]

Each heap size runs in its own interpreter: a fresh IPython InteractiveShell (the shell ipykernel runs), a heap of N
small live objects built by a cell, then every tool of benchmarks/tools.py switched on in turn:
  memdiag in default mode (trace suspect), with tracing always, and deep (every cell as %%memdiag); the naive triage
  (gc.collect + objgraph.growth after the cell); ipython_memory_usage (RSS sampler thread + hooks); memory_profiler's
  %%memit; memray's %%memray_flamegraph.
For each tool: the time it adds to a small cell, and the slowdown of three real cells (allocation-heavy pure Python,
numpy, pandas). Measurements alternate blocks with and without the tool (the baseline is re-measured next to every
tool): a bare cell's time is the median of pairs of runs (some cells alternate between two costs), the time a tool adds
the median of the differences between neighbouring blocks (the machine is shared, and its speed drifts).
At 1M objects: backref chains for 100 objects, memdiag's batched search against objgraph.find_backref_chain.
Then, through real ipykernel kernels (jupyter_client, one cell id per cell, the comm open as in JupyterLab): memdiag's
own memory after 1,000 cells, as kernel RSS growth against the same cells in a kernel without memdiag.
Then benchmarks/cluster.py: the per-cell cost with a dask.distributed Client of 0, 2, 4 and 8 local worker processes.
Prints Markdown (the README "Performance" section) and writes benchmarks/results/<date>.json and latest.json.
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
sys.path.insert(0, str(HERE))
import cluster as cluster_bench  # noqa: E402 - benchmarks/cluster.py, next to this file

SMALL_CELL = "x = [1, 2, 3]\ny = {'a': x}"
# Cells whose added time is measured for every tool: what the census costs grows with what a cell leaves behind.
ADDED_CELLS = {
    "small": SMALL_CELL,
    "objects_10k": "y10k = [[i] for i in range(10_000)]",
    "objects_1m": "y1m = [[i] for i in range(1_000_000)]",
}
ADDED_LABELS = {"small": "a two-line cell", "objects_10k": "a cell leaving 10,000 objects",
                "objects_1m": "a cell leaving 1,000,000 objects"}
LEAK_CELL = "leaky_bench.append(np.ones(2_000_000))"
SWITCH_WARMUP_S = 1.0  # a cell faster than this gets one uncounted run after each switch of the tool (measure)
IMPORT_CELL = "import pandas, matplotlib.pyplot"
CELLS = {
    "python": "rows = [(i, str(i), i * 0.5) for i in range(200_000)]\ntotal = sum(r[2] for r in rows)",
    "numpy": "a = np.random.default_rng(0).random(3_000_000)\nb = np.sort(a)\nc = float((a * 2.0 + b).cumsum()[-1])",
    "pandas": "df = pd.DataFrame({'k': np.arange(300_000) % 1000, 'v': np.arange(300_000) * 0.5})\n"
              "df['s'] = df['k'].astype(str)\ng = df.groupby('s')['v'].agg(['mean', 'sum'])",
}
CELL_LABELS = {"python": "allocation-heavy Python", "numpy": "numpy", "pandas": "pandas"}
BACKREF_TARGETS = 100
TARGETS = {"naive_over_memdiag_at_1M": 100, "cost_growth": 2.0, "default_slowdown": 1.10, "objects_10k_ms": 2.0,
           "objects_1m_ms": 30.0, "import_ms": 100.0, "flagged_ms": 300.0, "deep_ms": 1000.0, "lines_added": 2.0,
           "backrefs_speedup": 10, "own_memory_mb": 20}


def now():
    return time.perf_counter()


def paired_median(blocks):
    """The median of the means of consecutive pairs of runs within each block (seconds); a block's last run, when
    its length is odd, stands alone. Cancels a cost that alternates run by run."""
    means = [sum(b[i:i + 2]) / len(b[i:i + 2]) for b in blocks for i in range(0, len(b), 2)]
    return statistics.median(means)


def block_difference(with_tool, without):
    """The median, over blocks, of (a block's runs with the tool) - (the next block's runs without it) (seconds),
    each block read as paired_median reads it (a collection of the whole heap that lands in one run of eight is left
    out). Each difference is taken over about a second: a machine whose speed drifts over seconds (measured here: the
    bare allocation-heavy cell at 65 ms for eight runs, then at 125 ms) moves both sides of it alike, where the two
    sides' own medians can each land on another phase of the drift."""
    return statistics.median(paired_median([w]) - paired_median([o]) for w, o in zip(with_tool, without, strict=True))


# --------------------------------------------------------------------------------------------------------------------
# one heap size, in a child interpreter
# --------------------------------------------------------------------------------------------------------------------
def child(size, quick, backrefs):
    import gc
    import tempfile

    sys.path.insert(0, str(HERE.parent / "python"))
    sys.path.insert(0, str(HERE))
    real_stdout = sys.stdout
    sys.stdout = open(os.devnull, "w")  # the peers print a line (or a flame graph) per cell
    import tools as toolbox
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.run_cell("import numpy as np\nimport pandas as pd", store_history=True)
    shell.run_cell(f"heap = [[None] for _ in range({size})]", store_history=True)
    gc.collect()
    live = len(gc.get_objects())
    workdir = tempfile.mkdtemp(prefix="memdiag-bench-")

    def timed(tool, code):
        start = now()
        shell.run_cell(code, store_history=True)
        tool.after()
        return now() - start

    def measure(tool, cell, block, blocks, cap_s):
        """Alternating blocks: the tool on for `block` runs, then off for `block` runs of the bare cell. The time
        without the tool is the median of pairs of runs (paired_median); the time the tool adds is the median of the
        differences between a block with it and the block without it that follows (block_difference).

        A cell that rebinds a big result alternates between two costs run by run, with or without any tool (measured:
        the allocation-heavy cell takes 50 and 60 ms on alternate runs, as its old and new rows trade places in
        memory). A block of odd length would hand one side two slow runs of three and the other one: blocks are even
        and each figure is the median of the means of consecutive pairs of runs within a block.

        The first run after each switch is not counted, on either side, when the cell takes under SWITCH_WARMUP_S: it
        pays for the switch, not for the tool's steady cost (memdiag reads the allocators' block count afresh after
        cells it did not see: +1.6 ms at 5M objects, once per switch, which a block of four would charge to every
        pair it falls in). A user switches a tool on once, not every four cells.
        """
        none = toolbox.Tool(shell)
        code = tool.code(cell)
        clocks = []
        tool.enable()
        first = timed(tool, code)  # run 1 of this cell under the tool: reported, not in the median
        tool.disable()
        warm = first < SWITCH_WARMUP_S
        with_tool, without = [], []  # one list of run times per block
        start = now()

        def capped():
            return sum(map(len, with_tool)) >= 4 and now() - start > cap_s

        for _ in range(blocks):
            tool.enable()
            if warm:
                timed(tool, code)
            with_tool.append([])
            for _ in range(block):
                with_tool[-1].append(timed(tool, code))
                if isinstance(tool, toolbox.Memdiag):  # memdiag's own clock of this counted run
                    clocks.append(tool.history()[-1]["overhead_s"])
                if capped() and len(with_tool[-1]) % 2 == 0:
                    break
            tool.disable()
            if warm:
                timed(none, cell)
            without.append([timed(none, cell) for _ in range(len(with_tool[-1]))])
            if capped():
                break
        med_without = paired_median(without)
        added = block_difference(with_tool, without)
        return {"with_s": med_without + added, "without_s": med_without, "added_s": added,
                "slowdown": (med_without + added) / med_without, "first_s": first, "second_s": with_tool[0][0],
                "runs": sum(map(len, with_tool)), "hooks_clock_s": statistics.median(clocks) if clocks else None}

    tools = toolbox.all_tools(shell, workdir)
    # Warm every path once (imports, caches, first-call costs), the cells too.
    for cell in [SMALL_CELL, *CELLS.values()]:
        shell.run_cell(cell, store_history=True)
    row = {"size": size, "live_objects": live, "tools": {}, "unavailable": {}}
    for tool in tools:
        if not tool.available:
            row["unavailable"][tool.name] = tool.why_unavailable
            continue
        t0 = now()
        result = {"label": tool.label, "added": {}, "hooks_clock": {}}
        for key, cell in ADDED_CELLS.items():
            big = key == "objects_1m"
            result["added"][key] = measure(tool, cell, block=2 if big or quick else 8, blocks=2 if quick else 6,
                                           cap_s=3 if quick else 8)
            if isinstance(tool, toolbox.Memdiag):
                result["hooks_clock"][key] = result["added"][key]["hooks_clock_s"]
            shell.run_cell(f"del {cell.split(' =')[0]}" if " = " in cell else "pass", store_history=True)
        result["small"] = result["added"]["small"]
        result["hooks_clock_s"] = result["hooks_clock"].get("small")
        result["cells"] = {}
        # Sixteen blocks of two a side: the allocation-heavy cell swings by a fifth run by run on its own and the
        # machine's speed drifts over seconds; with eight runs a side its slowdown moved by 2-3% between runs of the
        # same code, and by 8% on a machine that drifts. memdiag's default mode, whose target is a slowdown within
        # 10% of every cell, gets twice as many: one cell in nine, each read within about 4%, landed past 1.10x
        # while memdiag's own clock was 4-6% of every cell.
        default = tool.name == "memdiag"
        for name, cell in CELLS.items():
            result["cells"][name] = measure(tool, cell, block=2, blocks=2 if quick else (32 if default else 16),
                                            cap_s=2 if quick else (30 if default else 12))
        tool.close()
        result["elapsed_s"] = now() - t0
        row["tools"][tool.name] = result
        print(f"    {size:,}: {tool.name} {result['elapsed_s']:.0f} s", file=sys.stderr, flush=True)
    if backrefs:
        row["backrefs"] = bench_backrefs(shell, quick)
        row["memdiag_runs"] = bench_memdiag_runs(shell, toolbox, quick)
    os.chdir(HERE)
    shell.run_cell(f"import shutil; shutil.rmtree({workdir!r}, ignore_errors=True)")
    sys.stdout = real_stdout
    return row


def bench_memdiag_runs(shell, toolbox, quick):
    """memdiag's longer runs at this heap: a leaking cell's flagged re-runs (traced, chains searched; the hooks' own
    clock), a cell run as `%%memdiag` and as `%%memdiag --lines` (wall time against the bare cell, medians)."""
    import memdiag

    tool = toolbox.Memdiag(shell, "memdiag", "memdiag default")
    tool.enable()
    shell.run_cell("leaky_bench = []", store_history=True)
    flagged = []
    for _ in range(6):
        shell.run_cell(LEAK_CELL, store_history=True)
        report = memdiag.history()[-1]
        if "leak" in report["verdict"]["flags"]:
            flagged.append((report["overhead_s"], report["mode"]))
    shell.run_cell("leaky_bench.clear()", store_history=True)

    def wall(code, runs):
        times = []
        for _ in range(runs):
            start = now()
            shell.run_cell(code, store_history=True)
            times.append(now() - start)
            shell.run_cell("leaky_bench.clear()", store_history=True)
        return statistics.median(times)

    runs = 2 if quick else 4
    bare_leak = wall(LEAK_CELL, runs)
    deep = wall("%%memdiag\n" + LEAK_CELL, runs)
    python = CELLS["python"]
    tool.disable()
    bare_python = wall(python, runs)
    tool.enable()
    lines = wall("%%memdiag --lines\n" + python, runs)
    lines_traced = wall("%%memdiag --lines --trace\n" + python, runs)
    fragmented = bench_fragmented(shell, memdiag, 4 if quick else 12)
    tool.close()
    return {"flagged_s": statistics.median(t for t, _ in flagged) if flagged else None,
            "flagged_modes": sorted({m for _, m in flagged}), "flagged_runs": len(flagged),
            "deep_added_s": deep - bare_leak, "lines_s": lines, "bare_python_s": bare_python,
            "lines_added": (lines - bare_python) / bare_python, "lines_traced_s": lines_traced,
            "fragmented": fragmented}


def bench_fragmented(shell, memdiag, runs):
    """The two-line cell's cost to memdiag (its hooks' own clock, median of `runs`) on a glibc heap fragmented the way
    mid-size objects leave it (100,000 bytearrays of 0.6-3.6 kB, every other one freed): mallinfo2 walks the free
    chunks, and is read before and after each cell. {"free_chunks": mallinfo2's ordblks, "hooks_s"}, or None without
    mallinfo2."""
    from memdiag.probes import heap

    read = heap._mallinfo2()
    if read is None:
        return None
    shell.run_cell("_frag = [bytearray(600 + i % 3000) for i in range(100_000)]\ndel _frag[::2]", store_history=True)
    chunks = int(read().ordblks)
    for _ in range(runs + 2):
        shell.run_cell(SMALL_CELL, store_history=True)
    hooks = statistics.median(r["overhead_s"] for r in memdiag.history()[-runs:])
    shell.run_cell("del _frag", store_history=True)
    return {"free_chunks": chunks, "hooks_s": hooks}


def import_child():
    """A fresh shell with memdiag loaded runs an import cell: memdiag's own clock for it (overhead_s), and the cell's
    wall time; the same cell's wall time in another fresh shell without memdiag is measured by the parent."""
    sys.path.insert(0, str(HERE.parent / "python"))
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    with_memdiag = "--with-memdiag" in sys.argv
    if with_memdiag:
        shell.run_cell("%load_ext memdiag", store_history=True)
    start = now()
    shell.run_cell(IMPORT_CELL, store_history=True)
    out = {"wall_s": now() - start}
    if with_memdiag:
        import memdiag

        report = memdiag.history()[-1]
        out.update(overhead_s=report["overhead_s"], imports=report.get("imports", {}).get("count"),
                   verdict=report["verdict"]["kind"])
    return out


def bench_import(repeats):
    """The import cell in fresh interpreters, with and without memdiag (medians of `repeats`)."""
    runs = {True: [], False: []}
    for _ in range(repeats):
        for with_memdiag in (False, True):
            cmd = [sys.executable, __file__, "--import-child"] + (["--with-memdiag"] if with_memdiag else [])
            out = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True)
            runs[with_memdiag].append(json.loads(out.stdout.strip().splitlines()[-1]))
    with_m, without = runs[True], runs[False]
    return {"hooks_clock_s": statistics.median(r["overhead_s"] for r in with_m),
            "wall_with_s": statistics.median(r["wall_s"] for r in with_m),
            "wall_without_s": statistics.median(r["wall_s"] for r in without),
            "modules": with_m[-1]["imports"], "verdict": with_m[-1]["verdict"]}


def bench_backrefs(shell, quick):
    """Chains from 100 objects held three levels under a user's name, up to a root: memdiag's batched search (one
    referrer pass per level for all targets) against objgraph.find_backref_chain (one BFS of get_referrers per
    object). objgraph is timed on a sample and its total extrapolated, or the run would take minutes."""
    import objgraph

    from memdiag.probes import backrefs

    shell.run_cell("class Record:\n    def __init__(self, i):\n        self.payload = [i]\n"
                   f"registry = {{f'k{{i}}': Record(i) for i in range({BACKREF_TARGETS})}}", store_history=True)
    targets = [record.payload for record in shell.user_ns["registry"].values()]
    times, found = [], 0
    for _ in range(2 if quick else 3):
        start = now()
        chains = backrefs.search(shell, targets, budget_s=300)
        times.append(now() - start)
        found = sum(1 for c in chains if c["root"].startswith("registry"))
        del chains
    memdiag_s = statistics.median(times)
    sample = targets[:: BACKREF_TARGETS // (3 if quick else 10)]
    per_object, og_found = [], 0
    start = now()
    for target in sample:
        t = now()
        chain = objgraph.find_backref_chain(target, objgraph.is_proper_module,
                                            extra_ignore=(id(targets), id(sample)))
        per_object.append(now() - t)
        og_found += len(chain) > 1
        del chain
        if now() - start > 60:
            break
    objgraph_s = statistics.median(per_object) * len(targets)
    return {"targets": len(targets), "memdiag_s": memdiag_s, "memdiag_chains": found,
            "objgraph_sampled": len(per_object), "objgraph_per_object_s": statistics.median(per_object),
            "objgraph_chains_in_sample": og_found, "objgraph_est_s": objgraph_s, "speedup": objgraph_s / memdiag_s}


# --------------------------------------------------------------------------------------------------------------------
# memdiag's own memory after N cells, through real kernels
# --------------------------------------------------------------------------------------------------------------------
def kernel_memory(cells):
    import queue

    from jupyter_client.manager import start_new_kernel

    def rss(pid):
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def execute(kc, code, cell_id=None, silent=False, expressions=None):
        content = {"code": code, "silent": silent, "store_history": not silent, "allow_stdin": False,
                   "user_expressions": expressions or {}, "stop_on_error": False}
        msg = kc.session.msg("execute_request", content, metadata={"cellId": cell_id} if cell_id else {})
        kc.shell_channel.send(msg)
        while True:
            reply = kc.get_shell_msg(timeout=120)
            if reply["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
                break
        while True:  # the outputs and memdiag's reports on the comm: read them, as a frontend would
            try:
                kc.get_iopub_msg(timeout=0.0005)
            except queue.Empty:
                break
        return reply["content"]

    settle = ("import gc, ctypes\ngc.collect()\n"
              "try:\n    ctypes.CDLL('libc.so.6').malloc_trim(0)\nexcept OSError:\n    pass")

    def session(with_memdiag):
        km, kc = start_new_kernel(kernel_name="python3")
        try:
            pid = km.provisioner.pid
            execute(kc, "import numpy as np\nimport pandas as pd", silent=True)
            for i in range(20):  # warm: IPython's own caches fill the same way in both kernels
                execute(kc, f"w{i} = list(range({i}))\nlen(w{i})", cell_id=f"warm-{i}")
            execute(kc, settle, silent=True)
            before = rss(pid)
            if with_memdiag:
                execute(kc, "%load_ext memdiag", cell_id="load")
            start = now()
            for i in range(cells):  # a notebook of `cells` distinct cells: small ones, as most cells are
                execute(kc, f"v{i % 50} = [j * 2 for j in range({(i * 37) % 500})]\nd{i % 20} = {{'n': {i}}}\n"
                        f"len(v{i % 50})", cell_id=f"cell-{i:04d}")
            elapsed = now() - start
            after_raw = rss(pid)
            execute(kc, settle, silent=True)
            after = rss(pid)
            out = {"rss_before": before, "rss_after_raw": after_raw, "rss_after": after, "elapsed_s": elapsed}
            if with_memdiag:
                expr = {"n": "len(__import__('memdiag').history())",
                        "json": "len(__import__('json').dumps(__import__('memdiag').history()))",
                        "limit": "__import__('memdiag').config.history_limit"}
                res = execute(kc, "pass", silent=True, expressions=expr)["user_expressions"]
                for key in expr:
                    out["history_" + key] = int(res[key]["data"]["text/plain"])
            return out
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)

    control, memdiag = session(False), session(True)
    growth = lambda s, k: s[k] - s["rss_before"]  # noqa: E731
    return {"cells": cells, "control": control, "memdiag": memdiag,
            "own_rss_bytes": growth(memdiag, "rss_after") - growth(control, "rss_after"),
            "own_rss_raw_bytes": growth(memdiag, "rss_after_raw") - growth(control, "rss_after_raw"),
            "per_cell_ms_memdiag": memdiag["elapsed_s"] / cells * 1000,
            "per_cell_ms_control": control["elapsed_s"] / cells * 1000}


# --------------------------------------------------------------------------------------------------------------------
def machine():
    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = next(int(x.split()[1]) for x in open("/proc/meminfo") if x.startswith("MemTotal")) // 1024 ** 2
    except OSError:
        mem = None
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for dist in ("memdiag", "ipython", "ipykernel", "objgraph", "ipython_memory_usage", "memory_profiler", "memray",
                 "numpy", "pandas", "distributed"):
        try:
            versions[dist] = version(dist)
        except PackageNotFoundError:
            versions[dist] = None
    return {"cpu": cpu, "cores": os.cpu_count(), "ram_gb": mem, "os": f"{platform.system()} {platform.release()}",
            "python": platform.python_version(), "versions": versions}


PERFORMANCE_HEADER = """# Performance

Written by `make bench` (benchmarks/run.py): memdiag side by side with the peers a user would otherwise reach for,
in one run, on heaps of 100k, 1M and 5M live objects. How memdiag stays cheap: `gc.freeze()` before each cell leaves
only the cell's own objects to inspect; the census counts them exactly by type at C speed, run by run of one type as
`gc.get_objects()` lists them (a Counter where types interleave), and sizes a sample of about a thousand, reading
their referents one type at a time with one `gc.get_referents` call (a big list the cell bound is read once: the names
probe and the chains take the census's reading, and what each new name keeps below it is read from samples of
128 objects a level, 0.3-0.6 ms for a list of lists); the big objects a sample misses are still
counted, one by one, when the allocator's growth leaves something unexplained; tracemalloc runs only on the next run
of a cell already flagged; backref chains come from one batched referrer pass per level for all targets. Where the
remaining cost goes: `gc.get_objects()` on what the cell left (about 20 ms per million objects), counting the cell's
survivors by type (about 0.2 ms per 10,000 in long runs, 0.45 ms interleaved), the census sample (about 0.5 ms),
RSS and the allocators' counters, and for flagged cells the chain search (identity roots first; a heap pass per level
only on a first run, a leak or a deep run). Of the counters, `sys.getallocatedblocks()` is the one that grows with the
heap: it visits every pymalloc pool (a 16 KiB page of small objects), cache-cold after a cell, about 0.2 ms per read
at 1M objects and 0.5-1.5 ms at 5M. It is read once per cell, after it: the reading is carried over as the next
cell's start while the kernel stays idle in between (probes/heap.py). It is what makes memdiag's cost at 5M objects
higher than at 1M. An O(1) count was built and measured (a C wrapper of the object allocators, the way tracemalloc
wraps them, counting blocks as they come and go): it took 0.35 ms off the hooks' clock of the 10,000-object cell at 5M
objects, but added 1.5-2.5 ms (3-4%) to the body of the allocation-heavy cell, more than the walk it saved there, and a
cost that grows with every long cell. It was not kept. Two costs that were the tool's own doing are gone: a re-run
whose RSS grew only by the pages the previous run's `malloc_trim` gave back was trimmed again on every run (the
pandas cell: 1.7 ms of trim, and 15 MB of page faults in its next run), and a DataFrame's `memory_usage` is read off
its columns' arrays, the strings of a text column from a sample (pandas' own call builds a Series per column: 0.5-1.3
ms a frame, and reads every string: 0.2 s for 300,000 rows).
`%%memdiag --lines` measures lines on RSS and runs each top-level statement whole, with no tracer, so the cell runs at
its own speed and the added time is the deep report's own work; `--lines --trace` pays for tracemalloc itself, which
slows an allocation-heavy cell many times over.
In a kernel (not here: these cells run in IPython's shell, as ipykernel runs them, without its threads), a cell
that ends within 5 ms of its start waits 0.5 ms more before its census: ipykernel's IOPub thread is then still
sending the cell's first messages, and what it holds at that moment would be counted as the cell's.
Here and in a kernel, a census of fewer than 2,000 objects (the two-line cell's) waits for IPython's history thread
to finish writing the cell to its sqlite file (3-5 ms on this machine, the commit's fsync; at most 20 ms), and in a
kernel for the IOPub thread to send what the cell queued: what those threads hold mid-work would be rows of the cell's
own. Bigger cells count those few objects among thousands and do not wait.
Figures in milliseconds are this machine's: they scale with its speed (the bare cells' times, in brackets below, tell
one machine from another); the slowdowns and the ratios against the peers carry over.

"""


def summarize(rows, backrefs, memory, runs, imports):
    by_size = {r["size"]: r for r in rows}
    first, last = rows[0], rows[-1]
    at_1m = by_size.get(1_000_000, rows[len(rows) // 2])
    md = lambda r: r["tools"]["memdiag"]  # noqa: E731
    added = lambda r, tool, cell: max(r["tools"][tool]["added"][cell]["added_s"], 1e-6)  # noqa: E731
    clock = lambda r: md(r)["hooks_clock"].get("objects_10k") or 1e-6  # noqa: E731
    s = {}
    s["naive_over_memdiag_at_1M"] = added(at_1m, "naive", "objects_10k") / added(at_1m, "memdiag", "objects_10k")
    s["cost_growth"] = added(last, "memdiag", "objects_10k") / added(first, "memdiag", "objects_10k")
    s["cost_growth_hooks_clock"] = clock(last) / clock(first)
    s["default_slowdown"] = max(md(r)["cells"][c]["slowdown"] for r in rows for c in CELLS)
    # memdiag's own clock for these two: a million-object cell's wall time varies by more than memdiag adds to it.
    hooks = lambda cell: max(md(r)["hooks_clock"].get(cell) or 0 for r in rows) * 1000  # noqa: E731
    s["objects_10k_ms"] = hooks("objects_10k")
    s["objects_10k_wall_ms"] = max(added(r, "memdiag", "objects_10k") for r in rows) * 1000
    s["objects_1m_ms"] = hooks("objects_1m")
    s["import_ms"] = imports["hooks_clock_s"] * 1000 if imports else None
    s["flagged_ms"] = runs["flagged_s"] * 1000 if runs and runs["flagged_s"] is not None else None
    s["deep_ms"] = runs["deep_added_s"] * 1000 if runs else None
    s["lines_added"] = runs["lines_added"] if runs else None
    s["backrefs_speedup"] = backrefs["speedup"] if backrefs else None
    s["own_memory_mb"] = memory["own_rss_raw_bytes"] / 2 ** 20 if memory else None
    return s


def verdicts(summary):
    """(text, passed) per target; a target not measured in this run is left out."""
    t, s = TARGETS, summary
    out = [
        (f"naive triage / memdiag default, added time of the 10,000-object cell at 1M live objects: "
         f"{s['naive_over_memdiag_at_1M']:.0f}x (target >= {t['naive_over_memdiag_at_1M']}x)",
         s["naive_over_memdiag_at_1M"] >= t["naive_over_memdiag_at_1M"]),
        (f"memdiag default, added time of the 10,000-object cell, largest / smallest heap: {s['cost_growth']:.2f}x "
         f"(hooks' own clock {s['cost_growth_hooks_clock']:.2f}x; target <= {t['cost_growth']:.0f}x)",
         s["cost_growth"] <= t["cost_growth"]),
        (f"memdiag default, its own time on the 10,000-object cell (worst heap): {s['objects_10k_ms']:.1f} ms "
         f"(wall-clock difference {s['objects_10k_wall_ms']:.1f} ms; target <= {t['objects_10k_ms']:.0f} ms)",
         s["objects_10k_ms"] <= t["objects_10k_ms"]),
        (f"memdiag default, its own time on the 1,000,000-object cell (worst heap): {s['objects_1m_ms']:.1f} ms "
         f"(target <= {t['objects_1m_ms']:.0f} ms)", s["objects_1m_ms"] <= t["objects_1m_ms"]),
        (f"memdiag default, slowdown of the real cells (worst cell and heap): {s['default_slowdown']:.3f}x "
         f"(target <= {t['default_slowdown']:.2f}x)", s["default_slowdown"] <= t["default_slowdown"]),
    ]
    optional = [
        ("import_ms", lambda v: f"memdiag's own time on an import cell (pandas + matplotlib, fresh interpreter): "
                                f"{v:.0f} ms (target <= {t['import_ms']:.0f} ms)", lambda v: v <= t["import_ms"]),
        ("flagged_ms", lambda v: f"a flagged re-run of a leaking cell at 1M objects (traced, chains searched), "
                                 f"memdiag's own time: {v:.0f} ms (target <= {t['flagged_ms']:.0f} ms)",
         lambda v: v <= t["flagged_ms"]),
        ("deep_ms", lambda v: f"%%memdiag at 1M objects, added time: {v:.0f} ms (target <= {t['deep_ms']:.0f} ms)",
         lambda v: v <= t["deep_ms"]),
        ("lines_added", lambda v: f"%%memdiag --lines on the allocation-heavy Python cell, added time / the cell's "
                                  f"own: {v:.1f}x (target <= {t['lines_added']:.0f}x)",
         lambda v: v <= t["lines_added"]),
        ("backrefs_speedup", lambda v: f"backref chains for {BACKREF_TARGETS} objects at 1M, objgraph / memdiag: "
                                       f"{v:.0f}x (target >= {t['backrefs_speedup']}x)",
         lambda v: v >= t["backrefs_speedup"]),
        ("own_memory_mb", lambda v: f"memdiag's own memory after the cells (kernel RSS against a kernel without it): "
                                    f"{v:.1f} MB (target <= {t['own_memory_mb']} MB)",
         lambda v: v <= t["own_memory_mb"]),
    ]
    out += [(text(s[key]), ok(s[key])) for key, text, ok in optional if s.get(key) is not None]
    if s.get("cluster"):
        found = cluster_bench.verdict(s["cluster"])
        if found is not None:
            out.append(found)
    return out


def markdown(result):
    ms = lambda sec: f"{sec * 1000:.1f} ms" if abs(sec) >= 0.0005 else f"{sec * 1000:.2f} ms"  # noqa: E731
    x = lambda v: f"{v:.2f}x"  # noqa: E731
    rows, m = result["rows"], result["machine"]
    names = [n for n in rows[0]["tools"]]
    labels = {n: rows[0]["tools"][n]["label"] for n in names}
    lines = [f"Measured {result['date']} on {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM, {m['os']}, "
             f"Python {m['python']}, IPython {m['versions']['ipython']} (alternating blocks of runs with and without "
             f"each tool: bare times are medians of pairs of runs, added times medians of the differences between "
             f"neighbouring blocks; the first run after each switch not counted; the machine is shared). `make bench` "
             f"took {result['elapsed_s'] / 60:.1f} min.", ""]
    for key, label in ADDED_LABELS.items():
        lines += [f"Added time per cell, {label} (naive = `gc.collect()` + `objgraph.growth()` after it):", "",
                  "| live objects | " + " | ".join(labels[n] for n in names) + " |",
                  "|---:|" + "---:|" * len(names)]
        for r in rows:
            lines.append(f"| {r['live_objects']:,} | " + " | ".join(
                ms(r["tools"][n]["added"][key]["added_s"]) for n in names) + " |")
        clocks = [r["tools"]["memdiag"]["hooks_clock"].get(key) for r in rows if "memdiag" in r["tools"]]
        if clocks and all(c is not None for c in clocks):
            lines += ["", "memdiag default, its hooks' own clock: " + ", ".join(
                f"{ms(c)} at {r['live_objects']:,}" for c, r in zip(clocks, rows, strict=True)) + "."]
        if any(r["tools"][n]["added"][key]["added_s"] < 0 for r in rows for n in names):
            lines += ["", "A negative figure: the cell ran faster with the tool on than without it. For memdiag, its "
                      "`gc.freeze()` before each cell keeps the collections the cell's own allocations trigger from "
                      "walking the older heap (measured: a cell making 1,000,000 lists on a heap of 150,000 objects, "
                      "346 ms bare, 291 ms frozen); its own work is the hooks' clock above."]
        lines.append("")
    lines += ["Slowdown of three real cells (time with the tool / time without; bare cell time in brackets; 16 "
              "blocks of two runs a side, 32 for memdiag default, whose target is within 10% of every cell):", "",
              "| live objects | cell | " + " | ".join(labels[n] for n in names) + " |",
              "|---:|---|" + "---:|" * len(names)]
    for r in rows:
        for cell in CELLS:
            base = statistics.median(r["tools"][n]["cells"][cell]["without_s"] for n in names)
            lines.append(f"| {r['live_objects']:,} | {CELL_LABELS[cell]} ({ms(base)}) | "
                         + " | ".join(x(r["tools"][n]["cells"][cell]["slowdown"]) for n in names) + " |")
    if "memdiag" in names:
        parts = []
        for r in rows:
            c = r["tools"]["memdiag"]["cells"]["python"]
            parts.append(f"{r['live_objects']:,} objects: run 1 +{ms(c['first_s'] - c['without_s'])}, "
                         f"run 2 +{ms(c['second_s'] - c['without_s'])}")
        lines += ["", "Re-runs are the medians above. The first two runs of a cell that keeps >= 10 MiB cost memdiag "
                  "(default mode) more: run 1 walks backrefs (1 s budget), run 2 may be traced to settle a suspicion. "
                  "Allocation-heavy cell: " + "; ".join(parts) + "."]
    runs = result.get("memdiag_runs")
    if runs:
        lines += ["", f"memdiag's longer runs at {runs['live_objects']:,} live objects: a leaking cell's flagged "
                  f"re-runs ({runs['flagged_runs']}, modes {', '.join(runs['flagged_modes']) or '-'}) cost "
                  f"{ms(runs['flagged_s'] or 0)} of memdiag's own time; `%%memdiag` adds "
                  f"{ms(runs['deep_added_s'])} to that cell; `%%memdiag --lines` runs the allocation-heavy Python "
                  f"cell in {ms(runs['lines_s'])} against {ms(runs['bare_python_s'])} bare "
                  f"(+{runs['lines_added']:.1f}x: lines on RSS, the deep report's own work), and "
                  f"`%%memdiag --lines --trace` in {ms(runs['lines_traced_s'])} (tracemalloc's own cost on a cell "
                  f"that allocates 800,000 objects)."]
        frag = runs.get("fragmented")
        if frag:
            lines += ["", f"On a glibc heap fragmented into {frag['free_chunks']:,} free chunks (100,000 bytearrays of "
                      f"0.6-3.6 kB, every other one freed), the two-line cell costs memdiag {ms(frag['hooks_s'])} of "
                      "its own time: mallinfo2, read before and after each cell, walks glibc's free chunks."]
    imports = result.get("imports")
    if imports:
        lines += ["", f"An import cell (`{IMPORT_CELL}`, {imports['modules']} modules, in a fresh interpreter): "
                  f"memdiag's own clock {ms(imports['hooks_clock_s'])}; the cell took {ms(imports['wall_with_s'])} "
                  f"with memdiag and {ms(imports['wall_without_s'])} without (verdict `{imports['verdict']}`)."]
    unavailable = {k: v for r in rows for k, v in r["unavailable"].items()}
    if unavailable:
        lines += ["", "Not measured: " + "; ".join(f"{k} ({v})" for k, v in unavailable.items())]
    b = result.get("backrefs")
    if b:
        lines += ["", f"Backref chains for {b['targets']} objects at {b['live_objects']:,} live objects: memdiag's "
                  f"batched search {b['memdiag_s']:.2f} s ({b['memdiag_chains']} chains to the user's name); "
                  f"objgraph.find_backref_chain {b['objgraph_per_object_s']:.2f} s per object "
                  f"({b['objgraph_sampled']} timed, {b['objgraph_chains_in_sample']} found), "
                  f"{b['objgraph_est_s']:.0f} s for {b['targets']}: **{b['speedup']:.0f}x**."]
    k = result.get("kernel_memory")
    if k:
        md = k["memdiag"]
        lines += ["", f"memdiag's own memory after {k['cells']:,} cells in a kernel (distinct cell ids, reports sent "
                  f"on the comm): RSS +{k['own_rss_raw_bytes'] / 2 ** 20:.1f} MB against the same cells without "
                  f"memdiag ({k['own_rss_bytes'] / 2 ** 20:.1f} MB after gc.collect + malloc_trim); history "
                  f"{md['history_n']} reports (limit {md['history_limit']}), {md['history_json'] / 2 ** 20:.2f} MB "
                  f"as JSON; a cell round trip {k['per_cell_ms_memdiag']:.1f} ms with memdiag, "
                  f"{k['per_cell_ms_control']:.1f} ms without."]
    if result.get("cluster"):
        lines += [""] + cluster_bench.markdown(result["cluster"])
    lines += ["", "Targets:", ""]
    lines += [f"- {'PASS' if ok else 'MISS'}: {text}" for text, ok in verdicts(result["summary"])]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000,5000000")
    parser.add_argument("--cells", type=int, default=1000, help="cells for memdiag's own memory (0: skip)")
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke test, not numbers to publish)")
    parser.add_argument("--child", type=int)
    parser.add_argument("--backrefs", action="store_true")
    parser.add_argument("--import-child", action="store_true")
    parser.add_argument("--with-memdiag", action="store_true")
    parser.add_argument("--cluster-workers", default="0,2,4,8",
                        help="Dask LocalCluster sizes for the per-cell cost with a client ('': skip)")
    args = parser.parse_args()
    if args.import_child:
        print(json.dumps(import_child()))
        return
    if args.child:
        row = child(args.child, args.quick, args.backrefs)
        print(json.dumps(row))
        return
    started = now()
    sizes = [int(s) for s in args.sizes.split(",")]
    backref_size = min(sizes, key=lambda s: abs(s - 1_000_000))
    rows, backrefs, runs = [], None, None
    for size in sizes:
        print(f"  heap of {size:,} objects", file=sys.stderr, flush=True)
        cmd = [sys.executable, __file__, "--child", str(size)] + (["--quick"] if args.quick else []) \
            + (["--backrefs"] if size == backref_size else [])
        out = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        if "backrefs" in row:
            backrefs = dict(row.pop("backrefs"), live_objects=row["live_objects"])
            runs = dict(row.pop("memdiag_runs"), live_objects=row["live_objects"])
        rows.append(row)
    print("  an import cell in fresh interpreters", file=sys.stderr, flush=True)
    imports = bench_import(2 if args.quick else 5)
    memory = None
    if args.cells:
        print(f"  {args.cells:,} cells through kernels", file=sys.stderr, flush=True)
        memory = kernel_memory(args.cells)
    cluster_rows = None
    if args.cluster_workers:
        print(f"  Dask clients of {args.cluster_workers} workers", file=sys.stderr, flush=True)
        cmd = [sys.executable, str(HERE / "cluster.py"), "--workers", args.cluster_workers] \
            + (["--cells", "10"] if args.quick else [])
        out = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True)
        cluster_rows = json.loads(out.stdout.strip().splitlines()[-1])
    result = {"date": datetime.date.today().isoformat(), "machine": machine(), "quick": args.quick, "rows": rows,
              "backrefs": backrefs, "memdiag_runs": runs, "imports": imports, "kernel_memory": memory,
              "targets": TARGETS, "cluster": cluster_rows,
              "summary": dict(summarize(rows, backrefs, memory, runs, imports), cluster=cluster_rows)}
    result["passed"] = {text: ok for text, ok in verdicts(result["summary"])}
    result["elapsed_s"] = now() - started
    text = markdown(result)
    print(text)
    if not args.quick:  # the published tables (the README links here)
        (HERE.parent / "docs" / "performance.md").write_text(PERFORMANCE_HEADER + text + "\n")
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    names = ["latest-quick.json"] if args.quick else [f"{result['date']}.json", "latest.json"]
    for name in names:
        (results / name).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
