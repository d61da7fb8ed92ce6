"""The report contract's mechanics: schema version, empty sections, hostile-string capping, JSON safety, size caps.

Everything a report holds comes through here, because reports are rendered in someone else's browser later and a
type name or a repr is attacker-controlled text (`type('<img onerror=…>', (), {})` is valid Python).
"""
import json
import math
import reprlib

SCHEMA_VERSION = 1
PROTOCOL_VERSION = 1
MIME = "application/vnd.memdiag.v1+json"
COMM_TARGET = "memdiag"

MAX_STR = 200
MAX_REPORT_BYTES = 64 * 1024
_INT_LIMIT = 2**63
# The order in which lists are shortened when a report is too big: least useful detail first.
_TRIM_ORDER = (
    ("backrefs",), ("cluster", "traced", "workers"), ("objects", "growth"), ("traced", "top"), ("gc", "cycles"),
    ("variables",), ("cluster", "workers"), ("errors",),
)

_repr = reprlib.Repr()
_repr.maxstring = MAX_STR
_repr.maxother = MAX_STR
_repr.maxlevel = 2


def short(text, limit=MAX_STR):
    """Cap a string that is already a str (names, paths, source lines); anything else is str()'d first: at most
    `limit` characters, the last one "…" when cut."""
    if not isinstance(text, str):
        text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def safe_repr(obj, limit=MAX_STR):
    """A capped repr (at most `limit` characters, reprlib's) that survives raising, slow-to-build and huge reprs;
    KeyboardInterrupt still propagates."""
    try:
        text = _repr.repr(obj)
    except BaseException as exc:  # noqa: BLE001 - a hostile __repr__ may raise anything, even SystemExit
        if isinstance(exc, KeyboardInterrupt):
            raise
        text = f"<{type_name(obj)} object (repr failed)>"
    return short(text if isinstance(text, str) else "<repr not a str>", limit)


def key_repr(key, limit=40):
    """A dict key as Python spells it when it is plain data; otherwise `<type>`: any other key's __repr__ is user code
    (it may be slow, huge or raise), and so is the __repr__ of a str or int subclass."""
    plain = _is_plain(key) or (type(key) is tuple and len(key) <= 8 and all(_is_plain(k) for k in key))
    return safe_repr(key, limit) if plain else f"<{type_name(key)}>"


def _is_plain(value):
    tp = type(value)
    return tp is str or tp is int or tp is float or tp is bool or tp is bytes or value is None


def type_attr(tp, attr):
    """`tp.<attr>` read through type's own descriptors (a metaclass may shadow __qualname__/__module__ with anything):
    the str, or None when it cannot be read or is not a str."""
    try:
        value = type.__dict__[attr].__get__(tp, type)
    except Exception:  # noqa: BLE001
        return None
    return value if isinstance(value, str) else None


def type_name(obj=None, tp=None):
    """`module.Qualname` of type(obj) (never obj.__class__, which may lie); builtins without module."""
    tp = type(obj) if tp is None else tp
    name = type_attr(tp, "__qualname__") or type_attr(tp, "__name__") or "?"
    module = type_attr(tp, "__module__")
    if module and module not in ("builtins", "__main__"):
        name = f"{module}.{name}"
    return short(name, 120)


def empty_report():
    """Every required section with neutral values, so a probe that fails still leaves a valid report (a new dict;
    memory in bytes, durations in seconds)."""
    return {
        "schema": SCHEMA_VERSION,
        "cell_id": None,
        "execution_count": 0,
        "run": 1,
        "duration_s": 0.0,
        "overhead_s": 0.0,
        "rss": {"before": 0, "after": 0, "peak": None, "limit": None},
        "traced": {"enabled": False, "retained": None, "top": []},
        "objects": {"new": 0, "growth": []},
        "gc": {"collected": 0, "cycles": []},
        "backrefs": [],
        "native": {"unexplained": None},
        "verdict": {"kind": "ok", "flags": [], "bytes_per_run": None, "reason": ""},
        "errors": [],
    }


def json_safe(value, depth=0):
    """Copy `value` into plain JSON types: finite floats, capped strings, str keys, bounded depth.

    Ints beyond ±2**63 and NaN or infinite floats become None, and so does anything but a scalar or a str more than
    12 levels deep; other objects become their capped repr.
    """
    # The exact builtin types first, without a call: a report is made of them (about a hundred values per cell).
    kind = type(value)
    if kind is str:
        return value if len(value) <= 4 * MAX_STR else short(value, 4 * MAX_STR)
    if kind is int:
        return value if -_INT_LIMIT < value < _INT_LIMIT else None
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is dict and depth <= 12:
        return {(k if type(k) is str and len(k) <= 80 else short(k if type(k) is str else key_repr(k), 80)):
                json_safe(v, depth + 1) for k, v in value.items()}
    if kind is list and depth <= 12:
        return [json_safe(v, depth + 1) for v in value]
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        # int.__int__, not int(): a subclass's __int__ is user code. Beyond 2**63 no reader keeps it exact, and past
        # 4,300 digits json.dumps raises.
        value = int.__int__(value)
        return value if -_INT_LIMIT < value < _INT_LIMIT else None
    if isinstance(value, float):
        value = float.__float__(value)
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return short(str.__str__(value), 4 * MAX_STR)
    if depth > 12:
        return None
    if isinstance(value, dict):
        return {short(k if type(k) is str else key_repr(k), 80): json_safe(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v, depth + 1) for v in value]
    return safe_repr(value)


def dumps(report):
    """Compact JSON text of a report (str); raises ValueError on NaN or infinity (json_safe the report first)."""
    return json.dumps(report, allow_nan=False, separators=(",", ":"))


def cap_report(report, limit=MAX_REPORT_BYTES):
    """Make the report JSON-safe and at most `limit` bytes of compact JSON, halving detail lists until it fits;
    returns the copy. As a last resort "variables" and "imports" are dropped and errors becomes ["report truncated"]."""
    report = json_safe(report)
    for path in _TRIM_ORDER * 8:
        if len(dumps(report)) <= limit:
            return report
        holder = report
        for key in path[:-1]:
            holder = holder.get(key, {})
        items = holder.get(path[-1])
        if isinstance(items, list) and items:
            del items[len(items) // 2:]
    if len(dumps(report)) > limit:
        report.pop("variables", None)
        report.pop("imports", None)
        report["errors"] = ["report truncated"]
    return report
