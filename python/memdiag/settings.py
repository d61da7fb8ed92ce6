"""memdiag's settings: one object shared by the recorder, the magics and the comm.

The keys are part of the comm protocol (protocol/README.md), so they are validated here, once, whoever changes them.
"""
import threading

MiB = 1024 * 1024
TRACE_POLICIES = ("off", "suspect", "always")

DEFAULTS = {
    "enabled": True,
    "trace": "suspect",
    "history_limit": 500,
    "retain_bytes": 10 * MiB,
    "leak_bytes_per_run": 2 * MiB,
    "leak_runs": 2,
    "cycle_bytes": 1 * MiB,
    "cycle_objects": 1000,
    "native_bytes": 20 * MiB,
}

# Keys whose value must be at least 1: a zero history or zero runs would make no sense.
_POSITIVE = {"history_limit", "leak_runs"}


class Config:
    """Validated settings with change listeners; safe to update from the comm thread.

    Read as attributes (config.retain_bytes); setting one goes through update(). Keys (DEFAULTS): enabled (bool),
    trace ("off", "suspect" or "always"), history_limit (reports kept), retain_bytes, leak_bytes_per_run, cycle_bytes
    and native_bytes (bytes), leak_runs (consecutive re-runs), cycle_objects (objects).
    """

    def __init__(self):
        self._values = dict(DEFAULTS)
        self._lock = threading.Lock()
        self._listeners = []

    def __getattr__(self, name):
        values = self.__dict__.get("_values")
        if values is not None and name in values:
            return values[name]
        raise AttributeError(name)

    def __setattr__(self, name, value):
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            self.update({name: value})

    def as_dict(self):
        """A copy of every setting, {key: value}."""
        with self._lock:
            return dict(self._values)

    def add_listener(self, callback):
        """Call `callback(settings dict)` after every update() that sets at least one key (reset() calls none)."""
        self._listeners.append(callback)

    def remove_listener(self, callback):
        """Stop calling `callback`; nothing when it was not registered."""
        if callback in self._listeners:
            self._listeners.remove(callback)

    def update(self, changes):
        """Apply a dict of changes atomically (every key is validated before any is set) and return the full settings
        dict; the listeners are called when at least one key was set.

        Raises ValueError, naming the first bad key, when `changes` is not a dict, a key is unknown or a value is of
        the wrong type or out of range (integers in [0, 2**53]; history_limit and leak_runs at least 1).
        """
        if not isinstance(changes, dict):
            raise ValueError("config changes must be an object")
        clean = {key: _validate(key, value) for key, value in changes.items()}
        with self._lock:
            self._values.update(clean)
        if clean:
            for callback in list(self._listeners):
                callback(self.as_dict())
        return self.as_dict()

    def reset(self):
        """Back to DEFAULTS (the listeners are not called)."""
        with self._lock:
            self._values = dict(DEFAULTS)


def _validate(key, value):
    if key not in DEFAULTS:
        raise ValueError(f"unknown config key {str(key)[:40]!r}")
    if key == "enabled":
        if not isinstance(value, bool):
            raise ValueError("enabled must be true or false")
        return value
    if key == "trace":
        if value not in TRACE_POLICIES:
            raise ValueError("trace must be one of: " + ", ".join(TRACE_POLICIES))
        return value
    # bool is an int subclass; True as a byte threshold is a client bug, not a value.
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{key} must be an integer")
    if value < (1 if key in _POSITIVE else 0) or value > 2**53:
        raise ValueError(f"{key} is out of range")
    return value
