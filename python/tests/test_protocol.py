"""Report mechanics: JSON safety, caps, hostile names, and the protocol's example reports."""
import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from memdiag import protocol

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "protocol" / "examples").glob("*.json"))

json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=500),
    lambda children: st.lists(children, max_size=30) | st.dictionaries(st.text(max_size=30), children, max_size=30),
    max_leaves=400,
)


@settings(max_examples=150, deadline=None)
@given(extra=json_like, growth=st.lists(st.text(max_size=2000), max_size=300))
def test_any_report_content_becomes_capped_json(extra, growth, report_validator):
    report = protocol.empty_report()
    report["objects"]["growth"] = [{"type": t, "count": 1, "size": 1} for t in growth]
    report["errors"] = [t for t in growth[:50]]
    report["variables"] = [{"name": "x", "status": "new", "type": "t", "size": 1, "delta": 1, "extra": extra}]
    capped = protocol.cap_report(report)
    text = protocol.dumps(capped)
    assert len(text) <= protocol.MAX_REPORT_BYTES
    report_validator(capped)


def test_hostile_types_and_reprs():
    hostile = type("<img src=x onerror=alert(1)>", (), {"__module__": 42, "__repr__": lambda self: 1 / 0})
    obj = hostile()
    assert protocol.type_name(obj) == "<img src=x onerror=alert(1)>"
    text = protocol.safe_repr(obj)  # a raising __repr__ still gives a short string
    assert isinstance(text, str) and len(text) <= protocol.MAX_STR
    assert len(protocol.safe_repr("x" * 10_000)) <= protocol.MAX_STR

    class Liar:
        __class__ = int

    assert protocol.type_name(Liar()).endswith("<locals>.Liar")


def test_protocol_examples_validate(report_validator):
    assert EXAMPLES, "protocol/examples is empty"
    for path in EXAMPLES:
        report_validator(json.loads(path.read_text()))
