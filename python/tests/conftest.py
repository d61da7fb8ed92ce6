import json
import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if os.environ.get("MEMDIAG_TEST_INSTALLED") == "1":  # nox (noxfile.py): the memdiag installed from the wheel, only
    import sysconfig

    import memdiag

    _site = Path(sysconfig.get_paths()["purelib"]).resolve()
    assert Path(memdiag.__file__).resolve().is_relative_to(_site), f"memdiag from {memdiag.__file__}, not {_site}"
else:
    sys.path.insert(0, str(HERE.parent))  # import memdiag in-process (pure modules) before `pip install -e .`
sys.path.insert(0, str(HERE))

from kernel import Kernel  # noqa: E402

SCHEMA = HERE.parents[1] / "protocol" / "report.schema.json"


@pytest.fixture
def kernel():
    k = Kernel()
    try:
        yield k
    finally:
        k.close()


@pytest.fixture(scope="module")
def shared_kernel():
    """One kernel for a module of tests that don't depend on a fresh heap."""
    k = Kernel()
    k.execute("%load_ext memdiag")
    try:
        yield k
    finally:
        k.close()


@pytest.fixture(scope="session")
def report_validator():
    """Validates a report against protocol/report.schema.json (skips the check while the schema is being written)."""
    import jsonschema

    if not SCHEMA.exists():
        return lambda report: json.dumps(report, allow_nan=False)
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.Draft202012Validator(schema) if "2020-12" in schema.get("$schema", "") \
        else jsonschema.Draft7Validator(schema)

    def check(report):
        json.dumps(report, allow_nan=False)
        errors = sorted(validator.iter_errors(report), key=lambda e: list(e.path))
        assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])

    return check
