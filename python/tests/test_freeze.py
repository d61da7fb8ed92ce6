"""Issue 11, item 2: whether the user froze the gc is followed from their gc.freeze()/gc.unfreeze() calls and a baseline
taken at load, never read from `gc.get_freeze_count() > 0` (CPython 3.12.1 starts with 375 objects in the permanent
generation though nobody froze anything). Runs on every supported Python, through a real kernel."""
import sys

from kernel import new_id

CYCLIC = """
class Node:
    def __init__(self):
        self.peer = None
        self.payload = [0] * 20

def make_cycles(n):
    for _ in range(n):
        a, b = Node(), Node()
        a.peer, b.peer = b, a

make_cycles(1_000)
kept = [Node() for _ in range(2_000)]
"""


def _report(k, code):
    cell = new_id()
    k.execute(code, cell_id=cell)
    return next(r for r in reversed(k.reports()) if r["cell_id"] == cell)


def _censused(report):
    return "skipped" not in report["objects"] and "skipped" not in report["gc"]


def _node_growth(report):
    return sum(g["count"] for g in report["objects"]["growth"] if g["type"].endswith("Node"))


def test_fresh_kernel_is_not_taken_for_a_user_freeze(kernel):
    """On 3.12 the interpreter's own permanent objects must not switch the census off."""
    k = kernel
    startup = k.value("__import__('gc').get_freeze_count()")
    k.execute("%load_ext memdiag")
    state = k.value("__import__('memdiag.gcguard', fromlist=['x']).freeze_state()")
    assert state["frozen"] is False
    assert state["baseline"] == startup
    if sys.version_info[:2] == (3, 12):
        assert state["startup"] == startup > 0, "3.12 starts with objects in the permanent generation"
    report = _report(k, CYCLIC)
    assert _censused(report), report["objects"]
    assert _node_growth(report) >= 2_000
    cyclic = report["gc"]["collected"]
    assert cyclic >= 2_000, report["gc"]
    assert "cycles" in {report["verdict"]["kind"], *report["verdict"]["flags"]}


def test_user_freeze_in_a_cell_is_followed(kernel):
    k = kernel
    k.execute("%load_ext memdiag")
    freezing = _report(k, "import gc; gc.freeze()")
    assert freezing["objects"]["skipped"].startswith("gc.freeze() ran during the cell: memdiag's own freeze gave way")
    frozen = _report(k, CYCLIC)
    assert "frozen by the user" in frozen["objects"]["skipped"]
    assert "frozen by the user" in frozen["gc"]["skipped"]
    # The user's freeze is theirs: memdiag neither undoes it nor adds the cell's objects to it.
    count_after = k.value("__import__('gc').get_freeze_count()")
    assert count_after > 0
    k.execute("gc.unfreeze()")
    report = _report(k, CYCLIC)
    assert _censused(report), report["objects"]
    assert _node_growth(report) >= 2_000
    assert k.value("__import__('gc').get_freeze_count()") == 0


def test_user_freeze_before_load_is_kept(kernel):
    """Frozen before `%load_ext memdiag`: the count at load exceeds the interpreter's own start-up count."""
    k = kernel
    k.execute("import gc\nhold = [[i] for i in range(50_000)]\ngc.freeze()")
    k.execute("%load_ext memdiag")
    assert k.value("__import__('memdiag.gcguard', fromlist=['x']).freeze_state()['frozen']") is True
    frozen = _report(k, CYCLIC)
    assert "frozen by the user" in frozen["objects"]["skipped"]
    assert k.value("__import__('gc').get_freeze_count()") >= 50_000, "memdiag must not undo the user's freeze"
    k.execute("gc.unfreeze()")
    assert _censused(_report(k, CYCLIC))


def test_a_cell_that_calls_gc_collect_is_told_in_words(kernel):
    """`del df; gc.collect()` is the commonest cleanup cell. Its gc.collect() must see the whole heap, so memdiag thaws
    the cell's freeze and cannot tell its objects from older ones: the report says so in the user's terms (it said
    "the gc was not frozen for this cell"), and the rest of the report is still measured."""
    k = kernel
    k.execute("%load_ext memdiag")
    k.execute("junk = [[i] for i in range(10_000)]")
    report = _report(k, "del junk\nimport gc\ngc.collect()")
    for section in (report["objects"], report["gc"]):
        assert section["skipped"].startswith("gc.collect() ran during the cell and looks at the whole heap"), section
    assert report["rss"]["after"] > 0 and report["verdict"]["kind"] == "ok", report["verdict"]
    # Freeing an older cell's cyclic garbage is what the cleanup is for, not cycles the cell made (the verdict said
    # "The cell made 40,011 objects in reference cycles").
    k.execute("class Node:\n    def __init__(self):\n        self.me = self\nnodes = [Node() for _ in range(20_000)]")
    cleanup = _report(k, "del nodes\ngc.collect()")
    assert cleanup["gc"]["collected"] >= 20_000 and "skipped" in cleanup["gc"], cleanup["gc"]
    assert cleanup["verdict"]["kind"] == "ok", cleanup["verdict"]
    # A cell with a heap-wide %memdiag command among its lines says so too.
    mixed = _report(k, "x = [1]\n%memdiag types -n 3")
    assert mixed["objects"]["skipped"].startswith("%memdiag types ran during the cell and looks at the whole heap")
    first = _report(k, "%memdiag types -n 3\ny = [1]")  # never frozen: the magic comes first
    assert "%memdiag commands that look at the whole heap" in first["objects"]["skipped"], first["objects"]
    # The next cell is counted again.
    assert _censused(_report(k, CYCLIC))
