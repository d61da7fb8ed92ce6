"""The state of one recorded cell, from `pre_run_cell` to the report: one typed field per thing a probe measures or
hands to another probe. No IPython import.

User objects (Out[n], survivors kept as backref targets, memray's tracker) live here only while `post_run_cell`
works: `release()` drops them whatever happened, so memdiag never keeps a user's data alive.
"""
from . import protocol


def _message(exc):
    # str() of an exception that came out of user code is user code too.
    try:
        return protocol.safe_repr(str(exc), 150)
    except Exception:  # noqa: BLE001
        return "(no message)"


class GcState:
    """How the cell found the gc and what memdiag changed, so that everything is given back as found (gcguard)."""

    __slots__ = ("may_freeze", "enabled", "debug", "user_frozen", "collected_before", "collections_before", "frozen",
                 "held_off", "report_before", "thawed_by")

    def __init__(self):
        self.may_freeze = True  # False for a cell whose heap-wide magics must see the whole heap
        self.enabled = True  # gc.isenabled() before the cell
        self.debug = 0  # gc.get_debug() before the cell
        self.user_frozen = False  # the user's own gc.freeze() holds (the census is then skipped)
        self.collected_before = None  # objects the collector had freed when the cell started (gcguard.collected)
        self.collections_before = None  # collections of each generation run when the cell started (gcguard)
        self.frozen = False  # memdiag froze the gc before the cell and has not unfrozen it yet
        self.held_off = False  # deep mode disabled automatic collections during the cell
        self.report_before = {}  # {section: id(value)} of the report when the gc was frozen (census._own_sections)
        self.thawed_by = None  # what the cell ran that needed the whole heap ("gc.collect()"), when it thawed it


