"""Issue 12: verdicts a user can trust in a real notebook, through a real kernel.

A warm kernel (hundreds of MB built and freed first: the allocator then absorbs new blocks and RSS stays flat), a
calloc'd leak (zero pages not resident yet), a steady leak re-run ten times, and the output cache.
"""
from kernel import new_id

WARM = """
import numpy as np
frames = [np.random.rand(1_000_000, 5) for _ in range(10)]   # 400 MB
rows = [[i, str(i)] for i in range(1_000_000)]
del frames, rows
"""


def _labels(report):
    return {report["verdict"]["kind"], *report["verdict"]["flags"]}


def _explain(reports):
    return [(r["run"], r["mode"], r["verdict"]["kind"], r["verdict"]["bytes_per_run"], r["verdict"]["reason"],
             r["rss"]["after"] - r["rss"]["before"], r.get("heap")) for r in reports]


def test_warm_kernel_append_leak_is_a_leak_on_every_rerun(kernel):
    k = kernel
    k.execute("%load_ext memdiag")
    k.execute(WARM)
    k.execute("results_cache = []")
    reports = k.rerun("payload = np.random.bytes(5_000_000)\nresults_cache.append(payload)", 6)
    assert all(r["verdict"]["kind"] == "leak" for r in reports[2:]), _explain(reports)
    for r in reports[2:]:
        assert 4_500_000 <= r["verdict"]["bytes_per_run"] <= 6_500_000, _explain(reports)
        assert "native" not in r["verdict"]["flags"]


def test_calloc_leak_with_flat_rss_is_a_leak(kernel):
    """bytes(5_000_000) is calloc'd: its pages are not resident until touched, RSS does not move."""
    k = kernel
    k.execute("%load_ext memdiag")
    k.execute(WARM)
    k.execute("zero_cache = []")
    reports = k.rerun("zero_cache.append(bytes(5_000_000))", 5)
    assert all(r["verdict"]["kind"] == "leak" for r in reports[2:]), _explain(reports)
    assert all(r["verdict"]["bytes_per_run"] >= 4_500_000 for r in reports[2:]), _explain(reports)


def test_ten_reruns_of_a_steady_leak_are_all_leak_from_the_third(kernel):
    k = kernel
    k.execute("%load_ext memdiag")
    k.execute("held = []")
    reports = k.rerun("held.append(bytearray(3_000_000))", 10)
    kinds = [r["verdict"]["kind"] for r in reports]
    assert kinds[:2] != ["leak", "leak"] and all(kind == "leak" for kind in kinds[2:]), _explain(reports)
    slopes = [r["verdict"]["bytes_per_run"] for r in reports[2:]]
    assert all(2_700_000 <= s <= 3_600_000 for s in slopes), slopes
    # Never a negative "kept" anywhere, and the reason never contradicts the verdict.
    assert all((r["verdict"]["bytes_per_run"] or 0) >= 0 for r in reports)
    assert all("keeps about" in r["verdict"]["reason"] for r in reports[2:])


def test_a_leak_that_stops_says_so(kernel):
    k = kernel
    k.execute("%load_ext memdiag")
    k.execute("held = []\nleaking = True")
    cell = new_id()
    code = "if leaking:\n    held.append(bytearray(4_000_000))"
    for _ in range(4):
        k.execute(code, cell_id=cell)
    k.execute("leaking = False")
    k.execute(code, cell_id=cell)
    reports = [r for r in k.reports() if r["cell_id"] == cell]
    assert reports[-2]["verdict"]["kind"] == "leak", _explain(reports)
    assert reports[-1]["verdict"]["kind"] != "leak" and "no longer a leak" in reports[-1]["verdict"]["reason"], \
        _explain(reports)


def test_rerun_that_frees_says_gave_back_not_a_negative_kept(kernel):
    k = kernel
    k.execute("%load_ext memdiag")
    cell = new_id()
    k.execute("big = [bytearray(30_000_000)]", cell_id=cell)
    k.execute("big = [bytearray(30_000_000)]", cell_id=cell)
    k.execute("big = None", cell_id=cell)
    reports = [r for r in k.reports() if r["cell_id"] == cell]
    last = reports[-1]
    assert last["verdict"]["kind"] == "ok" and (last["verdict"]["bytes_per_run"] or 0) >= 0, _explain(reports)
    assert "gave back" in last["verdict"]["reason"], _explain(reports)


