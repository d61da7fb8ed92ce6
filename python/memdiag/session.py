"""Wiring of one loaded extension: recorder, comm bridge and magics, and their complete removal on unload."""

import importlib

from . import gcguard
from .bridge import Bridge
from .recorder import Recorder


def load(ip, state, config, version):
    """Load memdiag into the shell `ip`: a Recorder (the cell hooks), a comm Bridge and the magics, kept in `state`
    (memdiag._state); the user's gc calls are wrapped (gcguard).

    Already loaded in `ip`: only re-opens the comm with a hello. Loaded in another shell: that one is unloaded first.
    """
    if state["recorder"] is not None:
        if state["shell"] is ip:
            state["bridge"].announce()
            return
        unload(state["shell"], state)
    from . import inspect_heap, magics

    _warm_up()
    recorder = Recorder(ip, config)
    bridge = Bridge(ip, recorder, config, version, lambda name: inspect_heap.why(ip, name))
    recorder.report_listeners.append(magics.show_deep_report)
    magic_obj = magics.MemdiagMagics(ip, recorder=recorder, config=config)
    ip.register_magics(magic_obj)
    recorder.register()
    gcguard.wrap_user_calls(recorder.thaw_current)
    state.update(shell=ip, recorder=recorder, bridge=bridge, magics=magic_obj)
    bridge.announce()


def _warm_up():
    """Make now what memdiag and IPython would make lazily during the first recorded cell, after the gc is frozen,
    where the census would count it as the cell's: the C library's functions memdiag calls (mallinfo2, malloc_trim:
    a ctypes class each), the thread of the progress timers, and the logger module a shell's first run_cell imports
    (50 objects in a `cache = []` cell)."""
    from . import progress
    from .probes import heap, native

    progress.start()
    heap.in_use()
    native.malloc_trim_available()
    try:
        importlib.import_module("IPython.core.logger")
    except ImportError:
        pass


def unload(ip, state):
    """Undo `load` completely (gc wrappers, cell hooks, comm, magics) and empty `state`; nothing when not loaded.

    The shell cleaned up is the one recorded in `state`; `ip` is not used.
    """
    recorder, bridge, magic_obj = state["recorder"], state["bridge"], state["magics"]
    if recorder is None:
        return
    try:
        gcguard.unwrap_user_calls()
        recorder.unregister()
    finally:
        if bridge is not None:
            bridge.close()
        shell = state["shell"]
        if magic_obj is not None and shell is not None:
            for kind in ("line", "cell"):
                shell.magics_manager.magics[kind].pop("memdiag", None)
            shell.magics_manager.registry.pop(type(magic_obj).__name__, None)
        state.update(shell=None, recorder=None, bridge=None, magics=None)
