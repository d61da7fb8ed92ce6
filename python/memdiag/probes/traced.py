"""tracemalloc scoped to one cell: what the cell allocated and still holds, at the cell line that allocated it.

An allocation inside numpy or pandas is shown at the cell line that called it, with the library frame folded under it
(`via`): tracing keeps up to TRACE_FRAMES frames per allocation, enough to reach the cell through most library calls
(fewer for a cell that would take too long with them: each frame has a cost, see SLOWDOWN).
When no frame is in the cell (a function an earlier cell defined, a library stack deeper than the frames kept), the
innermost frame that is not the kernel's machinery is the site. Allocations of the machinery (IPython's output cache,
history and formatter, ipykernel's messages: machinery.py) are no site and don't count as the cell's `retained`, but
count in `retained_all`, everything Python allocated while the cell ran and still holds. memdiag's own and
tracemalloc's count nowhere.

Tracing slows the cell's own code (DESIGN.md, "Cost model"), so it runs only where it pays (deep mode, a suspected
cell, or policy `always`), started last before the cell and stopped first after it; the heap is never walked while
it runs. A user who traces on their own keeps their tracing: then we only read, never stop or clear.
"""
import linecache
import os
import sysconfig
import tempfile
import tracemalloc

from .. import cellargs, gcguard, machinery, protocol
from ..gcguard import RAW
from .native import malloc_trim

# Frames kept per allocation. 1 frame names only the innermost line (a pandas line, not the cell's). Each further frame
# costs a line-number lookup per allocation, which grows with the size of the function the frame is in, and right
# above a cell's frame are IPython's biggest (run_code, run_ast_nodes, run_cell_async). Measured on 3.11, ipykernel 7,
# 2026-11-29, wall time of the traced cell against the same cell untraced:
#   frames                                        1     2     3     4     5     8
#   `[str(i) for i in range(600_000)]` (65 ms)   12x   16x   29x   98x  220x  254x
#   pandas-heavy cell (DataFrame, concat, groupby, .str, merge, from_records; 0.18 s, CPU)
#                                                 4.9x  6.9x 13.5x   30x     -   75x
#   the same pandas work with its inputs built beforehand (0.16 s)
#                                                 2.9x  4.3x     -  14x      -   28x  (%%memdiag: 3.1x, 21x with 8)
# 8 frames reach the cell from DataFrame(), read_csv, .str, concat; groupby allocates 10-15 frames deep. So the depth
# is chosen per run, within a time budget, from what the cell's previous run took (SLOWDOWN: the worst case above).
TRACE_FRAMES = 8
SLOWDOWN = {8: 254, 4: 98, 3: 29, 2: 16, 1: 12}
# A cell traced on its first run (%%memdiag, or policy `always`) has no duration to go by yet: traced in full, so
# that what IPython does around it (the first traceback imports a dozen modules) is told apart from the cell's.
# Policy `suspect` traces re-runs only.
FIRST_FRAMES = TRACE_FRAMES
BUDGET_S = 10.0  # a policy-traced run should take about this long at most: 8 frames up to 39 ms, 3 up to 0.34 s
DEEP_BUDGET_S = 60.0  # %%memdiag: the user asked for depth
TOP_N = 5
MIN_SITE_BYTES = 1024
MIN_SITE_SHARE = 0.01
MAX_VIA = 3
# Whose an allocation is.
CELL, USER, IMPORT, KERNEL, OWN = "cell", "user", "import", "kernel", "own"


def before(ctx):
    """Before a traced run (ctx.trace): start tracemalloc with frames_for() frames per allocation. A user's own
    tracing is left alone (a line in report["errors"] says the run is not scoped to the cell)."""
    if not ctx.trace:
        return
    if tracemalloc.is_tracing():
        ctx.errors.append("traced: tracemalloc was already running (yours); not scoped to this cell")
        return
    shell = getattr(ctx.recorder, "shell", None)
    count = getattr(shell, "execution_count", None)
    ctx.trace_count = count if type(count) is int else None
    options = cellargs.from_raw_cell(ctx.raw_cell) if ctx.deep else None
    # Per-line memory needs tracemalloc's total, not its stacks: one frame (a third of the cost of eight).
    frames = 1 if options is not None and options.lines else frames_for(ctx.deep, previous_duration(ctx))
    ctx.trace_frames = frames
    ctx.tracing = True
    tracemalloc.start(frames)


