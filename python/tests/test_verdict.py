"""The verdict module is pure: tested directly, with hand-made reports and run records (as runlog.History keeps them).

The numbers follow what the kernel measures (probes/heap.py): `heap` is glibc's in-use bytes, `blocks` the
interpreter's allocated block count, RSS the resident set; a re-run's growth is from its start to the next run's start.
"""
from memdiag import protocol
from memdiag.settings import DEFAULTS
from memdiag.verdict import cyclic_garbage, decide, format_bytes, rerun_steps

MB = 1_000_000


def report(run=1, rss=(100 * MB, 100 * MB), heap=(50 * MB, 50 * MB), blocks=(1000, 1000), variables=(), traced=None,
           unexplained=0, **extra):
    r = protocol.empty_report()
    r.update(run=run, variables=list(variables), **extra)
    r["rss"].update(before=rss[0], after=rss[1], peak=None)
    r["heap"] = {"before": heap[0], "after": heap[1], "blocks_before": blocks[0], "blocks_after": blocks[1]}
    if traced is not None:
        r["traced"] = {"enabled": True, "retained": traced, "retained_all": traced, "top": []}
    r["native"] = {"unexplained": unexplained}
    return r


def grown(delta):
    return [{"name": "cache", "status": "grown", "type": "list", "size": delta, "delta": delta}]


def history(steps, gross, rss_steps=None, kind="ok", unexplained=None, blocks=0):
    """Records of consecutive runs 1..len(steps)+1 whose heap grew by steps[i] from run i's start to run i+1's (each
    with native.unexplained = `unexplained`, and `blocks` more allocated blocks a run)."""
    records, heap, rss = [], 50 * MB, 100 * MB
    rss_steps = rss_steps or steps
    for n, (step, rstep) in enumerate(zip(steps, rss_steps, strict=False)):
        start = {"rss": rss, "heap": heap, "blocks": 1000 + n * blocks}
        heap, rss = heap + step, rss + rstep
        end = {"rss": rss, "heap": heap, "blocks": start["blocks"] + blocks}
        records.append({"run": n + 1, "start": start, "next": end,
                        "gross": gross, "block_bytes": 64, "churn": None, "kind": kind, "flags": [],
                        "bytes_per_run": None, "unexplained": unexplained})
    return records, heap, rss


def test_first_run_is_never_a_leak_step():
    records, heap, rss = history([8 * MB], 8 * MB)
    out = decide(report(run=2, heap=(heap, heap + 8 * MB), rss=(rss, rss + 8 * MB), variables=grown(8 * MB)),
                 records, DEFAULTS)
    assert "leak" not in out.verdict["flags"] and out.suspect


def test_two_rerun_steps_make_a_leak_with_its_slope():
    records, heap, rss = history([8 * MB, 8 * MB], 8 * MB)
    out = decide(report(run=3, heap=(heap, heap + 8 * MB), rss=(rss, rss + 8 * MB), variables=grown(8 * MB)),
                 records, DEFAULTS)
    assert out.verdict["kind"] == "leak" and out.verdict["bytes_per_run"] == 8 * MB
    assert "8 MB" in out.verdict["reason"] and out.verdict["bytes"] == 8 * MB  # the badge's figure is the reason's
    assert out.record["kind"] == "leak" and out.record["gross"] == 8 * MB


def test_the_reason_counts_every_consecutive_rerun_that_kept_it():
    """On the fifth run of a 8 MB/run leak, four re-runs in a row kept it: the reason says 4, not the window's 2; a
    re-run that kept nothing breaks the count."""
    records, heap, rss = history([8 * MB] * 4, 8 * MB)
    out = decide(report(run=5, heap=(heap, heap + 8 * MB), rss=(rss, rss + 8 * MB), variables=grown(8 * MB)),
                 records, DEFAULTS)
    assert out.verdict["kind"] == "leak" and "(4 consecutive re-runs)" in out.verdict["reason"], out.verdict
    records, heap, rss = history([8 * MB, 0, 8 * MB, 8 * MB], 8 * MB)
    out = decide(report(run=5, heap=(heap, heap + 8 * MB), rss=(rss, rss + 8 * MB), variables=grown(8 * MB)),
                 records, DEFAULTS)
    assert "(3 consecutive re-runs)" in out.verdict["reason"], out.verdict  # runs 3, 4 and 5; run 2 kept nothing


