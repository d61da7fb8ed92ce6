"""The arguments of `%memdiag` and `%%memdiag`, declared once: one argparse parser per command, built at import.

The same declarations parse what the user typed and make the usage that `%memdiag?`, `%%memdiag?`, `-h`/`--help` and
every mistake print. A mistake of any kind (unknown command or option, missing or bad value, unbalanced quotes) raises
UsageError with a one-line message, never SystemExit: the parsers raise instead of calling sys.exit, on every Python.

Shared by the magics and by the cell hooks: `%%memdiag --native` is entered in pre_run_cell, before the magic runs, from
`from_raw_cell`, which reads the cell's header with the same parser as the magic.
"""
import argparse
import shlex
import sys
import textwrap

from .settings import TRACE_POLICIES

LINE = "%memdiag"
CELL = "%%memdiag"


class UsageError(Exception):
    """Bad arguments to %memdiag or %%memdiag. str() is one line that names the command, e.g.
    "%memdiag types: argument -n: 'abc' is not a positive integer"."""


class HelpRequested(Exception):
    """-h or --help was given: the caller prints USAGE (not a mistake)."""


class _Help(argparse.Action):
    """-h/--help: raise HelpRequested instead of printing one parser's help and calling sys.exit."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, nargs=0,
                         help=argparse.SUPPRESS)

    def __call__(self, parser, namespace, values, option_string=None):
        raise HelpRequested()


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that raises UsageError where argparse would print and exit, and keeps the help of each
    argument for USAGE (argparse's own help formatting is not used: it would give one page per command)."""

    def __init__(self, prog, summary):
        kwargs = {"color": False} if sys.version_info >= (3, 14) else {}
        super().__init__(prog=prog, add_help=False, allow_abbrev=False, **kwargs)  # --line is not --lines
        self.summary = summary
        self.documented = []  # (label, help) of each argument, in declaration order
        self.add_argument("-h", "--help", action=_Help)

    def arg(self, *flags, doc, group=None, **kwargs):
        """add_argument (on `group` if given) that also records `doc` for USAGE."""
        action = (group or self).add_argument(*flags, **kwargs)
        if action.option_strings:
            value = "" if action.nargs == 0 else f" {action.metavar or action.dest.upper()}"
            label = ", ".join(action.option_strings) + value
        elif action.choices:
            label = "|".join(action.choices)
        else:
            label = action.metavar or action.dest
        self.documented.append((label, doc))
        return action

    def usage_line(self):
        """The command and its arguments on one line, e.g. "%memdiag types [-n N]"."""
        text = " ".join(self.format_usage().split())
        return text[len("usage: "):] if text.startswith("usage: ") else text

    def error(self, message):
        raise UsageError(f"{self.prog}: {message}")

    def exit(self, status=0, message=None):
        raise UsageError(f"{self.prog}: {(message or '').strip() or 'bad arguments'}")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive integer")
    return value


def _expression(text):
    try:
        compile(text, "<memdiag why>", "eval")
    except (SyntaxError, ValueError) as exc:
        reason = getattr(exc, "msg", None) or str(exc)
        raise argparse.ArgumentTypeError(f"{text!r} is not a Python expression ({reason})") from None
    return text


STATUS_SUMMARY = "status: mode, tracing policy, thresholds, recent verdicts"


def _line_parsers():
    commands = {}

    def command(name, summary):
        commands[name] = _Parser(f"{LINE} {name}", summary)
        return commands[name]

    command("on", "per-cell snapshots on (the default)")
    command("off", "per-cell snapshots off")
    command("trace", "tracemalloc policy (default suspect)").arg(
        "policy", choices=TRACE_POLICIES,
        doc="off: never; suspect (default): a cell already suspected and %%memdiag cells; always: every cell")
    command("types", "most common live types now").arg(
        "-n", type=_positive_int, default=20, metavar="N",
        doc="how many types to list (a positive integer, default 20)")
    command("growth", "growth of each type since the previous call")
    command("why", "refcount, referrers and backref chain of a value").arg(
        "expr", type=_expression, metavar="EXPR",
        doc="a Python expression, the rest of the line, spaces, brackets and quotes included: why df['a'], why Out[3]")
    command("cycles", "cyclic garbage right now")
    spec = command("kernelspec", "install a kernelspec 'memdiag-malloc-debug': this Python with PYTHONMALLOC=debug")
    spec.arg("--malloc-debug", action="store_true", required=True, doc="required: the kind of kernel to install")
    where = spec.add_mutually_exclusive_group()
    spec.arg("--prefix", metavar="P", group=where, doc="install under the prefix P (P/share/jupyter/kernels)")
    spec.arg("--user", action="store_true", group=where,
             doc="install for this user only (default: the system-wide Jupyter data directory)")
    return commands


def _cell_parser():
    cell = _Parser(CELL, "run this cell in depth (tracing, cycles, backrefs) and show its report inline")
    cell.arg("--lines", action="store_true",
             doc="memory per line of the cell: increment and peak, on RSS (the cell runs at nearly full speed)")
    cell.arg("-f", "--function", dest="funcs", action="append", metavar="FUNC",
             doc="also per line of the function FUNC (an expression; repeatable; implies --lines)")
    cell.arg("--trace", action="store_true",
             doc="with --lines: per line on tracemalloc's traced bytes, exact for Python's allocations and with the "
                 "allocation sites; slows allocation-heavy code up to ~20x (without --lines, %%memdiag always traces)")
    cell.arg("--native", action="store_true", doc="the cell's native allocations and their stacks (needs memray)")
    cell.arg("--workers", action="store_true",
             doc="with a dask.distributed Client: tracemalloc on its workers for the cell, their top allocation sites "
                 "and the module globals the cell's tasks left there")
    cell.arg("--valgrind", action="store_true",
             doc="run the cell alone in a fresh interpreter under valgrind memcheck; not with --lines, -f, --native "
                 "or --workers")
    return cell


