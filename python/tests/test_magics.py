"""Magics as DESIGN.md "What the user types": each works, `%memdiag?` shows the full usage, and every bad argument
prints a one-line message and the usage, never a traceback."""
import json
import re

import pytest

from memdiag import cellargs

BAD = ["%memdiag bogus", "%memdiag trace sometimes", "%memdiag trace", "%memdiag types -n x", "%memdiag types -n",
       "%memdiag why", "%memdiag on off", "%memdiag growth now", "%memdiag kernelspec", "%memdiag kernelspec "
       "--malloc-debug --user --prefix /tmp", "%memdiag why 'unclosed", "%%memdiag --nope\nx = 1",
       "%memdiag types -n 0", "%memdiag types -n -3", "%memdiag types -n abc", "%memdiag types --limit 3",
       "%memdiag types -n 3 'x", "%memdiag kernelspec --prefix", "%memdiag kernelspec --user", "%memdiag cycles -x",
       "%memdiag why df[", "%memdiag -n 3", "%%memdiag -f\nx = 1", "%%memdiag --lines --valgrind\nx = 1",
       "%%memdiag --valgrind -f g\nx = 1", "%%memdiag --line\nx = 1", '%%memdiag --lines "a\nx = 1']
HELP = ["%memdiag -h", "%memdiag --help", "%memdiag types --help", "%memdiag why --help", "%memdiag kernelspec -h",
        "%%memdiag --help\nhelp_ran = 1", "%%memdiag --lines -h\nhelp_ran = 1"]
# Every command and option of DESIGN.md "What the user types", as the usage spells it.
EVERY_OPTION = ["%memdiag ", "%memdiag on", "%memdiag off", "%memdiag trace {off,suspect,always}",
                "%memdiag types [-n N]", "%memdiag growth", "%memdiag why EXPR", "%memdiag cycles",
                "%memdiag kernelspec --malloc-debug [--prefix P | --user]",
                "%%memdiag [--lines] [-f FUNC] [--trace] [--native] [--workers] [--valgrind]", "-f, --function FUNC",
                "--trace", "--help"]
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def no_error(out):
    return out["status"] == "ok" and "Traceback" not in out["stdout"] and \
        not [o for o in out["outputs"] if o["msg_type"] == "error"]


@pytest.mark.parametrize("line", BAD)
def test_bad_arguments_print_usage(shared_kernel, line):
    out = shared_kernel.execute(line)
    assert no_error(out), out
    message, _, rest = out["stdout"].partition("\n")
    # One line that names the command, then the whole usage.
    assert message.startswith(("%memdiag", "%%memdiag")) and len(message) < 200, message
    assert rest == f"\n{cellargs.USAGE}\n"


@pytest.mark.parametrize("line", HELP)
def test_help_prints_usage_and_runs_nothing(shared_kernel, line):
    out = shared_kernel.execute(line)
    assert no_error(out) and out["stdout"] == f"{cellargs.USAGE}\n", out
    assert shared_kernel.value("'help_ran' in globals()") is False


def pager_text(k, code):
    """Run `code` and return what the kernel sends to the pager: `?` help is a `page` payload of the execute_reply."""
    msg_id = k.kc.execute(code)
    while True:
        reply = k.kc.get_shell_msg(timeout=60)
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    while True:  # this request's iopub, to its end; comm traffic kept for the other tests
        msg = k.kc.iopub_channel.get_msg(timeout=60)
        if msg["msg_type"].startswith("comm"):
            k.comm_messages.append(msg)
        elif msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status" and \
                msg["content"]["execution_state"] == "idle":
            break
    assert reply["content"]["status"] == "ok", reply["content"]
    pages = [p for p in reply["content"].get("payload", []) if p.get("source") == "page"]
    assert len(pages) == 1, reply["content"]
    return ANSI.sub("", pages[0]["data"]["text/plain"])


@pytest.mark.parametrize("code", ["%memdiag?", "%%memdiag?"])
def test_question_mark_shows_the_full_usage(shared_kernel, code):
    text = pager_text(shared_kernel, code)
    assert cellargs.USAGE in text
    for option in EVERY_OPTION:
        assert option in text, option
    # ... and the help of every declared argument (wrapped: compared word by word).
    flat = " ".join(text.split())
    for parser in [*cellargs.LINE_COMMANDS.values(), cellargs.CELL_PARSER]:
        assert " ".join(parser.summary.split()) in flat, parser.prog
        for label, doc in parser.documented:
            assert label in text and " ".join(doc.split()) in flat, (parser.prog, label)


