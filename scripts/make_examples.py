"""Regenerate protocol/examples/ from a real kernel: each example is a report memdiag really produced.

`make test` runs it before jest, so the frontend is never tested on reports the kernel no longer makes; by hand:
`.venv/bin/python scripts/make_examples.py`. Both pytest and jest validate the examples against
protocol/report.schema.json, and the frontend tests render them. Every file in protocol/examples/ must come from a cell
below: the script fails on one it does not make. The valgrind example needs valgrind, the memray one memray and the
cluster ones distributed; where one is missing, that example keeps its last version and the script says so.
"""

import importlib.util
import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "protocol" / "examples"
MIME = "application/vnd.memdiag.v1+json"
sys.path.insert(0, str(ROOT / "python" / "tests"))

from kernel import Kernel  # noqa: E402  (the test suite's real-kernel driver)

VALGRIND_CELL = """%%memdiag --valgrind
import ctypes
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
address = libc.malloc(2_000_000)
print(hex(address)[:2], flush=True)"""

MEMRAY_CELL = """%%memdiag --native
x = 1
arr = np.ones(2_500_000)
lst = [np.zeros(100_000) for _ in range(3)]"""

CELLS = [
    # (example name or None, cell id, code, runs, what it needs)
    (None, "load", "%load_ext memdiag", 1, None),
    ("ok", "small", "x = [1, 2, 3]", 1, None),
    ("retains", "big", "data = bytearray(30_000_000)", 1, None),
    (None, "setup", "cache = []", 1, None),
    ("leak", "leaky", "cache.append(bytearray(8_000_000))", 4, None),
    (None, "cls", "class Node:\n    def __init__(self):\n        self.peer = None\n"
                  "        self.blob = bytearray(20_000)", 1, None),
    ("cycles", "cyc", "for _ in range(500):\n    a, b = Node(), Node()\n    a.peer, b.peer = b, a\ndel a, b", 1, None),
    ("deep", "deep", "%%memdiag\nkept = [bytearray(1_000_000) for _ in range(12)]\ncache.append(kept)", 1, None),
    (None, "np", "import numpy as np", 1, "numpy"),
    ("native-memray", "mr", MEMRAY_CELL, 1, "memray"),
    ("valgrind-possibly", "vg-big", VALGRIND_CELL, 1, "valgrind"),
    # Last: the user's gc.freeze() turns the census and the cycle probe off until gc.unfreeze().
    (None, "freeze", "import gc\ngc.freeze()", 1, None),
    ("frozen", "frozen-cell", "x = bytearray(1000)", 1, None),
    (None, "unfreeze", "gc.unfreeze()", 1, None),
]


# The Dask examples, in a kernel of their own with a LocalCluster of two worker processes: a task that keeps 8 MB in
# a module global of the worker (the module is written to a temporary folder the workers import from).
LEAK_TASK = """def load(i):
    import os
    import leakymod
    leakymod.CACHE.append(os.urandom(8_000_000))
    return i
res = client.gather(client.map(load, range(4), pure=False))"""
CLUSTER_SETUP = """import sys
sys.path.insert(0, {folder!r})
from distributed import Client, LocalCluster, wait
import dask.array as da
cluster = LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None)
client = Client(cluster)
kept = []"""
CLUSTER_CELLS = [
    (None, "load", "%load_ext memdiag", 1, "distributed"),
    (None, "cluster", CLUSTER_SETUP, 1, "distributed"),
    ("cluster-leak", "worker-leak", LEAK_TASK, 4, "distributed"),
    ("cluster-workers", "worker-trace", "%%memdiag --workers\n" + LEAK_TASK, 1, "distributed"),
    ("cluster-retains", "persisted", "kept.append(da.random.random((4000, 1000), chunks=(1000, 1000)).persist())\n"
                                     "wait(kept[-1])", 2, "distributed"),
    (None, "close", "client.close()\ncluster.close()", 1, "distributed"),
]


def missing(need):
    """Why a cell cannot run here, or None."""
    if need == "valgrind":
        return None if shutil.which("valgrind") else "valgrind is not installed"
    if need in ("memray", "numpy", "distributed"):
        return None if importlib.util.find_spec(need) else f"{need} is not installed"
    return None


def displayed(result):
    """The report a %%memdiag cell displayed inline, or None."""
    for output in reversed(result["outputs"]):
        data = output["content"].get("data", {})
        if MIME in data:
            return data[MIME]
    return None


def run(cells, kept):
    """Run `cells` in a new kernel: {example name: the report its cell made (the displayed one for %%memdiag)}."""
    kernel = Kernel()
    wanted = {}
    try:
        for name, cell_id, code, runs, need in cells:
            reason = missing(need)
            if reason:
                kept.append(f"{name or cell_id}: {reason}")
                continue
            for _ in range(runs):
                result = kernel.execute(code, cell_id=cell_id)
            if name:
                wanted[name] = (cell_id, displayed(result))
        history = kernel.reports()
    finally:
        kernel.close()
    return {name: shown or [r for r in history if r["cell_id"] == cell_id][-1]
            for name, (cell_id, shown) in wanted.items()}


def main() -> int:
    kept = []
    made = run(CELLS, kept)
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "leakymod.py").write_text("CACHE = []\n")
        made.update(run([(name, cell_id, code.format(folder=folder) if cell_id == "cluster" else code, runs, need)
                         for name, cell_id, code, runs, need in CLUSTER_CELLS], kept))
    stray = sorted(p.name for p in OUT.glob("*.json") if p.stem not in made and not _skipped(p.stem))
    if stray:
        print(f"not made from a kernel: {', '.join(stray)}: add their cells to scripts/make_examples.py",
              file=sys.stderr)
        return 1
    for name, report in made.items():
        (OUT / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
        print(f"{name}: {report['verdict']['kind']} {report['verdict']['reason']}")
    for line in kept:
        print(f"kept the last version of {line}")
    return 0


def _skipped(stem):
    return any(name == stem and missing(need) for name, _, _, _, need in CELLS + CLUSTER_CELLS)


if __name__ == "__main__":
    sys.exit(main())