def frames_for(deep, previous):
    """How many frames to trace: the most that keep the traced run within the budget, given what the cell took last
    time untraced (None: not known)."""
    if previous is None:
        return TRACE_FRAMES if deep else min(FIRST_FRAMES, TRACE_FRAMES)
    budget = DEEP_BUDGET_S if deep else BUDGET_S
    for frames in sorted(SLOWDOWN, reverse=True):
        if frames <= TRACE_FRAMES and previous * SLOWDOWN[frames] <= budget:
            return frames
    return 1


def previous_duration(ctx):
    """Seconds the previous run of this cell took, as if untraced (a traced run's duration divided by its SLOWDOWN);
    None when this is its first run (that we know)."""
    history = getattr(ctx.recorder, "history", None)
    reports = history.reports() if history is not None else []
    kind, _, value = ctx.key.partition(":")
    for report in reversed(reports):
        same = report.get("cell_id") == value if kind == "id" else \
            report.get("cell_id") is None and report.get("source_hash") == value
        if not same:
            continue
        duration = report.get("duration_s")
        if not isinstance(duration, (int, float)) or isinstance(duration, bool):
            return None
        traced = report.get("traced") or {}
        if traced.get("enabled"):
            duration /= SLOWDOWN.get(traced.get("frames") or 1, SLOWDOWN[1])
        return max(float(duration), 0.0)
    return None


def _cell_files(ctx):
    """Filenames under which IPython compiled this cell, by its text (when the compiler keeps no numbers)."""
    files = set()
    for name, entry in list(linecache.cache.items()):
        if isinstance(entry, tuple) and len(entry) == 4 and entry[3] == name and not os.path.exists(name):
            body = "".join(entry[2])
            if body and body.strip() and body.strip() in ctx.raw_cell:
                files.add(name)
    return files


class Cells:
    """The files IPython compiled cells under: this cell's (line numbers mapped to the editor) and earlier ones'."""

    def __init__(self, ctx):
        compiler = getattr(getattr(ctx.recorder, "shell", None), "compile", None)
        numbers = getattr(compiler, "_filename_map", None)  # IPython's CachingCompiler: filename -> In[n]
        self.numbers = numbers if isinstance(numbers, dict) else {}
        count = ctx.trace_count
        self.current = {name for name, n in list(self.numbers.items()) if n == count} if count is not None else set()
        if not self.current:
            self.current = _cell_files(ctx)
        # %%memdiag runs its body under a file of its own: the body's line 1 is the cell's line 1 + offset, and the
        # cell's own file is only the call of the magic. A deep run asked for by the frontend runs the cell as is.
        self.body = ctx.cell_file
        self.wrappers = set()
        if self.body is not None:
            # The cell line that called the magic, found from the magic's own frames: also when the execution count
            # did not name it (its allocations are the magic's dispatch, not the user's).
            self.wrappers = (self.current | ({ctx.cell_wrapper} if ctx.cell_wrapper else set())) - {self.body}
            self.current = {self.body}
        self.offset = ctx.cell_offset or 0
        self.unmapped = cellargs.body_offset(ctx.raw_cell) if ctx.raw_cell.lstrip().startswith("%%memdiag") else 0

    def is_cell(self, filename):
        """True for a file IPython compiled a cell under (this cell's or an earlier one's)."""
        if filename in self.numbers or filename in self.current:
            return True
        entry = linecache.cache.get(filename)  # terminal IPython and other front ends: cached source, no file
        return isinstance(entry, tuple) and len(entry) == 4 and entry[1] is None and entry[3] == filename \
            and filename.startswith(("<ipython-input-", os.path.join(_TMP, "ipykernel_")))

    def line(self, filename, lineno):
        """The line as the editor numbers it."""
        if filename == self.body:
            return lineno + self.offset
        if self.body is None and filename in self.current:
            return lineno + self.unmapped
        return lineno

    def label(self, filename):
        """"cell" for this cell's file, "In[n]" for an earlier cell's, else display_path(filename)."""
        if filename in self.current:
            return "cell"
        number = self.numbers.get(filename)
        return f"In[{number}]" if type(number) is int else display_path(filename)