def test_displayed_result_is_held_by_python_not_native(kernel):
    """A 10 MB result on a cell's last line: Out[n] and IPython's history keep it; never `native`."""
    k = kernel
    k.execute("%load_ext memdiag")
    k.execute("%memdiag trace always")
    reports = k.rerun("bytearray(10_000_000)", 3)
    assert all("native" not in _labels(r) for r in reports), _explain(reports)
    assert reports[-1]["verdict"]["kind"] == "leak", _explain(reports)
    assert any("Out[" in chain["root"] for chain in reports[-1]["backrefs"]), reports[-1]["backrefs"]
    assert reports[-1]["ipython"]["out"] >= 10_000_000


def test_import_cell_is_not_flagged(kernel):
    k = kernel
    k.execute("%load_ext memdiag")
    [report] = k.rerun("import numpy, pandas, matplotlib.pyplot", 1)
    assert report["verdict"]["kind"] == "ok" and report["verdict"]["flags"] == [], _explain([report])
    assert "imported" in report["verdict"]["reason"].lower()
    # Summarised by package, never counted object by object (70,000 of them: 35 ms of the census).
    assert report["objects"]["imports"] is True and report["objects"]["growth"] == [], report["objects"]
    assert report["objects"]["new"] > 10_000
    packages = {p["name"]: p["modules"] for p in report["imports"]["packages"]}
    assert packages.get("pandas", 0) > 50 and packages.get("matplotlib", 0) > 20, packages


def test_an_import_cell_that_builds_data_keeps_it_counted(kernel):
    """The data an import cell binds is the user's: its names are sized as on any cell."""
    k = kernel
    k.execute("%load_ext memdiag")
    # Modules no kernel has imported yet (3.10's IPython 8 has decimal and fractions loaded already).
    assert k.value("[m for m in ('wave', 'tabnanny', 'zipapp') if m in __import__('sys').modules]") == []
    [report] = k.rerun("import wave, tabnanny, zipapp\nbig = bytearray(30_000_000)", 1)
    assert report["objects"].get("imports") is True, report["objects"]
    assert report["verdict"]["kind"] == "retains", _explain([report])
    [named] = [v for v in report["variables"] if v["name"] == "big"]
    assert named["size"] >= 30_000_000, named


def test_memdiag_line_magics_are_not_recorded(kernel):
    k = kernel
    k.execute("%load_ext memdiag")
    before = len(k.reports())
    k.execute("%memdiag types -n 3")
    k.execute("%memdiag")
    assert len(k.reports()) == before


def test_a_small_result_is_not_charged_for_the_output_cache(kernel):
    """Out holding only arrays is untracked; the first list put in it makes the gc track it: still not the cell's."""
    k = kernel
    k.execute("%load_ext memdiag")
    k.execute("import numpy as np")
    k.execute("np.ones(2_000_000)")
    [report] = k.rerun("[1, 2, 3]", 1)
    assert report["verdict"]["kind"] == "ok" and report["objects"]["size"] < 100_000, _explain([report])
    assert not report["backrefs"]


def test_a_failing_rerun_is_not_a_leak(kernel):
    """Each error replaces the last one; the earlier errors' frames are cyclic garbage, freed by the next full
    collection: re-running a failing cell is no leak, and the reason says why."""
    k = kernel
    k.execute("%load_ext memdiag")
    code = "def load():\n    raw = bytearray(20_000_000)\n    raise ValueError('bad file')\nload()"
    cell = new_id()
    for _ in range(5):
        k.execute(code, cell_id=cell, allow_error=True)
    reports = [r for r in k.reports() if r["cell_id"] == cell]
    assert all("leak" not in _labels(r) for r in reports), _explain(reports)
    assert "this run raised" in reports[-1]["verdict"]["reason"], reports[-1]["verdict"]


def test_usage_help_is_not_recorded(kernel):
    k = kernel
    k.execute("%load_ext memdiag")
    before = len(k.reports())
    k.execute("%memdiag?")
    k.execute("%%memdiag?")
    assert len(k.reports()) == before


