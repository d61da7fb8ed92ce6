"""Issue 12, item 4: one list of the kernel's machinery, and allocation sites as a user reads them.

An allocation inside pandas is shown at the cell line that called it, with the pandas line folded under it (`via`); the
cell's lines come first, at most 5 sites of at least 1 kB and 1% of the total. Nothing of IPython, ipykernel,
traitlets, asyncio or memdiag shows as a site, a type, a cycle group or a chain; `traced.retained_all` counts what they
keep, `traced.retained` does not. A cell that only runs `%memdiag ...` line magics makes no report.
"""
import asyncio
import contextlib
import json
import logging
import os
import sys
import threading
import types

import pytest
from kernel import new_id

from memdiag import machinery
from memdiag.probes import traced

MACHINERY_PATHS = ("IPython/", "ipykernel/", "traitlets/", "asyncio/", "memdiag/", "jupyter_client/", "zmq/",
                   "tornado/", "tracemalloc.py", "<frozen importlib")
MACHINERY_TYPES = ("IPython.", "ipykernel.", "traitlets.", "asyncio.", "_asyncio.", "memdiag.", "jupyter_client.",
                   "zmq.", "tornado.", "pygments.", "stack_data.")


# -- the list itself (in-process, pure) ----------------------------------------------------------------------------
def test_modules_and_types():
    for name in ("IPython.core.formatters", "ipykernel", "traitlets.config", "asyncio.events", "memdiag.recorder",
                 "_frozen_importlib", "_frozen_importlib_external", "importlib._bootstrap", "threading", "pygments"):
        assert machinery.is_machinery_module(name), name
    for name in ("logging", "pandas.core.frame", "numpy", "__main__", "builtins", "json", "collections", "", None, 3):
        assert not machinery.is_machinery_module(name), name
    assert machinery.is_machinery_type(asyncio.Future)  # its __module__ is _asyncio
    assert machinery.is_machinery_type(threading.Thread)
    assert not machinery.is_machinery_type(logging.Logger)  # a leak through loggerDict is the user's
    assert not machinery.is_machinery_type(dict)
    # a runner's type alone does not make a cycle the kernel's; IPython's does
    assert not machinery.is_kernel_type(asyncio.Future) and not machinery.is_kernel_type(contextlib.ExitStack)
    assert machinery.is_kernel_type(type("Shell", (), {"__module__": "IPython.core.interactiveshell"}))
    assert machinery.is_cycle_only_type(types.FrameType) and not machinery.is_cycle_only_type(list)
    assert machinery.CYCLE_ONLY_NAMES == {"frame", "traceback", "cell", "code", "generator", "coroutine"}


def test_user_names_leave_out_ipython_history():
    """The variables probe reads the user's names, in the namespace's order, without IPython's history names (_i5,
    _5, In, Out), modules or non-string keys; a name the user chose with an underscore stays theirs, also on a second
    read (the history names met are remembered)."""
    from memdiag.probes import variables

    ns = {"In": [], "Out": {}, "_": None, "_i3": "a = 1", "_3": 7, "a": 1, "_private": [2], "np": json, 5: "key",
          "_ii": "", "__builtins__": {}, "_i": "", "b": {"x": 1}, "_iffy": 3}
    expected = [("a", 1), ("_private", [2]), ("b", {"x": 1}), ("_iffy", 3)]
    assert variables._user_names(ns) == expected
    assert "_i3" in variables._IPYTHON_SEEN and "_private" not in variables._IPYTHON_SEEN
    ns["_i3x"] = 4
    assert variables._user_names(ns) == expected + [("_i3x", 4)]


def test_type_module_read_without_user_code():
    class Lying(type):
        def __getattribute__(cls, name):
            raise AssertionError("user code ran")

    tp = Lying("T", (), {"__module__": "IPython.fake"})
    assert machinery.is_machinery_type(tp)
    hostile = type("H", (), {})
    hostile.__module__ = 12  # not a str: not machinery, no error
    assert not machinery.is_machinery_type(hostile)


def test_files():
    assert machinery.file_kind(machinery.__file__) == machinery.KIND_OWN
    assert machinery.file_kind(traced.__file__ + "c") == machinery.KIND_OWN  # .pyc normalised
    import tracemalloc

    assert machinery.file_kind(tracemalloc.__file__) == machinery.KIND_OWN
    assert machinery.file_kind(asyncio.events.__file__) == machinery.KIND_RUNNER
    assert machinery.file_kind(threading.__file__) == machinery.KIND_RUNNER
    assert machinery.file_kind(contextlib.__file__) == machinery.KIND_RUNNER
    assert machinery.file_kind("<frozen importlib._bootstrap>") == machinery.KIND_IMPORT
    assert machinery.file_kind("<frozen importlib._bootstrap_external>") == machinery.KIND_IMPORT
    assert machinery.file_kind("<frozen runpy>") == machinery.KIND_KERNEL
    import traitlets

    assert machinery.file_kind(os.path.join(os.path.dirname(traitlets.__file__), "config", "x.py")) == "kernel"
    for path in (logging.__file__, json.__file__, "<frozen abc>", "<string>", "/tmp/ipykernel_1/123.py",
                 os.path.dirname(threading.__file__) + "/threading_extra.py", ""):
        assert not machinery.is_machinery_file(path), path