_TMP = tempfile.gettempdir()  # where ipykernel names its cells' files
_STDLIB = sysconfig.get_paths().get("stdlib") or os.path.dirname(os.__file__)
_STDLIB_DIR = _STDLIB + os.sep
_SITE = os.sep + "site-packages" + os.sep


def display_path(filename):
    """A library file as a user reads it: `pandas/core/frame.py`, `json/encoder.py`; other paths capped."""
    for marker in ("site-packages" + os.sep, "dist-packages" + os.sep):
        at = filename.rfind(marker)
        if at >= 0:
            return protocol.short(filename[at + len(marker):])
    if filename.startswith(_STDLIB_DIR):
        return protocol.short(filename[len(_STDLIB_DIR):])
    return protocol.short(filename)


def _neutral(filename):
    # Code without a source file of its own (`<string>`, `<frozen abc>`, `<unknown>`): never a site.
    return not filename or filename.startswith("<")


def attribute(frames, cells, kind_of):
    """(owner, site, via) of one allocation; frames innermost first, as (filename, lineno).

    owner: CELL (a frame is in this cell: site is its innermost such line), OWN (memdiag or tracemalloc allocated it,
    even when called from the cell), USER (no frame in this cell, but one in an earlier cell's function, or library
    frames only), IMPORT (a module's top level run by an import nobody in sight asked for: the cell's, but no site),
    KERNEL (under the machinery, or nothing to tell). via: the innermost library frame below the site.
    """
    via = earlier = earlier_via = None
    kernel = imported = False
    for frame in frames:
        filename = frame[0]
        if filename in cells.current:
            return CELL, frame, via
        if filename in cells.wrappers:
            kernel = True
            continue
        kind = kind_of(filename)
        if kind is None:
            if _neutral(filename):
                continue
            if earlier is None and cells.is_cell(filename):
                earlier, earlier_via = frame, via
            if via is None:
                via = frame
        elif kind == machinery.KIND_OWN:
            return OWN, None, None
        elif kind == machinery.KIND_KERNEL:
            kernel = True
        elif kind == machinery.KIND_IMPORT:
            imported = True
    if earlier is not None:
        return USER, earlier, earlier_via
    if kernel or via is None:
        return KERNEL, None, None
    if imported:
        return IMPORT, None, None
    return USER, via, None


def _stitch(rows, cells):
    """Traces cut short (their stack was deeper than TRACE_FRAMES) that never reached the cell: join each to the cell
    line of a complete trace passing through the same frame as its outermost one (the same call of the same library
    function). rows: [owner, site, via, frames, size, count, truncated]; changed in place."""
    through = {}  # frame -> {cell line frame: bytes}, from traces that reached the cell
    for owner, site, _via, frames, size, _count, _cut in rows:
        if owner == CELL:
            for frame in frames:
                if frame is site:
                    break
                if not _neutral(frame[0]):
                    lines = through.setdefault(frame, {})
                    lines[site] = lines.get(site, 0) + size
    if not through:
        return
    for row in rows:
        owner, site, _via, frames, _size, _count, cut = row
        if owner != USER or not cut or not frames or cells.is_cell(site[0]):
            continue
        lines = through.get(frames[-1])
        if lines:
            row[0], row[1], row[2] = CELL, max(lines, key=lines.get), site


def _stdlib_only(frames):
    return all(_neutral(filename) or filename.startswith(_STDLIB_DIR) and _SITE not in filename
               for filename, _ in frames)


def _unplaced(rows):
    """A stack cut short in the standard library alone that was not joined to the cell (regular expressions compiled
    for a traceback's colours, a deep `copy.deepcopy`): whose it is cannot be told. It still counts, but names no
    site (`sre_parse.py:113` is nothing a user can act on)."""
    for row in rows:
        if row[0] == USER and row[6] and _stdlib_only(row[3]):
            row[1] = row[2] = None