def test_a_cell_that_makes_cycles_is_cycles_on_every_run(kernel):
    """The trial's cycles cell: its re-runs are traced (a cycles verdict makes the next run suspect), and on a run the
    automatic collector may free every cycle before memdiag's own collection sees one. The verdict must not flip to
    ok next to a Cycles column that says 400."""
    k = kernel
    k.execute("%load_ext memdiag")
    k.execute("Node = type('Node', (), {})")
    code = "for _ in range(200): a, b = Node(), Node(); a.peer, b.peer = b, a; a.blob = bytearray(20_000)"
    reports = k.rerun(code, 5)
    assert all(r["verdict"]["kind"] == "cycles" for r in reports), [
        (r["run"], r["mode"], r["gc"]["collected"], r["gc"]["during"], r["verdict"]["reason"]) for r in reports]
    assert all(3_500_000 <= r["verdict"]["bytes"] <= 12_000_000 for r in reports), [r["verdict"] for r in reports]


def test_cycles_moved_out_of_the_youngest_generation_are_found(kernel):
    """A fresh user's trial: 2,000 objects that refer to themselves, made in a list the cell then drops. The automatic
    collections the list's making ran moved them out of generation 0 while they were alive, so collecting generation
    0 after the cell found 496 of the 4,004 objects a gc.collect() frees, and every run read `ok`."""
    k = kernel
    k.execute("%load_ext memdiag")
    k.execute("class Node:\n    def __init__(self):\n        self.me = self\n        self.buf = [0] * 100")
    code = "nodes = [Node() for _ in range(2000)]\ndel nodes"
    reports = k.rerun(code, 3)
    assert all(r["verdict"]["kind"] == "cycles" and r["gc"]["collected"] >= 4_000 for r in reports), [
        (r["run"], r["mode"], r["gc"]["collected"], r["gc"]["during"], r["verdict"]["reason"]) for r in reports]


def test_what_a_cell_holds_is_counted_once(kernel):
    """Two names for one array, and a cell ending in the frame it bound (Out[n] is the same object): each held once."""
    k = kernel
    k.execute("%load_ext memdiag\nimport numpy as np, pandas as pd")
    [aliased] = k.rerun("a = np.ones(4_000_000)\nb = a", 1)
    assert 31_000_000 <= aliased["verdict"]["bytes"] <= 33_000_000, _explain([aliased])
    deltas = {v["name"]: v["delta"] for v in aliased["variables"]}
    assert sorted(deltas.values()) == [0, 32_000_112] or deltas["b"] == 0, deltas
    [shown] = k.rerun("d = pd.DataFrame({'x': np.ones(2_000_000)})\nd", 1)
    assert shown["ipython"]["out"] >= 16_000_000 and shown["ipython"]["named"] == shown["ipython"]["out"]
    assert 15_000_000 <= shown["verdict"]["bytes"] <= 17_000_000, _explain([shown])


def test_a_rebinding_rerun_holds_what_it_bound_whatever_its_type(kernel):
    """`retains` is what the cell holds after it: an array a re-run rebinds is held as much as a frame or a list."""
    k = kernel
    k.execute("%load_ext memdiag\nimport numpy as np, pandas as pd")
    for code in ("arr = np.ones(3_000_000)", "frame = pd.DataFrame({'x': np.ones(3_000_000)})",
                 "floats = [float(i) for i in range(500_000)]"):
        reports = k.rerun(code, 3)
        assert [r["verdict"]["kind"] for r in reports] == ["retains"] * 3, _explain(reports)
        assert max(r["verdict"]["bytes"] for r in reports) < 1.1 * min(r["verdict"]["bytes"] for r in reports)


def test_a_traced_run_retains_none_of_the_cyclic_garbage_it_made(kernel):
    """memdiag collects the cell's cyclic garbage before tracemalloc's snapshot: traced, a cell that only makes cycles
    retained 6.9 MB of them (its allocation sites listed as kept) while the run kept nothing."""
    k = kernel
    k.execute("%load_ext memdiag")
    k.execute("class Node:\n    def __init__(self):\n        self.peer = None\n        self.blob = bytearray(20_000)")
    code = "for _ in range(500):\n    a, b = Node(), Node()\n    a.peer, b.peer = b, a\ndel a, b"
    [report] = k.rerun("%%memdiag\n" + code, 1)
    assert report["mode"] == "deep" and report["traced"]["enabled"], report["mode"]
    assert "cycles" in _labels(report), _explain([report])
    assert report["gc"]["collected"] >= 1000, report["gc"]
    assert report["traced"]["retained"] < 1_000_000, report["traced"]
    assert all(site["size"] < 1_000_000 for site in report["traced"]["top"]), report["traced"]["top"]
