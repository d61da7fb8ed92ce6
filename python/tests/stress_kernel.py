"""`make stress`, kernel part (issue 7, item 6): 1,000 cells on a 5M-object heap through a real kernel.

Not collected by pytest (no test_ prefix): it takes a minute or two and ~1 GB. Asserts every cell ran, no report
carries an error, and the kernel's memory and memdiag's history stay bounded.
Run: .venv/bin/python python/tests/stress_kernel.py
"""
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kernel import Kernel  # noqa: E402

CELLS = 1000
MiB = 2**20
STATE = ("import json, os, gc, memdiag\n"
         "print(json.dumps([int(open('/proc/self/statm').read().split()[1]) * os.sysconf('SC_PAGE_SIZE'), "
         "len(memdiag.history()), len(json.dumps(memdiag.history())), gc.isenabled(), gc.get_debug(), "
         "len(gc.garbage)]))")


def cell(i):
    if i % 250 == 0:
        return f"%%memdiag\nd_{i % 3} = [[j] for j in range(20_000)]"  # deep: tracing, cycles, backrefs on the big heap
    if i % 10 == 0:
        return f"c_{i % 7} = [bytearray(1000) for _ in range(200)]\nl = []; l.append(l); del l"
    return f"v = {i} * 2"


def main():
    k = Kernel()
    try:
        k.execute("%load_ext memdiag")
        k.execute("heap = [[] for _ in range(5_000_000)]")
        state = lambda: json.loads(k.execute(STATE)["stdout"])  # noqa: E731
        k.execute("x = 1")
        before = state()
        t0 = time.perf_counter()
        ids = [k.submit(cell(i), cell_id=f"stress-{i}") for i in range(CELLS)]
        replies = k.wait_all(ids, timeout=600)
        elapsed = time.perf_counter() - t0
        after = state()
        failed = [m for m, r in replies.items() if r["status"] != "ok"]
        reports = [r for r in k.reports() if (r["cell_id"] or "").startswith("stress-")]
        errors = [(r["cell_id"], r["errors"]) for r in reports if r["errors"]]
        growth = after[0] - before[0]
        print(f"{CELLS} cells on a 5M-object heap in {elapsed:.1f} s; "
              f"RSS {before[0] / MiB:.0f} -> {after[0] / MiB:.0f} MiB;"
              f" history {after[1]} reports, {after[2] / 1024:.0f} KiB; reports received {len(reports)}")
        assert not failed, f"{len(failed)} cells failed"
        assert len(reports) == CELLS, len(reports)
        assert not errors, errors[:5]
        assert after[1] <= 500 and after[2] <= 500 * 64 * 1024
        assert after[3:] == [True, 0, 0], after
        assert growth < 128 * MiB, f"kernel RSS grew {growth / MiB:.0f} MiB"
        print("stress: ok")
    finally:
        k.close()


if __name__ == "__main__":
    main()
