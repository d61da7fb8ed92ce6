"""Issue 3, item 5: the tool is never the leak, and the gc is left as the user left it."""
import json

GC_STATE = ("import gc, json as _j; print(_j.dumps([gc.get_freeze_count(), gc.isenabled(), gc.get_debug(), "
            "len(gc.garbage), sum(1 for c in gc.callbacks if 'memdiag' in type(c).__module__)]))")


def gc_state(kernel):
    """[freeze count, enabled, debug flags, len(gc.garbage)] as the user's next cell sees them."""
    *state, callbacks = json.loads(kernel.execute(GC_STATE)["stdout"].strip().splitlines()[-1])
    assert callbacks == 0  # memdiag hooks no gc callback (gcguard.collected reads gc.get_stats)
    return state


def test_weakref_to_deleted_object_dies(shared_kernel):
    k = shared_kernel
    k.execute("class Big:\n    pass\nimport weakref", cell_id="fp-cls")
    # flagged (retains) on its first run: census targets and the backrefs walk both touch the object
    k.execute("b = Big(); b.payload = bytearray(30_000_000)", cell_id="fp-big")
    assert "retains" in k.reports()[-1]["verdict"]["flags"]
    k.execute("w = weakref.ref(b); del b", cell_id="fp-del")
    assert k.execute("print(w() is None)")["stdout"].strip() == "True"  # no gc.collect(): no cycle holds it


def test_leaked_items_are_freed_once_the_user_lets_go(shared_kernel):
    k = shared_kernel
    k.execute("import weakref\nclass Item:\n    pass\nkeep = []")
    for _ in range(4):  # leak, then traced runs with backrefs
        k.execute("it = Item(); it.data = bytearray(4_000_000); keep.append(it); del it", cell_id="fp-leak")
    assert "leak" in k.reports()[-1]["verdict"]["flags"]
    k.execute("refs = [weakref.ref(x) for x in keep]; keep.clear()")
    assert k.execute("print(sum(r() is not None for r in refs))")["stdout"].strip() == "0"


def test_gc_state_restored_after_every_kind_of_cell(shared_kernel):
    k = shared_kernel
    assert gc_state(k) == [0, True, 0, 0]
    k.execute("1/0", allow_error=True)
    assert gc_state(k) == [0, True, 0, 0]
    k.execute("%%memdiag\nclass Node:\n    pass\nfor _ in range(100):\n    a, b = Node(), Node()\n    a.p, b.p = b, a")
    assert gc_state(k) == [0, True, 0, 0]
    k.execute("%%memdiag\nraise KeyError('x')", allow_error=True)
    assert gc_state(k) == [0, True, 0, 0]
    assert k.execute("import tracemalloc; print(tracemalloc.is_tracing())")["stdout"].strip() == "False"


def test_users_own_gc_settings_are_respected(shared_kernel):
    k = shared_kernel
    k.execute("import gc; gc.disable()")
    assert gc_state(k)[1] is False
    k.execute("%%memdiag\nx = [[] for _ in range(10)]")  # deep mode holds gc off itself, then restores *disabled*
    assert gc_state(k)[1] is False
    k.execute("gc.enable(); gc.set_debug(gc.DEBUG_UNCOLLECTABLE)")
    k.execute("y = 1")
    assert gc_state(k)[2] == 4  # gc.DEBUG_UNCOLLECTABLE kept
    k.execute("gc.set_debug(0); gc.freeze()")
    k.execute("z = 2")
    assert gc_state(k)[0] > 0  # the user's freeze is kept
    report = k.reports()[-1]
    assert report["objects"].get("skipped")
    k.execute("gc.unfreeze()")
    assert gc_state(k) == [0, True, 0, 0]


def test_users_gc_calls_see_the_whole_heap(shared_kernel):
    k = shared_kernel
    k.execute("import gc, weakref\nclass C:\n    pass\nmarker = C()\nc1, c2 = C(), C()\nc1.o, c2.o = c2, c1\n"
              "wc = weakref.ref(c1)\ndel c1, c2")
    out = k.execute("print(any(o is marker for o in gc.get_objects()))\ngc.collect()\nprint(wc() is None)")
    assert out["stdout"].split() == ["True", "True"]


def test_probe_failure_goes_to_errors_not_the_cell(shared_kernel):
    k = shared_kernel
    k.execute("import memdiag.recorder as _r\n_saved = _r._AFTER_THAWED\n"
              "_r._AFTER_THAWED = _saved + (('boom', lambda ctx: 1 / 0),)")
    out = k.execute("print('cell ran')", cell_id="fp-boom")
    k.execute("_r._AFTER_THAWED = _saved")
    assert out["status"] == "ok" and out["stdout"].strip() == "cell ran"
    report = [r for r in k.reports() if r["cell_id"] == "fp-boom"][-1]
    assert any(e.startswith("boom: ZeroDivisionError") for e in report["errors"])


def test_history_is_bounded(shared_kernel):
    k = shared_kernel
    k.execute("import memdiag; memdiag.config.update({'history_limit': 5})")
    for n in range(8):
        k.execute(f"v{n} = {n}")
    assert k.execute("print(len(memdiag.history()))")["stdout"].strip() == "5"
    k.execute("memdiag.config.update({'history_limit': 500})")


