"""%%memdiag --lines [-f FUNC] [--trace]: per-line increments and peaks through a real kernel (on RSS by default, on
tracemalloc's exact bytes with --trace), and tracing always removed."""
import json
import queue
import sys
import time

import pytest
from kernel import TIMEOUT

MB = 1_000_000
SLACK = 64 * 1024  # object headers, the kernel's own threads: far below one allocation of the test


def deep_report(out):
    bundles = [o["content"]["data"] for o in out["outputs"] if o["msg_type"] == "display_data"]
    return [b for b in bundles if "application/vnd.memdiag.v1+json" in b][-1]["application/vnd.memdiag.v1+json"]


def row(rows, line, func=None):
    found = [r for r in rows if r["line"] == line and r.get("func") == func]
    assert len(found) == 1, (line, func, rows)
    return found[0]


def test_cell_lines_get_their_increments(shared_kernel, report_validator):
    out = shared_kernel.execute("%%memdiag --lines --trace\nsmall = bytearray(10_000_000)\n"
                                "big = bytearray(30_000_000)\ntmp = bytearray(50_000_000); del tmp\nlen(big)",
                                cell_id="ln-cell")
    report = deep_report(out)
    report_validator(report)
    rows = report["lines"]
    assert report["lines_basis"] == "tracemalloc"
    assert [r["line"] for r in rows] == [2, 3, 4, 5]  # the %%memdiag line is line 1
    assert abs(row(rows, 2)["increment"] - 10 * MB) < SLACK and row(rows, 2)["code"] == "small = bytearray(10_000_000)"
    assert abs(row(rows, 3)["increment"] - 30 * MB) < SLACK
    transient = row(rows, 4)
    assert abs(transient["increment"]) < SLACK and abs(transient["peak"] - 50 * MB) < SLACK
    assert abs(row(rows, 5)["increment"]) < SLACK
    result = next(o for o in out["outputs"] if o["msg_type"] == "execute_result")
    assert result["content"]["data"]["text/plain"] == "30000000"
    text = next(o for o in out["outputs"] if o["msg_type"] == "display_data")["content"]["data"]["text/plain"]
    assert "Memory per line" in text and "30 MB" in text


def test_blank_lines_after_the_header_keep_line_numbers(shared_kernel):
    """IPython drops the blank lines between `%%memdiag` and the body: lines and sites still name the cell's own."""
    out = shared_kernel.execute("%%memdiag --lines --trace\n\n\nkept_blank = bytearray(10_000_000)\nafter = 1",
                                cell_id="ln-blank")
    report = deep_report(out)
    assert row(report["lines"], 4)["code"] == "kept_blank = bytearray(10_000_000)"
    assert row(report["lines"], 5)["code"] == "after = 1"
    site = next(s for s in report["traced"]["top"] if s["file"] == "cell")
    assert site["line"] == 4 and site["code"] == "kept_blank = bytearray(10_000_000)"


def test_notebook_function(shared_kernel, report_validator):
    k = shared_kernel
    k.execute("def build():\n    small = bytearray(10_000_000)\n    big = bytearray(30_000_000)\n    return small, big")
    report = deep_report(k.execute("%%memdiag --lines --trace -f build\nkept = build()", cell_id="ln-func"))
    report_validator(report)
    rows = report["lines"]
    assert abs(row(rows, 2)["increment"] - 40 * MB) < SLACK  # the cell's line: what the call kept
    # the function's lines, numbered as in the cell that defined it
    small, big = row(rows, 2, "build"), row(rows, 3, "build")
    assert abs(small["increment"] - 10 * MB) < SLACK and abs(big["increment"] - 30 * MB) < SLACK
    assert small["code"] == "small = bytearray(10_000_000)" and small["hits"] == 1
    assert abs(row(rows, 4, "build")["increment"]) < SLACK


