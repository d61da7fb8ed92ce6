"""Memory per line (`%%memdiag --lines [-f FUNC]`): increment and peak of each line of the cell and of chosen functions.

The increment of a line is what the memory grew by from the moment the line started until the next line of the same
frame started (what the calls it made kept counts towards it, like memory_profiler). The basis is tracemalloc's traced
total when tracing is on (a %%memdiag cell always traces): exact to the byte for Python-level allocations and not fooled
by allocator retention; RSS otherwise. RSS per line is kept beside it, because native allocations only show there.
The peak of a line is how far above its starting point the traced memory went while it ran (loops: the highest run).

Only the frames of the chosen code objects are followed: sys.monitoring local events on 3.12+, else a sys.settrace
tracer that returns None for every other frame. The cell's source is never changed, and tracing is always removed.
`LineProfiler.backend_name` says which one ran ("sys.monitoring" or "sys.settrace").
"""
import linecache
import sys
import threading
import tracemalloc
import types

from . import protocol

MAX_ROWS = 100  # a report stays small: the lines with the largest increments or peaks are kept
CODE_CHARS = 120


class _Open:
    """One running frame of a followed code object and the line it is on."""
    __slots__ = ("code", "key", "start", "start_rss", "peak", "peak_seen")

    def __init__(self, code):
        self.code = code
        self.key = None
        self.start = self.start_rss = self.peak = 0
        self.peak_seen = False  # on the RSS basis: the line's own high-water mark was read (LineProfiler.run)


class LineStats:
    """The accounting, independent of how line events arrive.

    stats: {(code, lineno): [hits, increment, peak, rss_increment, peak known]}, in bytes: increment and peak on
    tracemalloc's traced total when tracing was on when the profiler was made, else on RSS (`rss()`, bytes; the peak
    is known only where the line's high-water mark was read); rss_increment on RSS.
    """

    def __init__(self, rss):
        self.rss = rss
        self.traced = tracemalloc.is_tracing()
        self.stats = {}  # (code, lineno) -> [hits, increment, peak, rss_increment, peak known]
        self.open = []

    def _now(self):
        if self.traced:
            current, peak = tracemalloc.get_traced_memory()
            return current, peak
        current = self.rss()
        return current, current

    def _close(self, state):
        current, peak = self._now()
        rss_now = self.rss()
        for other in self.open:  # every open line saw this peak, callers included
            if peak > other.peak:
                other.peak = peak
        if state.key is not None:
            row = self.stats.get(state.key)
            if row is None:
                row = self.stats[state.key] = [0, 0, 0, 0, self.traced]
            row[0] += 1
            row[1] += current - state.start
            row[2] = max(row[2], state.peak - state.start)
            row[3] += rss_now - state.start_rss
            row[4] = row[4] or state.peak_seen
            state.key = None
            state.peak_seen = False

    def _start(self, state, key):
        state.key = key
        if self.traced:
            tracemalloc.reset_peak()
        state.start, state.peak = self._now()
        state.start_rss = self.rss()

    def enter(self, code):
        """A frame of `code` starts: returns its state, handed back to line() and leave()."""
        state = _Open(code)
        self.open.append(state)
        return state

    def line(self, state, lineno):
        """The frame reached `lineno`: close the line it was on (hits, increment, peak) and start this one."""
        self._close(state)
        self._start(state, (state.code, lineno))

    def leave(self, state):
        """The frame returned, yielded or unwound: close its line; the caller's line keeps the peak."""
        self._close(state)
        if state in self.open:
            self.open.remove(state)
        # the caller's line goes on: the peak stays folded into it
        if self.traced:
            tracemalloc.reset_peak()

    def finish(self):
        """Close every frame still open (the profiler stopped while they ran)."""
        while self.open:
            self.leave(self.open[-1])


class _FrameTracer:
    """The local tracer of one frame (a bound method, not a closure: a closure returning itself is a cycle).
    `on_return`: called when the frame returns (or None)."""
    __slots__ = ("stats", "state", "on_return")

    def __init__(self, stats, state, on_return=None):
        self.stats = stats
        self.state = state
        self.on_return = on_return

    def trace(self, frame, event, arg):
        if event == "line":
            self.stats.line(self.state, frame.f_lineno)
        elif event == "return":
            self.stats.leave(self.state)
            if self.on_return is not None:
                self.on_return()
        return self.trace


# A global tracer in C that follows no frame: CPython calls it as f(frame, "call", None) for every frame that starts
# (a generator resumed included), and getattr(frame, "call", None) is None, so no frame gets a local tracer. While a
# cell's own frame runs, its nested calls cost a C call each instead of a Python one (a generator expression resumed
# 200,000 times: 2.3x the loop's time with a Python tracer, 1.7x with this one; a simple top-level statement runs with
# no tracer at all, see LineProfiler.run); the frame's own tracer, set when it started, still gets its line events.
_IGNORE_CALLS = getattr


