"""Issue 2: the kernel side through a real kernel: hooks, reports with cell id and RSS, history, comm hello/report."""
from kernel import new_id


def _opened(kernel):
    return [m for m in kernel.comm_messages if m["msg_type"] == "comm_open"]


def test_load_ext_opens_comm_with_hello(kernel, report_validator):
    kernel.execute("%load_ext memdiag")
    opens = _opened(kernel)
    assert len(opens) == 1
    content = opens[0]["content"]
    assert content["target_name"] == "memdiag"
    hello = content["data"]
    assert hello["type"] == "hello" and hello["protocol"] == 1
    assert hello["version"] == "0.1.0"
    assert hello["config"]["trace"] == "suspect" and hello["history"] == []


def test_cell_id_and_rss_round_trip(kernel, report_validator):
    kernel.execute("%load_ext memdiag")
    first, second = new_id(), new_id()
    kernel.execute("x = bytearray(30_000_000)", cell_id=first)
    kernel.execute("y = 1", cell_id=second)
    kernel.execute("y = 2", cell_id=second)
    reports = kernel.reports()
    assert [r["cell_id"] for r in reports] == [first, second, second]
    assert [r["run"] for r in reports] == [1, 1, 2]
    counts = [r["execution_count"] for r in reports]
    assert counts == sorted(counts) and len(set(counts)) == 3
    big = reports[0]
    assert big["schema"] == 1
    assert big["rss"]["after"] - big["rss"]["before"] >= 25_000_000
    assert big["rss"]["peak"] >= big["rss"]["after"]
    assert big["duration_s"] >= 0 and big["overhead_s"] >= 0
    for report in reports:
        report_validator(report)
    history = kernel.value("__import__('memdiag').history()")
    assert [r["cell_id"] for r in history[:3]] == [first, second, second]
    last = kernel.value("__import__('memdiag').last()")
    assert last["execution_count"] > counts[-1]  # the cell that printed history is recorded too


def test_peak_is_exact_per_cell(kernel):
    kernel.execute("%load_ext memdiag")
    kernel.execute("tmp = bytearray(80_000_000); del tmp", cell_id="peaky")
    kernel.execute("small = 1", cell_id="calm")
    peaky, calm = kernel.reports()
    assert peaky["rss"]["peak"] - peaky["rss"]["before"] >= 70_000_000
    # the peak was reset before the next cell: the calm cell does not inherit it
    assert calm["rss"]["peak"] - calm["rss"]["before"] < 40_000_000


def test_bootstrap_loads_then_reannounces(kernel):
    kernel.execute('__import__("memdiag")._bootstrap()', silent=True)
    kernel.execute("a = 1", cell_id="c1")
    kernel.execute('__import__("memdiag")._bootstrap()', silent=True)
    opens = _opened(kernel)
    assert len(opens) == 2
    closes = [m for m in kernel.comm_messages if m["msg_type"] == "comm_close"]
    assert closes and closes[0]["content"]["comm_id"] == opens[0]["content"]["comm_id"]
    hello = opens[1]["content"]["data"]
    assert [r["cell_id"] for r in hello["history"]] == ["c1"]
    # exactly one extension instance: one report per cell
    kernel.execute("b = 2", cell_id="c2")
    assert [r["cell_id"] for r in kernel.reports()] == ["c1", "c2"]


def test_unload_restores_hooks(kernel):
    code = ("import gc, sys; ip = get_ipython(); print(len(ip.events.callbacks['pre_run_cell']), "
            "len(ip.events.callbacks['post_run_cell']), len(gc.callbacks), "
            "'memdiag' in ip.magics_manager.magics['line'])")
    before = kernel.execute(code)["stdout"].split()
    kernel.execute("%load_ext memdiag")
    loaded = kernel.execute(code)["stdout"].split()
    assert loaded[-1] == "True" and int(loaded[0]) == int(before[0]) + 1
    kernel.execute("%unload_ext memdiag")
    after = kernel.execute(code)["stdout"].split()
    assert after == before
    assert [m for m in kernel.comm_messages if m["msg_type"] == "comm_close"]
    state = kernel.execute("import gc; print(gc.get_freeze_count(), gc.isenabled(), gc.get_debug())")["stdout"]
    assert state.split() == ["0", "True", "0"]


def test_terminal_ipython_without_comm():
    """No kernel: everything works, text output only."""
    import subprocess
    import sys

    from kernel import kernel_env

    script = ("ip = get_ipython(); ip.run_cell('%load_ext memdiag'); ip.run_cell('z = bytearray(20_000_000)');"
              "ip.run_cell('%memdiag'); import memdiag; print('REPORTS', len(memdiag.history()))")
    out = subprocess.run([sys.executable, "-m", "IPython", "--no-banner", "--colors=NoColor", "-c", script],
                         capture_output=True, text=True, env=kernel_env(), timeout=120)
    # The `%memdiag` status cell makes no report: only the bytearray cell's is kept.
    assert "REPORTS 1" in out.stdout, out.stdout + out.stderr
    assert "Traceback" not in out.stdout + out.stderr


def test_reports_carry_start_time_and_kernel_session(kernel, report_validator):
    """Issue 15, item 10: the frontend orders a history by `started_at` and tells restarts by `kernel_session`."""
    import time

    kernel.execute("%load_ext memdiag")
    session = kernel.value("get_ipython().kernel.session.session")
    before = time.time()
    kernel.execute("import time; time.sleep(0.05)", cell_id=new_id())
    kernel.execute("z = 1", cell_id=new_id())
    after = time.time()
    first, second = kernel.reports()[-2:]
    for report in (first, second):
        report_validator(report)
        assert report["kernel_session"] == session and session
        assert before - 1 <= report["started_at"] <= after + 1
    assert second["started_at"] - first["started_at"] >= 0.05
    kernel.km.restart_kernel(now=True)
    kernel.kc.wait_for_ready(timeout=60)
    kernel.execute("%load_ext memdiag")
    kernel.execute("z = 2", cell_id=new_id())
    assert kernel.reports()[-1]["kernel_session"] not in (None, session)
