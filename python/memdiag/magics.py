"""%memdiag and %%memdiag. Their arguments are declared once, in cellargs: the parsers there read what the user
typed and make the usage that `%memdiag?`, `-h`/`--help` and every mistake print, never a traceback."""
import ast
import functools
import sys
import time
import uuid

from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand

from . import cellargs, display, inspect_heap, lines, memray_probe, protocol, valgrind
from .cellargs import USAGE, HelpRequested, UsageError
from .verdict import format_bytes


def _calling_cell(shell):
    """The file IPython compiled the cell under whose line `get_ipython().run_cell_magic('memdiag', ...)` runs this
    magic (the nearest caller frame in a cell's file), or None."""
    files = getattr(getattr(shell, "compile", None), "_filename_map", None)
    if not isinstance(files, dict):
        return None
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_filename in files:
            return frame.f_code.co_filename
        frame = frame.f_back
    return None


# `%memdiag` commands that look at the whole heap: a running cell's freeze would hide it from them (gcguard.thaw).
_HEAP_WIDE = frozenset({"types", "growth", "why", "cycles"})

# Top-level statements that `%%memdiag --lines` follows line by line (the others are measured whole).
_COMPOUND = tuple(getattr(ast, name) for name in ("For", "AsyncFor", "While", "If", "With", "AsyncWith", "Try",
                                                  "TryStar", "Match") if hasattr(ast, name))


def show_deep_report(report, deep):
    """Report listener: a %%memdiag cell shows its report inline (post_run_cell still has the cell as parent)."""
    if deep:
        display.show(report)


