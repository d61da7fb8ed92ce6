"""The verdict module is pure: tested directly, with hand-made reports."""
from memdiag import protocol
from memdiag.settings import DEFAULTS
from memdiag.verdict import decide, format_bytes

MB = 1_000_000


def report(run=1, before=100 * MB, after=100 * MB, peak=None, traced=None, variables=(), unexplained=0, **extra):
    r = protocol.empty_report()
    r.update(run=run, variables=list(variables), **extra)
    r["rss"].update(before=before, after=after, peak=peak)
    if traced is not None:
        r["traced"] = {"enabled": True, "retained": traced, "top": []}
    r["native"] = {"unexplained": unexplained}
    return r


def runs(*befores):
    """Run records of consecutive re-runs, as runlog.History keeps them."""
    return [{"run": n + 1, "before": b, "next_before": befores[n + 1]} for n, b in enumerate(befores[:-1])]


def test_first_run_is_never_a_leak_step():
    grown = [{"name": "cache", "status": "grown", "type": "list", "size": 8 * MB, "delta": 8 * MB}]
    out = decide(report(run=2, before=108 * MB, after=116 * MB, variables=grown), runs(100 * MB, 108 * MB), DEFAULTS)
    assert "leak" not in out.verdict["flags"] and out.suspect


def test_two_rerun_steps_make_a_leak_with_its_slope():
    grown = [{"name": "cache", "status": "grown", "type": "list", "size": 8 * MB, "delta": 8 * MB}]
    out = decide(report(run=3, before=116 * MB, after=124 * MB, variables=grown),
                 runs(100 * MB, 108 * MB, 116 * MB), DEFAULTS)
    assert out.verdict["kind"] == "leak" and out.verdict["bytes_per_run"] == 8 * MB
    assert "8.0 MB" in out.verdict["reason"]


def test_rss_growth_without_python_or_native_evidence_is_not_a_leak():
    out = decide(report(run=3, before=116 * MB, after=124 * MB, traced=10_000), runs(100 * MB, 108 * MB, 116 * MB),
                 DEFAULTS)
    assert "leak" not in out.verdict["flags"]


def test_small_remainder_of_a_big_churn_is_allocator_drift():
    grown = [{"name": "rows", "status": "rebound", "type": "list", "size": 30 * MB, "delta": 30 * MB}]
    history = [{"run": 2, "before": 100 * MB, "next_before": 102_500_000, "churn": 60 * MB}]
    out = decide(report(run=3, before=102_500_000, after=105 * MB, peak=163 * MB, variables=grown), history, DEFAULTS)
    assert "leak" not in out.verdict["flags"] and "retains" in out.verdict["flags"]


def test_native_needs_a_traced_run_and_is_most_severe():
    untraced = decide(report(run=1, after=140 * MB, unexplained=40 * MB), [], DEFAULTS)
    assert untraced.verdict["kind"] == "ok" and untraced.suspect
    traced = decide(report(run=3, before=180 * MB, after=220 * MB, traced=1000, unexplained=40 * MB),
                    runs(100 * MB, 140 * MB, 180 * MB), DEFAULTS)
    assert traced.verdict["kind"] == "native" and traced.verdict["flags"] == ["native", "leak"]


def test_cycles_by_count_or_size_but_not_ipythons_own():
    r = report()
    r["gc"] = {"collected": 1500, "during": 1500, "cycles": []}
    assert decide(r, [], DEFAULTS).verdict["kind"] == "cycles"
    r["raised"] = True  # a traceback being formatted: IPython's garbage
    assert decide(r, [], DEFAULTS).verdict["kind"] == "ok"
    r["gc"]["cycles"] = [{"types": ["Node"], "objects": 10, "size": 2 * MB, "internal": False}]
    assert decide(r, [], DEFAULTS).verdict["kind"] == "cycles"


def test_imports_are_not_retention():
    r = report(imports={"count": 300, "modules": ["pandas"]})
    r["objects"] = {"new": 200_000, "size": 40 * MB, "growth": [{"type": "function", "count": 50_000, "size": 30 * MB},
                                                               {"type": "pandas.Foo", "count": 5, "size": 1000}]}
    out = decide(r, [], DEFAULTS)
    assert out.verdict["kind"] == "ok" and "imported 300 modules" in out.verdict["reason"].lower()


def test_format_bytes():
    assert format_bytes(8_000_000) == "8.0 MB" and format_bytes(-2_500) == "-2.5 kB" and format_bytes(12) == "12 B"
