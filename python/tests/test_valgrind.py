"""%%memdiag --valgrind: the cell alone in a fresh interpreter under memcheck, its leaks in the cell's report."""
import shutil

import pytest

needs_valgrind = pytest.mark.skipif(shutil.which("valgrind") is None,
                                    reason="valgrind is not installed (make test installs it when root)")

LEAK = """%%memdiag --valgrind
import ctypes
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
kept = libc.malloc(123456)
print("allocated", flush=True)
raise RuntimeError("after the leak")"""


@needs_valgrind
def test_ctypes_malloc_without_free_is_a_lost_record(shared_kernel, report_validator):
    """memcheck calls the block definitely lost, or possibly lost when a stale copy of its address survives somewhere
    in the process (the same test run from /work/main, not from /tmp/clean1, on 3.11): a record with its stack either
    way, and its bytes in that kind's total."""
    k = shared_kernel
    k.execute("valgrind_marker = 'kernel'")
    out = k.execute(LEAK, cell_id="vg-leak")
    assert out["status"] == "ok"  # the cell ran over there: its exception is the other interpreter's
    displays = [o["content"] for o in out["outputs"] if o["msg_type"] == "display_data"]
    progress = displays[0]
    assert "memcheck" in progress["data"]["text/plain"] and progress["transient"]["display_id"]
    report = displays[-1]["data"]["application/vnd.memdiag.v1+json"]
    report_validator(report)
    section = report["valgrind"]
    assert section["exit_code"] == 1 and "allocated" in section["output"] and "after the leak" in out["stdout"] + \
        section["output"]
    record = next(r for r in section["records"] if r["bytes"] == 123456)
    assert record["blocks"] == 1 and record["kind"] in ("definitely", "possibly")
    assert section[f"{record['kind']}_lost"] >= 123456, section
    assert record["stack"][0].startswith("malloc") and any("ffi_call" in f or "_ctypes" in f for f in record["stack"])
    # the interpreter's own start-up and shutdown are not records of the cell
    others = [r for r in section["records"] if r["kind"] in ("definitely", "possibly") and r is not record]
    assert not others, others
    text = displays[-1]["data"]["text/plain"]
    assert "valgrind: definitely lost" in text and f"({record['kind']})" in text, text
    # the cell did not run in the kernel
    assert k.value("'kept' in globals()") is False


BIG = """%%memdiag --valgrind
import ctypes
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
address = libc.malloc(2_000_000)
print(hex(address)[:2], flush=True)"""


@needs_valgrind
def test_big_block_the_cell_allocated_is_a_record_whatever_its_kind(shared_kernel, report_validator):
    """memcheck calls this block possibly lost on 3.11 and 3.12 (a stale interior pointer survives), definitely
    lost on 3.10 and 3.13: a record with its stack either way; the interpreter's small possibly lost blocks are not."""
    from memdiag import valgrind

    out = shared_kernel.execute(BIG, cell_id="vg-big")
    assert out["status"] == "ok"
    displays = [o["content"] for o in out["outputs"] if o["msg_type"] == "display_data"]
    report = displays[-1]["data"]["application/vnd.memdiag.v1+json"]
    report_validator(report)
    section = report["valgrind"]
    assert section["exit_code"] == 0 and "0x" in section["output"], section["output"]
    record = next(r for r in section["records"] if r["bytes"] == 2_000_000)
    assert record["blocks"] == 1 and record["kind"] in ("definitely", "possibly")
    if section["possibly_lost"] >= 2_000_000:
        assert record["kind"] == "possibly"
    assert record["stack"][0].startswith("malloc")
    assert any("ffi_call" in f or "_ctypes_callproc" in f for f in record["stack"]), record["stack"]
    # The interpreter's own possibly lost blocks (its objects reached through interior pointers) are no records.
    others = [r for r in section["records"] if r["kind"] == "possibly" and r is not record]
    assert not others, others
    assert all(r["bytes"] >= valgrind.POSSIBLY_LOST_MIN_BYTES for r in section["records"] if r["kind"] == "possibly")
    text = displays[-1]["data"]["text/plain"]
    assert f"({record['kind']})" in text and "ffi_call" in text
    # memdiag's own runner leaves nothing in the kernel that the report would blame on the cell (ElementTree's
    # iterparse made a class, cyclic garbage, on each run; tempfile.mkdtemp a random.Random kept by tempfile)
    again = shared_kernel.execute(BIG, cell_id="vg-big")
    report = [o["content"] for o in again["outputs"] if o["msg_type"] == "display_data"][-1]["data"][
        "application/vnd.memdiag.v1+json"]
    assert not report["gc"]["cycles"] and not report.get("backrefs"), (report["gc"], report.get("backrefs"))


def test_missing_valgrind_names_the_debian_package(shared_kernel):
    k = shared_kernel
    k.execute("import os as _os; _saved_path = _os.environ['PATH']; _os.environ['PATH'] = '/nonexistent'")
    try:
        out = k.execute("%%memdiag --valgrind\nx = 1", cell_id="vg-missing")
    finally:
        k.execute("_os.environ['PATH'] = _saved_path")
    assert out["status"] == "ok"
    assert "apt-get install valgrind" in out["stdout"]
    assert not [o for o in out["outputs"] if o["msg_type"] == "error"]


@needs_valgrind
def test_ipython_syntax_is_refused(shared_kernel):
    out = shared_kernel.execute("%%memdiag --valgrind\n%time x = 1")
    assert "plain Python" in out["stdout"]


