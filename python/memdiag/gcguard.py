"""Holds the gc in the state a cell's census needs, and always gives it back as found.

Before the cell, `gc.freeze()` moves every existing object to the permanent generation, so `gc.get_objects()` and a
collection afterwards see only what the cell created: the cost follows the cell, not the heap. A user who froze the gc
themselves keeps their freeze (we then skip the census). Deep mode also holds collections off during the cell, so every
cycle it makes is still there to be named afterwards.
"""
import functools
import gc
import subprocess
import sys
import types

# The user's own gc calls must see the whole heap and collect all of it, as without memdiag: while loaded, these are
# wrapped to thaw the running cell first (its census is then skipped). memdiag itself calls the originals.
_WRAPPED = ("collect", "get_objects", "get_referrers", "freeze", "unfreeze", "get_freeze_count")
RAW = types.SimpleNamespace(**{name: getattr(gc, name) for name in _WRAPPED + ("enable", "disable")})
# gc.get_freeze_count() walks the whole permanent generation (O(heap)): never per cell. Whether the user froze the gc
# is decided once at load against the interpreter's own start-up count, then followed through the wrapped
# gc.freeze / gc.unfreeze. A count above 0 alone proves nothing: CPython 3.12 starts with objects in the permanent
# generation (375 in a fresh 3.12.1 interpreter or ipykernel) though nobody froze anything.
_user = {"frozen": False, "baseline": 0, "startup": 0}
# The running deep cell's GcState while it holds collections off: a user's own gc.enable()/disable() then takes over.
_hold = {"state": None}


def startup_freeze_count():
    """Objects a fresh interpreter of this build holds in the permanent generation before any user code (an int).

    Read once from a child `sys.executable` (about 20 ms), only when this process's count is above 0; 0 when it cannot
    run (then a non-zero count at load is taken for the user's freeze, which only skips the census: it never misleads).
    """
    code = "import gc; print(gc.get_freeze_count())"
    try:
        out = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, timeout=20,
                             check=True).stdout
        return int(out.strip().splitlines()[-1])
    except (OSError, ValueError, IndexError, subprocess.SubprocessError):
        return 0


def user_frozen():
    """True while the user's own gc.freeze() holds: frozen before memdiag loaded, or gc.freeze() called since."""
    return _user["frozen"]


def freeze_state():
    """{"frozen": bool, "baseline": objects in the permanent generation at load, "startup": the interpreter's own}."""
    return dict(_user)


def wrap_user_calls(thaw):
    """Replace gc.collect, get_objects, get_referrers, freeze, unfreeze and get_freeze_count with wrappers that call
    `thaw(by)` first, by naming the call ("gc.collect()"): the running cell's freeze would hide the heap from them.
    gc.enable and gc.disable get wrappers that end a deep cell's hold on collections. Decides, once, whether the user
    froze the gc before memdiag loaded (a freeze count above the interpreter's start-up count)."""
    baseline = RAW.get_freeze_count()
    startup = startup_freeze_count() if baseline > 0 else 0
    _user.update(frozen=baseline > startup, baseline=baseline, startup=startup)
    for name in _WRAPPED:
        original = getattr(RAW, name)

        def wrapper(*args, _original=original, _name=name, **kwargs):
            thaw(f"gc.{_name}()")
            result = _original(*args, **kwargs)
            if _name == "get_referrers":
                # The wrapper's own argument tuple refers to every object asked about: not one of the user's holders.
                result = [ref for ref in result if ref is not args]
            if _name in ("freeze", "unfreeze"):
                _user["frozen"] = _name == "freeze"
            return result

        functools.update_wrapper(wrapper, original)
        wrapper.__memdiag_original__ = original
        setattr(gc, name, wrapper)
    for name in ("enable", "disable"):
        if getattr(getattr(gc, name), "__memdiag_original__", None) is None:
            _wrap_toggle(name)


def _wrap_toggle(name):
    original = getattr(gc, name)

    def wrapper(_original=original):
        state = _hold["state"]
        if state is not None:
            state.held_off = False  # the user's own gc.enable()/disable() takes over from the deep cell's hold
        return _original()

    functools.update_wrapper(wrapper, original)
    wrapper.__memdiag_original__ = original
    setattr(gc, name, wrapper)


def unwrap_user_calls():
    """Put back the gc functions wrap_user_calls replaced."""
    for name in ("enable", "disable"):
        original = getattr(getattr(gc, name), "__memdiag_original__", None)
        if original is not None:
            setattr(gc, name, original)
    for name in _WRAPPED:
        if getattr(getattr(gc, name), "__memdiag_original__", None) is not None:
            setattr(gc, name, getattr(RAW, name))


def collected():
    """Objects the collector has freed since the interpreter started, every generation and every collection, automatic
    or asked for (int, from gc.get_stats(): a few µs, no heap walk). Read before and after a cell, the difference is
    what collections during the cell freed.

    Not a gc.callbacks hook: CPython then builds an info dict and calls Python twice per collection, and an
    allocation-heavy cell collects generation 0 hundreds of times (282 times, 0.7 ms more, for `make bench`'s
    200,000-row cell)."""
    return sum(stats["collected"] for stats in gc.get_stats())