def test_why_takes_any_expression(shared_kernel):
    k = shared_kernel
    k.execute("df = {'a': [1, 2, 3], 'b c': (4,)}\nn = 5")
    out = k.execute("%memdiag why df['a']")
    assert no_error(out) and out["stdout"].startswith("df['a']: list"), out
    assert k.execute('%memdiag why  df["b c"] ')["stdout"].startswith('df["b c"]: tuple')
    # Braces and $ are the expression's: not expanded by IPython (`{n}` would become 5).
    assert k.execute("%memdiag why {n}")["stdout"].startswith("{n}: set")
    result = next(o for o in k.execute("[7, 8, 9]")["outputs"] if o["msg_type"] == "execute_result")
    count = result["content"]["execution_count"]
    assert k.execute(f"%memdiag why Out[{count}]")["stdout"].startswith(f"Out[{count}]: list")
    # An expression that compiles but fails is the user's error, told in one line, without the usage.
    out = k.execute("%memdiag why df['missing']")
    assert no_error(out) and out["stdout"].startswith("memdiag: cannot evaluate") and "Usage:" not in out["stdout"]


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


# -- the parsers in-process: every Python, no kernel ---------------------------------------------------------------
@pytest.mark.parametrize("line", [b for b in BAD if b.startswith("%memdiag ")])
def test_parse_line_raises_usage_error_never_system_exit(line):
    with pytest.raises(cellargs.UsageError) as err:
        cellargs.parse_line(line[len("%memdiag "):])
    assert "\n" not in str(err.value) and str(err.value).startswith("%memdiag")


@pytest.mark.parametrize("cell", [b for b in BAD if b.startswith("%%memdiag")])
def test_parse_cell_raises_usage_error_never_system_exit(cell):
    header = cellargs.header(cell)
    assert header is not None and cellargs.is_deep(cell)
    with pytest.raises(cellargs.UsageError) as err:
        cellargs.parse(header[1])
    assert "\n" not in str(err.value) and str(err.value).startswith("%%memdiag")
    assert cellargs.from_raw_cell(cell) is None  # the hooks leave a bad cell to the magic, which prints the usage


@pytest.mark.parametrize("line", [h.split("\n")[0] for h in HELP])
def test_parse_help(line):
    with pytest.raises(cellargs.HelpRequested):
        if line.startswith("%%memdiag"):
            cellargs.parse(line[len("%%memdiag"):])
        else:
            cellargs.parse_line(line[len("%memdiag"):])


@pytest.mark.parametrize("line, command, values", [
    ("", "", {}), ("  on ", "on", {}), ("off", "off", {}), ("trace always", "trace", {"policy": "always"}),
    ("types", "types", {"n": 20}), ("types -n 3", "types", {"n": 3}), ("types -n3", "types", {"n": 3}),
    ("growth", "growth", {}), ("cycles", "cycles", {}),
    ("why df['a']", "why", {"expr": "df['a']"}), ("why Out[3]", "why", {"expr": "Out[3]"}),
    ("why  x + y ", "why", {"expr": "x + y"}), ("why -x", "why", {"expr": "-x"}),
    ('why d["k"] [0]', "why", {"expr": 'd["k"] [0]'}),
    ("kernelspec --malloc-debug", "kernelspec", {"malloc_debug": True, "user": False, "prefix": None}),
    ("kernelspec --malloc-debug --user", "kernelspec", {"user": True, "prefix": None}),
    ("kernelspec --prefix '/tmp/a b' --malloc-debug", "kernelspec", {"user": False, "prefix": "/tmp/a b"}),
])
def test_parse_line(line, command, values):
    got, args = cellargs.parse_line(line)
    assert got == command and {k: getattr(args, k) for k in values} == values


@pytest.mark.parametrize("header, lines, funcs, native, valgrind", [
    ("", False, [], False, False), (" --lines", True, [], False, False), (" -f g", True, ["g"], False, False),
    (" --lines -f a -f 'b.c' --function=d", True, ["a", "b.c", "d"], False, False),
    (" --native --lines", True, [], True, False), (" --valgrind", False, [], False, True),
])
def test_parse_cell(header, lines, funcs, native, valgrind):
    opts = cellargs.from_raw_cell(f"\n  %%memdiag{header}\nx = 1")
    assert (opts.lines, opts.funcs, opts.native, opts.valgrind) == (lines, funcs, native, valgrind)


def test_cell_header():
    assert cellargs.body_offset("%%memdiag\nx") == 1 and cellargs.body_offset("\n\n%%memdiag --lines\nx") == 3
    assert cellargs.body_offset("x = 1") == 1
    for cell in ("x = 1\n%%memdiag", "%%memdiagx\n1", "%memdiag", "", None, "# %%memdiag"):
        assert cellargs.header(cell) is None and not cellargs.is_deep(cell) and cellargs.from_raw_cell(cell) is None
    assert cellargs.header("%%memdiag\tfoo") == (0, "\tfoo")


def test_usage_is_generated_from_the_declarations():
    for option in EVERY_OPTION:
        assert option in cellargs.USAGE, option
    assert max(len(line) for line in cellargs.USAGE.splitlines()) <= 110
