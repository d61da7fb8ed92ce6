"""Every leak-corpus case (the shared floor, plus our own real-world patterns) through a real kernel, one kernel each."""
import json
from pathlib import Path

import pytest
from corpus_runner import check, run_case

CASES = sorted((Path(__file__).parent / "corpus").glob("*.json"))


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_corpus_case(path, report_validator):
    case = json.loads(path.read_text())
    by_cell = run_case(case)
    for reports in by_cell.values():
        for report in reports:
            report_validator(report)
    failures = check(case, by_cell)
    assert not failures, "\n".join(failures)
