"""memdiag says when its work on a cell runs longer (progress.py): progress messages on the comm, before the report."""
import re

from kernel import new_id


def _messages(kernel, cell):
    """The cell's comm messages of memdiag, in the order sent: [(type, data)] up to and including its report."""
    out = []
    for m in kernel.comm_messages:
        data = m["content"].get("data", {}) if m["msg_type"] == "comm_msg" else {}
        if data.get("type") == "progress" and data.get("cell_id") == cell:
            out.append(("progress", data))
        elif data.get("type") == "report" and data["report"].get("cell_id") == cell:
            out.append(("report", data["report"]))
    return out


def test_a_traced_run_is_said_from_its_start(shared_kernel):
    k = shared_kernel
    k.execute('__import__("memdiag")._bootstrap()', silent=True)
    cell = new_id()
    k.execute("%%memdiag\nkept_traced = [bytearray(1000) for _ in range(100)]", cell_id=cell)
    said = _messages(k, cell)
    assert [kind for kind, _ in said][-1] == "report", said
    first = said[0][1]
    assert said[0][0] == "progress" and first["stage"] == "tracing", said
    assert first["text"] == "memdiag: diagnosing this cell in depth…" and first["elapsed_s"] >= 0
    # Said before the cell ran: its execution count is not known yet (its cell id is).
    assert first["execution_count"] is None


def test_long_post_cell_work_says_each_stage_before_the_report(shared_kernel):
    """With the delay at 0 every stage is said as it starts: the leak check, then the search for what keeps the data
    alive, with its size; the report comes last. (The real delay, 0.3 s, is not asserted: no timed assertions.)"""
    k = shared_kernel
    k.execute('__import__("memdiag")._bootstrap()', silent=True)
    k.execute("import memdiag.progress as _p; _p.DELAY_S = 0\nheld_by_progress = []")
    try:
        cell = new_id()
        for _ in range(3):
            k.execute("held_by_progress.append(bytearray(30_000_000))", cell_id=cell)
    finally:
        k.execute("_p.DELAY_S = 0.3")
    said = _messages(k, cell)
    reports = [i for i, (kind, _) in enumerate(said) if kind == "report"]
    assert len(reports) == 3, said
    last_run = said[reports[1] + 1:]
    stages = [data["stage"] for kind, data in last_run if kind == "progress"]
    assert last_run[-1][0] == "report" and "leak" in last_run[-1][1]["verdict"]["flags"], last_run
    assert stages.index("leak-check") < stages.index("backrefs"), stages
    search = next(data for kind, data in last_run if kind == "progress" and data["stage"] == "backrefs")
    assert re.fullmatch(r"memdiag: finding what keeps (29\.\d|30(\.\d)?) MB alive…", search["text"]), search
    # A traced run is said before the cell runs (no count yet); the rest carry the cell's execution count.
    assert all(data["execution_count"] in (None, last_run[-1][1]["execution_count"]) for kind, data in last_run)
    elapsed = [data["elapsed_s"] for kind, data in last_run if kind == "progress"]
    assert elapsed == sorted(elapsed), elapsed


def test_a_quick_cell_says_nothing(shared_kernel):
    k = shared_kernel
    k.execute('__import__("memdiag")._bootstrap()', silent=True)
    cell = new_id()
    k.execute("small_progress = [1, 2, 3]", cell_id=cell)
    assert [kind for kind, _ in _messages(k, cell)] == ["report"]


def test_the_timer_says_the_current_stage_once_due_and_nothing_after_stop():
    """progress.Progress on its own: the shared watcher thread fires once the delay passed; a later stage is said at
    once; after stop() nothing more is sent."""
    import threading

    from memdiag.progress import Progress

    sent, arrived = [], threading.Event()

    def send(message):
        sent.append(message)
        arrived.set()

    progress = Progress([send], "cell-a", 7, delay_s=0.01)
    progress.stage("census", "memdiag: counting what the cell left…")
    progress.start()
    assert arrived.wait(10), "the watcher never fired"
    assert sent[0]["text"] == "memdiag: counting what the cell left…" and sent[0]["execution_count"] == 7
    assert sent[0]["stage"] == "other"  # an unknown stage name is sent as "other"
    progress.stage("backrefs", "memdiag: finding what keeps 1.0 MB alive…")
    assert [m["stage"] for m in sent] == ["other", "backrefs"]
    progress.stop()
    progress.stage("leak-check", "memdiag: checking this re-run for a leak…")
    assert len(sent) == 2

    quiet = Progress([send], "cell-b", 8, delay_s=5)
    quiet.start()
    quiet.stop()  # disarmed before it was due: a quick cell says nothing
    assert all(m["cell_id"] == "cell-a" for m in sent)


def test_the_timer_thread_looks_while_cells_come_and_sleeps_until_woken_when_idle(monkeypatch):
    """While cells keep coming the timer thread looks every POLL_S: arming it wakes nobody (a wake-up takes the GIL
    from the cell's thread, ~0.13 ms of memdiag's time per cell), yet it fires when due. LINGER_S after the last arm
    it sleeps until woken, and the next arm wakes it."""
    import threading
    import time

    from memdiag import progress

    monkeypatch.setattr(progress, "POLL_S", 0.05)
    monkeypatch.setattr(progress, "LINGER_S", 0.5)
    watcher = progress._Watcher()
    notifies = []
    real_ring = watcher._ring
    monkeypatch.setattr(watcher, "_ring", lambda: (notifies.append(1), real_ring()))

    class Cell:
        def __init__(self):
            self.fired = threading.Event()

        def _fire(self):
            self.fired.set()

    first = Cell()
    watcher.arm(first, time.perf_counter() + 0.01)  # starts the thread
    assert first.fired.wait(10)
    second = Cell()
    watcher.arm(second, time.perf_counter() + 0.1)  # the thread is looking every 0.05 s: no wake-up needed
    assert second.fired.wait(10), "an arm while the thread looks must still fire"
    assert notifies == []
    quiet = Cell()
    watcher.arm(quiet, time.perf_counter() + 5)
    watcher.disarm(quiet)
    for _ in range(200):  # LINGER_S after the last arm: asleep until woken
        if watcher._wakes_at is None:
            break
        time.sleep(0.05)
    assert watcher._wakes_at is None, "an idle timer thread must not keep waking up"
    assert not quiet.fired.is_set()
    third = Cell()
    watcher.arm(third, time.perf_counter() + 0.01)
    assert notifies == [1]
    assert third.fired.wait(10)
