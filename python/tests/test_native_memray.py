"""%%memdiag --native: memray, entered and left from the cell hooks, names the cell's native allocations."""
import pytest


def deep_report(out):
    bundles = [o["content"]["data"] for o in out["outputs"] if o["msg_type"] == "display_data"]
    return [b for b in bundles if "application/vnd.memdiag.v1+json" in b][-1]["application/vnd.memdiag.v1+json"]


def test_native_allocations_with_stacks(shared_kernel, report_validator):
    pytest.importorskip("memray", reason="memray is not installed (pip install memray)")
    pytest.importorskip("numpy")
    k = shared_kernel
    k.execute("import numpy as np")
    report = deep_report(k.execute("%%memdiag --native\nx = 1\narr = np.ones(2_500_000)", cell_id="mr-cell"))
    report_validator(report)
    native = report["native"]
    top = native["allocations"][0]
    assert top["size"] == 20_000_000 and top["count"] == 1
    assert "cell line 3" in top["stack"][-1] and any("PyDataMem" in f or "malloc" in f for f in top["stack"])
    assert native["held"] >= 20_000_000 and native["tracked_peak"] >= 20_000_000
    # A raising cell leaves no tracker behind: the next one can start its own.
    out = k.execute("%%memdiag --native\nb = np.ones(1_000_000)\nraise ValueError('x')", cell_id="mr-raise",
                    allow_error=True)
    assert deep_report(out)["native"]["allocations"][0]["size"] == 8_000_000
    again = deep_report(k.execute("%%memdiag --native\nc = np.ones(500_000)", cell_id="mr-again"))
    assert again["native"]["allocations"][0]["size"] == 4_000_000 and not again["errors"]


def test_without_memray_a_clear_message(shared_kernel):
    k = shared_kernel
    k.execute("import sys as _sys; _saved_memray = _sys.modules.get('memray'); _sys.modules['memray'] = None")
    try:
        out = k.execute("%%memdiag --native\nvalue = 6 * 7\nvalue", cell_id="mr-missing")
    finally:
        k.execute("if _saved_memray is None: del _sys.modules['memray']\nelse: _sys.modules['memray'] = _saved_memray")
    assert "pip install memray" in out["stdout"]
    result = next(o for o in out["outputs"] if o["msg_type"] == "execute_result")
    assert result["content"]["data"]["text/plain"] == "42"
    assert "allocations" not in deep_report(out)["native"]