def test_function_defined_in_the_same_cell_and_in_a_file(shared_kernel, tmp_path):
    k = shared_kernel
    (tmp_path / "lnmod.py").write_text("def fill(n):\n    data = bytearray(n)\n    return data\n")
    k.execute(f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import lnmod")
    code = ("%%memdiag --lines --trace -f here -f lnmod.fill\n"
            "def here():\n"
            "    return bytearray(20_000_000)\n"
            "a = here()\n"
            "b = lnmod.fill(10_000_000)")
    rows = deep_report(k.execute(code, cell_id="ln-both"))["lines"]
    inner = row(rows, 3, "here")  # line 3 of the cell as the user sees it
    assert abs(inner["increment"] - 20 * MB) < SLACK and inner["file"] == "cell"
    filled = row(rows, 2, "fill")
    assert abs(filled["increment"] - 10 * MB) < SLACK and filled["file"].endswith("lnmod.py")
    assert abs(row(rows, 4)["increment"] - 20 * MB) < SLACK and abs(row(rows, 5)["increment"] - 10 * MB) < SLACK


def test_loops_sum_increments(shared_kernel):
    code = "%%memdiag --lines --trace\nkeep = []\nfor _ in range(4):\n    keep.append(bytearray(5_000_000))"
    rows = deep_report(shared_kernel.execute(code, cell_id="ln-loop"))["lines"]
    body = row(rows, 4)
    assert body["hits"] == 4 and abs(body["increment"] - 20 * MB) < SLACK


def test_raising_cell_keeps_its_lines_and_removes_tracing(shared_kernel, report_validator):
    k = shared_kernel
    out = k.execute("%%memdiag --lines --trace\nheld = bytearray(10_000_000)\nraise ValueError('boom')\nnever = 1",
                    cell_id="ln-raise", allow_error=True)
    assert out["status"] == "error"
    report = deep_report(out)
    report_validator(report)
    assert report["raised"]
    assert abs(row(report["lines"], 2)["increment"] - 10 * MB) < SLACK
    assert 4 not in [r["line"] for r in report["lines"]]
    assert k.value("repr(__import__('sys').gettrace())") == "None"


RSS_SLACK = 4 * MB  # RSS moves by whole pages, and the allocators keep or give back memory of their own


def test_lines_on_rss_by_default(shared_kernel, report_validator):
    """Without --trace the cell is not traced: each top-level statement is measured whole on RSS, its peak is its own
    high-water mark (a temporary 60 MB shows as a peak, not an increment), and a loop is followed line by line."""
    code = ("%%memdiag --lines\nrss_big = bytearray(30_000_000)\ntmp = bytearray(60_000_000); del tmp\n"
            "rss_keep = []\nfor _ in range(4):\n    rss_keep.append(bytearray(5_000_000))\nlen(rss_big)")
    out = shared_kernel.execute(code, cell_id="ln-rss")
    report = deep_report(out)
    report_validator(report)
    assert report["lines_basis"] == "rss" and not report["traced"]["enabled"] and report["mode"] == "deep"
    rows = report["lines"]
    big = row(rows, 2)
    assert abs(big["increment"] - 30 * MB) < RSS_SLACK and abs(big["peak"] - 30 * MB) < RSS_SLACK, big
    transient = row(rows, 3)
    assert abs(transient["increment"]) < RSS_SLACK and abs(transient["peak"] - 60 * MB) < RSS_SLACK, transient
    body = row(rows, 6)
    assert body["hits"] == 4 and abs(body["increment"] - 20 * MB) < RSS_SLACK and body["peak"] is None, body
    assert report["rss"]["peak"] >= report["rss"]["before"] + 85 * MB  # the cell's peak: the marks before each reset
    result = next(o for o in out["outputs"] if o["msg_type"] == "execute_result")
    assert result["content"]["data"]["text/plain"] == "30000000"


def test_simple_statements_run_with_no_tracer(shared_kernel):
    """Only a compound top-level statement is followed line by line; before 3.12 its nested calls meet a global
    tracer in C (getattr), not a Python one."""
    shared_kernel.execute("%%memdiag --lines\nseen_outside = __import__('sys').gettrace()\n"
                          "for _ in [0]:\n    seen_inside = __import__('sys').gettrace()", cell_id="ln-notrace")
    assert shared_kernel.value("repr(seen_outside)") == "None"
    inside = shared_kernel.value("repr(seen_inside)")
    assert inside == ("None" if sys.version_info >= (3, 12) else "<built-in function getattr>"), inside
    assert shared_kernel.value("repr(__import__('sys').gettrace())") == "None"


BAD = ["%%memdiag --lines -f\nx = 1", "%%memdiag -f no_such.thing\nx = 1", "%%memdiag --lines -f 42\nx = 1",
       "%%memdiag --lines -f len\nx = 1", "%%memdiag --lines --valgrind\nx = 1", "%%memdiag --native --valgrind\nx=1",
       "%%memdiag --lines 'unclosed\nx = 1", "%%memdiag --line\nx = 1"]


@pytest.mark.parametrize("cell", BAD)
def test_bad_arguments_print_usage(shared_kernel, cell):
    out = shared_kernel.execute(cell)
    assert out["status"] == "ok", out
    assert "Usage:" in out["stdout"] and "%%memdiag [--lines] [-f FUNC]" in out["stdout"]
    assert not [o for o in out["outputs"] if o["msg_type"] == "error"]


def test_interrupted_cell_removes_tracing(kernel):
    k = kernel
    k.execute("%load_ext memdiag")
    code = "%%memdiag --lines\nimport time\nprint('started', flush=True)\nwhile True:\n    time.sleep(0.01)"
    msg_id = k.kc.execute(code)
    started = False
    while True:
        msg = k.kc.iopub_channel.get_msg(timeout=TIMEOUT)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream" and "started" in msg["content"]["text"] and not started:
            started = True
            time.sleep(0.3)
            k.km.interrupt_kernel()
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    assert started
    while True:  # drain the shell reply of the interrupted cell
        try:
            reply = k.kc.get_shell_msg(timeout=TIMEOUT)
        except queue.Empty:
            break
        if reply["parent_header"].get("msg_id") == msg_id:
            assert reply["content"]["status"] == "error"
            break
    assert k.value("repr(__import__('sys').gettrace())") == "None"
    assert [r for r in k.value("[r.get('lines') for r in __import__('memdiag').history()]") if r]


def test_profiler_in_process():
    """The backend this interpreter has (sys.monitoring on 3.12+, sys.settrace before) on a plain code object."""
    import tracemalloc

    from memdiag import lines

    source = "a = bytearray(10_000_000)\nb = fill(30_000_000)\nraise KeyError(1)\n"
    code = compile(source, "<cell-test>", "exec")

    def fill(n):
        data = bytearray(n)
        return data

    tracemalloc.start(1)
    try:
        profiler = lines.LineProfiler(lambda: 0, "<cell-test>", [code], source.splitlines(), 1, [fill.__code__])
        with pytest.raises(KeyError):
            with profiler:
                exec(code, {"fill": fill})
    finally:
        tracemalloc.stop()
    assert profiler.error is None
    assert sys.gettrace() is None
    if hasattr(sys, "monitoring"):
        assert all(sys.monitoring.get_tool(t) != "memdiag" for t in range(6))
    rows = profiler.rows()
    assert abs(row(rows, 2)["increment"] - 10 * MB) < SLACK and abs(row(rows, 3)["increment"] - 30 * MB) < SLACK
    first = fill.__code__.co_firstlineno
    inner = row(rows, first + 1, "test_profiler_in_process.<locals>.fill")
    assert abs(inner["increment"] - 30 * MB) < SLACK and inner["code"] == "data = bytearray(n)"
    json.dumps(rows)
