"""Issue 7, item 5: the report builder's capping (protocol.py) against arbitrary nested junk, hostile objects
included."""
import json
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from memdiag import protocol

CALLS = []


class Hostile:
    def __repr__(self):
        CALLS.append("repr")
        raise RuntimeError("repr")

    def __str__(self):
        CALLS.append("str")
        raise RuntimeError("str")


class Huge:
    def __repr__(self):
        return "x" * 2_000_000


atoms = (st.none() | st.booleans() | st.integers() | st.integers(min_value=10**300, max_value=10**6000)
         | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=3000) | st.binary(max_size=50)
         | st.builds(Hostile) | st.builds(Huge) | st.builds(object) | st.just(type("<b onmouseover=x>", (), {})))
keys = st.text(max_size=300) | st.integers() | st.none() | st.tuples(st.integers(), st.text(max_size=5))
junk = st.recursive(
    atoms,
    lambda children: (st.lists(children, max_size=40) | st.tuples(children, children)
                      | st.dictionaries(keys, children, max_size=40) | st.frozensets(st.integers(), max_size=5)),
    max_leaves=300,
)
SECTIONS = ("cell_id", "rss", "traced", "objects", "gc", "backrefs", "native", "verdict", "errors", "variables",
            "imports", "lines", "valgrind", "extra")


def _plain(value):
    if isinstance(value, dict):
        return all(type(k) is str and len(k) <= 80 and _plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    if isinstance(value, float):
        return math.isfinite(value)
    return value is None or type(value) in (str, int, bool)


@settings(max_examples=120, deadline=None)
@given(replaced=st.dictionaries(st.sampled_from(SECTIONS), junk, max_size=6), bulk=st.lists(junk, max_size=400))
def test_cap_report_turns_any_junk_into_capped_plain_json(replaced, bulk):
    report = protocol.empty_report()
    report.update(replaced)
    report["objects"] = {"new": 1, "growth": bulk}
    capped = protocol.cap_report(report)
    text = json.dumps(capped, allow_nan=False)
    assert len(text.encode("utf-8")) <= protocol.MAX_REPORT_BYTES or len(text) <= protocol.MAX_REPORT_BYTES
    assert _plain(capped)
    assert protocol.cap_report(capped) == capped  # idempotent: capping again changes nothing


@settings(max_examples=200, deadline=None)
@given(key=junk)
def test_key_repr_never_runs_user_code(key):
    CALLS.clear()
    text = protocol.key_repr(key)
    assert isinstance(text, str) and len(text) <= protocol.MAX_STR
    assert CALLS == []


def test_recursive_junk_is_cut():
    loop = []
    loop.append(loop)
    d = {}
    d["d"] = d
    capped = protocol.cap_report(dict(protocol.empty_report(), extra=[loop, d]))
    json.dumps(capped, allow_nan=False)