class _SettraceBackend:
    """sys.settrace (before 3.12). With the cell's code objects only to follow (no -f), the global tracer is swapped
    for _IGNORE_CALLS while one of them runs, and back when it returns, so that the next one (the cell's last
    expression) is caught."""
    name = "sys.settrace"

    def __init__(self, stats, targets, deferred, cell_file, follow_calls=True):
        self.stats = stats
        self.targets = targets
        self.deferred = deferred
        self.cell_file = cell_file
        self.quiet = not follow_calls and not deferred
        self.previous = None
        self.started = False

    def _wanted(self, code):
        if code in self.targets:
            return True
        if code.co_name in self.deferred and code.co_filename == self.cell_file:
            self.targets.add(code)
            return True
        return False

    def _global(self, frame, event, arg):
        if event != "call" or not self._wanted(frame.f_code):
            return None
        if not self.quiet:
            return _FrameTracer(self.stats, self.stats.enter(frame.f_code)).trace
        sys.settrace(_IGNORE_CALLS)
        return _FrameTracer(self.stats, self.stats.enter(frame.f_code), self._rearm).trace

    def _rearm(self):
        if sys.gettrace() is _IGNORE_CALLS:
            sys.settrace(self._global)

    def start(self):
        self.previous = sys.gettrace()
        if self.previous is not None:
            raise RuntimeError("another tracer (a debugger?) is active: --lines needs sys.settrace")
        self.started = True
        sys.settrace(self._global)

    def stop(self):
        if self.started:
            self.started = False
            sys.settrace(self.previous)


class _MonitoringBackend:
    """sys.monitoring (3.12+): events only for the followed code objects, nothing for any other frame."""
    name = "sys.monitoring"

    def __init__(self, stats, targets, deferred, cell_file, follow_calls=True):
        self.stats = stats
        self.targets = targets
        self.deferred = deferred
        self.cell_file = cell_file
        self.thread = threading.get_ident()
        self.tool = None
        self.frames = []  # open states, innermost last

    def _local_events(self):
        E = sys.monitoring.events
        return E.PY_START | E.PY_RESUME | E.LINE | E.PY_RETURN | E.PY_YIELD

    def _follow(self, code):
        self.targets.add(code)
        sys.monitoring.set_local_events(self.tool, code, self._local_events())

    def _on_start(self, code, offset):
        if threading.get_ident() != self.thread:
            return None
        if code not in self.targets:
            if self.deferred and code.co_name in self.deferred and code.co_filename == self.cell_file:
                self._follow(code)
            else:
                return sys.monitoring.DISABLE
        self.frames.append(self.stats.enter(code))
        return None

    def _on_line(self, code, lineno):
        if threading.get_ident() != self.thread or not self.frames or self.frames[-1].code is not code:
            return None
        self.stats.line(self.frames[-1], lineno)
        return None

    def _on_leave(self, code, offset, value):
        if threading.get_ident() != self.thread or code not in self.targets:
            return None
        for index in range(len(self.frames) - 1, -1, -1):
            if self.frames[index].code is code:
                state = self.frames.pop(index)
                self.stats.leave(state)
                break
        return None

    def start(self):
        mon = sys.monitoring
        for tool in (mon.PROFILER_ID, 3, 4, 5, mon.OPTIMIZER_ID):
            if mon.get_tool(tool) is None:
                self.tool = tool
                break
        else:
            raise RuntimeError("every sys.monitoring tool id is in use")
        mon.use_tool_id(self.tool, "memdiag")
        E = mon.events
        for event, callback in ((E.PY_START, self._on_start), (E.PY_RESUME, self._on_start),
                                (E.LINE, self._on_line), (E.PY_RETURN, self._on_leave),
                                (E.PY_YIELD, self._on_leave), (E.PY_UNWIND, self._on_leave)):
            mon.register_callback(self.tool, event, callback)
        # PY_UNWIND is global only: it is how a frame left by an exception is closed.
        mon.set_events(self.tool, E.PY_UNWIND | (E.PY_START if self.deferred else 0))
        for code in list(self.targets):
            sys.monitoring.set_local_events(self.tool, code, self._local_events())

    def stop(self):
        mon = sys.monitoring
        if self.tool is None:
            return
        try:
            mon.set_events(self.tool, 0)
            for code in self.targets:
                mon.set_local_events(self.tool, code, 0)
            for event in (mon.events.PY_START, mon.events.PY_RESUME, mon.events.LINE, mon.events.PY_RETURN,
                          mon.events.PY_YIELD, mon.events.PY_UNWIND):
                mon.register_callback(self.tool, event, None)
        finally:
            mon.free_tool_id(self.tool)
            self.tool = None


