"""Regenerate protocol/examples/ from a real kernel: each example is a report memdiag really produced.

Run with the project's venv: `.venv/bin/python scripts/make_examples.py`. Both pytest and jest validate the
examples against protocol/report.schema.json, and the frontend tests render them.
"""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "python" / "tests"))

from kernel import Kernel  # noqa: E402  (the test suite's real-kernel driver)

CELLS = [
    # (example name or None, cell id, code, runs)
    (None, "load", "%load_ext memdiag", 1),
    ("ok", "small", "x = [1, 2, 3]", 1),
    ("retains", "big", "data = bytearray(30_000_000)", 1),
    (None, "setup", "cache = []", 1),
    ("leak", "leaky", "cache.append(bytearray(8_000_000))", 4),
    (None, "cls", "class Node:\n    def __init__(self):\n        self.peer = None\n"
                  "        self.blob = bytearray(20_000)", 1),
    ("cycles", "cyc", "for _ in range(500):\n    a, b = Node(), Node()\n    a.peer, b.peer = b, a\ndel a, b", 1),
    ("deep", "deep", "%%memdiag\nkept = [bytearray(1_000_000) for _ in range(12)]\ncache.append(kept)", 1),
]


def main() -> int:
    kernel = Kernel()
    try:
        wanted = {}
        for name, cell_id, code, runs in CELLS:
            for _ in range(runs):
                kernel.execute(code, cell_id=cell_id)
            if name:
                wanted[name] = cell_id
        history = kernel.reports()
    finally:
        kernel.close()
    out = ROOT / "protocol" / "examples"
    for name, cell_id in wanted.items():
        report = [r for r in history if r["cell_id"] == cell_id][-1]
        (out / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
        print(f"{name}: {report['verdict']['kind']} {report['verdict']['reason']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
