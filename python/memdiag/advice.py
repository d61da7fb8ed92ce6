"""One line of advice for a root that keeps memory alive, where there is a standard fix. Pure: strings in, a string out.

The roots are named as probes/roots.py names them (`Out[12]`, `_`, `_12`, `sys.last_exc`, `logging.Logger`, a user
variable); the chain is the report's [{"label", "edge"}] from the root down to what it keeps.
"""
import re

_OUTPUT_CACHE = re.compile(r"^(Out\[\d+\]|_oh|_+|_\d+)$")
_LAST_ERROR = ("sys.last_traceback", "sys.last_value", "sys.last_exc")


def for_root(root, chain=()):
    """The advice for one chain (a sentence), or None when there is no standard fix to suggest."""
    labels = " ".join(link.get("label", "") for link in chain if isinstance(link, dict))
    if _OUTPUT_CACHE.match(root or ""):
        return ("IPython's output cache keeps every displayed result: end the cell with `;` so that it keeps none, "
                "or run `%reset -f out` to free what it holds.")
    if root in _LAST_ERROR:
        return ("The last error keeps its frames and their locals until the next error replaces it (IPython holds "
                "it too, so deleting sys.last_traceback alone frees nothing): run any cell that raises a small "
                "error, or restart the kernel.")
    if (root or "").startswith(("printed output", "HistoryManager.outputs")):
        return ("IPython keeps every cell's output (printed text, displays) in its history for the whole session: "
                "print less, or write long output to a file.")
    if "lru_cache" in labels:
        name = next((link["label"].split(" ", 1)[1] for link in chain
                     if isinstance(link, dict) and link.get("label", "").startswith("lru_cache ")), "the function")
        return f"The cache keeps every result: `{name}.cache_clear()` empties it; a `maxsize` bounds it."
    if ("matplotlib.figure.Figure" in labels or "matplotlib.axes." in labels
            or (root or "").startswith(("matplotlib.pyplot", "matplotlib._pylab"))):
        return "pyplot keeps every figure it made: `plt.close(fig)` (or `plt.close('all')`) frees them."
    if (root or "").startswith("logging."):
        return ("The logging module keeps every logger ever named: reuse a few names (a per-job logger is a "
                "LoggerAdapter or an `extra=`) instead of `getLogger(f'...{job}')`.")
    return None


def for_worker_global(module, name, type_name, status):
    """The advice for a module global that a cell's tasks left on Dask workers (a sentence): `module.name` of type
    `type_name`, "new", "grown" or "rebound" during the cell."""
    root = f"{module}.{name}"
    if status == "grown" and type_name in ("list", "dict", "set", "deque", "collections.deque", "OrderedDict"):
        fix = f"empty it on every worker (`client.run(lambda: __import__({module!r}).{name}.clear())`)"
    else:
        fix = f"drop it on every worker (`client.run(lambda: delattr(__import__({module!r}), {name!r}))`)"
    return (f"{root} lives in each worker process for as long as the worker runs, and Dask does not count it "
            f"(unmanaged memory): {fix}, return the data from the task instead (Dask then manages and frees it), "
            "or restart the workers (`client.restart()`).")
