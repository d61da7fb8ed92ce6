"""Issue 7, item 4: hostile objects in the user's namespace and among what a cell retains, through a real kernel.

Every hostile method counts its calls in CALLS: memdiag must never run a user's __repr__, __eq__, __hash__ or
__getattr__ (a slow one would hang the cell, a raising one would break it). Reports stay JSON, capped and valid, and the
cell's own output is what it would be without memdiag.
"""
import json

import pytest
from kernel import new_id

from memdiag import protocol

HOSTILE = '''
import array, gc, json, mmap, time, weakref
import numpy as np
CALLS = {"repr": 0, "str": 0, "eq": 0, "hash": 0, "getattr": 0, "class": 0, "len": 0, "iter": 0}

class Counted:
    def __repr__(self):
        CALLS["repr"] += 1
        return "counted"

class SlowRepr(Counted):
    def __repr__(self):
        CALLS["repr"] += 1
        time.sleep(5)
        return "slow"

class RaisingRepr:
    def __repr__(self):
        CALLS["repr"] += 1
        raise RuntimeError("repr")
    def __str__(self):
        CALLS["str"] += 1
        raise RuntimeError("str")

class HugeRepr:
    def __repr__(self):
        CALLS["repr"] += 1
        return "x" * 100_000_000

class AnyAttr:
    """__getattr__ returns anything, and what it returns is callable and iterable and answers to any name."""
    def __getattr__(self, name):
        CALLS["getattr"] += 1
        return self
    def __call__(self, *args, **kwargs):
        return self
    def __len__(self):
        CALLS["len"] += 1
        return 10**9
    def __iter__(self):
        CALLS["iter"] += 1
        while True:
            yield self

class Liar(AnyAttr):
    @property
    def __class__(self):
        CALLS["class"] += 1
        return dict

class ListLiar(AnyAttr):
    @property
    def __class__(self):
        CALLS["class"] += 1
        return list

class BadEq:
    def __eq__(self, other):
        CALLS["eq"] += 1
        raise RuntimeError("eq")
    def __hash__(self):
        CALLS["hash"] += 1
        raise RuntimeError("hash")

class BadKey:
    """Hashable and slow to show: a dict key memdiag may meet while naming an edge."""
    def __hash__(self):
        return 7
    def __eq__(self, other):
        CALLS["eq"] += 1
        return self is other
    def __repr__(self):
        CALLS["repr"] += 1
        time.sleep(5)
        return "key"

class MetaEq(type):
    def __eq__(cls, other):
        CALLS["eq"] += 1
        raise RuntimeError("meta eq")
    __hash__ = None  # classes of this metaclass are unhashable

class Unhashable(metaclass=MetaEq):
    pass

class BadStr(str):
    __hash__ = str.__hash__  # usable as a name; comparing it to anything raises
    def __eq__(self, other):
        CALLS["eq"] += 1
        raise RuntimeError("str eq")
    def __repr__(self):
        CALLS["repr"] += 1
        time.sleep(5)
        return "badstr"

class Target:
    pass

class Sneaky:
    """Properties where memdiag looks for C slots when it names an edge."""
    def _count(self):
        CALLS["getattr"] += 1
        time.sleep(5)
    __wrapped__ = property(_count)
    __func__ = property(_count)
    __self__ = property(_count)
    __closure__ = property(_count)

Markup = type("<img src=x onerror=alert(1)>", (),
              {"__repr__": lambda self: CALLS.__setitem__("repr", CALLS["repr"] + 1) or "m"})
globals()[BadStr("bad_name")] = Markup()  # once: re-binding it would compare names, in the user's own code
'''

CELLS = {
    "reprs": "kept_reprs = [SlowRepr(), RaisingRepr(), HugeRepr(), Counted()] * 3000",
    "attrs": "kept_attrs = [AnyAttr(), Liar(), ListLiar()] * 3000\nlone_liar = Liar()\nlone_any = AnyAttr()",
    "eqhash": "kept_eq = [BadEq() for _ in range(3000)]\nkept_unhashable = [Unhashable() for _ in range(3000)]\n"
              "lone_unhashable = Unhashable()\nlone_eq = BadEq()",
    "keys": "reg = {BadKey(): bytearray(12_000_000), BadStr('k'): [Target() for _ in range(3000)]}",
    "recursive": "rl = []\nrl.append(rl)\nrd = {}\nrd['rd'] = rd\nrt = (rl, rd)\nfor _ in range(2000):\n"
                 "    rl.append([rl, rd])",
    "proxies": "_t = Target()\ndead_proxy = weakref.proxy(_t)\n"
               "dead_proxies = [weakref.proxy(Target()) for _ in range(3000)]\ndead_list = [dead_proxy] * 10\ndel _t",
    "cobjects": "arr = np.empty(3000, dtype=object)\narr[:] = [SlowRepr() for _ in range(3000)]\narr[0] = arr\n"
                "buf = mmap.mmap(-1, 20_000_000)\nbuf.write(b'x' * 20_000_000)\n"
                "view = memoryview(bytearray(12_000_000))\naa = array.array('d', range(1_000_000))",
    "huge": "ten_m = [None] * 10_000_000\nten_m_t = (0,) * 10_000_000\nten_m_b = [b''] * 10_000_000",
    "markup": "markup = [Markup() for _ in range(3000)]",
    "garbage": "for _ in range(2000):\n    h = SlowRepr(); l = Liar(); h.me = h; h.l = l; l.__dict__['h'] = h\n"
               "    s = Sneaky(); s.__dict__['h'] = h; h.s = s; t = ListLiar(); t.__dict__['h'] = h; h.t = t\n"
               "    d = {BadKey(): h}; h.d = d\ndel h, l, d, s, t",
}


