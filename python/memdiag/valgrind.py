"""`%%memdiag --valgrind`: the cell's code in a fresh interpreter under valgrind memcheck, its leak records parsed.

The interpreter runs with PYTHONMALLOC=malloc so that every Python allocation is a malloc valgrind sees. Definitely
and indirectly lost blocks are records; the interpreter's own start-up and shutdown are skipped (their stacks go through
Py_InitializeFromConfig / Py_FinalizeEx and never through the running program), as are, on 3.12+, the immortal interned
strings of the code it loads and compiles; so are the frames of the eval loop inside each stack, which say nothing
about who allocated.

Possibly lost blocks are mostly the interpreter's own: every object with a gc header is reached through an interior
pointer, so whatever lives until exit is "possibly lost". They are counted, and a record only when the cell itself
allocated them and they are big: POSSIBLY_LOST_MIN_BYTES or more, allocated under the cell's own code (between the
runner's exec and the allocation: no import, no start-up, no shutdown). A block a C function returned to the cell
(`libc.malloc(2_000_000)` through ctypes, its address kept in a Python int) is one: memcheck calls it definitely lost
on some Pythons and possibly lost on others, depending on what stale copies of its address it finds.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from xml.parsers import expat  # noqa: F401  ET's parser imports it on first use: in the first --valgrind cell's report

from . import protocol

MISSING = ("memdiag: --valgrind needs valgrind, which is not installed. On Debian or Ubuntu: "
           "apt-get install valgrind (as root, or with sudo).")
MAX_RECORDS = 15
# A possibly lost record of the cell's own code is kept from this size (bytes, all its blocks): far above what the
# interpreter leaves possibly lost per call site under a cell (objects and dict keys, at most a few kB), far below
# what a C allocation that matters takes.
POSSIBLY_LOST_MIN_BYTES = 64 * 1024
MAX_FRAMES = 12
OUTPUT_TAIL = 2000
NUM_CALLERS = 50  # memcheck's stack depth: a deeper stack is cut before the runner's frames

# The cell runs from a file so that tracebacks show its lines; `python -c` keeps the kernel's working directory as
# sys.path[0], as in the notebook.
_RUNNER = ("import sys\n"
           "path = sys.argv.pop(1)\n"
           "with open(path, encoding='utf-8') as f:\n"
           "    source = f.read()\n"
           "exec(compile(source, path, 'exec'), {'__name__': '__main__', '__builtins__': __builtins__})\n")

_LEAK_KINDS = {"Leak_DefinitelyLost": "definitely_lost", "Leak_IndirectlyLost": "indirectly_lost",
               "Leak_PossiblyLost": "possibly_lost"}
# Frames of the interpreter's start-up and shutdown: a record allocated there is not the cell's.
_OUTSIDE_PROGRAM = frozenset({
    "Py_InitializeFromConfig", "pyinit_core", "pyinit_main", "init_interp_main", "init_import_site",
    "_Py_InitializeMain", "pymain_init", "Py_FinalizeEx", "Py_Finalize", "finalize_modules", "_PyImport_Fini",
    "Py_EndInterpreter", "pymain_free",
})
# Eval-loop and call plumbing: present in every stack, never the answer.
_PLUMBING = frozenset({
    "_PyEval_EvalFrameDefault", "_PyEval_EvalFrame", "_PyEval_Vector", "_PyObject_VectorcallTstate",
    "PyObject_Vectorcall", "_PyObject_MakeTpCall", "_PyFunction_Vectorcall", "PyEval_EvalCode", "_PyObject_Call",
    "PyObject_Call", "trace_call_function", "object_vacall", "_PyObject_CallFunctionVa", "slot_tp_call",
    "cfunction_vectorcall_FASTCALL", "cfunction_vectorcall_FASTCALL_KEYWORDS", "cfunction_vectorcall_O",
    "cfunction_vectorcall_NOARGS", "cfunction_call", "method_vectorcall", "method_vectorcall_FASTCALL",
    "method_vectorcall_FASTCALL_KEYWORDS", "method_vectorcall_O", "method_vectorcall_NOARGS", "vectorcall_method",
    "_PyObject_Call_Prepend", "PyObject_CallOneArg", "PyObject_CallNoArgs",
})
# Where the runner's own frames begin: nothing below is the cell's.
_RUNNER_FRAMES = frozenset({"builtin_exec_impl", "builtin_exec", "run_eval_code_obj", "run_mod", "main"})
# The runner's `python -c` program: the exec just above it in the stack is the one that runs the cell (an import in
# the cell execs the module's code too, above it).
_PROGRAM_FRAMES = frozenset({"run_eval_code_obj", "run_mod"})
_EXEC_FRAMES = frozenset({"builtin_exec_impl", "builtin_exec"})
# An import inside the cell: what the module keeps until exit is the interpreter's, not the cell's.
_IMPORT_FRAMES = frozenset({"import_find_and_load", "PyImport_ImportModuleLevelObject", "PyImport_Import",
                            "PyImport_ImportModule", "_imp_create_dynamic", "_imp_exec_dynamic", "_imp_exec_builtin",
                            "_PyImport_LoadDynamicModuleWithSpec", "exec_builtin_or_dynamic"})


def find():
    """The path of the valgrind executable on PATH, or None."""
    return shutil.which("valgrind")


def command(valgrind, xml_path, cell_path):
    """argv that runs `cell_path` in this Python under memcheck (full leak check: definite, indirect and possible
    leaks, NUM_CALLERS callers), its XML written to `xml_path`."""
    return [valgrind, "--tool=memcheck", "--leak-check=full", "--show-leak-kinds=definite,indirect,possible",
            f"--num-callers={NUM_CALLERS}", "--xml=yes", f"--xml-file={xml_path}", "-q",
            sys.executable, "-c", _RUNNER, cell_path]


def run(source, progress=None, poll_s=1.0):
    """Run `source` under valgrind; returns the `valgrind` report section. `progress(elapsed_s)` is called while it
    runs (every `poll_s` seconds). KeyboardInterrupt stops valgrind and its interpreter, then propagates; raises
    FileNotFoundError when valgrind is missing.

    The section: parse()'s (or empty()'s when memcheck wrote no XML), plus "exit_code", "duration_s" (seconds) and
    "output" (the last OUTPUT_TAIL characters of what the run printed).
    """
    valgrind = find()
    if valgrind is None:
        raise FileNotFoundError(MISSING)
    tmp = _private_dir()
    try:
        cell_path = os.path.join(tmp, "cell.py")
        xml_path = os.path.join(tmp, "memcheck.xml")
        out_path = os.path.join(tmp, "output.txt")
        with open(cell_path, "w", encoding="utf-8") as f:
            f.write(source)
        env = dict(os.environ, PYTHONMALLOC="malloc", PYTHONDONTWRITEBYTECODE="1")
        env.pop("PYTHONDEVMODE", None)
        t0 = time.monotonic()
        with open(out_path, "wb") as out:
            proc = subprocess.Popen(command(valgrind, xml_path, cell_path), stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT, env=env, cwd=os.getcwd(), start_new_session=True)
            try:
                while True:
                    try:
                        proc.wait(timeout=poll_s)
                        break
                    except subprocess.TimeoutExpired:
                        if progress is not None:
                            progress(time.monotonic() - t0)
            except BaseException:
                _kill(proc)
                raise
        with open(out_path, "rb") as f:
            output = f.read().decode("utf-8", "replace")
        section = parse(xml_path) if os.path.exists(xml_path) else empty()
        section.update(exit_code=proc.returncode, duration_s=round(time.monotonic() - t0, 3),
                       output=output[-OUTPUT_TAIL:])
        return section
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _private_dir():
    """A new directory only this user can read, like tempfile.mkdtemp, without its module-level name generator:
    the kernel's tempfile would keep a random.Random the cell's report then shows as retained by the cell."""
    while True:
        path = os.path.join(tempfile.gettempdir(), f"memdiag-valgrind-{os.urandom(8).hex()}")
        try:
            os.mkdir(path, 0o700)
            return path
        except FileExistsError:
            continue


def _errors(xml_path):
    """The <error> elements of a memcheck XML file, each cleared once the caller is done with it. Not
    ET.iterparse: it defines a class on every call, cyclic garbage the cell's report would show."""
    parser = ET.XMLPullParser(events=("end",))
    with open(xml_path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            parser.feed(chunk)
            yield from _drain(parser)
    parser.close()
    yield from _drain(parser)


def _drain(parser):
    for _, element in parser.read_events():
        if element.tag == "error":
            yield element
            element.clear()


def _kill(proc):
    try:
        os.killpg(proc.pid, 9)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    proc.wait()


def empty():
    """A section with nothing found: 0 bytes lost of each kind, no records, nothing skipped."""
    return {"definitely_lost": 0, "indirectly_lost": 0, "possibly_lost": 0, "records": [], "record_count": 0,
            "skipped": {"records": 0, "bytes": 0}}


def _frame_text(frame):
    fn = frame.findtext("fn") or "???"
    file, line = frame.findtext("file"), frame.findtext("line")
    if file and line:
        return protocol.short(f"{fn} ({file}:{line})", 160)
    obj = frame.findtext("obj")
    return protocol.short(f"{fn} (in {os.path.basename(obj)})" if obj else fn, 160)


def _stack(frames):
    shown = []
    for frame in frames:
        fn = frame.findtext("fn") or ""
        if fn in _RUNNER_FRAMES:
            break
        if fn in _PLUMBING:
            continue
        shown.append(_frame_text(frame))
        if len(shown) >= MAX_FRAMES:
            break
    return shown


# Python 3.12+ makes interned strings immortal: the identifiers of every module it unmarshals or compiles (the cell
# included) are never freed, and memcheck calls each one definitely lost. They are the interpreter's, not a leak.
_INTERNING_SOURCES = frozenset({"r_object", "_PyPegen_new_identifier", "PyUnicode_InternFromString",
                                "PyDict_SetItemString", "PyObject_SetAttrString", "PyObject_GetAttrString"})


def _interned_by_interpreter(names):
    """A str the interpreter made for code it loaded or compiled (names and constants): immortal on 3.12+."""
    return "PyUnicode_New" in names and any(fn in _INTERNING_SOURCES or fn.startswith("_PyPegen_") for fn in names)


def _by_cell_code(names):
    """Whether a stack (function names, innermost first) was allocated by the cell's own code: it reaches the exec
    that runs the cell, and no import lies between that exec and the allocation. A stack memcheck cut at NUM_CALLERS
    frames (deep library code) is the cell's when no import shows in what is left."""
    program = next((i for i, fn in enumerate(names) if fn in _PROGRAM_FRAMES), None)
    if program is None:
        cell_exec = len(names) if len(names) >= NUM_CALLERS else None
    else:
        cell_exec = next((i for i in range(program - 1, -1, -1) if names[i] in _EXEC_FRAMES), None)
    return cell_exec is not None and not any(fn in _IMPORT_FRAMES for fn in names[:cell_exec])


def parse(xml_path):
    """The leak records of a memcheck XML file: totals of the kept records and the biggest of them.

    {"definitely_lost", "indirectly_lost", "possibly_lost": bytes; "records": the MAX_RECORDS biggest definite and
    indirect ones and the possibly lost ones of the cell's own code from POSSIBLY_LOST_MIN_BYTES, [{"bytes",
    "blocks", "kind" ("definitely", "indirectly" or "possibly"), "stack": frame texts}]; "record_count";
    "skipped": {"records", "bytes"} of the interpreter's start-up, shutdown and interned strings}.
    """
    section = empty()
    records = []
    for error in _errors(xml_path):
        kind = _LEAK_KINDS.get(error.findtext("kind") or "")
        if kind is None:
            continue
        nbytes = int(error.findtext("xwhat/leakedbytes") or 0)
        blocks = int(error.findtext("xwhat/leakedblocks") or 0)
        frames = error.findall("stack/frame")
        names = [f.findtext("fn") or "" for f in frames]
        if any(fn in _OUTSIDE_PROGRAM for fn in names) or _interned_by_interpreter(names):
            section["skipped"]["records"] += 1
            section["skipped"]["bytes"] += nbytes
        else:
            section[kind] += nbytes
            if kind != "possibly_lost" or nbytes >= POSSIBLY_LOST_MIN_BYTES and _by_cell_code(names):
                records.append({"bytes": nbytes, "blocks": blocks, "kind": kind.split("_")[0],
                                "stack": _stack(frames)})
        error.clear()
    records.sort(key=lambda r: r["bytes"], reverse=True)
    section["records"] = records[:MAX_RECORDS]
    section["record_count"] = len(records)
    return section


def summary_lines(report):
    """Text for terminal IPython and text/plain."""
    section = report.get("valgrind")
    if not section:
        return []
    from .verdict import format_bytes

    out = [f"valgrind: definitely lost {format_bytes(section['definitely_lost'])}, indirectly lost "
           f"{format_bytes(section['indirectly_lost'])}"
           + (f", possibly lost {format_bytes(section['possibly_lost'])}" if section.get("possibly_lost") else "")]
    for record in section["records"][:5]:
        out.append(f"  {format_bytes(record['bytes'])} in {record['blocks']} blocks ({record.get('kind', '')}):")
        out.extend(f"    {frame}" for frame in record["stack"][:8])
    return out