def test_nothing_new_is_imported():
    before = set(sys.modules)
    machinery.file_kind("/nowhere/x.py")
    machinery.is_machinery_type(int)
    assert set(sys.modules) == before


# -- attribution of one allocation (in-process) --------------------------------------------------------------------
class _Cells:
    current = {"/tmp/ipykernel_1/now.py"}
    wrappers = set()
    numbers = {"/tmp/ipykernel_1/now.py": 5, "/tmp/ipykernel_1/old.py": 3}

    def is_cell(self, filename):
        return filename in self.numbers


PANDAS = "/site-packages/pandas/core/frame.py"


def _attr(*frames):
    return traced.attribute(tuple(frames), _Cells(), machinery.file_kinds())


def test_attribute_cell_line_with_library_folded():
    owner, site, via = _attr((PANDAS, 10), ("/site-packages/pandas/core/internals.py", 3),
                             ("/tmp/ipykernel_1/now.py", 2), ("<frozen runpy>", 1))
    assert (owner, site, via) == ("cell", ("/tmp/ipykernel_1/now.py", 2), (PANDAS, 10))
    # an earlier cell's function called from this cell: this cell's line, the function's line under it
    owner, site, via = _attr(("/tmp/ipykernel_1/old.py", 4), ("/tmp/ipykernel_1/now.py", 1))
    assert (owner, site, via) == ("cell", ("/tmp/ipykernel_1/now.py", 1), ("/tmp/ipykernel_1/old.py", 4))
    # no frame of this cell: the earlier cell's line
    owner, site, via = _attr((PANDAS, 10), ("/tmp/ipykernel_1/old.py", 4), (threading.__file__, 9))
    assert (owner, site, via) == ("user", ("/tmp/ipykernel_1/old.py", 4), (PANDAS, 10))
    # a library stack cut short: the innermost library line
    assert _attr((PANDAS, 10), (PANDAS, 20)) == ("user", (PANDAS, 10), None)


def test_attribute_machinery_and_own():
    assert _attr((json.__file__, 3), (machinery.__file__, 9), ("/tmp/ipykernel_1/now.py", 1))[0] == "own"
    assert _attr((json.__file__, 3), ("<frozen runpy>", 1))[0] == "kernel"  # json called by the kernel
    assert _attr((threading.__file__, 3), (asyncio.events.__file__, 1))[0] == "kernel"  # nothing of anyone's
    assert _attr(("<unknown>", 0))[0] == "kernel"
    # a module's top level run by an import nobody in sight asked for: counted, no site
    assert _attr(("/site-packages/fractions.py", 38), ("<frozen importlib._bootstrap>", 241)) == ("import", None, None)


def test_depth_follows_the_previous_run():
    assert traced.frames_for(False, None) == traced.TRACE_FRAMES
    assert traced.frames_for(True, None) == traced.TRACE_FRAMES
    assert traced.frames_for(False, 0.01) == traced.TRACE_FRAMES
    assert traced.frames_for(False, 0.3) < traced.TRACE_FRAMES
    assert traced.frames_for(False, 30.0) == 1
    assert traced.frames_for(True, 0.2) == traced.TRACE_FRAMES  # %%memdiag: a bigger budget
    assert traced.frames_for(True, 100.0) == 1


# -- through a real kernel -----------------------------------------------------------------------------------------
def _run(k, code, allow_error=False):
    cell = new_id()
    out = k.execute(code, cell_id=cell, allow_error=allow_error)
    reports = [m["content"]["data"]["report"] for m in out["comm"]
               if m["msg_type"] == "comm_msg" and m["content"]["data"].get("type") == "report"]
    return reports, out


def _one(k, code, allow_error=False):
    reports, _ = _run(k, code, allow_error)
    assert len(reports) == 1, reports
    return reports[0]


def _no_machinery(report):
    sites = report["traced"]["top"]
    for site in sites:
        for where in [site] + site.get("via", []):
            assert not any(p in where["file"] for p in MACHINERY_PATHS), site
    for row in report["objects"]["growth"]:
        assert not row["type"].startswith(MACHINERY_TYPES), row
    for group in report["gc"]["cycles"]:
        assert not any(t.startswith(MACHINERY_TYPES) for t in group["types"]), group
        assert not group.get("internal"), group
    for chain in report["backrefs"]:
        assert not chain["root"].startswith(("IPython", "ipykernel", "memdiag")), chain


def _sites_well_formed(report):
    traced_section = report["traced"]
    top = traced_section["top"]
    assert len(top) <= 5
    floor = max(1024, 0.01 * traced_section["retained"])
    assert all(site["size"] >= floor for site in top), top
    in_cell = [site["in_cell"] for site in top]
    assert in_cell == sorted(in_cell, reverse=True), top  # the cell's lines first
    assert traced_section["retained_all"] >= traced_section["retained"] >= 0


