"""The comm protocol (protocol/README.md) through a real kernel: hello, report, config, requests and bad input."""
from kernel import new_id


def _open(kernel):
    kernel.execute('__import__("memdiag")._bootstrap()', silent=True)
    opened = [m for m in kernel.comm_messages if m["msg_type"] == "comm_open"]
    return opened[-1]["content"]["comm_id"]


def _request(kernel, comm_id, data):
    kernel.send_comm(comm_id, data)
    rid = data.get("request_id", "")  # a request without an id is answered with ""

    def is_reply(m):
        d = m["content"].get("data", {})
        return m["msg_type"] == "comm_msg" and d.get("type") == "reply" and d.get("request_id") == rid

    return kernel.wait_comm(is_reply)["content"]["data"]


def test_requests_round_trip(shared_kernel, report_validator):
    k = shared_kernel
    comm_id = _open(k)
    k.execute("x = bytearray(3_000_000)\nholder = {'x': x}", cell_id="comm-x")
    report = next(r for r in k.reports() if r["cell_id"] == "comm-x")
    report_validator(report)

    reply = _request(k, comm_id, {"type": "request", "request_id": "r1", "action": "config",
                                  "args": {"trace": "always", "leak_runs": 3}})
    assert reply["ok"] and reply["result"]["trace"] == "always" and reply["result"]["leak_runs"] == 3
    assert k.wait_comm(lambda m: m["content"].get("data", {}).get("type") == "config")
    _request(k, comm_id, {"type": "request", "request_id": "r1b", "action": "config",
                          "args": {"trace": "suspect", "leak_runs": 2}})

    reply = _request(k, comm_id, {"type": "request", "request_id": "r2", "action": "why", "args": {"name": "x"}})
    assert reply["ok"], reply
    why = reply["result"]
    assert why["type"] == "bytearray" and why["size"] >= 3_000_000
    assert any("['x']" in r for r in why["referrers"])
    assert why["backrefs"] and why["backrefs"][0]["root"] in ("holder", "x")

    cell = new_id()
    reply = _request(k, comm_id, {"type": "request", "request_id": "r3", "action": "trace_next",
                                  "args": {"cell_id": cell}})
    assert reply == {"type": "reply", "request_id": "r3", "ok": True, "result": {"cell_id": cell}}
    k.execute("y = [1] * 10", cell_id=cell)
    traced = [r for r in k.reports() if r["cell_id"] == cell][-1]
    assert traced["traced"]["enabled"] and traced["mode"] == "traced"

    reply = _request(k, comm_id, {"type": "request", "request_id": "r4", "action": "history", "args": {}})
    assert reply["ok"] and any(r["cell_id"] == cell for r in reply["result"]["history"])


def test_bad_requests_get_error_replies(shared_kernel):
    k = shared_kernel
    comm_id = _open(k)
    bad = [
        {"type": "request", "request_id": "b1", "action": "config", "args": {"trace": "sometimes"}},
        {"type": "request", "request_id": "b2", "action": "config", "args": {"history_limit": 0}},
        {"type": "request", "request_id": "b3", "action": "config", "args": {"nope": 1}},
        {"type": "request", "request_id": "b4", "action": "launch", "args": {}},
        {"type": "request", "request_id": "b5", "action": "why", "args": {"name": 42}},
        {"type": "request", "request_id": "b6", "action": "why", "args": {"name": "undefined_name_zz"}},
        {"type": "request", "request_id": "b7", "action": "trace_next", "args": {}},
        {"type": "request", "request_id": "b8", "action": "config", "args": "all"},
    ]
    for data in bad:
        reply = _request(k, comm_id, data)
        assert reply["ok"] is False and reply["request_id"] == data["request_id"] and reply["error"], reply
    k.comm_messages.clear()  # earlier replies must not answer for this one
    reply = _request(k, comm_id, {"type": "request", "action": "history"})  # no request_id
    assert reply["ok"] is False and reply["request_id"] == ""
    # the kernel is still fine, and the config unchanged
    reply = _request(k, comm_id, {"type": "request", "request_id": "ok", "action": "config", "args": {}})
    assert reply["ok"] and reply["result"]["trace"] == "suspect" and reply["result"]["history_limit"] == 500


def test_deep_next_diagnoses_the_next_run_of_that_cell_only(shared_kernel):
    """The frontend's "Diagnose this cell": the next run is deep and displays the report, without a magic."""
    k = shared_kernel
    comm_id = _open(k)
    reply = _request(k, comm_id, {"type": "request", "request_id": "d1", "action": "deep_next",
                                  "args": {"cell_id": "deep-next"}})
    assert reply["ok"] and reply["result"] == {"cell_id": "deep-next"}
    code = "kept_deep = [bytearray(500_000) for _ in range(4)]"
    first = k.execute(code, cell_id="deep-next")
    second = k.execute(code, cell_id="deep-next")
    runs = [r for r in k.reports() if r["cell_id"] == "deep-next"]
    assert [r["mode"] for r in runs] == ["deep", "default"]
    assert runs[0]["traced"]["enabled"]
    site = next(s for s in runs[0]["traced"]["top"] if s["in_cell"])
    assert site["line"] == 1 and "bytearray(500_000)" in site["code"]
    bundles = [o["content"]["data"] for o in first["outputs"] if o["msg_type"] == "display_data"]
    assert any("application/vnd.memdiag.v1+json" in b for b in bundles)
    assert not any(o["msg_type"] == "display_data" for o in second["outputs"])

    bad = _request(k, comm_id, {"type": "request", "request_id": "d2", "action": "deep_next", "args": {"cell_id": 3}})
    assert not bad["ok"] and "cell_id" in bad["error"]