def test_reports_are_capped_and_hostile_names_stay_text(shared_kernel, report_validator):
    k = shared_kernel
    code = ("%%memdiag\nkept = [type('<img src=x onerror=alert(1)>' * 20 + str(i), (), {})() for i in range(300)]\n"
            "kept.append({str(i) * 50: bytearray(10) for i in range(2000)})")
    out = k.execute(code)
    bundle = next(o["content"]["data"] for o in out["outputs"] if o["msg_type"] == "display_data")
    report = bundle["application/vnd.memdiag.v1+json"]
    report_validator(report)
    assert len(json.dumps(report)) <= 64 * 1024
    assert "<img" not in bundle["text/html"] and "&lt;img" in bundle["text/html"]
    assert "memdiag-report" in bundle["text/html"]


# -- issue 7, item 1 ---------------------------------------------------------------------------------------------------
def test_weakref_dies_after_deep_mode_and_why(shared_kernel):
    k = shared_kernel
    k.execute("import weakref\nclass Held:\n    pass")
    k.execute("%%memdiag\nheld_deep = Held(); held_deep.payload = bytearray(20_000_000)\n"
              "held_deep.me = [held_deep]")  # deep: tracing, cycles, backrefs all touch it
    k.execute("%memdiag why held_deep")
    k.execute('__import__("memdiag")._bootstrap()', silent=True)
    comm_id = [m for m in k.comm_messages if m["msg_type"] == "comm_open"][-1]["content"]["comm_id"]
    k.send_comm(comm_id, {"type": "request", "request_id": "why-leak", "action": "why", "args": {"name": "held_deep"}})
    reply = k.wait_comm(lambda m: m["content"].get("data", {}).get("request_id") == "why-leak")
    assert reply["content"]["data"]["ok"]
    k.execute("w_deep = weakref.ref(held_deep); held_deep.me.clear(); del held_deep")
    assert k.execute("print(w_deep() is None)")["stdout"].strip() == "True"


def test_reports_hold_plain_data_only_and_tracing_stops(shared_kernel):
    k = shared_kernel
    k.execute("%memdiag trace off")
    outs = [k.execute("import tracemalloc\nkeep_t = globals().get('keep_t', [])\n"
                      "keep_t.append(bytearray(3_000_000))\nprint(tracemalloc.is_tracing())", cell_id="fp-off")
            for _ in range(4)]
    assert [o["stdout"].strip() for o in outs] == ["False"] * 4  # trace off: never traced, even a leak
    k.execute("%memdiag trace suspect")
    for _ in range(3):  # suspected, then traced: stopped after each traced run
        k.execute("keep_t.append(bytearray(3_000_000))", cell_id="fp-suspect")
        assert k.execute("print(tracemalloc.is_tracing())")["stdout"].strip() == "False"
    plain = ("def plain(x):\n    if type(x) is dict:\n"
             "        return all(type(k) is str and plain(v) for k, v in x.items())\n"
             "    if type(x) is list:\n        return all(plain(v) for v in x)\n"
             "    return x is None or type(x) in (str, int, float, bool)\n"
             "print(all(plain(r) for r in __import__('memdiag').history()))")
    assert k.execute(plain)["stdout"].strip() == "True"


FOOTPRINT = ("import json, os, sys, memdiag; r = memdiag._state['recorder']; h = r.history\n"
             "print(json.dumps([int(open('/proc/self/statm').read().split()[1]) * os.sysconf('SC_PAGE_SIZE'), "
             "len(memdiag.history()), len(json.dumps(memdiag.history())), len(h._runs), len(h._trace_next), "
             "len(r._pending), len(r.report_listeners), len(__import__('gc').callbacks)]))")


def test_own_memory_bounded_over_1000_cells(kernel):
    """1,000 tiny cells queued at once, as a client that does not wait: the real hooks run for every one of them."""
    k = kernel
    k.execute("%load_ext memdiag")
    k.execute("import memdiag; memdiag.config.update({'history_limit': 200})")

    def flood(n, tag):
        ids = [k.submit(f"v = [{i}] * 10", cell_id=f"{tag}-{i}") for i in range(n)]
        replies = k.wait_all(ids)
        assert all(r["status"] == "ok" for r in replies.values())

    flood(200, "warm")
    before = json.loads(k.execute(FOOTPRINT)["stdout"])
    flood(1000, "flood")
    after = json.loads(k.execute(FOOTPRINT)["stdout"])
    assert after[1] == 200 and after[2] < 200 * 8 * 1024  # history: bounded count and size
    # run records, trace requests, pending jobs, listeners (bridge, display), gc callbacks (none)
    assert after[3] <= 2000 and after[4] <= 1000 and after[5] == 0 and after[6] == 2 and after[7] == 0
    assert after[0] - before[0] < 32 * 2**20, (before, after)  # RSS (IPython's own In/Out/linecache grow too)
    assert len([r for r in k.reports() if (r["cell_id"] or "").startswith("flood-")]) == 1000
