"""Say when memdiag works longer: a `progress` message while its post-cell work on one cell runs past DELAY_S.

Most cells cost memdiag a few milliseconds and say nothing. Tracing a run, searching what keeps 20 MB alive, reading
the workers of a cluster can take a second; the user then sees only `[*]`. A timer thread (the cell's own thread is
busy with that work; one daemon thread serves every cell) sends {"type": "progress", "cell_id", "execution_count",
"stage", "text", "elapsed_s"} once the work has lasted DELAY_S seconds, and again when it moves to another stage; the
cell's report ends it. A traced run is said at its start: tracemalloc slows the cell itself.

No IPython import: the recorder passes the senders (the comm bridge's) and the stages.
"""
import threading
import time

DELAY_S = 0.3  # post-cell work shorter than this is never announced
POLL_S = DELAY_S  # while cells keep coming, the timer thread looks this often (seconds)
LINGER_S = 5.0  # and goes on looking this long after the last cell (seconds), then sleeps until woken
STAGES = ("tracing", "backrefs", "leak-check", "lines", "native", "workers", "other")


def message(cell_id, execution_count, stage, text, elapsed_s):
    """The progress message as sent on the comm: {"type": "progress", "cell_id": str|None, "execution_count":
    int|None, "stage": one of STAGES, "text": str, "elapsed_s": float (seconds since memdiag's work began)}."""
    return {"type": "progress", "cell_id": cell_id, "execution_count": execution_count,
            "stage": stage if stage in STAGES else "other", "text": text, "elapsed_s": round(elapsed_s, 3)}


# A lock's own acquire and release, called unbound: the timer thread's waits make no object the gc tracks. Condition
# .wait(timeout) makes a tuple of its arguments and `with` a bound __exit__, which sat on the thread's stack while a
# cell's census ran: a `tuple` row (True and the timeout as its payload) under every cell that came after a pause of
# LINGER_S; a bound method (`lock.acquire(timeout=...)` on 3.10) would be another.
_LOCK_TYPE = type(threading.Lock())
_acquire = _LOCK_TYPE.acquire
_release = _LOCK_TYPE.release


class _Watcher:
    """One daemon thread for every cell's timer: arming it per cell costs a lock, not a thread start (~0.3 ms, and
    more on a loaded machine), and most often not a wake-up either.

    Waking the thread cost about 0.13 ms of memdiag's time per cell: the woken thread takes the GIL from the cell's
    own thread in the middle of memdiag's post-cell work (measured on `make bench`'s allocation-heavy cell at 5M
    objects, alternating in one process).
    So while cells keep coming the thread does not sleep until woken: it looks every POLL_S seconds, and an arm is
    only noted, to be seen at the next look, which comes before the arm's deadline. LINGER_S seconds after the last
    arm it sleeps until woken again: an idle kernel has no thread waking up.

    Two plain locks, no Condition: `_state` guards the fields; `_bell`, held while no one has rung, is what the thread
    sleeps on (acquire with a timeout) and what _ring releases. A ring before the thread sleeps is kept until it
    does.
    """

    def __init__(self):
        self._state = threading.Lock()
        self._bell = threading.Lock()
        _acquire(self._bell)
        self._armed = None  # (progress, deadline on perf_counter)
        self._thread = None
        # When the thread's present sleep ends (perf_counter seconds), None while it sleeps until woken. An arm
        # whose deadline is not before it needs no wake-up.
        self._wakes_at = None
        self._last_arm = 0.0

    def start(self):
        """Start the thread now if it is not running (it sleeps until armed): started by a cell's first arm, its
        objects (the thread, its lock's deque, its excepthook closure) were that cell's survivors to the census."""
        with self._state:
            self._start()

    def _start(self):
        if self._thread is None or not self._thread.is_alive():
            self._wakes_at = None
            self._thread = threading.Thread(target=self._run, name="memdiag-progress", daemon=True)
            self._thread.start()
            return True
        return False

    def _ring(self):
        """Under _state: wake the thread (or have its next sleep end at once)."""
        if self._bell.locked():
            _release(self._bell)

    def arm(self, progress, deadline):
        """Call progress._fire() at `deadline` (perf_counter seconds) unless disarmed before."""
        with self._state:
            self._armed = (progress, deadline)
            self._last_arm = time.perf_counter()
            if not self._start() and (self._wakes_at is None or self._wakes_at > deadline):
                self._ring()

    def disarm(self, progress):
        """Forget `progress` if it is the one armed."""
        with self._state:
            if self._armed is not None and self._armed[0] is progress:
                self._armed = None

    def armed(self):
        """(progress, deadline) armed now, or None."""
        return self._armed

    def _run(self):
        state, bell = self._state, self._bell
        while True:
            due = None
            _acquire(state)
            try:
                now = time.perf_counter()
                if self._armed is None:
                    sleep = POLL_S if now - self._last_arm < LINGER_S else None
                elif self._armed[1] > now:
                    sleep = self._armed[1] - now  # then re-read: disarmed, re-armed or due
                else:
                    due, self._armed = self._armed[0], None
                    sleep = 0.0
                # Until when it sleeps (None: until rung); awake while it fires: an arm meanwhile is seen as it loops.
                self._wakes_at = None if sleep is None else now + sleep
            finally:
                _release(state)
            if due is not None:
                due._fire()
                due = None
            else:
                _acquire(bell, timeout=-1 if sleep is None else sleep)