LINE_COMMANDS = _line_parsers()
CELL_PARSER = _cell_parser()


def _table(rows, width=36, total=110):
    out = []
    for left, right in rows:
        right = textwrap.wrap(right, total - width) or [""]
        if len(left) < width - 2:
            out.append(f"  {left.ljust(width - 2)}{right.pop(0)}")
        else:
            out.append(f"  {left}")
        out += [" " * width + more for more in right]
    return out


def _usage():
    parsers = list(LINE_COMMANDS.values()) + [CELL_PARSER]
    lines = ["Usage:"]
    lines += _table([(LINE, STATUS_SUMMARY)] + [(p.usage_line(), p.summary) for p in parsers])
    lines += ["", "Arguments:"]
    lines += _table([(f"{p.prog.split(' ', 1)[-1] if p is not CELL_PARSER else CELL} {label}", doc)
                     for p in parsers for label, doc in p.documented])
    lines += _table([(f"{LINE} -h, {CELL} --help", "this usage; so do %memdiag? and %%memdiag?")])
    return "\n".join(lines)


USAGE = _usage()
"""The full usage of both magics, as printed by `%memdiag?`, `--help` and after every mistake (str, lines of text)."""


def _split(prog, text):
    try:
        return shlex.split(text)
    except ValueError as exc:  # No closing quotation / No escaped character
        raise UsageError(f"{prog}: {exc}") from None


def parse_line(line):
    """The arguments of the line magic `%memdiag LINE` -> (command, namespace).

    command is "" for a bare `%memdiag` (status) or one of LINE_COMMANDS; namespace is an argparse.Namespace of that
    command's arguments (trace: .policy; types: .n, an int >= 1; why: .expr, the rest of the line verbatim, which
    compiles as a Python expression; kernelspec: .malloc_debug, .prefix (str or None), .user). Raises UsageError on
    any mistake and HelpRequested on -h/--help.
    """
    text = line.strip()
    if not text:
        return "", argparse.Namespace()
    command, *rest = text.split(None, 1)
    rest = rest[0].strip() if rest else ""
    if command in ("-h", "--help"):
        raise HelpRequested()
    parser = LINE_COMMANDS.get(command)
    if parser is None:
        raise UsageError(f"{LINE}: unknown command {command!r} (one of: {', '.join(LINE_COMMANDS)})")
    if command == "why":  # an expression is Python, not shell words: it is not split, and quotes are kept
        tokens = [rest] if rest in ("-h", "--help") else ["--", rest] if rest else []
    else:
        tokens = _split(parser.prog, rest)
    return command, parser.parse_args(tokens)


def parse(line):
    """The arguments of the cell magic (the header line after `%%memdiag`) -> argparse.Namespace with .lines (bool),
    .funcs (list of str: expressions naming functions to profile line by line; any -f turns .lines on), .trace,
    .native, .workers and .valgrind (bool). Raises UsageError on any mistake, including --valgrind with --lines, -f,
    --native or --workers, and HelpRequested on -h/--help."""
    opts = CELL_PARSER.parse_args(_split(CELL, line))
    opts.funcs = opts.funcs or []
    opts.lines = opts.lines or bool(opts.funcs)
    if opts.valgrind and (opts.lines or opts.native or opts.workers):
        raise UsageError(f"{CELL}: --valgrind runs the cell in a separate interpreter: it cannot be combined with "
                         "--lines, -f, --native or --workers")
    return opts


def header(raw_cell):
    """(index, arguments) of a cell whose first non-blank line is `%%memdiag [arguments]`: index is that line's
    0-based number in the cell, arguments the rest of it (str). None for any other cell."""
    for index, text in enumerate((raw_cell or "").split("\n")):
        text = text.strip()
        if not text:
            continue
        if text == CELL or (text.startswith(CELL) and text[len(CELL)].isspace()):
            return index, text[len(CELL):]
        return None
    return None


def is_deep(raw_cell):
    """True for a `%%memdiag` cell (run in depth), whatever its arguments."""
    return header(raw_cell) is not None


def traces(raw_cell):
    """True when a `%%memdiag` cell runs under tracemalloc: always, but `--lines` (or -f) without `--trace`, which
    measures its lines on RSS so that the cell runs at nearly full speed. Bad arguments: True (the magic prints the
    usage; the run is traced as any %%memdiag cell)."""
    found = header(raw_cell)
    if found is None:
        return False
    try:
        opts = parse(found[1])
    except (UsageError, HelpRequested):
        return True
    return opts.trace or not opts.lines


def from_raw_cell(raw_cell):
    """The options of a `%%memdiag` cell (as `parse`), or None: not such a cell, or bad arguments or --help (the magic
    itself will print the usage)."""
    found = header(raw_cell)
    if found is None:
        return None
    try:
        return parse(found[1])
    except (UsageError, HelpRequested):
        return None


def body_offset(raw_cell):
    """How many lines of the cell come before the body of `%%memdiag` (its line 1 is the cell's line 1 + offset);
    1 when the cell has no `%%memdiag` header.

    IPython hands the cell magic its body without the blank lines that follow the header, so they count as before
    the body: `%%memdiag`, two blank lines, `x = ...` puts the body's line 1 on the cell's line 4 (offset 3).
    """
    found = header(raw_cell)
    if found is None:
        return 1
    lines = (raw_cell or "").split("\n")
    offset = found[0] + 1
    while offset < len(lines) - 1 and not lines[offset].strip():
        offset += 1
    return offset