@pytest.fixture(scope="module")
def pandas_kernel(shared_kernel):
    k = shared_kernel
    if k.execute("import importlib.util as u; print(u.find_spec('pandas') is not None)")["stdout"].strip() != "True":
        pytest.skip("pandas is not installed")
    k.execute("import numpy as np, pandas as pd")
    return k


def test_pandas_sites_at_the_cell_line_deep(pandas_kernel, report_validator):
    k = pandas_kernel
    report = _one(k, "%%memdiag\nsmall = [0] * 10\n"
                     "df = pd.DataFrame({'a': np.arange(300_000), 'b': np.random.rand(300_000)})\n"
                     "big = pd.concat([df, df, df])")
    report_validator(report)
    _no_machinery(report)
    _sites_well_formed(report)
    top = report["traced"]["top"]
    assert top[0]["in_cell"] and top[0]["file"] == "cell", top
    by_line = {site["line"]: site for site in top if site["in_cell"]}
    # the cell's own numbering: the %%memdiag header is line 1
    assert 3 in by_line and 4 in by_line, top
    assert "pd.DataFrame" in by_line[3]["code"] and "pd.concat" in by_line[4]["code"]
    assert by_line[4]["size"] >= 12_000_000  # 3 x 4.8 MB, allocated inside pandas and numpy
    assert any(v["file"].startswith(("pandas/", "numpy/")) for v in by_line[4]["via"]), by_line[4]
    assert report["traced"]["frames"] == traced.TRACE_FRAMES


def test_pandas_sites_at_the_cell_line_trace_always(pandas_kernel):
    k = pandas_kernel
    k.execute("%memdiag trace always")
    try:
        report = _one(k, "df2 = pd.DataFrame({'a': np.arange(200_000), 'b': np.arange(200_000) * 2.0})\n"
                         "big2 = pd.concat([df2, df2])")
    finally:
        k.execute("%memdiag trace suspect")
    _no_machinery(report)
    _sites_well_formed(report)
    top = report["traced"]["top"]
    assert top[0]["in_cell"] and top[0]["line"] in (1, 2), top
    concat = next(site for site in top if site["in_cell"] and site["line"] == 2)
    assert concat["size"] >= 6_000_000
    assert any(v["file"].startswith(("pandas/", "numpy/")) for v in concat["via"]), concat


def test_function_of_an_earlier_cell(shared_kernel):
    k = shared_kernel
    k.execute("def make_rows(n):\n    return [bytearray(50_000) for _ in range(n)]")
    report = _one(k, "%%memdiag\nrows_kept = make_rows(40)")
    top = report["traced"]["top"]
    assert top[0]["in_cell"] and top[0]["line"] == 2 and top[0]["size"] >= 2_000_000, top
    assert top[0]["via"] and top[0]["via"][0]["file"].startswith("In["), top[0]
    assert "bytearray" in top[0]["via"][0]["code"]


def test_display_and_raise_leave_no_machinery(shared_kernel):
    k = shared_kernel
    k.execute("%memdiag trace always")
    try:
        shown = _one(k, "[str(i) for i in range(20_000)]")  # displayed: Out[n], the repr, the history
        _no_machinery(shown)
        _sites_well_formed(shown)
        assert shown["traced"]["top"] and shown["traced"]["top"][0]["in_cell"]
        raised = _one(k, "def fails():\n    return 1 / 0\nfails()", allow_error=True)
        _no_machinery(raised)
        _sites_well_formed(raised)
        assert not [s for s in raised["traced"]["top"] if not s["in_cell"]], raised["traced"]["top"]
        assert raised["traced"]["retained_all"] >= raised["traced"]["retained"]
        silent = _one(k, "x_small = 1")
        assert silent["traced"]["top"] == [], silent["traced"]
    finally:
        k.execute("%memdiag trace suspect")


def test_deep_raise_has_no_machinery_cycles(shared_kernel):
    k = shared_kernel
    report = _one(k, "%%memdiag\nclass Boom(Exception):\n    pass\nraise Boom('x')", allow_error=True)
    _no_machinery(report)
    assert all(not g.get("internal") for g in report["gc"]["cycles"])


def test_memdiag_line_magics_make_no_report(shared_kernel):
    k = shared_kernel
    k.execute("why_target = [1, 2, 3]")
    for code in ("%memdiag types -n 3", "%memdiag", "%memdiag why why_target", "%memdiag growth",
                 "\n%memdiag types -n 2\n# a comment\n%memdiag trace suspect\n"):
        reports, out = _run(k, code)
        assert reports == [], (code, reports)
        assert out["stdout"], code
    # a cell that does more than ask memdiag is the user's, and recorded
    reports, _ = _run(k, "%memdiag types -n 1\nafter_magic = list(range(10))")
    assert len(reports) == 1