# A cell whose automatic collections collected generation 1 (or the oldest) at most this many times has the
# generations they moved its objects into collected after it: a few tens of thousands of objects at most (a few ms).
OLDEST_COLLECTED_AFTER = 8


def collections():
    """[collections run so far] per generation, youngest first (list of ints, from gc.get_stats(): automatic and asked
    for alike)."""
    return [stats["collections"] for stats in gc.get_stats()]


def promoted_to(state):
    """The oldest generation (int) of the cell's young objects memdiag collects after it, a GcState's
    `collections_before` against now: the oldest its automatic collections may have moved them into (0 when none
    ran, 1 when only generation 0 was collected, else 2); but 0, as before any of this, when generation 1 was collected
    more than OLDEST_COLLECTED_AFTER times. With the gc frozen these generations hold only what is younger than the
    cell's start, and a collection costs what the cell left there: a few thousand objects in generation 1, up to all
    the cell's survivors in the oldest (a cell that kept 1,000,000 lists collected generation 1 about 120 times, and
    collecting them after it took 50-100 ms; collecting generation 1 alone brought CPython's own collection of the
    oldest right after, as costly). Cyclic garbage moved out of generation 0 by so long a cell is found by its traced
    runs, which collect every generation, or by the collections that come later."""
    before = state.collections_before
    if not before:
        return 0
    ran = [now - then for now, then in zip(collections(), before, strict=False)]
    if sum(ran[1:]) > OLDEST_COLLECTED_AFTER:
        return 0
    if any(ran[1:]):
        return len(ran) - 1
    return 1 if ran and ran[0] else 0


def enter(ctx):
    """Before the cell: note the gc's state and what the collector has freed so far (collected()), freeze what exists
    (unless the user froze it, or the cell runs heap-wide magics) and, for a deep cell, hold automatic collections
    off."""
    state = ctx.gc
    state.enabled = gc.isenabled()
    state.debug = gc.get_debug()
    state.user_frozen = user_frozen()
    state.collected_before = collected()
    state.collections_before = collections()
    state.frozen = False
    if state.may_freeze and not state.user_frozen:
        # The report's sections as they are now: those the after-probes write later are memdiag's own survivors.
        state.report_before = {key: id(value) for key, value in ctx.report.items()}
        RAW.freeze()
        state.frozen = True
    if ctx.deep and state.enabled:
        RAW.disable()
        state.held_off = True
        _hold["state"] = state


def thaw(ctx, by=None):
    """Unfreeze now: the cell calls something that needs the whole heap (`by`, as the user wrote it: "gc.collect()",
    "%memdiag types"); the census of this cell is then skipped, and not_frozen_reason says why."""
    if ctx is not None and ctx.gc.frozen:
        RAW.unfreeze()
        ctx.gc.frozen = False
        ctx.gc.thawed_by = by


USER_FROZEN = ("the gc was frozen by the user (gc.freeze()): the census and the cycle probe need a freeze of their "
               "own, so they are off until gc.unfreeze()")


def not_frozen_reason(state):
    """Why the census and the cycle probe could not run for a cell whose gc memdiag did not keep frozen (a GcState),
    in words a user reads in the report's `skipped`."""
    if state.user_frozen:
        return USER_FROZEN
    if state.thawed_by in ("gc.freeze()", "gc.unfreeze()"):
        return (f"{state.thawed_by} ran during the cell: memdiag's own freeze gave way to it, so it cannot tell the "
                "objects this cell made from older ones (its names, RSS and verdict are still measured)")
    if state.thawed_by:
        # Called by the cell, or by a thread while it ran.
        return (f"{state.thawed_by} ran during the cell and looks at the whole heap, so memdiag cannot tell the "
                "objects this cell made from older ones (its names, RSS and verdict are still measured)")
    if not state.may_freeze:
        return ("the cell runs %memdiag commands that look at the whole heap, so memdiag cannot tell the objects "
                "this cell made from older ones")
    return "the gc was not frozen for this cell"


def may_collect(state):
    """True when memdiag may collect the young objects of a cell (a GcState): the gc is frozen for the cell (a
    collection sees only what is younger), enabled by the user and not in the user's debug mode."""
    return state.frozen and (state.enabled or state.held_off) and not state.debug and not gc.get_debug()


def restore(ctx):
    """Give the gc back as the user left it. Idempotent; runs in a finally."""
    state = ctx.gc
    state.collected_before = None
    state.collections_before = None
    if state.frozen:
        # Still ours: a user's gc.freeze()/unfreeze() during the cell would have thawed it first (wrappers above).
        state.frozen = False
        RAW.unfreeze()
    if _hold["state"] is state:
        _hold["state"] = None
    if state.held_off:
        state.held_off = False
        if not gc.isenabled():
            RAW.enable()
