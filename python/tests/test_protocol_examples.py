"""The contract in protocol/ is one for both sides: its examples validate here as in jest, and the versions agree."""

import json
from pathlib import Path

import jsonschema
import pytest

import memdiag

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = ROOT / "protocol"
EXAMPLES = sorted((PROTOCOL / "examples").glob("*.json"))


def _validator():
    schema = json.loads((PROTOCOL / "report.schema.json").read_text())
    return jsonschema.Draft202012Validator(schema)


def test_there_are_examples():
    assert EXAMPLES


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_validates(path):
    _validator().validate(json.loads(path.read_text()))


def test_schema_rejects_an_unknown_verdict():
    report = json.loads(EXAMPLES[0].read_text())
    report["verdict"]["kind"] = "maybe"
    assert not _validator().is_valid(report)


def test_python_and_npm_versions_agree():
    package = json.loads((ROOT / "package.json").read_text())
    assert package["version"] == memdiag.__version__