def test_leak_with_no_rss_growth_calloc_or_warm_allocator():
    """bytes(5_000_000) is calloc'd: RSS flat, malloc's in-use bytes +5 MB a run. Python holds it: a leak."""
    records, heap, rss = history([5 * MB, 5 * MB], 5 * MB, rss_steps=[0, 0])
    out = decide(report(run=3, heap=(heap, heap + 5 * MB), rss=(rss, rss), variables=grown(5 * MB)), records,
                 DEFAULTS)
    assert out.verdict["kind"] == "leak" and out.verdict["bytes_per_run"] == 5 * MB


def test_rebinding_is_not_a_leak_though_python_sees_new_objects():
    rebound = [{"name": "df", "status": "rebound", "type": "DataFrame", "size": 30 * MB, "delta": 30 * MB}]
    records, heap, rss = history([0, 0], 30 * MB, rss_steps=[3 * MB, 3 * MB])
    out = decide(report(run=3, heap=(heap, heap), rss=(rss, rss + 3 * MB), variables=rebound), records, DEFAULTS)
    assert "leak" not in out.verdict["flags"] and out.verdict["kind"] == "retains"
    assert out.verdict["bytes_per_run"] == 0
    assert out.verdict["kept"] == 0  # the timeline's tick for the run: the 30 MB it holds are yesterday's, freed


def test_every_run_says_what_it_kept_from_its_start_to_its_end():
    """verdict.kept is each run's own figure (the first run's too), as a re-run's counts toward a leak: what Python
    accounts for, as far as the allocators kept it too. The timeline plots it beside Δ RSS."""
    first = decide(report(run=1, heap=(50 * MB, 58 * MB), rss=(100 * MB, 110 * MB), variables=grown(8 * MB)), [],
                   DEFAULTS)
    assert first.verdict["kept"] == 8 * MB
    # Python sees 8 MB more but the allocators hold only 3 MB more: 3 MB were kept.
    partly = decide(report(run=1, heap=(50 * MB, 53 * MB), variables=grown(8 * MB)), [], DEFAULTS)
    assert partly.verdict["kept"] == 3 * MB
    # A run that gave memory back kept nothing, never a negative figure.
    gave = decide(report(run=1, heap=(50 * MB, 40 * MB), variables=grown(1 * MB)), [], DEFAULTS)
    assert gave.verdict["kept"] == 0
    # A leaking re-run's own figure is the slope's.
    records, heap, rss = history([8 * MB, 8 * MB], 8 * MB)
    leak = decide(report(run=3, heap=(heap, heap + 8 * MB), variables=grown(8 * MB)), records, DEFAULTS)
    assert leak.verdict["kind"] == "leak" and leak.verdict["kept"] == leak.verdict["bytes_per_run"] == 8 * MB


def test_allocator_growth_python_does_not_hold_is_not_a_leak():
    records, heap, rss = history([8 * MB, 8 * MB], 10_000)
    out = decide(report(run=3, heap=(heap, heap + 8 * MB), traced=10_000), records, DEFAULTS)
    assert "leak" not in out.verdict["flags"]


def test_a_steady_leak_stays_a_leak_near_the_threshold():
    """Noise around the threshold must not flip a leak to ok: once seen, ~half the threshold holds it."""
    near = int(1.9 * MB)  # a steady ~2.2 MB/run leak whose run dipped below the 2 MiB threshold
    records, heap, rss = history([int(2.2 * MB)] * 3, int(2.2 * MB), kind="leak")
    records[-1]["bytes_per_run"] = int(2.2 * MB)
    out = decide(report(run=4, heap=(heap, heap + near), variables=grown(near)), records, DEFAULTS)
    assert out.verdict["kind"] == "leak" and out.verdict["per_run"] is True, out.verdict


def test_a_leak_that_stops_says_why_and_never_goes_negative():
    records, heap, rss = history([5 * MB, 5 * MB, 5 * MB], 5 * MB, kind="leak")
    records[-1]["bytes_per_run"] = 5 * MB
    out = decide(report(run=4, heap=(heap, heap - 10 * MB), rss=(rss, rss - 10 * MB)), records, DEFAULTS)
    assert out.verdict["kind"] == "ok"
    assert "no longer a leak" in out.verdict["reason"] and "gave back 10 MB" in out.verdict["reason"]
    assert out.verdict["bytes_per_run"] >= 0


def test_rss_basis_small_remainder_of_a_big_churn_is_allocator_drift():
    """Without mallinfo2 (musl, macOS) RSS is the net measure: a few MB pinned while 60 MB moved is drift."""
    rebound = [{"name": "rows", "status": "rebound", "type": "list", "size": 30 * MB, "delta": 30 * MB}]
    records = [{"run": 2, "start": {"rss": 100 * MB, "heap": None, "blocks": None},
                "next": {"rss": 102_500_000, "heap": None, "blocks": None}, "gross": 30 * MB, "block_bytes": 64,
                "churn": 60 * MB}]
    r = report(run=3, rss=(102_500_000, 105 * MB), heap=(None, None), variables=rebound)
    r["rss"]["peak"] = 163 * MB
    out = decide(r, records, DEFAULTS)
    assert "leak" not in out.verdict["flags"] and "retains" in out.verdict["flags"]