def test_parse_keeps_the_cell_and_skips_startup(tmp_path):
    from memdiag import valgrind

    frame = "<frame><ip>0x1</ip><obj>/lib/libc.so.6</obj><fn>{}</fn></frame>"

    def error(kind, nbytes, fns):
        return (f"<error><unique>0x1</unique><kind>{kind}</kind><xwhat><text>t</text><leakedbytes>{nbytes}"
                f"</leakedbytes><leakedblocks>2</leakedblocks></xwhat><stack>"
                + "".join(frame.format(fn) for fn in fns) + "</stack></error>")

    xml = ("<?xml version='1.0'?><valgrindoutput>"
           + error("Leak_DefinitelyLost", 64, ["malloc", "PyCFuncPtr_call", "_PyEval_EvalFrameDefault",
                                               "builtin_exec_impl", "run_mod", "main"])
           + error("Leak_IndirectlyLost", 32, ["malloc", "my_ext_init"])
           + error("Leak_DefinitelyLost", 999, ["malloc", "init_import_site", "pyinit_main"])
           + error("Leak_PossiblyLost", 7, ["malloc", "x"])
           + error("InvalidRead", 0, ["x"]) + "</valgrindoutput>")
    path = tmp_path / "m.xml"
    path.write_text(xml)
    section = valgrind.parse(str(path))
    assert section["definitely_lost"] == 64 and section["indirectly_lost"] == 32 and section["possibly_lost"] == 7
    assert section["skipped"] == {"records": 1, "bytes": 999}
    assert section["records"][0]["stack"] == ["malloc (in libc.so.6)", "PyCFuncPtr_call (in libc.so.6)"]


def test_parse_keeps_big_possibly_lost_blocks_of_the_cell_only(tmp_path):
    from memdiag import valgrind

    frame = "<frame><ip>0x1</ip><obj>/lib/libc.so.6</obj><fn>{}</fn></frame>"
    big = valgrind.POSSIBLY_LOST_MIN_BYTES

    def error(nbytes, fns, kind="Leak_PossiblyLost"):
        return (f"<error><unique>0x1</unique><kind>{kind}</kind><xwhat><text>t</text><leakedbytes>{nbytes}"
                f"</leakedbytes><leakedblocks>1</leakedblocks></xwhat><stack>"
                + "".join(frame.format(fn) for fn in fns) + "</stack></error>")

    program = ["PyEval_EvalCode", "builtin_exec_impl", "builtin_exec", "_PyEval_EvalFrameDefault", "PyEval_EvalCode",
               "run_eval_code_obj", "run_mod", "PyRun_SimpleStringFlags", "Py_RunMain", "main"]
    in_import = ["malloc", "gc_alloc", "PyTuple_New", "PyInit__ext", "_imp_create_dynamic", "_PyEval_EvalFrameDefault",
                 "import_find_and_load", "PyImport_ImportModuleLevelObject", "import_name", "_PyEval_EvalFrameDefault"]
    # code an import runs is exec'd too: its exec is not the cell's
    imported_code = ["malloc", "gc_alloc", "PyTuple_New", "_PyEval_EvalFrameDefault", "PyEval_EvalCode",
                     "builtin_exec_impl", "builtin_exec", "_PyEval_EvalFrameDefault", "import_find_and_load",
                     "import_name", "_PyEval_EvalFrameDefault"]
    xml = ("<?xml version='1.0'?><valgrindoutput>"
           + error(2_000_000, ["malloc", "???", "ffi_call", "_ctypes_callproc", "PyCFuncPtr_call",
                               "_PyObject_MakeTpCall", "_PyEval_EvalFrameDefault"] + program)
           + error(big - 1, ["malloc", "my_ext_alloc", "_PyEval_EvalFrameDefault"] + program)
           + error(big, ["malloc", "my_ext_alloc", "_PyEval_EvalFrameDefault"] + program)
           + error(500_000, in_import + program)
           + error(300_000, imported_code + program)
           + error(400_000, ["malloc", "worker_thread", "start_thread", "clone"])  # not while the cell ran
           + error(900_000, ["malloc", "pyinit_main", "Py_InitializeFromConfig"])
           # memcheck cut this one at its depth, in the cell's library calls
           + error(big * 2, ["malloc", "deep_alloc"] + ["_PyEval_EvalFrameDefault"] * (valgrind.NUM_CALLERS - 2))
           + error(big * 3, in_import + ["_PyEval_EvalFrameDefault"] * (valgrind.NUM_CALLERS - len(in_import)))
           + "</valgrindoutput>")
    path = tmp_path / "m.xml"
    path.write_text(xml)
    section = valgrind.parse(str(path))
    assert [(r["bytes"], r["kind"]) for r in section["records"]] == [(2_000_000, "possibly"), (big * 2, "possibly"),
                                                                     (big, "possibly")]
    assert section["records"][0]["stack"] == ["malloc (in libc.so.6)", "??? (in libc.so.6)", "ffi_call (in libc.so.6)",
                                              "_ctypes_callproc (in libc.so.6)", "PyCFuncPtr_call (in libc.so.6)"]
    assert section["record_count"] == 3
    # every possibly lost block is counted, the interpreter's start-up aside
    assert section["possibly_lost"] == 2_000_000 + 2 * big - 1 + 500_000 + 300_000 + 400_000 + 5 * big
    assert section["skipped"] == {"records": 1, "bytes": 900_000}
