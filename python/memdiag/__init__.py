"""memdiag: per-cell memory diagnosis for IPython and JupyterLab.

`%load_ext memdiag` records every cell (see DESIGN.md); `memdiag.history()` and `memdiag.last()` return the reports.
"""
from .settings import Config

__version__ = "0.1.0"

config = Config()
_state = {"shell": None, "recorder": None, "bridge": None, "magics": None}


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "memdiag"}]


def load_ipython_extension(ip):
    """`%load_ext memdiag`: record every cell of the shell `ip` (cell hooks, comm bridge, magics: session.load).

    Loading again in the same shell only re-opens the comm with a hello; loading in another shell unloads the first.
    """
    from . import session

    session.load(ip, _state, config, __version__)


def unload_ipython_extension(ip):
    """`%unload_ext memdiag`: remove the cell hooks, the gc wrappers, the comm and the magics (session.unload)."""
    from . import session

    session.unload(ip, _state)


def history():
    """Reports of the recorded cells, oldest first: a list of JSON-serialisable dicts (the report schema: memory in
    bytes, times in seconds), at most config.history_limit of them; [] when the extension is not loaded."""
    recorder = _state["recorder"]
    return recorder.history.reports() if recorder is not None else []


def last():
    """The newest report (a dict, as in history()), or None when no cell was recorded or the extension is not
    loaded."""
    recorder = _state["recorder"]
    return recorder.history.last() if recorder is not None else None


def _bootstrap():
    """Called silently by the frontend: load the extension if needed, then (re)open the comm with a hello."""
    from IPython import get_ipython

    ip = get_ipython()
    if ip is None:
        return
    if _state["recorder"] is None or _state["shell"] is not ip:
        ip.extension_manager.load_extension("memdiag")
    else:
        _state["bridge"].announce()
