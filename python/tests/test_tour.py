"""examples/memory-triage.ipynb, run as a user runs it: each step shows what the notebook promises."""
import json
from pathlib import Path

import nbformat

NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "memory-triage.ipynb"
RERUNS = 3  # "run me again" cells are run this many more times


def _run_tour(kernel):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    kernel.execute("%load_ext memdiag", cell_id="tour-load")
    outputs = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        runs = 1 + (RERUNS if "run me again" in cell.source else 0)
        for _ in range(runs):
            outputs[cell.id] = kernel.execute(cell.source, cell_id=cell.id)
    return nb, outputs


def _cell(nb, fragment):
    return next(c for c in nb.cells if c.cell_type == "code" and fragment in c.source)


def test_the_tour_says_what_it_promises(kernel, report_validator):
    nb, outputs = _run_tour(kernel)
    reports = kernel.reports()
    for report in reports:
        report_validator(report)

    def last(fragment):
        cell_id = _cell(nb, fragment).id
        return [r for r in reports if r["cell_id"] == cell_id][-1]

    # Step 1: the growing cache is a leak of about 8 MB per run.
    leak = last("cache.append")
    assert leak["verdict"]["kind"] == "leak"
    assert 6_000_000 <= leak["verdict"]["bytes_per_run"] <= 12_000_000
    # Step 2: `why _` names IPython's output cache.
    why_out = outputs[_cell(nb, "%memdiag why _").id]["stdout"]
    assert "Out[" in why_out or "_oh" in why_out, why_out
    # Step 3: the cycle cell is diagnosed in depth and finds Node cycles.
    cycles = last("a.peer, b.peer")
    assert cycles["verdict"]["kind"] == "cycles"
    assert any("Node" in t for c in cycles["gc"]["cycles"] for t in c["types"])
    # Step 4: the view keeps the base array alive, and `why` says through which name.
    why_view = outputs[_cell(nb, "why head.base").id]["stdout"]
    assert "head" in why_view, why_view
    # Step 5: the ctypes malloc is native memory.
    native = last("libc.malloc(40_000_000)")
    assert native["verdict"]["kind"] == "native"
    # Not leaks: rebinding retains, the transient keeps nothing.
    data = [r for r in reports if r["cell_id"] == _cell(nb, "data = bytearray").id]
    assert data[0]["verdict"]["kind"] == "retains"
    assert all(r["verdict"]["kind"] not in ("leak", "native") for r in data)
    transient = last("tmp = [bytearray")
    assert transient["verdict"]["kind"] == "ok"
    # From one kernel to a cluster: the helper module's cache is the workers' leak, not the kernel's.
    workers = last("run me again: workers")
    assert workers["cluster"]["verdict"]["kind"] == "leak", workers["cluster"]["verdict"]
    assert "cluster-leak" in workers["verdict"]["flags"] and workers["verdict"]["kind"] != "leak"
    assert 24_000_000 <= workers["cluster"]["verdict"]["bytes_per_run"] <= 40_000_000
    traced = last("%%memdiag --workers")["cluster"]["traced"]
    assert any(g["root"] == "leakymod.CACHE" for g in traced["globals"]), traced
    json.dumps(reports, allow_nan=False)
