"""Bounded memory of what memdiag has seen: the reports (oldest first) and, per cell, the RSS of its recent runs.

A cell is keyed by its cell id, or by the hash of its source when the client sends no id (terminal IPython, old
frontends). Run records keep numbers only, never user objects.
"""
import hashlib
import threading
from collections import OrderedDict, deque

RUNS_KEPT = 16  # per cell: enough for a slope, small enough to not matter
CELLS_KEPT = 2000


def cell_key(cell_id, raw_cell):
    """The history's key of a cell: "id:<cell id>", or "src:<source_hash>" when the frontend sent no id."""
    if cell_id:
        return "id:" + cell_id
    return "src:" + source_hash(raw_cell)


def source_hash(raw_cell):
    """The first 16 hex digits of the SHA-1 of the cell's source (None counts as "")."""
    return hashlib.sha1((raw_cell or "").encode("utf-8", "surrogatepass")).hexdigest()[:16]


class History:
    """Thread-safe: the last `limit` reports (oldest first), the run records of each cell (RUNS_KEPT runs of the last
    CELLS_KEPT cells, numbers only) and the cells whose next run is to be traced."""

    def __init__(self, limit):
        self._lock = threading.Lock()
        self._reports = deque(maxlen=limit)
        self._runs = OrderedDict()
        self._trace_next = set()
        self._last_key = None

    def resize(self, limit):
        """Keep at most `limit` reports from now on (shrinking drops the oldest)."""
        with self._lock:
            if limit != self._reports.maxlen:
                self._reports = deque(self._reports, maxlen=limit)

    def start_run(self, key, start):
        """Register a run that starts with `start` ({"rss", "heap", "blocks", "cluster"}: the counters read before the
        cell; the dict itself is kept, so the caller may fill it after this call, and must not change it once the cell
        runs); returns (run number, earlier run records of this cell, oldest first).

        When the previous recorded cell was this same cell, its record gets `next` = this run's start: a re-run's
        growth is measured from one run's start to the next run's start, because a run's end still includes output in
        flight.
        """
        with self._lock:
            runs = self._runs.pop(key, None) or deque(maxlen=RUNS_KEPT)
            self._runs[key] = runs
            while len(self._runs) > CELLS_KEPT:
                self._runs.popitem(last=False)
            if runs and self._last_key == key:
                runs[-1]["next"] = start
            self._last_key = key
            number = runs[-1]["run"] + 1 if runs else 1
            runs.append({"run": number, "start": start})
            return number, [dict(r) for r in list(runs)[:-1]]

    def drop_run(self, key, number):
        """Forget run `number` of cell `key` when it was the last one registered (a cell memdiag skipped after all)."""
        with self._lock:
            runs = self._runs.get(key)
            if runs and runs[-1]["run"] == number:
                runs.pop()
                if runs:
                    runs[-1].pop("next", None)

    def finish_run(self, key, record):
        """Add what the verdict keeps of the current run (numbers and its kind: verdict.decide's `record`)."""
        with self._lock:
            runs = self._runs.get(key)
            if runs:
                runs[-1].update(record)

    def add_report(self, report):
        """Append a report; beyond the limit the oldest is dropped."""
        with self._lock:
            self._reports.append(report)

    def reports(self):
        """A new list of the kept reports, oldest first (the report dicts themselves, not copies)."""
        with self._lock:
            return list(self._reports)

    def last(self):
        """The newest report, or None."""
        with self._lock:
            return self._reports[-1] if self._reports else None

    def request_trace(self, key, wanted=True):
        """Mark `key` (unmark it with wanted=False) for tracing on its next run; the mark stays until unmarked. The
        recorder keys the frontend's explicit requests as "explicit:" + the cell's key."""
        with self._lock:
            (self._trace_next.add if wanted else self._trace_next.discard)(key)

    def trace_requested(self, key):
        """True while `key` is marked by request_trace."""
        with self._lock:
            return key in self._trace_next
