"""What differs between CPython 3.10, 3.11, 3.12 and 3.13, through a real kernel of the interpreter running the tests.

- 3.12+ names the last error `sys.last_exc` (`sys.last_value` / `sys.last_traceback` before, aliases since); the chain
  into a frame it keeps names the local that holds the memory.
- 3.12+ has immortal objects (PEP 683; 3.11 has statically allocated ones): `why` says "immortal", not 4294967295.
- 3.11+ keeps instance attributes in a values array (3.13: in the object itself) that getsizeof leaves out: memdiag
  adds it, to the byte of what tracemalloc measures; the census' sizes stay within 15% of tracemalloc's, and nothing
  memdiag does per cell builds an instance's __dict__.
- 3.12+ follows lines through sys.monitoring, 3.10 and 3.11 through sys.settrace; the increments are right on both.
Where a feature does not exist on this interpreter, its test is skipped with the reason.
"""
import json
import sys

import pytest
from kernel import new_id

PY = sys.version_info[:2]
MB = 1_000_000
SLACK = 64 * 1024


def _report(kernel, cell_id):
    found = [r for r in kernel.reports() if r["cell_id"] == cell_id]
    assert found, f"no report for {cell_id}"
    return found[-1]


def _open_comm(kernel):
    kernel.execute('__import__("memdiag")._bootstrap()', silent=True)
    return [m for m in kernel.comm_messages if m["msg_type"] == "comm_open"][-1]["content"]["comm_id"]


def _why_over_comm(kernel, comm_id, name):
    rid = new_id()
    kernel.send_comm(comm_id, {"type": "request", "request_id": rid, "action": "why", "args": {"name": name}})

    def is_reply(m):
        d = m["content"].get("data", {})
        return m["msg_type"] == "comm_msg" and d.get("type") == "reply" and d.get("request_id") == rid

    reply = kernel.wait_comm(is_reply)["content"]["data"]
    assert reply["ok"], reply
    json.dumps(reply, allow_nan=False)
    return reply["result"]


def test_the_kernel_runs_this_interpreter(shared_kernel):
    """Every expectation below depends on the version: the kernel must be the Python running pytest."""
    assert tuple(shared_kernel.value("list(__import__('sys').version_info[:2])")) == PY


# -- the last error --------------------------------------------------------------------------------------------------
# f is passed a global (16 MB): its frame holds it too, but the global's name keeps it; the chain keeps `big`.
RAISE = ("shared_arg = bytearray(16_000_000)\n"
         "def f(shared):\n    big = bytearray(30_000_000)\n    raise ValueError('x')\nf(shared_arg)")
DEEPEST = ("import sys\ndef deepest(tb):\n    while tb.tb_next is not None:\n        tb = tb.tb_next\n"
           "    return tb.tb_frame")


def test_last_error_is_a_named_root_and_its_frame_names_the_local(kernel):
    k = kernel
    k.execute("%load_ext memdiag")
    k.execute(DEEPEST)
    assert k.execute(RAISE, cell_id="v-raise", allow_error=True)["status"] == "error"
    if PY >= (3, 12):
        # IPython sets the 3.12 name too; the old names are the same objects
        assert k.value("[sys.last_exc is sys.last_value, sys.last_exc.__traceback__ is sys.last_traceback]") == \
            [True, True]
        root, into_tb = "sys.last_exc", ".__traceback__"
    else:
        assert k.value("hasattr(sys, 'last_exc')") is False
        root, into_tb = "sys.last_traceback", ".tb_next"

    # The cell's own report: its biggest survivor is f's frame (30 MB through its local), kept by the last error; the
    # chain goes on to the local by name.
    report = _report(k, "v-raise")
    frames = [c for c in report["backrefs"] if any(link["edge"] == ".tb_frame" for link in c["chain"])]
    assert frames, report["backrefs"]
    chain = frames[0]
    assert chain["root"] == root, chain
    assert chain["chain"][1]["edge"] == into_tb, chain
    frame, last = chain["chain"][-2:]
    assert frame["edge"] == ".tb_frame" and frame["label"].startswith("frame f (big 30 MB"), chain
    assert last["edge"] == ".f_locals['big']" and chain["type"] == "bytearray", chain
    assert 30_000_000 <= chain["size"] < 31_000_000, chain  # not the global it was passed (46 MB)
    # The other local is an answer of its own, not summed into big's nor dropped for having the same type.
    ends = {c["chain"][-1]["edge"]: c["size"] for c in frames}
    assert 16_000_000 <= ends.get(".f_locals['shared']", 0) < 17_000_000, ends

    # %memdiag why on the local itself: the path is a Python expression that reaches it.
    out = k.execute("%memdiag why deepest(sys.last_traceback).f_locals['big']")["stdout"]
    assert "bytearray" in out and "30 MB" in out, out
    path = next(line.split("reachable as ", 1)[1] for line in out.splitlines() if "reachable as" in line)
    assert path.startswith(root + into_tb) and path.endswith(".tb_frame.f_locals['big']"), out
    assert k.value(f"{path} is deepest(sys.last_traceback).f_locals['big']") is True

    # The same answer over the comm, for the frame.
    why = _why_over_comm(k, _open_comm(k), "deepest(sys.last_traceback)")
    assert why["backrefs"] and why["backrefs"][0]["root"] == root, why
    assert why["backrefs"][0]["chain"][-1]["label"].startswith("frame f (big"), why