def test_native_needs_a_traced_run_and_is_most_severe():
    untraced = decide(report(run=1, rss=(100 * MB, 140 * MB), unexplained=40 * MB), [], DEFAULTS)
    assert untraced.verdict["kind"] == "ok" and untraced.suspect
    records, heap, rss = history([40 * MB, 40 * MB], 40 * MB)
    traced = decide(report(run=3, heap=(heap, heap + 40 * MB), rss=(rss, rss + 40 * MB), traced=40 * MB,
                           unexplained=40 * MB), records, DEFAULTS)
    assert traced.verdict["kind"] == "native" and traced.verdict["flags"] == ["native", "leak", "retains"]
    assert traced.verdict["bytes"] == 40 * MB and traced.verdict["per_run"] is False  # one run's growth


def test_imports_are_not_retention_nor_cycles():
    r = report(imports={"count": 300, "modules": ["pandas"]}, heap=(50 * MB, 90 * MB))
    r["objects"] = {"new": 200_000, "size": 40 * MB, "growth": [{"type": "function", "count": 50_000, "size": 30 * MB},
                                                               {"type": "pandas.Foo", "count": 5, "size": 1000}]}
    r["gc"] = {"collected": 1706, "during": 1706, "cycles": [{"types": ["function", "dict"], "objects": 1706,
                                                             "size": 0, "internal": False}]}
    out = decide(r, [], DEFAULTS)
    assert out.verdict["kind"] == "ok" and "imported 300 modules" in out.verdict["reason"].lower()


def test_cycles_by_count_or_size_but_not_ipythons_own():
    r = report()
    r["gc"] = {"collected": 1500, "during": 1500, "cycles": []}
    assert decide(r, [], DEFAULTS).verdict["kind"] == "cycles"
    r["raised"] = True  # a traceback being formatted: IPython's garbage
    assert decide(r, [], DEFAULTS).verdict["kind"] == "ok"
    r["gc"]["cycles"] = [{"types": ["Node"], "objects": 10, "size": 2 * MB, "internal": False}]
    assert decide(r, [], DEFAULTS).verdict["kind"] == "cycles"


def test_a_cleanup_cell_s_collection_is_not_the_cell_s_cycles():
    """`del nodes; gc.collect()`: the cycle probe did not run (the user's collection looks at the whole heap), and what
    that collection freed is older cells' garbage, not cycles this cell made."""
    r = report()
    r["gc"] = {"collected": 40_011, "during": 40_011, "cycles": [],
               "skipped": "gc.collect() ran during the cell and looks at the whole heap"}
    assert decide(r, [], DEFAULTS).verdict["kind"] == "ok"
    assert cyclic_garbage(r) == (0, 0, None)


def test_cycles_freed_during_the_cell_are_sized_from_those_seen():
    """5,000 pairs of nodes holding 1 kB each: automatic collections freed most during the cell; the 262 memdiag's
    own collection saw stand for all 9,990 (about 11 MB), not for themselves alone (292 kB)."""
    r = report()
    r["gc"] = {"collected": 9_990, "during": 9_728,
               "cycles": [{"types": ["Node"], "objects": 262, "size": 292_000, "internal": False}]}
    verdict = decide(r, [], DEFAULTS).verdict
    assert verdict["kind"] == "cycles" and verdict["bytes"] == 292_000 + round(292_000 / 262 * 9_728)
    assert "9,990 objects in reference cycles (about 11.1 MB)" in verdict["reason"], verdict["reason"]


