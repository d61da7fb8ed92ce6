"""The cell hooks: before/after every cell, run the probes under try/except, decide the verdict, keep and send the
report.

The recorder holds user objects only while `post_run_cell` works; a CellContext is dropped when the report is built.
Comm requests that need the heap (why) wait for the end of a running cell, because gc is frozen while a cell runs.
"""
import threading
import time
import tracemalloc

from . import cellargs, clusterverdict, gcguard, memray_probe, protocol, verdict
from .context import CellContext
from .probes import backrefs, census, cluster, cycles, heap, ipcache, native, rss, traced, variables
from .progress import Progress
from .runlog import History, cell_key, source_hash


def _trim_cluster_if_growing(ctx):
    # Before the cluster's verdict may call a leak: the workers give back the free memory their allocators keep.
    # (report["run"] is written after the probes: the run number is the context's.)
    if clusterverdict.should_trim(dict(ctx.report, run=ctx.run), ctx.previous_runs, ctx.recorder.config.as_dict()):
        cluster.trim_and_reread(ctx)


# The order matters: RSS and tracing are read before the other probes allocate; the census and the cycle collection
# need the gc still frozen; backrefs need it unfrozen and run last, for flagged cells only.
# memray (`%%memdiag --native`) is entered last and left first, so that it records the cell, not the probes.
# The allocators' in-use counters are read right after RSS, and after the cycle probe has freed the cell's garbage.
# The Dask workers are read first before the cell and last after it, so that the kernel's own figures leave out what
# a client.run round trip allocates in the kernel.
_BEFORE = (("cluster", cluster.before), ("variables", variables.before), ("imports", native.before),
           ("ipython", ipcache.before), ("gc", gcguard.enter), ("rss", rss.before), ("heap", heap.before),
           ("traced", traced.before), ("memray", memray_probe.before))
# The cyclic garbage is collected before tracemalloc's snapshot: a traced run of a cell that makes cycles retained
# none of them, though the snapshot, taken first, had them all alive (6.9 MB "retained" where the run kept nothing).
_AFTER_FROZEN = (("memray", memray_probe.after), ("rss", rss.after), ("cycles", cycles.after),
                 ("traced", traced.after), ("heap", heap.after), ("census", census.after))
_AFTER_THAWED = (("variables", variables.after), ("ipython", ipcache.after), ("census", variables.add_untracked_growth),
                 ("native", native.after), ("memray", memray_probe.merge), ("cluster", cluster.after),
                 ("cluster", _trim_cluster_if_growing))


# What the user reads while a step runs long (progress.py): (stage, text) by probe name.
_STAGES = {
    "traced": ("tracing", "memdiag: reading where this run allocated…"),
    "memray": ("native", "memdiag: reading memray's native allocations…"),
    "cycles": ("other", "memdiag: collecting the cell's cyclic garbage…"),
    "census": ("other", "memdiag: counting what the cell left…"),
    "native": ("other", "memdiag: comparing RSS with Python's allocations…"),
    "cluster": ("workers", "memdiag: reading the Dask workers…"),
    "verdict": ("leak-check", "memdiag: checking this re-run for a leak…"),
}


def _is_memdiag_line_magic(raw_cell):
    # `%memdiag types/growth/why` walk the whole heap: a frozen gc would hide it from them.
    return (raw_cell or "").lstrip().startswith("%memdiag")


def kernel_session(shell):
    """The id of the kernel's session (ipykernel's Session.session, new in each kernel process), or None without a
    kernel (terminal IPython)."""
    kernel = getattr(shell, "kernel", None)
    session = getattr(getattr(kernel, "session", None), "session", None)
    return session if isinstance(session, str) and session else None