class CellContext:
    """One cell on its way through the probes (recorder.py runs them in order; each reads and writes its fields).

    Units: bytes for memory, seconds for time, counts for objects and blocks.
    """

    __slots__ = (
        "recorder", "key", "cell_id", "raw_cell", "deep", "trace", "run", "previous_runs", "report", "errors",
        "overhead", "t_start", "gc",
        # recorder.py: the history's entry for this run (census.py leaves it out: memdiag's own)
        "run_start",
        # rss.py, heap.py: counters read just before the cell starts
        "rss_before", "peak_marker", "heap_before", "blocks_before", "blocks_carried",
        # magics.py (--lines): the highest RSS mark read before the line profiler reset it (bytes)
        "peak_floor",
        # native.py: len(sys.modules) before the cell (what it imported is not its retention); the modules an import
        # cell imported, () for any other cell (None until read: native.imported)
        "modules_before", "imported",
        # variables.py: {name: (id, length)} before the cell, {name: bytes} of the values only their name held (sized
        # on an earlier run); (name, status, items added) of changed names after it; ids of the values whose bytes a
        # name's delta counted (ipcache.py: an Out[n] that is one of them adds nothing)
        "names", "names_sole", "names_changed", "named_ids",
        # census.py -> variables.py: ids of the tracked values new names hold that the cell did not make
        # (`t = module.TABLE`); empty when unknown
        "older_values",
        # ipcache.py: lengths of IPython's result caches before the cell; the cell's Out[n] value
        "cache_lens", "out_value", "untracked_namespaces",
        # (type, bytes) of untracked values the cell bound (names, Out[n]): no census lists them
        "untracked",
        # recorder.py -> census.py: the ExecutionResult IPython passed to post_run_cell (its event's argument tuple is
        # the kernel's, probes/leftovers.py)
        "result",
        # census.py -> backrefs.py: the biggest survivors' types, the sampled survivors, the candidate targets kept
        # (ranked by census.rank_targets when the chains are searched), whether to keep any
        "census_types", "candidates", "targets", "interesting",
        # recorder.py: the announcer of long post-cell work (progress.py)
        "progress",
        # variables.py, census.keep_targets, backrefs.py: {id(obj): (obj, bytes)} of census.held_size, asked once
        "sizes",
        # traced.py: tracing started by memdiag for this cell, tracemalloc's trace count before it, frames traced
        "tracing", "trace_count", "trace_frames",
        # magics.py (%%memdiag body) -> traced.py, memray_probe.py: the body's compiled file name and line offset, and
        # the file of the cell line that called the magic (its allocations are the magic's, never a site)
        "cell_file", "cell_offset", "cell_wrapper",
        # memray_probe.py: (tracker, tmpdir, path) while recording, (tmpdir, path) once the capture is complete
        "memray", "memray_capture",
        # probes/cluster.py: the Dask client while the cell runs, the workers' readings before it ({address: dict}),
        # their {address: {"unmanaged", "managed"}} for the run log, tracing started on them (--workers), what went
        # wrong on the way, seconds spent before the cell
        "cluster_client", "cluster_before", "cluster_marks", "cluster_tracing", "cluster_errors", "cluster_cost",
    )

    def __init__(self, recorder, key, cell_id, raw_cell, deep):
        self.recorder = recorder
        self.key = key  # runlog.cell_key: "id:<cell id>" or "src:<source hash>"
        self.cell_id = cell_id
        self.raw_cell = raw_cell
        self.deep = deep  # %%memdiag, or "Diagnose This Cell" from the frontend
        self.trace = False  # tracemalloc on for this run
        self.run = 1  # the nth run of this cell (1-based)
        self.previous_runs = []  # runlog records of this cell's earlier runs, oldest first
        self.report = protocol.empty_report()
        self.errors = []  # "probe: Type: message" lines for report["errors"]
        self.overhead = 0.0  # seconds memdiag spent before the cell
        self.t_start = 0.0  # perf_counter when the cell's own code started
        self.gc = GcState()
        self.rss_before = 0
        self.peak_marker = None
        self.peak_floor = 0
        self.heap_before = None  # glibc's in-use bytes (None where unavailable)
        self.blocks_before = None  # sys.getallocatedblocks()
        self.blocks_carried = False  # blocks_before is the previous cell's reading (heap.carried_blocks)
        self.modules_before = None
        self.imported = None
        self.names = None
        self.names_sole = None
        self.names_changed = []
        self.named_ids = set()
        self.older_values = frozenset()
        self.cache_lens = None
        self.untracked_namespaces = []  # the kernel's containers untracked before the cell (probes/ipcache.py)
        self.out_value = None
        self.untracked = []
        self.result = None
        self.census_types = []
        self.candidates = []
        self.targets = []
        self.interesting = False
        self.progress = None
        self.sizes = {}
        self.tracing = False
        self.trace_count = None
        self.trace_frames = 1
        self.cell_file = None
        self.cell_offset = None
        self.cell_wrapper = None
        self.memray = None
        self.memray_capture = None
        self.cluster_client = None
        self.cluster_before = None
        self.cluster_marks = None
        self.cluster_tracing = False
        self.cluster_errors = []
        self.cluster_cost = 0.0
        # The history's entry for this run ({"rss", "heap", "blocks", "cluster"}): made before the freeze, but tracked
        # by the gc only once the cluster's readings (a dict) go in, after it: memdiag's own, never a survivor.
        self.run_start = None

    def attempt(self, name, step):
        """Run one probe step; a failure becomes a line of the report, never an exception in the user's cell."""
        try:
            step(self)
        except Exception as exc:  # noqa: BLE001
            self.errors.append(protocol.short(f"{name}: {protocol.type_name(exc)}: {_message(exc)}"))

    def release(self):
        """Drop every user object the probes held (the report keeps numbers and strings only)."""
        self.names = None
        self.names_sole = None
        self.names_changed = []
        self.named_ids = set()
        self.older_values = frozenset()
        self.out_value = None
        self.untracked = []
        self.result = None
        self.census_types = []
        self.candidates = []
        self.targets = []
        self.sizes = {}
        self.memray = None
        self.memray_capture = None
        self.cluster_client = None
        self.cluster_before = None
        self.run_start = None