# -- immortal objects ------------------------------------------------------------------------------------------------
HUGE = ("4294967295", "1000000", "1073741823")  # 2**32-1 (64-bit 3.12/3.13), 3.11's 10**9 base, 2**30-1 (32-bit)


@pytest.mark.skipif(PY < (3, 12), reason="immortal objects (PEP 683) exist from 3.12 on")
@pytest.mark.parametrize("expr", ["None", "True", "0", "255", "''", "()"])
def test_immortal_objects_say_immortal(shared_kernel, expr):
    out = shared_kernel.execute(f"%memdiag why {expr}")["stdout"]
    assert "immortal" in out and "refcount" not in out, out
    assert not any(number in out.replace(",", "") for number in HUGE), out


@pytest.mark.skipif(PY < (3, 12), reason="immortal objects (PEP 683) exist from 3.12 on")
def test_immortal_over_the_comm(shared_kernel):
    k = shared_kernel
    why = _why_over_comm(k, _open_comm(k), "None")
    assert why["refcount"] is None and why["immortal"] is True and "immortal" in why["summary"], why
    assert why["type"] == "NoneType" and why["size"] > 0 and why["backrefs"] == [] and why["referrers"] == []


@pytest.mark.skipif(PY != (3, 11), reason="3.11's statically allocated objects (refcount from 999,999,999)")
def test_static_objects_of_311_say_immortal(shared_kernel):
    for expr in ("0", "''", "()"):
        out = shared_kernel.execute(f"%memdiag why {expr}")["stdout"]
        assert "immortal" in out and "refcount" not in out, out
    out = shared_kernel.execute("%memdiag why None")["stdout"]  # not static on 3.11: its count is real
    assert "refcount" in out and "immortal" not in out, out


def test_mortal_objects_keep_their_count(shared_kernel):
    k = shared_kernel
    k.execute("mortal = bytearray(10)\nalias = mortal\nhuge_int = 10**30")
    out = k.execute("%memdiag why mortal")["stdout"]
    assert "refcount 2," in out and "immortal" not in out, out
    assert "refcount 1," in k.execute("%memdiag why huge_int")["stdout"]
    why = _why_over_comm(k, _open_comm(k), "mortal")
    assert why["refcount"] == 2 and why["immortal"] is False, why
    if PY < (3, 11):  # nothing is immortal here: None's count is real
        out = k.execute("%memdiag why None")["stdout"]
        assert "refcount" in out and "immortal" not in out, out


