"""The options of `%%memdiag`, parsed by hand so that every mistake becomes a usage message, never a traceback.

Shared by the cell magic and by the cell hooks (`--native` is entered in pre_run_cell, before the magic runs).
"""
import shlex


class UsageError(Exception):
    pass


class CellOptions:
    __slots__ = ("lines", "funcs", "valgrind", "native")

    def __init__(self):
        self.lines = False
        self.funcs = []  # expressions naming functions to profile line by line (-f, repeatable)
        self.valgrind = False
        self.native = False


def parse(line):
    """`--lines [-f FUNC]... | --native | --valgrind` -> CellOptions; UsageError on anything else."""
    try:
        args = shlex.split(line)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    opts = CellOptions()
    at = 0
    while at < len(args):
        arg = args[at]
        if arg == "--lines":
            opts.lines = True
        elif arg == "--native":
            opts.native = True
        elif arg == "--valgrind":
            opts.valgrind = True
        elif arg in ("-f", "--function"):
            if at + 1 >= len(args) or args[at + 1].startswith("-"):
                raise UsageError(f"{arg} needs a function, e.g. %%memdiag --lines -f my_function")
            at += 1
            opts.funcs.append(args[at])
            opts.lines = True
        else:
            raise UsageError(f"%%memdiag does not know {arg!r}")
        at += 1
    if opts.valgrind and (opts.lines or opts.native):
        raise UsageError("--valgrind runs the cell in a separate interpreter: it cannot be combined with "
                         "--lines or --native")
    return opts


def from_raw_cell(raw_cell):
    """The options of a cell that starts with `%%memdiag`, or None (not such a cell, or bad arguments: the magic
    itself will print the usage)."""
    first = (raw_cell or "").lstrip().split("\n", 1)[0]
    if not first.startswith("%%memdiag"):
        return None
    rest = first[len("%%memdiag"):]
    if rest and not rest[0].isspace():
        return None
    try:
        return parse(rest)
    except UsageError:
        return None


def body_offset(raw_cell):
    """How many lines of the cell come before the body of `%%memdiag` (its line 1 is the cell's line 1 + offset)."""
    for index, text in enumerate((raw_cell or "").split("\n")):
        if text.lstrip().startswith("%%memdiag"):
            return index + 1
    return 1