CO_OPTIMIZED = 0x1  # a function's code; a class body's code lacks it


def _nested_qualnames(code, qualname, found, depth=0):
    """Qualified names of the code objects nested in `code` (whose own is `qualname`), as the compiler gives them:
    `f.<locals>.g` inside a function, `C.m` inside a class body."""
    if depth > 20:
        return
    prefix = f"{qualname}.<locals>." if code.co_flags & CO_OPTIMIZED else (f"{qualname}." if qualname else "")
    for const in code.co_consts:
        if type(const) is types.CodeType and const not in found:
            found[const] = prefix + const.co_name
            _nested_qualnames(const, found[const], found, depth + 1)


def qualnames(codes, cell_codes):
    """{code: qualified name} for code objects without co_qualname (3.10): nested in the cell's code, or found as a
    function (or a method of a class) of the module loaded from the code's file or of the user's namespace
    (`__main__`: functions and classes of earlier cells), and the code nested in those."""
    found = {}
    for code in cell_codes:
        _nested_qualnames(code, "", found)
    wanted = {code.co_filename for code in codes if code not in found}
    if not wanted:
        return found
    main = sys.modules.get("__main__")
    for module in list(sys.modules.values()):
        mdict = getattr(module, "__dict__", None) if type(module) is types.ModuleType else None
        if type(mdict) is not dict or (module is not main and mdict.get("__file__") not in wanted):
            continue
        for value in list(mdict.values()):
            for func in _functions_in(value):
                qual = func.__qualname__
                if isinstance(qual, str) and func.__code__ not in found:
                    found[func.__code__] = qual
                    _nested_qualnames(func.__code__, qual, found)
    return found


def _functions_in(value):
    """Plain functions a module attribute holds: itself, or a class's functions, static and class methods and property
    accessors (read from the class's own __dict__, by exact types: no descriptor or metaclass code runs)."""
    if type(value) is types.FunctionType:
        return [value]
    if not isinstance(value, type):
        return []
    out = []
    for member in list(type.__dict__["__dict__"].__get__(value).values()):
        if type(member) in (staticmethod, classmethod):
            member = member.__func__
        if type(member) is property:
            out += [f for f in (member.fget, member.fset, member.fdel) if type(f) is types.FunctionType]
        elif type(member) is types.FunctionType:
            out.append(member)
    return out


def code_of(value):
    """The code object of a Python function (methods, functools.wraps-decorated and partial functions included),
    followed through __wrapped__, __func__ and .func up to 20 levels; None when there is none."""
    seen = 0
    while seen < 20:
        seen += 1
        code = getattr(value, "__code__", None)
        if code is not None and hasattr(code, "co_filename"):
            return code
        for attr in ("__wrapped__", "__func__", "func"):
            inner = getattr(value, attr, None)
            if inner is not None:
                value = inner
                break
        else:
            return None
    return None