_WATCHER = _Watcher()


def start():
    """Start the timers' thread ahead of the first cell (session.load)."""
    _WATCHER.start()


class Progress:
    """The announcer of one cell's post-cell work. `senders`: callables(message) (exceptions ignored).

    start() arms the timer; stage(name, text) says what is being done now (sent at once when the work was already
    announced, else when the timer fires); stop() disarms it. Thread-safe: the timer runs on its own thread."""

    def __init__(self, senders, cell_id, execution_count, delay_s=None):
        self._senders = list(senders)
        self._cell_id = cell_id
        self.execution_count = execution_count  # None until the cell's result gives it
        self._delay = DELAY_S if delay_s is None else delay_s
        self._lock = threading.Lock()
        self._current = ("other", "memdiag: measuring this cell…")
        self._said = None  # the (stage, text) last sent
        self._t0 = time.perf_counter()
        self._stopped = False

    def start(self):
        """Arm the timer (nothing is sent before delay_s seconds, nor at all when no one listens); with a delay of 0,
        say the current stage now, and every later one as it starts."""
        if not self._senders:
            return
        self._t0 = time.perf_counter()
        if self._delay <= 0:  # announce every step at once
            self._send()
            return
        _WATCHER.arm(self, self._t0 + self._delay)

    def stage(self, name, text):
        """The work now under way: `name` one of STAGES, `text` what the user reads ("memdiag: finding what keeps
        20 MB alive…")."""
        with self._lock:
            self._current = (name, text)
            announced = self._said is not None and not self._stopped
        if announced:
            self._send()

    def announce(self, name, text):
        """Say it now, whatever the time (a traced run starts: the cell itself runs slower); its elapsed_s counts
        from now (the announcer may have been made a moment before, with the run's other records)."""
        with self._lock:
            self._current = (name, text)
            self._t0 = time.perf_counter()
        self._send()

    def stop(self):
        """Disarm the timer; nothing more is sent (the report ends what was said)."""
        with self._lock:
            self._stopped = True
        _WATCHER.disarm(self)

    def records(self):
        """The tuples this announcer and the timer keep for it ((stage, text) now and last said, the timer's (progress,
        deadline)): memdiag's own, never a cell's survivors (probes/leftovers.py)."""
        armed = _WATCHER.armed()
        return [r for r in (self._current, self._said, armed if armed is not None and armed[0] is self else None)
                if r is not None]

    def _fire(self):
        self._send()

    def _send(self):
        with self._lock:
            if self._stopped or self._current == self._said:
                return
            self._said = stage, text = self._current
        data = message(self._cell_id, self.execution_count, stage, text, time.perf_counter() - self._t0)
        for send in self._senders:
            try:
                send(data)
            except Exception:  # noqa: BLE001 - a closed comm must not break the cell
                pass
