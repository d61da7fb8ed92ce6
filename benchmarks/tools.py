"""The per-cell memory tools compared by benchmarks/run.py, each driven the way a user drives it in IPython.

A tool is switched on and off between measurement blocks and may rewrite the cell (a cell magic) or add work after it
(the naive triage). Every tool runs in the same InteractiveShell as the user's cell; nothing is simulated except where
a peer does not install (then the tool is reported as unavailable, never replaced by a guess).
"""
import gc
import os


class Tool:
    name = "none"
    label = "no tool"
    available = True
    why_unavailable = ""

    def __init__(self, shell):
        self.shell = shell

    def enable(self):
        pass

    def disable(self):
        pass

    def code(self, cell):
        return cell

    def after(self):
        pass

    def close(self):
        self.disable()


class Memdiag(Tool):
    """memdiag loaded with a tracing policy (default mode = policy `suspect`), or every cell run as `%%memdiag`.

    The extension is loaded once per tool, so the first run of a cell is its run 1 (it may pay for a backref walk) and
    later runs are re-runs; between blocks only its two cell hooks are taken off the shell, so the baseline runs
    without any memdiag code in the cell's path while its history survives.
    """

    def __init__(self, shell, name, label, policy="suspect", deep=False):
        super().__init__(shell)
        self.name, self.label, self.policy, self.deep = name, label, policy, deep
        self.loaded = False

    def _hooks(self):
        import memdiag

        rec = memdiag._state["recorder"]
        return (("pre_run_cell", rec.pre_run_cell), ("post_run_cell", rec.post_run_cell))

    def enable(self):
        import memdiag

        if not self.loaded:
            self.shell.extension_manager.load_extension("memdiag")
            memdiag.config.update({"trace": self.policy, "enabled": True})
            self.loaded = True
        else:
            for event, hook in self._hooks():
                self.shell.events.register(event, hook)

    def disable(self):
        if self.loaded:
            for event, hook in self._hooks():
                self.shell.events.unregister(event, hook)

    def code(self, cell):
        return "%%memdiag\n" + cell if self.deep else cell

    def history(self):
        import memdiag

        return memdiag.history()

    def close(self):
        if self.loaded:  # unload takes the hooks off (tolerating hooks already off) and restores the gc
            self.shell.extension_manager.unload_extension("memdiag")
            self.loaded = False


class Naive(Tool):
    """What a user runs after each cell without memdiag: a full collection, then objgraph's type growth."""

    name, label = "naive", "naive gc.collect + objgraph.growth"

    def __init__(self, shell):
        super().__init__(shell)
        import objgraph

        self.objgraph = objgraph
        self.primed = False

    def enable(self):
        if not self.primed:
            self.objgraph.growth(limit=10)  # its baseline
            self.primed = True

    def after(self):
        gc.collect()
        self.objgraph.growth(limit=10)


class IpythonMemoryUsage(Tool):
    """The real ipython_memory_usage (`%load_ext ipython_memory_usage`, `%imu_start` / `%imu_stop`): pre/post hooks
    around a thread that samples RSS (memory_profiler, psutil) every millisecond while the cell runs."""

    name, label = "imu", "ipython_memory_usage"

    def __init__(self, shell):
        super().__init__(shell)
        try:
            shell.run_line_magic("load_ext", "ipython_memory_usage")
            import ipython_memory_usage  # noqa: F401
        except Exception as exc:  # noqa: BLE001
            self.available, self.why_unavailable = False, f"{type(exc).__name__}: {exc}"

    def enable(self):
        self.shell.run_line_magic("imu_start", "")

    def disable(self):
        self.shell.run_line_magic("imu_stop", "")


class Memit(Tool):
    """memory_profiler's `%%memit` (its cell form: the body is measured; it collects garbage first and samples RSS
    from a helper process while the body runs)."""

    name, label = "memit", "memory_profiler %%memit"

    def __init__(self, shell):
        super().__init__(shell)
        try:
            shell.run_line_magic("load_ext", "memory_profiler")
        except Exception as exc:  # noqa: BLE001
            self.available, self.why_unavailable = False, f"{type(exc).__name__}: {exc}"

    def code(self, cell):
        return "%%memit -q\n" + cell


class Memray(Tool):
    """memray's `%%memray_flamegraph` (tracks every allocation of the cell, then writes and displays a flame graph)."""

    name, label = "memray", "memray %%memray_flamegraph"

    def __init__(self, shell, workdir):
        super().__init__(shell)
        self.workdir, self.cwd = workdir, os.getcwd()
        try:
            shell.run_line_magic("load_ext", "memray")
        except Exception as exc:  # noqa: BLE001
            self.available, self.why_unavailable = False, f"{type(exc).__name__}: {exc}"

    def enable(self):
        self.cwd = os.getcwd()
        os.chdir(self.workdir)  # it writes memray-results/ into the working directory

    def disable(self):
        os.chdir(self.cwd)

    def code(self, cell):
        return "%%memray_flamegraph\n" + cell


def all_tools(shell, workdir):
    return [
        Memdiag(shell, "memdiag", "memdiag default (trace suspect)"),
        Memdiag(shell, "memdiag_always", "memdiag trace always", policy="always"),
        Memdiag(shell, "memdiag_deep", "memdiag deep %%memdiag", deep=True),
        Naive(shell),
        IpythonMemoryUsage(shell),
        Memit(shell),
        Memray(shell, workdir),
    ]
