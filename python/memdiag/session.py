"""Wiring of one loaded extension: recorder, comm bridge and magics, and their complete removal on unload."""

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

    recorder = Recorder(ip, config)
    bridge = Bridge(ip, recorder, config, version, lambda name: inspect_heap.why(ip, name))
    recorder.report_listeners.append(magics.show_deep_report)
    magic_obj = magics.MemdiagMagics(ip, recorder=recorder, config=config)
    ip.register_magics(magic_obj)
    recorder.register()
    gcguard.wrap_user_calls(recorder.thaw_current)
    state.update(shell=ip, recorder=recorder, bridge=bridge, magics=magic_obj)
    bridge.announce()


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