class LineProfiler:
    """Follows the cell's own code objects and the -f functions while the cell runs (a context manager whose
    `run` executes the cell's top-level statements one by one, as IPython does).

    A simple top-level statement is measured from its start to its end with no tracer at all: the cell runs at full
    speed. A compound one (a loop, with, if, try, match) runs under the backend, line by line. With -f functions to
    follow, the backend runs from start to end, since any statement may call them."""

    def __init__(self, rss, cell_file, cell_codes, body_lines, offset, funcs=(), deferred=(), high_water=None):
        self.high_water = high_water  # (read, reset) of the RSS high-water mark (rss.RssReader), or None
        self.peak_floor = 0  # the highest mark read before a reset: the cell's own peak is at least this
        self.cell_file = cell_file
        self.cell_codes = set(cell_codes)
        self.body_lines = body_lines
        self.offset = offset
        self.stats = LineStats(rss)
        targets = set(self.cell_codes) | set(funcs)
        backend = _MonitoringBackend if hasattr(sys, "monitoring") else _SettraceBackend
        self.follow_calls = bool(funcs or deferred)
        self.backend = backend(self.stats, targets, set(deferred), cell_file, follow_calls=self.follow_calls)
        self.error = None

    @property
    def backend_name(self):
        """"sys.monitoring" (3.12+) or "sys.settrace": how line events reach the profiler."""
        return self.backend.name

    @property
    def basis(self):
        """What increments and peaks are measured on: "tracemalloc" (traced bytes) or "rss" (resident bytes)."""
        return "tracemalloc" if self.stats.traced else "rss"

    def __enter__(self):
        if self.follow_calls:
            self._start_backend()
        return self

    def _start_backend(self):
        try:
            self.backend.start()
            return True
        except (RuntimeError, ValueError) as exc:
            self.error = str(exc)
            self.backend.stop()
            return False

    def run(self, code, lineno, compound, call):
        """Run one top-level statement of the cell, `call()` (which executes `code`, starting on body line
        `lineno`), and return what it returns. Simple statements, and every statement once the backend could not
        start, are measured as one line; compound ones are followed line by line."""
        if self.error is None and self.follow_calls:
            return call()  # the backend follows everything already
        if self.error is None and compound and self._start_backend():
            try:
                return call()
            finally:
                self.backend.stop()
        state = self.stats.enter(code)
        self.stats.line(state, lineno)
        marked = self._mark_peak()
        try:
            return call()
        finally:
            if marked:
                high = self.high_water[0]()
                self.peak_floor = max(self.peak_floor, high or 0)
                if high is not None:
                    state.peak, state.peak_seen = max(state.peak, high), True
            self.stats.leave(state)

    def _mark_peak(self):
        """On the RSS basis, start a new high-water mark for one statement (the old one kept in peak_floor)."""
        if self.stats.traced or self.high_water is None:
            return False
        read, reset = self.high_water
        high = read()
        if high is None:
            return False
        self.peak_floor = max(self.peak_floor, high)
        reset()
        return True

    def __exit__(self, *exc):
        try:
            self.backend.stop()
        finally:
            self.stats.finish()
        return False

    @staticmethod
    def _func_name(code, names):
        name = getattr(code, "co_qualname", None) or names.get(code, code.co_name)  # co_qualname: 3.11+
        return protocol.short(name, 120)

    def rows(self):
        """One dict per line that ran: {"line", "code", "increment" (bytes), "peak" (bytes above the line's start;
        on the RSS basis the high-water mark of a top-level simple statement, None for the lines of a loop or other
        compound statement), "rss_increment" (bytes), "hits"}, plus "func" and "file" ("cell" for a function the
        cell defines) for a function's lines. Cell lines are numbered as the editor shows them; "code" keeps the line's
        indentation under a loop or block, less what all the shown lines of its function (or of the cell) share. At
        most MAX_ROWS (the largest increments and peaks); the cell's lines first, then each function's, in line
        order."""
        rows = []
        codes = {code for code, _ in self.stats.stats}
        names = {} if all(hasattr(code, "co_qualname") for code in codes) else qualnames(codes, self.cell_codes)
        for (code, lineno), (hits, increment, peak, rss_increment, known) in self.stats.stats.items():
            row = {"increment": increment, "peak": max(peak, 0) if known else None,
                   "rss_increment": rss_increment, "hits": hits}
            if code.co_filename == self.cell_file:  # the cell's lines, and functions this very cell defines
                text = self.body_lines[lineno - 1] if 0 < lineno <= len(self.body_lines) else ""
                row.update(line=lineno + self.offset, code=text.rstrip())
                if code not in self.cell_codes:
                    row.update(func=self._func_name(code, names), file="cell")
            else:
                text = linecache.getline(code.co_filename, lineno)
                row.update(line=lineno, code=text.rstrip(),
                           func=self._func_name(code, names), file=protocol.short(code.co_filename))
            rows.append(row)
        if len(rows) > MAX_ROWS:
            rows.sort(key=lambda r: abs(r["increment"]) + (r["peak"] or 0), reverse=True)
            del rows[MAX_ROWS:]
        # the cell's lines first, then each function's lines in order
        rows.sort(key=lambda r: ("func" in r, r.get("file", ""), r.get("func", ""), r["line"]))
        _dedent(rows)
        return rows


def _dedent(rows):
    """Strip from each row's code the indentation all rows of its function (or of the cell) share, then cap it."""
    groups = {}
    for row in rows:
        groups.setdefault((row.get("file"), row.get("func")), []).append(row)
    for group in groups.values():
        indents = [len(r["code"]) - len(r["code"].lstrip()) for r in group if r["code"].strip()]
        cut = min(indents) if indents else 0
        for row in group:
            row["code"] = protocol.short(row["code"][cut:] if row["code"].strip() else "", CODE_CHARS)


def summary_lines(report):
    """Text for terminal IPython and text/plain: the per-line table."""
    rows = report.get("lines")
    if not rows:
        return []
    from .verdict import format_bytes

    out = [f"Memory per line ({report.get('lines_basis', 'tracemalloc')}):"]
    current = None
    for row in rows:
        owner = row.get("func")
        if owner != current:
            current = owner
            if owner:
                out.append(f"  {owner} ({row.get('file', '')}):")
        peak = row.get("peak")
        peak_text = f"  peak {format_bytes(peak)}" if peak else ""
        out.append(f"  {row['line']:>5}  {format_bytes(row['increment']):>10}{peak_text}  {row['code']}")
    return out