def test_cycles_all_freed_during_a_rerun_keep_the_size_an_earlier_run_saw():
    """The trial's cell of 200 pairs holding 20 kB each: on one run memdiag's collection saw 400 objects of 8 MB, on
    the next the automatic collector freed all 400 first. Whether it ran first is chance: the re-run is still
    cycles, sized at the first run's mean, and says about."""
    first = report()
    first["gc"] = {"collected": 400, "during": 0,
                   "cycles": [{"types": ["Node"], "objects": 400, "size": 8_050_000, "internal": False}]}
    out = decide(first, [], DEFAULTS)
    assert out.verdict["kind"] == "cycles" and out.record["cycle_object_bytes"] == 8_050_000 / 400
    records = [dict(out.record, run=1, start={"rss": 100 * MB, "heap": 50 * MB, "blocks": 1000})]
    second = report(run=2)
    second["gc"] = {"collected": 400, "during": 400, "cycles": []}
    again = decide(second, records, DEFAULTS)
    assert again.verdict["kind"] == "cycles" and again.verdict["bytes"] == 8_050_000, again.verdict
    assert "400 objects in reference cycles (about 8.05 MB)" in again.verdict["reason"], again.verdict["reason"]
    # The mean is carried on: a third run that again saw none is sized from it too.
    third = decide(second, records + [dict(again.record, run=2)], DEFAULTS)
    assert third.verdict["kind"] == "cycles" and third.record["cycle_object_bytes"] == 8_050_000 / 400
    # Without an earlier run that saw some, 400 objects of unknown size are below both thresholds.
    assert decide(second, [], DEFAULTS).verdict["kind"] == "ok"


def test_retained_where_the_census_is_blind_says_so():
    """An lru_cache's C-level entries: malloc holds 12 MB more after malloc_trim, Python-level accounting sees
    little."""
    out = decide(report(heap=(50 * MB, 62 * MB), rss=(100 * MB, 112 * MB)), [], DEFAULTS)
    assert out.verdict["kind"] == "retains" and "memdiag cannot look into" in out.verdict["reason"]
    assert "native" not in out.verdict["flags"]
    assert format_bytes(out.verdict["bytes"]) in out.verdict["reason"]  # the figure a badge shows, as the reason


def test_held_by_ipythons_output_cache_is_python_not_native():
    r = report(run=1, rss=(100 * MB, 124 * MB), heap=(50 * MB, 74 * MB), traced=12 * MB, unexplained=0,
               ipython={"out": 12 * MB, "history": 1000})
    steps = rerun_steps(dict(r, run=2), [])
    assert steps[0].gross == 12 * MB  # retained_all, everything Python holds, cache included
    verdict = decide(r, [], DEFAULTS).verdict
    assert verdict["kind"] == "retains" and f"still holds {format_bytes(verdict['bytes'])}" in verdict["reason"]


def test_a_steady_native_leak_below_native_bytes_is_native():
    """A C library keeping 10 MB a run: RSS (after malloc_trim) and glibc's in-use bytes both grow by it, Python holds
    2 MB of what the run made. Under native_bytes on every run, called native once leak_runs re-runs repeat it and
    tracemalloc has seen every Python allocation (before: ok on every run)."""
    records, heap, rss = history([10 * MB, 10 * MB], 2 * MB, unexplained=8 * MB)
    now = dict(heap=(heap, heap + 10 * MB), rss=(rss, rss + 10 * MB), unexplained=8 * MB)
    untraced = decide(report(run=3, **now), records, DEFAULTS)
    assert untraced.verdict["kind"] == "ok" and untraced.suspect
    assert "next run is traced" in untraced.verdict["reason"]
    out = decide(report(run=3, traced=2 * MB, **now), records, DEFAULTS)
    assert out.verdict["kind"] == "native" and out.verdict["bytes"] == 8 * MB and out.suspect
    assert out.verdict["per_run"] is True and untraced.verdict["per_run"] is False  # the badge: "native +8 MB/run"
    reason = out.verdict["reason"]
    assert reason.startswith("Each re-run of this cell keeps about 8 MB more") and "2 consecutive" in reason
    # One re-run is no trend.
    assert decide(report(run=2, traced=2 * MB, **now), records[:1], DEFAULTS).verdict["kind"] == "ok"


def test_a_big_steady_native_leak_is_said_per_rerun_too():
    """A C library keeping 40 MB a run, over native_bytes on every run: one run's figure was said ("40 MB of RSS growth
    ...", per_run false, bytes_per_run the 5 kB Python kept) where a 5 MB one was a leak per re-run. Both are now."""
    big = DEFAULTS["native_bytes"] + 20 * MB
    records, heap, rss = history([big, big], 5_000, unexplained=big)
    out = decide(report(run=3, heap=(heap, heap + big), rss=(rss, rss + big), unexplained=big, traced=5_000),
                 records, DEFAULTS)
    assert out.verdict["kind"] == "native" and out.verdict["per_run"] is True, out.verdict
    assert out.verdict["bytes"] == out.verdict["bytes_per_run"] == big - 5_000, out.verdict  # less what Python holds
    assert out.verdict["reason"].startswith("Each re-run of this cell keeps about"), out.verdict["reason"]
    # A first run over native_bytes is one run's growth, said so.
    first = decide(report(run=1, heap=(heap, heap + big), rss=(rss, rss + big), unexplained=big, traced=5_000), [],
                   DEFAULTS)
    assert first.verdict["kind"] == "native" and first.verdict["per_run"] is False
    assert "of RSS growth is not held by any Python object" in first.verdict["reason"]


