"""Magics as DESIGN.md "What the user types": each works, and every bad argument prints usage, never a traceback."""
import json

import pytest

BAD = ["%memdiag bogus", "%memdiag trace sometimes", "%memdiag trace", "%memdiag types -n x", "%memdiag types -n",
       "%memdiag why", "%memdiag on off", "%memdiag growth now", "%memdiag kernelspec", "%memdiag kernelspec "
       "--malloc-debug --user --prefix /tmp", "%memdiag why 'unclosed", "%%memdiag --nope\nx = 1"]


@pytest.mark.parametrize("line", BAD)
def test_bad_arguments_print_usage(shared_kernel, line):
    out = shared_kernel.execute(line)
    assert out["status"] == "ok"
    assert "Usage:" in out["stdout"] and not [o for o in out["outputs"] if o["msg_type"] == "error"]


def test_line_magics(shared_kernel, tmp_path):
    k = shared_kernel
    assert "memdiag on, tracing suspect" in k.execute("%memdiag")["stdout"]
    k.execute("%memdiag off")
    before = len(k.reports())
    k.execute("a = 1")
    assert len(k.reports()) == before  # no snapshot while off
    k.execute("%memdiag on")
    k.execute("%memdiag trace always")
    k.execute("b = 2", cell_id="mg-traced")
    assert k.reports()[-1]["traced"]["enabled"]
    k.execute("%memdiag trace suspect")
    lines = k.execute("%memdiag types -n 3")["stdout"].strip().splitlines()
    assert len(lines) == 3 and "function" in "".join(lines) or "dict" in "".join(lines)
    k.execute("%memdiag growth")
    k.execute("grow = [[] for _ in range(5000)]")
    assert "list" in k.execute("%memdiag growth")["stdout"]
    why = k.execute("%memdiag why grow")["stdout"]
    assert "grow: list" in why and "reachable as grow" in why
    out = k.execute("class Cyc:\n    pass\nfor _ in range(50):\n    c = Cyc(); c.me = c\ndel c\n%memdiag cycles")
    assert "Cyc" in out["stdout"] and "Cyc.me -> Cyc" in out["stdout"]
    out = k.execute(f"%memdiag kernelspec --malloc-debug --prefix {tmp_path}")["stdout"]
    spec = json.loads(next(tmp_path.rglob("kernel.json")).read_text())
    assert "installed kernelspec" in out
    assert spec["env"]["PYTHONMALLOC"] == "debug" and spec["env"]["PYTHONDONTWRITEBYTECODE"] == "1"
    assert spec["argv"][1:3] == ["-m", "ipykernel_launcher"]


def test_cell_magic_runs_in_depth_and_displays(shared_kernel, report_validator):
    k = shared_kernel
    out = k.execute("%%memdiag\nkept = bytearray(12_000_000)\nlen(kept)", cell_id="mg-deep")
    kinds = [o["msg_type"] for o in out["outputs"]]
    assert "execute_result" in kinds and "display_data" in kinds
    result = next(o for o in out["outputs"] if o["msg_type"] == "execute_result")
    assert result["content"]["data"]["text/plain"] == "12000000"
    bundle = next(o for o in out["outputs"] if o["msg_type"] == "display_data")["content"]["data"]
    report = bundle["application/vnd.memdiag.v1+json"]
    report_validator(report)
    assert report["mode"] == "deep" and report["traced"]["enabled"]
    site = report["traced"]["top"][0]
    assert site["in_cell"] and site["line"] == 2 and "bytearray(12_000_000)" in site["code"]
    assert "retains" in report["verdict"]["flags"]
    assert any(b["root"] == "kept" for b in report["backrefs"])
    assert "RETAINS" in bundle["text/plain"]