def after(ctx):
    """After the cell, when memdiag started tracing: snapshot and stop tracemalloc, attribute each traced stack, then
    report["traced"] = {"enabled": True, "retained": bytes still held of what the run allocated, the kernel
    machinery's left out, "retained_all": the machinery's included, "top": the biggest sites (_top: [{"file",
    "line", "code", "size" (bytes), "count" (blocks), "in_cell", "via"}]), "overhead": bytes of tracemalloc's own
    tables, "frames": frames traced per allocation}. memdiag's own and tracemalloc's allocations count nowhere."""
    if not ctx.tracing:
        return
    ctx.tracing = False
    try:
        snapshot = tracemalloc.take_snapshot()
        own = tracemalloc.get_tracemalloc_memory()
    finally:
        tracemalloc.stop()
    # tracemalloc's own tables (~60 B per live block) were resident when RSS was read: not the cell's memory. Give
    # them back to the OS now, or the next run's `before` would carry them into the slope.
    depth = ctx.trace_frames
    malloc_trim()
    # One row per distinct stack (tracemalloc shares them): classifying costs a few lookups per frame of a distinct
    # stack, never a pass per live block in Python beyond the grouping itself.
    stats = snapshot.statistics("traceback")
    del snapshot
    cells = Cells(ctx)
    kind_of = machinery.file_kinds()
    rows = []
    for stat in stats:
        frames = tuple((frame.filename, frame.lineno) for frame in reversed(stat.traceback))  # innermost first
        owner, site, via = attribute(frames, cells, kind_of)
        # A full stack was probably cut short (a cell runs ~20 frames deep in a kernel).
        rows.append([owner, site, via, frames, stat.size, stat.count, len(frames) >= depth])
    del stats
    _stitch(rows, cells)
    _unplaced(rows)
    retained = retained_all = 0
    sites = {}
    for owner, site, via, _frames, size, count, _cut in rows:
        if owner == OWN:
            continue
        retained_all += size
        if owner == KERNEL:
            continue
        retained += size
        if site is None:
            continue
        entry = sites.get(site)
        if entry is None:
            entry = sites[site] = {"size": 0, "count": 0, "in_cell": owner == CELL, "via": {}}
        entry["size"] += size
        entry["count"] += count
        if via is not None:
            entry["via"][via] = entry["via"].get(via, 0) + size
    rows.clear()
    # Reading the snapshot leaves cyclic garbage of its own (800-900 blocks), promoted past the young generation by
    # the collections its allocations set off: collected now (with the gc frozen, only what is younger than the cell),
    # or the block count read next would charge it to the cell (a steady native leak was called one run late).
    if gcguard.may_collect(ctx.gc):
        RAW.collect()
    ctx.report["traced"] = {"enabled": True, "retained": retained, "retained_all": retained_all,
                            "top": _top(sites, cells, retained), "overhead": own, "frames": depth}


def _code(filename, lineno):
    return protocol.short(linecache.getline(filename, lineno).strip())


def _top(sites, cells, total):
    """At most TOP_N sites of at least MIN_SITE_BYTES and MIN_SITE_SHARE of the total: the cell's lines first."""
    floor = max(MIN_SITE_BYTES, total * MIN_SITE_SHARE)
    ranked = sorted(((not e["in_cell"], -e["size"], site) for site, e in sites.items() if e["size"] >= floor),
                    key=lambda r: r[:2])
    top = []
    for _, _, site in ranked[:TOP_N]:
        entry = sites[site]
        filename, lineno = site
        vias = sorted(entry["via"].items(), key=lambda v: v[1], reverse=True)[:MAX_VIA]
        top.append({
            "file": cells.label(filename),
            "line": cells.line(filename, lineno),
            "code": _code(filename, lineno),
            "size": entry["size"],
            "count": entry["count"],
            "in_cell": entry["in_cell"],
            "via": [{"file": cells.label(f), "line": cells.line(f, n), "code": _code(f, n), "size": s}
                    for (f, n), s in vias],
        })
    return top