def _check_report(report, report_validator):
    report_validator(report)
    text = json.dumps(report, allow_nan=False)
    assert len(text) <= protocol.MAX_REPORT_BYTES


@pytest.fixture(scope="module")
def hostile(shared_kernel):
    shared_kernel.execute(HOSTILE)
    # Shorter backref budgets keep this module fast; what is searched is the same.
    shared_kernel.execute("import memdiag.probes.backrefs as _b; _b.BUDGET_S, _b.DEEP_BUDGET_S = 0.3, 0.5")
    return shared_kernel


def _calls(k):
    return k.value("CALLS")


def test_why_on_hostile_objects(hostile):
    """`%memdiag why` walks referrers and names edges: dict keys with a slow __repr__ are never shown by repr."""
    k = hostile
    k.execute("payload = [Target() for _ in range(10)]\nslow_holder = {BadKey(): payload}\nliar_holder = Liar()\n"
              "liar_holder.__dict__['x'] = payload\nlist_liar = ListLiar()\nlist_liar.__dict__['y'] = payload")
    for expr in ("payload", "lone_liar", "lone_any", "dead_proxy", "kept_eq[0]", "kept_unhashable[0]", "reg",
                 "arr", "rl", "markup[0]"):
        out = k.execute(f"%memdiag why {expr}")
        assert "Traceback" not in out["stdout"] and not [o for o in out["outputs"] if o["msg_type"] == "error"], \
            (expr, out)
        assert out["stdout"].strip(), expr
    calls = _calls(k)
    assert not any(calls.values()), calls


@pytest.mark.parametrize("mode", ["default", "deep", "leak"])
def test_hostile_objects_never_touched(hostile, mode, report_validator):
    """Each hostile cell, in default mode, in depth (%%memdiag: tracing, cycles, backrefs) and re-run as a leak."""
    k = hostile
    start = len(k.reports())
    problems = []
    for name, code in CELLS.items():
        cell = new_id()
        if mode == "deep":
            code = "%%memdiag\n" + code
        runs = 3 if mode == "leak" else 1
        for _ in range(runs):
            body = code if mode != "leak" else code + f"\nleak_{name} = globals().setdefault('leak_{name}', [])\n" \
                f"leak_{name}.append(bytearray(3_000_000))"
            out = k.execute(body + "\nprint('done')\n'value'", cell_id=cell)
            results = [o["content"]["data"]["text/plain"] for o in out["outputs"] if o["msg_type"] == "execute_result"]
            if out["stdout"] != "done\n" or results != ["'value'"]:
                problems.append((name, "cell affected", out["stdout"][:300], results))
        report = [r for r in k.reports() if r["cell_id"] == cell][-1]
        _check_report(report, report_validator)
        if mode == "deep" and report["mode"] != "deep":
            problems.append((name, "not deep"))
        calls = _calls(k)
        if any(calls.values()):
            problems.append((name, "user code called", {k: v for k, v in calls.items() if v}))
            k.execute("CALLS.update(dict.fromkeys(CALLS, 0))")
    for report in k.reports()[start:]:
        _check_report(report, report_validator)
        if report["errors"]:
            problems.append((report["cell_id"], report["errors"]))
    assert not problems, problems
    k.execute("import tracemalloc; assert not tracemalloc.is_tracing()")


def test_hostile_history_is_json(hostile):
    history = hostile.value("__import__('memdiag').history()")
    for report in history:
        json.dumps(report, allow_nan=False)
        assert len(json.dumps(report)) <= protocol.MAX_REPORT_BYTES


def test_kept_sizes_compare_by_identity_only():
    """kept._sole counts an object's references to itself by id: counting with == ran a metaclass's __eq__ on the
    object's type (3.12 and 3.13, where an instance's type is among its referents) and broke the backref chains."""
    from memdiag.probes import kept

    calls = []

    class Meta(type):
        def __eq__(cls, other):
            calls.append("meta")
            raise RuntimeError("meta eq")

        __hash__ = None

    class Hostile(metaclass=Meta):
        def __eq__(self, other):
            calls.append("eq")
            raise RuntimeError("eq")

        __hash__ = None

    node = Hostile()
    node.me = node
    node.other = Hostile()
    node.__dict__["cls"] = Hostile
    assert kept._self_refs(node) == 1
    holder = [node, [node.other]]
    assert kept.retained_size(holder) > 0
    assert not calls, calls