@magics_class
class MemdiagMagics(Magics):
    """The `%memdiag` line magic and the `%%memdiag` cell magic, one function: see cellargs.USAGE."""

    def __init__(self, shell, recorder, config):
        super().__init__(shell)
        self.recorder = recorder
        self.settings = config
        self._growth_baseline = None

    @line_cell_magic
    @no_var_expand  # `why` takes a Python expression: `{...}` and `$x` are the user's, not IPython's to expand
    def memdiag(self, line, cell=None):  # noqa: D102 - the docstring is set below the class
        # The docstring, shown by `%memdiag?` and `%%memdiag?`, is set below the class from cellargs.USAGE.
        try:
            if cell is not None:
                opts = cellargs.parse(line)
                if opts.valgrind:
                    return self._valgrind(cell)
                return self._run_body(cell, opts)
            return self._line(line)
        except HelpRequested:
            print(USAGE)
        except UsageError as exc:
            print(f"{exc}\n\n{USAGE}")
        return None

    # -- line magic --------------------------------------------------------------------------------------------
    def _line(self, line):
        command, args = cellargs.parse_line(line)
        if command in _HEAP_WIDE:
            self.recorder.thaw_current(f"%memdiag {command}")
        if command == "":
            print(self._status())
        elif command in ("on", "off"):
            self.settings.update({"enabled": command == "on"})
            print(f"memdiag: per-cell snapshots {command}")
        elif command == "trace":
            self.settings.update({"trace": args.policy})
            print(f"memdiag: tracing policy {args.policy}")
        elif command == "types":
            print(inspect_heap.format_types(inspect_heap.most_common_types(args.n)))
        elif command == "growth":
            rows, self._growth_baseline = inspect_heap.growth(self._growth_baseline)
            print(inspect_heap.format_growth(rows))
        elif command == "why":
            try:
                result = inspect_heap.why(self.shell, args.expr)
            except ValueError as exc:
                print(f"memdiag: {exc}")
                return None
            print(inspect_heap.format_why(result))
        elif command == "cycles":
            print(inspect_heap.format_cycles(inspect_heap.cycles_now()))
        elif command == "kernelspec":
            path = inspect_heap.install_malloc_debug_kernelspec(user=args.user, prefix=args.prefix)
            print(f"memdiag: installed kernelspec 'memdiag-malloc-debug' (PYTHONMALLOC=debug) in {path}")
        return None

    def _status(self):
        cfg = self.settings.as_dict()
        def size(n):  # as the settings take them (MiB), then in the units reports use (decimal MB)
            return f"{n / 2**20:g} MiB ({format_bytes(n)})"

        lines = [
            f"memdiag {'on' if cfg['enabled'] else 'off'}, tracing {cfg['trace']}, history {cfg['history_limit']}",
            f"thresholds: retains {size(cfg['retain_bytes'])}, leak {size(cfg['leak_bytes_per_run'])}/run over "
            f"{cfg['leak_runs']} re-runs, cycles {cfg['cycle_objects']} objects or {size(cfg['cycle_bytes'])}, "
            f"native {size(cfg['native_bytes'])}",
        ]
        recent = self.recorder.history.reports()[-5:]
        for report in recent:
            lines.append(f"  In[{report['execution_count']}] run {report['run']}: {report['verdict']['kind']} - "
                         f"{report['verdict']['reason']}")
        if not recent:
            lines.append("  no cell recorded yet")
        return "\n".join(lines)

    # -- cell magic --------------------------------------------------------------------------------------------
    def _run_body(self, body, opts):
        """Run the cell's body as IPython would (last expression is the result), untouched and line-mapped.

        The depth itself (tracing, gc held off, backrefs, memray) is the recorder's, entered in pre_run_cell; per-line
        tracing is entered here, around the body only, and always removed.
        """
        shell = self.shell
        ctx = self.recorder.current()
        funcs, deferred = self._functions(opts.funcs)
        if opts.native and memray_probe.load() is None:
            print(memray_probe.MISSING)
        if opts.workers and (ctx is None or ctx.cluster_client is None):
            print("memdiag: --workers: no dask.distributed Client is active in this kernel (or it could not be read: "
                  "see the report); the cell runs without tracing on workers.")
        transformed = shell.transform_cell(body)
        filename = shell.compile.cache(transformed, shell.execution_count, raw_code=body)
        tree = ast.parse(transformed, filename=filename)
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        code = shell.compile(tree, filename, "exec")
        last_code = shell.compile(last, filename, "eval") if last is not None else None
        offset = cellargs.body_offset(ctx.raw_cell) if ctx is not None else 1
        if ctx is not None:
            ctx.cell_file, ctx.cell_offset = filename, offset
            ctx.cell_wrapper = _calling_cell(shell)
        if not opts.lines:
            return self._exec(code, last_code)
        # One code object per top-level statement, as IPython runs a cell (simple statements that share a line, `a =
        # f(); del b`, together): the profiler measures a simple one whole, with no tracer.
        groups = []
        for node in tree.body:
            if groups and not isinstance(node, _COMPOUND) and not isinstance(groups[-1][-1], _COMPOUND) \
                    and node.lineno == groups[-1][-1].end_lineno:
                groups[-1].append(node)
            else:
                groups.append([node])
        statements = [(group[0], shell.compile(ast.Module(group, type_ignores=[]), filename, "exec"))
                      for group in groups]
        reader = self.recorder.rss_reader
        profiler = lines.LineProfiler(reader.rss, filename,
                                      [c for _, c in statements] + [c for c in (last_code,) if c],
                                      transformed.splitlines(), offset, funcs, deferred,
                                      high_water=(reader.high_water, reader.reset_peak))
        ns = (shell.user_global_ns, shell.user_ns)
        try:
            with profiler:
                for node, stmt in statements:
                    profiler.run(stmt, node.lineno, isinstance(node, _COMPOUND), functools.partial(exec, stmt, *ns))
                if last_code is not None:
                    return profiler.run(last_code, last.body.lineno, False, functools.partial(eval, last_code, *ns))
                return None
        finally:
            if ctx is not None:
                ctx.peak_floor = max(ctx.peak_floor, profiler.peak_floor)
            self._add_lines(ctx, profiler)

    def _exec(self, code, last_code):
        shell = self.shell
        exec(code, shell.user_global_ns, shell.user_ns)
        if last_code is not None:
            return eval(last_code, shell.user_global_ns, shell.user_ns)  # noqa: S307 - the user's own expression
        return None

    def _functions(self, exprs):
        """Code objects of the -f functions; a plain name not defined yet is looked for when the cell defines it."""
        codes, deferred = [], []
        for expr in exprs:
            try:
                value = eval(expr, self.shell.user_global_ns, self.shell.user_ns)  # noqa: S307 - the user's own
            except NameError:
                if expr.isidentifier():
                    deferred.append(expr)
                    continue
                raise UsageError(f"{cellargs.CELL} -f {expr}: no such function") from None
            except Exception as exc:  # noqa: BLE001
                reason = f"{type(exc).__name__}: {protocol.short(str(exc), 120)}"
                raise UsageError(f"{cellargs.CELL} -f {expr}: {reason}") from None
            code = lines.code_of(value)
            if code is None:
                raise UsageError(f"{cellargs.CELL} -f {expr}: not a Python function ({protocol.type_name(value)})")
            codes.append(code)
        return codes, deferred

    def _add_lines(self, ctx, profiler):
        rows = profiler.rows()
        if ctx is None:  # a nested run: no report of our own to add to
            print("\n".join(lines.summary_lines({"lines": rows, "lines_basis": profiler.basis})))
            return
        ctx.report["lines"] = rows
        ctx.report["lines_backend"] = profiler.backend_name
        ctx.report["lines_basis"] = profiler.basis
        if profiler.error:
            ctx.errors.append(protocol.short(f"lines: {profiler.error}"))

    # -- %%memdiag --valgrind ----------------------------------------------------------------------------------
    def _valgrind(self, body):
        """Run the body alone in a fresh interpreter under memcheck; its leaks go into this cell's report."""
        if valgrind.find() is None:
            print(valgrind.MISSING)
            return None
        transformed = self.shell.transform_cell(body)
        if transformed.strip() != body.strip():
            print("memdiag: --valgrind runs the cell in plain Python: IPython syntax (magics, !commands) cannot run "
                  "there.")
            return None
        progress = _Progress(self.shell)
        progress.show("valgrind: starting a fresh interpreter under memcheck (PYTHONMALLOC=malloc); the cell runs "
                      "there alone, not in this kernel")
        try:
            section = valgrind.run(body, progress=lambda s: progress.show(
                f"valgrind: running for {s:.0f} s (memcheck slows Python down 20-50x)"))
        except KeyboardInterrupt:
            progress.show("valgrind: interrupted, stopped")
            raise
        progress.show(f"valgrind: finished in {section['duration_s']:.1f} s, exit code {section['exit_code']}",
                      final=True)
        if section["exit_code"] != 0 and section.get("output"):
            print(section["output"], file=sys.stderr)
        ctx = self.recorder.current()
        if ctx is not None:
            ctx.report["valgrind"] = section
        else:
            print("\n".join(valgrind.summary_lines({"valgrind": section})))
        return None


MemdiagMagics.memdiag.__doc__ = f"""Diagnose memory: the kernel's heap now (%memdiag), or one cell in depth (%%memdiag).

{USAGE}
"""


class _Progress:
    """A line of progress: one display updated in place in a notebook, lines of text in terminal IPython."""

    def __init__(self, shell):
        self.in_kernel = getattr(shell, "kernel", None) is not None
        self.display_id = uuid.uuid4().hex
        self.shown = False
        self.printed_at = None

    def show(self, text, final=False):
        if not self.in_kernel:
            now = time.monotonic()
            if final or self.printed_at is None or now - self.printed_at >= 10:
                print(text, flush=True)
                self.printed_at = now
            return
        from IPython.display import display, update_display

        bundle = {"text/plain": text}
        if self.shown:
            update_display(bundle, raw=True, display_id=self.display_id)
        else:
            display(bundle, raw=True, display_id=self.display_id)
            self.shown = True
