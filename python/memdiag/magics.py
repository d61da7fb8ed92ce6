"""%memdiag and %%memdiag. Arguments are parsed by hand so that every mistake prints the usage, never a traceback."""
import ast
import shlex

from IPython.core.magic import Magics, line_cell_magic, magics_class

from . import display, inspect_heap
from .settings import TRACE_POLICIES

USAGE = """\
Usage:
  %memdiag                          status: mode, thresholds, recent verdicts
  %memdiag on | off                 per-cell snapshots
  %memdiag trace off|suspect|always tracemalloc policy (default suspect)
  %memdiag types [-n 20]            most common live types now
  %memdiag growth                   growth since the previous call
  %memdiag why EXPR                 refcount, referrers, backref chain
  %memdiag cycles                   cyclic garbage right now
  %memdiag kernelspec --malloc-debug [--prefix P | --user]
  %%memdiag                         run this cell in depth and show its report"""


class UsageError(Exception):
    pass


def show_deep_report(report, deep):
    """Report listener: a %%memdiag cell shows its report inline (post_run_cell still has the cell as parent)."""
    if deep:
        display.show(report)


def _int_option(args, flag, default):
    if flag not in args:
        return default, args
    at = args.index(flag)
    if at + 1 >= len(args) or not args[at + 1].isdigit() or int(args[at + 1]) < 1:
        raise UsageError(f"{flag} needs a positive integer")
    return int(args[at + 1]), args[:at] + args[at + 2:]


@magics_class
class MemdiagMagics(Magics):
    def __init__(self, shell, recorder, config):
        super().__init__(shell)
        self.recorder = recorder
        self.settings = config
        self._growth_baseline = None

    @line_cell_magic
    def memdiag(self, line, cell=None):
        try:
            if cell is not None:
                if line.strip():
                    raise UsageError(f"%%memdiag takes no arguments here: {line.strip()!r}")
                return self._run_body(cell)
            return self._line(line)
        except UsageError as exc:
            print(f"memdiag: {exc}\n{USAGE}")
        return None

    # -- line magic --------------------------------------------------------------------------------------------
    def _line(self, line):
        try:
            args = shlex.split(line)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        if not args:
            print(self._status())
            return None
        command, rest = args[0], args[1:]
        if command in ("on", "off") and not rest:
            self.settings.update({"enabled": command == "on"})
            print(f"memdiag: per-cell snapshots {command}")
        elif command == "trace" and len(rest) == 1 and rest[0] in TRACE_POLICIES:
            self.settings.update({"trace": rest[0]})
            print(f"memdiag: tracing policy {rest[0]}")
        elif command == "types":
            limit, rest = _int_option(rest, "-n", 20)
            if rest:
                raise UsageError("types takes only -n N")
            self.recorder.thaw_current()
            print(inspect_heap.format_types(inspect_heap.most_common_types(limit)))
        elif command == "growth" and not rest:
            self.recorder.thaw_current()
            rows, self._growth_baseline = inspect_heap.growth(self._growth_baseline)
            print(inspect_heap.format_growth(rows))
        elif command == "why":
            expr = line.strip()[len("why"):].strip()
            if not expr:
                raise UsageError("why needs an expression, e.g. %memdiag why df")
            self.recorder.thaw_current()
            try:
                result = inspect_heap.why(self.shell, expr)
            except ValueError as exc:
                print(f"memdiag: {exc}")
                return None
            print(inspect_heap.format_why(result))
        elif command == "cycles" and not rest:
            self.recorder.thaw_current()
            print(inspect_heap.format_cycles(inspect_heap.cycles_now()))
        elif command == "kernelspec":
            self._kernelspec(rest)
        else:
            raise UsageError(f"unknown or incomplete command: {line.strip()!r}")
        return None

    def _status(self):
        cfg = self.settings.as_dict()
        mb = 1024 * 1024
        lines = [
            f"memdiag {'on' if cfg['enabled'] else 'off'}, tracing {cfg['trace']}, history {cfg['history_limit']}",
            f"thresholds: retains {cfg['retain_bytes'] // mb} MiB, leak {cfg['leak_bytes_per_run'] // mb} MiB/run over "
            f"{cfg['leak_runs']} re-runs, cycles {cfg['cycle_objects']} objects or {cfg['cycle_bytes'] // mb} MiB, "
            f"native {cfg['native_bytes'] // mb} MiB",
        ]
        recent = self.recorder.history.reports()[-5:]
        for report in recent:
            lines.append(f"  In[{report['execution_count']}] run {report['run']}: {report['verdict']['kind']} - "
                         f"{report['verdict']['reason']}")
        if not recent:
            lines.append("  no cell recorded yet")
        return "\n".join(lines)

    def _kernelspec(self, rest):
        if "--malloc-debug" not in rest:
            raise UsageError("kernelspec needs --malloc-debug")
        rest = [a for a in rest if a != "--malloc-debug"]
        user, prefix = False, None
        if rest == ["--user"]:
            user = True
        elif len(rest) == 2 and rest[0] == "--prefix":
            prefix = rest[1]
        elif rest:
            raise UsageError("kernelspec takes either --user or --prefix P")
        path = inspect_heap.install_malloc_debug_kernelspec(user=user, prefix=prefix)
        print(f"memdiag: installed kernelspec 'memdiag-malloc-debug' (PYTHONMALLOC=debug) in {path}")

    # -- cell magic --------------------------------------------------------------------------------------------
    def _run_body(self, body):
        """Run the cell's body as IPython would (last expression is the result), untouched and line-mapped.

        The depth itself (tracing, gc held off, backrefs) is the recorder's, entered in pre_run_cell.
        """
        shell = self.shell
        transformed = shell.transform_cell(body)
        filename = shell.compile.cache(transformed, shell.execution_count, raw_code=body)
        tree = ast.parse(transformed, filename=filename)
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        exec(shell.compile(tree, filename, "exec"), shell.user_global_ns, shell.user_ns)
        if last is not None:
            return eval(shell.compile(last, filename, "eval"), shell.user_global_ns, shell.user_ns)
        return None