def test_a_steady_native_leak_is_the_allocators_figure_where_the_two_measures_agree():
    """A C library's 10 MB a run: glibc's in-use bytes grow by it exactly, while the RSS measure reads 9.3 MB, as
    malloc_trim also gave back free memory that was not the run's. The two agree: the allocators' figure is given.
    Where RSS says much less (5 MB), the smaller is."""
    for unexplained, expected in ((9_300_000, 10 * MB), (5 * MB, 5 * MB), (12 * MB, 10 * MB)):
        records, heap, rss = history([10 * MB, 10 * MB], 0, unexplained=unexplained)
        now = dict(heap=(heap, heap + 10 * MB), rss=(rss, rss + 10 * MB), unexplained=unexplained, traced=0)
        out = decide(report(run=3, **now), records, DEFAULTS)
        assert out.verdict["kind"] == "native" and out.verdict["bytes"] == expected, (unexplained, out.verdict)


def test_memdiag_s_own_records_between_runs_do_not_hide_a_steady_native_leak():
    """A traced run's report (its sites, its chains) adds some 3,900 blocks to memdiag's history after the run ended,
    before the next run starts. Those are not the cell's objects piling up: the block guard reads the run's own blocks,
    from its start to its own end. (Every other run was left out, and the leak said "about 4.99 MB" of a 10 MB/run
    leak.)"""
    records, heap, rss = history([10 * MB, 10 * MB], 2 * MB, unexplained=8 * MB)
    for record in records:
        record["after"] = dict(record["next"])
        record["next"] = dict(record["next"], blocks=record["next"]["blocks"] + 3_900)
    now = dict(heap=(heap, heap + 10 * MB), rss=(rss, rss + 10 * MB), unexplained=8 * MB, traced=2 * MB)
    out = decide(report(run=3, **now), records, DEFAULTS)
    # 8 MB by RSS; the allocators' 8.12 MB counts the run's own blocks at BLOCK_BYTES each.
    assert out.verdict["kind"] == "native" and 8 * MB <= out.verdict["bytes"] <= 8.2 * MB, out.verdict


def test_rss_growth_the_allocators_do_not_hold_is_not_a_steady_native_leak():
    """RSS grows 8 MB a run that Python does not explain (pages a library maps, allocator drift), but glibc's in-use
    bytes do not: the two measures disagree, nothing is called native."""
    records, heap, rss = history([0, 0], 0, rss_steps=[8 * MB, 8 * MB], unexplained=8 * MB)
    out = decide(report(run=3, heap=(heap, heap), rss=(rss, rss + 8 * MB), traced=0, unexplained=8 * MB), records,
                 DEFAULTS)
    assert out.verdict["kind"] == "ok" and "native" not in out.verdict["flags"]


def test_python_objects_piling_up_with_c_memory_are_not_native():
    """pyplot's open figures: each re-run leaves 5,000 more small objects and a 6 MB canvas that Python cannot size.
    The objects pile up: Python's leak (plt.close), not a C extension's."""
    records, heap, rss = history([6 * MB, 6 * MB], 300_000, unexplained=6 * MB, blocks=5000)
    out = decide(report(run=3, heap=(heap, heap + 6 * MB), rss=(rss, rss + 6 * MB), blocks=(11_000, 16_000),
                        traced=300_000, unexplained=6 * MB), records, DEFAULTS)
    assert "native" not in out.verdict["flags"]


def test_a_steady_native_leak_holds_near_the_threshold_then_ends():
    records, heap, rss = history([10 * MB, 10 * MB], 0, unexplained=10 * MB, kind="native")
    near = dict(heap=(heap, heap + int(1.2 * MB)), rss=(rss, rss + int(1.2 * MB)), traced=0, unexplained=int(1.2 * MB))
    assert decide(report(run=3, **near), records, DEFAULTS).verdict["kind"] == "native"  # 1.2 MB: over half of 2 MiB
    gone = dict(heap=(heap, heap), rss=(rss, rss), traced=0, unexplained=0)
    assert decide(report(run=3, **gone), records, DEFAULTS).verdict["kind"] == "ok"


def test_format_bytes():
    assert format_bytes(8_000_000) == "8 MB" and format_bytes(5_010_000) == "5.01 MB"
    assert format_bytes(120_300_000) == "120 MB" and format_bytes(-2_500) == "-2.5 kB" and format_bytes(12) == "12 B"