# -- sizes under each object layout ----------------------------------------------------------------------------------
CLASSES = """
class Plain:
    def __init__(self, i):
        self.a = i
        self.b = i * 2.0
        self.c = str(i)

class Payload:
    def __init__(self):
        self.data = bytes(5_000_000)

class Slotted:
    __slots__ = ("a", "b", "c")
    def __init__(self, i):
        self.a = i
        self.b = i * 2.0
        self.c = str(i)

import gc as _gc, tracemalloc as _tm
def traced_growth(build):
    '''What build() keeps, measured by tracemalloc while its result is alive.'''
    _gc.collect()
    started = not _tm.is_tracing()
    if started:
        _tm.start(1)
    try:
        before = _tm.get_traced_memory()[0]
        kept = build()
        grown = _tm.get_traced_memory()[0] - before
    finally:
        if started:
            _tm.stop()
    del kept
    return grown
"""
BUILD = {
    "plain": "[Plain(i) for i in range(100_000, 200_000)]",  # (a) 100k instances, 3 attributes
    "payload": "Payload()",  # (b) one instance holding 5 MB in an attribute
    "slots": "[Slotted(i) for i in range(100_000, 200_000)]",  # (c) 100k instances of a __slots__ class
}
@pytest.mark.parametrize("case", ["plain", "payload", "slots"])
def test_census_size_is_within_a_factor_of_tracemalloc(shared_kernel, report_validator, case):
    k = shared_kernel
    k.execute(CLASSES)
    traced = k.value(f"traced_growth(lambda: {BUILD[case]})")
    cell_id = f"v-size-{case}-{new_id()}"
    k.execute(f"kept_{case} = {BUILD[case]}", cell_id=cell_id)
    report = _report(k, cell_id)
    report_validator(report)
    k.execute(f"del kept_{case}")
    census = report["objects"].get("size")
    print(f"{sys.version.split()[0]} {case}: census {census:,} B, tracemalloc {traced:,} B, "
          f"ratio {census / traced:.2f}")
    # The instances' attribute values (3.11+: an array getsizeof leaves out) are counted: 0.65 of tracemalloc's figure
    # for the plain class when they were not.
    assert 0.85 <= census / traced <= 1.15, (case, census, traced, report["objects"]["growth"][:3])


def _made(cls, n=2000):
    """Bytes tracemalloc sees n instances of cls take (each, on average), and one of them."""
    import tracemalloc

    cls(), cls()
    made = [None] * n
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(n):
            made[i] = cls()
        return (tracemalloc.get_traced_memory()[0] - before) / n, made[0]
    finally:
        tracemalloc.stop()


def _attributes(n, base=object):
    body = "".join(f"        self.a{i} = None\n" for i in range(n)) or "        pass\n"
    space = {"Base": base}
    exec(f"class Made(Base):\n    def __init__(self):\n{body}", space)
    return space["Made"]


class _Slotted:
    __slots__ = ("s1", "s2")

    def __init__(self):
        self.s1 = self.s2 = None


class _Mixed(_Slotted):  # slots and, on 3.11 and 3.12, a values array
    def __init__(self):
        super().__init__()
        self.w = self.v = None


class _Text(str):  # a builtin base: no values array; an attribute builds a __dict__
    pass


class _Rows(list):
    def __init__(self):
        super().__init__()
        self.label = None


@pytest.mark.parametrize("layout", ["0", "1", "3", "8", "20", "subclass", "mixed", "slots", "str", "list"])
def test_an_instance_is_sized_with_its_attribute_values(layout):
    """getsizeof + instances.extra_size is what tracemalloc sees an instance take, where no __dict__ was built."""
    import gc

    from memdiag.probes import census, instances

    cls = {"subclass": lambda: _attributes(3, _attributes(1)), "mixed": lambda: _Mixed, "slots": lambda: _Slotted,
           "str": lambda: lambda: _Text("abc"), "list": lambda: _Rows}.get(layout, lambda: _attributes(int(layout)))()
    per, one = _made(cls)
    if layout == "str":  # (getsizeof misses the __dict__ pointer of a str subclass: 8 bytes, 16 on 3.10)
        assert instances.extra_size(one) == 0
        return
    if any(type(r) is dict for r in gc.get_referents(one)):  # a __dict__ (3.10; 3.13's slotted subclass)
        assert instances.extra_size(one) == 0
        return
    assert abs(census.sizeof(one) - per) < 2, (layout, census.sizeof(one), sys.getsizeof(one), per)
    assert census.own_size(one) == census.sizeof(one) == census._own_sizes([one])[0]
    if PY >= (3, 11) and layout != "slots":
        assert instances.extra_size(one) > 0


MATERIALIZED = """
class Tagged:
    def __init__(self, i):
        self.tag = [i]  # a tracked value: a dict built for the instance is tracked too, so gc.get_objects() finds it
        self.data = bytearray(1000)

def materialized(objs):
    '''How many of objs have had their __dict__ built (reading an attribute does not build it).'''
    tags = {id(o.tag) for o in objs}
    return sum(1 for d in gc.get_objects() if type(d) is dict and id(d.get("tag")) in tags)

import gc
"""
NO_MANAGED_DICT = pytest.mark.skipif(PY < (3, 11), reason="before 3.11 every instance has its own __dict__ anyway")