def _only_memdiag_line_magics(raw_cell):
    """A cell that only asks memdiag something (`%memdiag`, `%memdiag types`, `%memdiag why x`): not the user's work,
    so it makes no report (what the magic itself allocates is memdiag's)."""
    lines = [line.strip() for line in (raw_cell or "").splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    # `%memdiag?` and `%%memdiag?` ask for the usage (IPython turns them into the pager, not the magic).
    lines = [line.rstrip("?").rstrip() if line.endswith("?") else line for line in lines]
    lines = ["%memdiag" if line == "%%memdiag" else line for line in lines]
    return bool(lines) and all(line == "%memdiag" or line.startswith(("%memdiag ", "%memdiag\t")) for line in lines)


def _count(value):
    return value if isinstance(value, int) else None


class Recorder:
    """The cell hooks of one shell: runs the probes around every cell, decides the verdict, keeps the reports
    (`history`) and hands each one to every `report_listeners` callable as listener(report, deep)."""

    def __init__(self, shell, config):
        self.shell = shell
        self.config = config
        self.history = History(config.history_limit)
        self.rss_reader = rss.RssReader()
        # heap.after's readings of the last default run, for the next cell's start (heap.carried_blocks), or None.
        self.last_heap = None
        # {"pid", "bytes"}: what the last recorded cell's malloc_trim gave back, for the next cell (native.after).
        self.last_trim = None
        self.memory_limit = rss.memory_limit()
        self.cluster_watch = cluster.Watch()
        self.lock = threading.RLock()
        self.report_listeners = []  # callables(report, deep): the comm bridge, the display of deep reports
        self.progress_listeners = []  # callables(progress message): the comm bridge (progress.py)
        self._ctx = None
        self._pending = []
        self._deep_next = set()  # cell ids whose next run is deep
        self._registered = False
        config.add_listener(self._on_config)

    # -- lifecycle ---------------------------------------------------------------------------------------------
    def register(self):
        """Register pre_run_cell and post_run_cell with the shell's events (once)."""
        if not self._registered:
            self.shell.events.register("pre_run_cell", self.pre_run_cell)
            self.shell.events.register("post_run_cell", self.post_run_cell)
            self._registered = True

    def unregister(self):
        """Remove the hooks, give back what a running cell's probes changed (gc, tracemalloc, memray), stop listening
        to the config and close the RSS reader's files."""
        if self._registered:
            for name, hook in (("pre_run_cell", self.pre_run_cell), ("post_run_cell", self.post_run_cell)):
                try:
                    self.shell.events.unregister(name, hook)
                except ValueError:
                    pass
            self._registered = False
        ctx, self._ctx = self._ctx, None
        if ctx is not None:
            self._release(ctx)
        self.config.remove_listener(self._on_config)
        self.rss_reader.close()

    def _on_config(self, values):
        self.history.resize(values["history_limit"])

    @property
    def in_cell(self):
        """True while a recorded cell runs (from its pre_run_cell to its post_run_cell)."""
        return self._ctx is not None

    def thaw_current(self, by=None):
        """Unfreeze the gc for the running cell (a heap-wide magic or gc call needs the whole heap: `by`, as the user
        wrote it, for the report's reason); its census is then skipped. Nothing outside a recorded cell."""
        gcguard.thaw(self._ctx, by)

    def current(self):
        """The running cell's context, or None: the cell magic adds its sections (lines, valgrind) to its report."""
        return self._ctx

    # -- hooks -------------------------------------------------------------------------------------------------
    def pre_run_cell(self, info):
        """IPython's pre_run_cell hook: start recording the cell (a CellContext) and run the before-probes in the order
        of _BEFORE, then register the run with the history.

        Not recorded: any cell while memdiag is off (unless it runs in depth), a cell of `%memdiag` line magics only,
        and a nested run_cell (the outer cell measures). A KeyboardInterrupt in the probes skips the cell.
        """
        t0 = time.perf_counter()
        raw = getattr(info, "raw_cell", "") or ""
        cell_id = getattr(info, "cell_id", None)
        cell_id = cell_id if isinstance(cell_id, str) and cell_id else None
        with self.lock:
            requested = cell_id is not None and cell_id in self._deep_next
            self._deep_next.discard(cell_id)
        deep = cellargs.is_deep(raw) or requested
        if not (self.config.enabled or deep) or _only_memdiag_line_magics(raw):
            # A cell ran unrecorded: the next one reads its own start (heap.carried_blocks), and any pages the last
            # trim gave back were this cell's to touch again.
            self.last_heap = self.last_trim = None
            return
        with self.lock:
            if self._ctx is not None:  # a nested run_cell: the outer cell owns the measurement
                return
            ctx = CellContext(self, cell_key(cell_id, raw), cell_id, raw, deep)
            ctx.gc.may_freeze = not _is_memdiag_line_magic(raw)
            policy = self.config.trace
            # A deep run traces, but `%%memdiag --lines` without --trace (lines on RSS, at nearly full speed).
            ctx.trace = (deep and (requested or cellargs.traces(raw))) or policy == "always" \
                or (policy != "off" and self.history.trace_requested(ctx.key)) \
                or self.history.trace_requested("explicit:" + ctx.key)
            # memdiag's own records of this run (the history's entry, the progress announcer) are made before the
            # gc is frozen, so that the census never counts them among the cell's survivors; the counters read
            # before the cell fill the entry afterwards.
            start = {}
            ctx.run, ctx.previous_runs = self.history.start_run(ctx.key, start)
            # The execution count is known from the cell's result (IPython's own counter moves at different times).
            ctx.progress = Progress(self.progress_listeners, cell_id, None)
            # When the cell started (wall clock, Unix seconds) and in which kernel process: a frontend orders a
            # history by the first and tells a restart by the second, even for reports it reads back from a saved
            # notebook.
            ctx.report["started_at"] = time.time()
            session = kernel_session(self.shell)
            if session is not None:
                ctx.report["kernel_session"] = session
            try:
                for name, step in _BEFORE:
                    ctx.attempt(name, step)
            except KeyboardInterrupt:
                # Landed in our hook, not in the cell (IPython runs the cell anyway): give the gc back, skip this cell.
                self.history.drop_run(ctx.key, ctx.run)
                self._release(ctx)
                return
            start.update(rss=ctx.rss_before, heap=ctx.heap_before, blocks=ctx.blocks_before,
                         cluster=ctx.cluster_marks)
            ctx.run_start = start
            self._ctx = ctx
        if ctx.trace:  # tracemalloc slows the cell itself: say so from its start
            ctx.progress.announce("tracing", "memdiag: diagnosing this cell in depth…" if deep
                                  else "memdiag: tracing this run (tracemalloc slows it)…")
        ctx.overhead = time.perf_counter() - t0
        ctx.t_start = time.perf_counter()

    def post_run_cell(self, result):
        """IPython's post_run_cell hook: run the after-probes, give the gc back, decide the verdict, keep the report
        (capped to protocol.MAX_REPORT_BYTES) in the history and pass it to every listener(report, deep) (their
        exceptions are ignored); then run the jobs that waited for the cell (when_idle). A KeyboardInterrupt during
        memdiag's own work keeps a partial report."""
        t_end = time.perf_counter()
        with self.lock:
            ctx, self._ctx = self._ctx, None
        if ctx is None:
            self._run_pending()
            return
        ctx.result = result
        ctx.progress.execution_count = _count(getattr(result, "execution_count", None))
        ctx.progress.start()
        try:
            report = self._build(ctx, result, t_end)
        except KeyboardInterrupt:
            # The cell had ended: the interrupt stops our work only; keep what was measured.
            report = self._partial(ctx, result, "interrupted: memdiag's post-cell work was cut short")
        finally:
            census.end_pass()  # begun by the census: nothing read of the user's objects outlives the pass
            ctx.progress.stop()
            self._release(ctx)
        self.history.add_report(report)
        for listener in list(self.report_listeners):
            try:
                listener(report, ctx.deep)
            except Exception:  # noqa: BLE001 - a closed comm must not break the cell
                pass
        del ctx
        self._run_pending()

    def _build(self, ctx, result, t_end):
        report = ctx.report
        try:
            # By index: a tuple's iterator, made after the gc was frozen, would be among the survivors the census counts
            # (a range's iterator is not tracked by the gc).
            for i in range(len(_AFTER_FROZEN)):
                name, step = _AFTER_FROZEN[i]
                self._stage(ctx, name)
                ctx.attempt(name, step)
            ctx.interesting = self._interesting(ctx)
            ctx.attempt("backrefs", census.keep_targets)
        finally:
            gcguard.restore(ctx)
        for name, step in _AFTER_THAWED:
            self._stage(ctx, name)
            ctx.attempt(name, step)
        info = getattr(result, "info", None)
        count = getattr(result, "execution_count", None)
        report.update({
            "cell_id": ctx.cell_id,
            "execution_count": count if isinstance(count, int) else int(self.shell.execution_count or 0),
            "run": ctx.run,
            "duration_s": round(max(t_end - ctx.t_start, 0.0), 6),
            "source_hash": source_hash(getattr(info, "raw_cell", ctx.raw_cell)),
            "mode": "deep" if ctx.deep else ("traced" if ctx.trace else "default"),
            "raised": bool(getattr(result, "error_in_exec", None) or getattr(result, "error_before_exec", None)),
        })
        if isinstance(getattr(result, "error_in_exec", None), KeyboardInterrupt):
            report["interrupted"] = True
        self._stage(ctx, "verdict")
        ctx.attempt("verdict", self._decide)
        if ctx.deep or any(f not in clusterverdict.FLAGS.values() for f in report["verdict"]["flags"]):
            kept = report["verdict"].get("bytes_per_run") or report.get("objects", {}).get("size") or 0
            ctx.progress.stage("backrefs", f"memdiag: finding what keeps {verdict.format_bytes(kept)} alive…"
                               if kept >= 1024 else "memdiag: finding what keeps the cell's objects alive…")
            ctx.attempt("backrefs", backrefs.after)
        report["errors"] = ctx.errors[:20]
        report["overhead_s"] = 999999.999999  # as long as the figure can be: the capped report stays under its cap
        report = protocol.cap_report(report)
        # Everything memdiag did for this cell, capping the report included.
        report["overhead_s"] = round(ctx.overhead + (time.perf_counter() - t_end), 6)
        return report

    @staticmethod
    def _stage(ctx, name):
        if name in _STAGES and (name != "traced" or ctx.tracing):
            ctx.progress.stage(*_STAGES[name])

    def _partial(self, ctx, result, why):
        report = ctx.report
        count = getattr(result, "execution_count", None)
        report.update({"cell_id": ctx.cell_id, "run": ctx.run, "mode": "deep" if ctx.deep else "default",
                       "execution_count": count if isinstance(count, int) else int(self.shell.execution_count or 0),
                       "errors": ctx.errors[:19] + [why]})
        return protocol.cap_report(report)

    def _interesting(self, ctx):
        """Cheap signs that this cell may be flagged, so its biggest new objects are kept for the backrefs."""
        report, cfg = ctx.report, self.config
        grew = max(verdict.run_growth(report), verdict.held_unseen(report))
        return (ctx.deep or ctx.trace or grew >= cfg.leak_bytes_per_run
                or report["objects"].get("size", 0) >= cfg.retain_bytes or bool(report["gc"]["cycles"]))

    def _decide(self, ctx):
        cfg = self.config.as_dict()
        outcome = verdict.decide(ctx.report, ctx.previous_runs, cfg)
        ctx.report["verdict"] = outcome.verdict
        record = dict(outcome.record, traced=ctx.trace)
        try:
            record["cluster"] = clusterverdict.apply(ctx.report, ctx.previous_runs, cfg)
        except Exception as exc:  # noqa: BLE001 - the kernel's verdict stands whatever the cluster's does
            ctx.errors.append(protocol.short(f"cluster: verdict: {protocol.type_name(exc)}: {exc}"))
        self.history.finish_run(ctx.key, record)
        self.history.request_trace(ctx.key, outcome.suspect)
        self.history.request_trace("explicit:" + ctx.key, False)

    def _release(self, ctx):
        """Undo everything `before` changed, whatever happened; drop every object the probes held."""
        try:
            memray_probe.release(ctx)
            gcguard.restore(ctx)
            cluster.release(ctx)
        finally:
            if ctx.tracing and tracemalloc.is_tracing():
                tracemalloc.stop()
            ctx.tracing = False
            ctx.release()

    # -- requests from the comm --------------------------------------------------------------------------------
    def when_idle(self, job):
        """Run `job()` now, or right after the running cell when one runs (gc is frozen then)."""
        with self.lock:
            if self._ctx is not None:
                self._pending.append(job)
                return
            job()  # under the lock, so a cell cannot freeze the gc halfway through

    def _run_pending(self):
        with self.lock:
            jobs, self._pending = self._pending, []
        for job in jobs:
            try:
                job()
            except Exception:  # noqa: BLE001 - each job replies on its own
                pass

    def deep_next(self, cell_id):
        """The next run of this cell is diagnosed in depth, as if it started with %%memdiag (the frontend's
        "Diagnose this cell", which must not rewrite the cell's source)."""
        with self.lock:
            self._deep_next.add(cell_id)

    def trace_next(self, cell_id):
        """The frontend's request: trace the next run of the cell `cell_id` with tracemalloc whatever the policy (even
        "off"); the request is dropped once that run's verdict is decided."""
        self.history.request_trace("explicit:" + cell_key(cell_id, ""))