@NO_MANAGED_DICT
def test_cells_build_no_instance_dict(shared_kernel):
    """The per-cell probes (census, cycles, backrefs of a deep cell) never read an instance's __dict__."""
    k = shared_kernel
    k.execute(MATERIALIZED)
    assert k.value("(lambda c: [materialized([c]), c.__dict__ and materialized([c])])(Tagged(0))") == [0, 1], \
        "the detector does not see a built __dict__ on this version"
    k.execute("tagged = [Tagged(i) for i in range(2000)]", cell_id="v-mat-census")
    k.execute("%%memdiag\ntagged_deep = [Tagged(i) for i in range(2000)]", cell_id="v-mat-deep")
    assert _report(k, "v-mat-deep")["objects"]["new"] >= 2000
    assert k.value("[materialized(tagged), materialized(tagged_deep)]") == [0, 0]


@NO_MANAGED_DICT
def test_why_builds_no_instance_dict(shared_kernel):
    k = shared_kernel
    k.execute(MATERIALIZED)
    k.execute("asked = [Tagged(i) for i in range(10)]")
    out = k.execute("%memdiag why asked[3].data")["stdout"]
    assert "reachable as asked[3].data" in out, out
    assert k.value("materialized(asked)") == 0


# -- per-line memory -------------------------------------------------------------------------------------------------
BACKEND = "sys.monitoring" if PY >= (3, 12) else "sys.settrace"
# The backend follows a compound top-level statement (the `if`); a simple one runs with no tracer at all.
SEEN = ("import sys\n"
        "if True:\n"
        "    tools_seen = [sys.monitoring.get_tool(i) for i in range(6)] if hasattr(sys, 'monitoring') else []\n"
        "    tracer_seen = repr(sys.gettrace())\n"
        "kept_line = bytearray(5_000_000)")


def test_lines_use_monitoring_from_312_and_settrace_before(shared_kernel, report_validator):
    k = shared_kernel
    out = k.execute("%%memdiag --lines --trace\n" + SEEN, cell_id="v-lines")
    report = _report(k, "v-lines")
    report_validator(report)
    tools, tracer = k.value("[tools_seen, tracer_seen]")
    if PY >= (3, 12):  # memdiag holds a sys.monitoring tool id while the cell runs; no sys.settrace tracer
        assert "memdiag" in tools and tracer == "None", (tools, tracer)
    else:  # while the cell's frame runs, the global tracer is one in C that follows no nested call
        assert tools == [] and tracer == "<built-in function getattr>", (tools, tracer)
    if "lines_backend" in report:
        assert report["lines_backend"] == BACKEND
    rows = {r["line"]: r for r in report["lines"] if "func" not in r}
    assert abs(rows[6]["increment"] - 5 * MB) < SLACK, rows
    assert "5 MB" in "".join(o["content"]["data"].get("text/plain", "") for o in out["outputs"]
                               if o["msg_type"] == "display_data")
    # removed afterwards, whichever it was
    assert k.value("[sys.gettrace() is None, [sys.monitoring.get_tool(i) for i in range(6)] "
                   "if hasattr(sys, 'monitoring') else []]")[0] is True
    if PY >= (3, 12):
        assert "memdiag" not in k.value("[sys.monitoring.get_tool(i) for i in range(6)]")


def test_lines_method_of_an_earlier_cell_is_named_by_its_qualname(shared_kernel):
    """3.10 code objects have no co_qualname: the name comes from the class in the user's namespace."""
    k = shared_kernel
    k.execute("class Acc:\n    def __init__(self):\n        self.items = []\n"
              "    def add(self, n):\n        self.items.append(bytearray(n))\n        return len(self.items)")
    k.execute("%%memdiag --lines -f Acc.add\nacc = Acc()\nacc.add(3_000_000)", cell_id="v-lines-method")
    rows = [r for r in _report(k, "v-lines-method")["lines"] if r.get("func")]
    assert {r["func"] for r in rows} == {"Acc.add"}, rows
    added = next(r for r in rows if r["line"] == 5)
    assert abs(added["increment"] - 3 * MB) < SLACK and added["code"] == "self.items.append(bytearray(n))"


def test_line_profiler_backend_name():
    from memdiag import lines

    source = "for _ in [0]:\n    x = 1\n"
    code = compile(source, "<v-cell>", "exec")
    profiler = lines.LineProfiler(lambda: 0, "<v-cell>", [code], source.splitlines(), 1)
    assert profiler.backend_name == BACKEND
    with profiler:
        profiler.run(code, 1, True, lambda: exec(code, {}))
    assert profiler.error is None and sys.gettrace() is None
    assert [r["line"] for r in profiler.rows()] == [2, 3]
