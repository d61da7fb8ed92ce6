"""What is not the user's: the one list of the kernel's machinery, used by every probe.

IPython, ipykernel and the packages they run a cell with (messaging, the event loop, threads, imports, tracebacks,
memdiag itself) allocate, create objects and make cyclic garbage around every cell. None of it is what the user keeps:
it is hidden from allocation sites, type growth, cycle groups and backref chains alike (DESIGN.md, "Noise is a
defect"). `logging` is deliberately not on the list: a leak through `logging.Logger.manager.loggerDict` is the
user's. Pure: nothing here imports IPython or anything new; files are resolved from `sys.modules`.
"""
import os
import sys
import types

from . import protocol

# Third-party packages the kernel runs a cell with (top-level names).
KERNEL = frozenset({
    "IPython", "ipykernel", "ipykernel_launcher", "traitlets", "jupyter_client", "jupyter_core", "zmq", "tornado",
    "comm", "debugpy", "pydevd", "_pydevd_bundle", "_pydev_bundle", "_pydevd_frame_eval", "_pydev_runfiles",
    "pygments", "stack_data", "executing", "pure_eval", "asttokens", "prompt_toolkit", "jedi", "parso",
    "_distutils_hack", "memdiag",
})
# The standard library's part: what compiles the cell, formats its traceback, runs the event loop and the kernel's
# threads, imports modules. `_frozen_importlib*`, `_asyncio`, `_thread` are the C or frozen halves of those.
STDLIB = frozenset({
    "asyncio", "_asyncio", "threading", "_thread", "selectors", "contextlib", "importlib", "_frozen_importlib",
    "_frozen_importlib_external", "runpy", "argparse", "linecache", "traceback", "codeop", "ast", "tracemalloc",
    "_tracemalloc", "queue", "_queue", "concurrent", "inspect",
})
MODULES = KERNEL | STDLIB
# A Dask client's own work in the kernel (its comm threads; a LocalCluster's scheduler runs there too): an allocation
# under these files and no cell's frame is the kernel's, not an allocation site. Their types and module globals stay
# the user's: a Future or a Client the notebook keeps, or a leak through them, is the user's to see.
CLIENT_FILES = frozenset({"distributed"})
_SORTED = tuple(sorted(MODULES | CLIENT_FILES))
# Of those, the ones that run other code (the user's threads, tasks, imports, context managers, pools): an allocation
# made under them is not the kernel's for that alone.
RUNNERS = frozenset({
    "asyncio", "_asyncio", "threading", "_thread", "selectors", "contextlib", "importlib", "_frozen_importlib",
    "_frozen_importlib_external", "queue", "_queue", "concurrent",
})
# The import system: what it runs is a module's top level, whoever asked for the import.
IMPORTERS = frozenset({"importlib", "_frozen_importlib", "_frozen_importlib_external"})
# memdiag's own work and tracemalloc's: never counted, not even as the kernel's.
OWN = frozenset({"memdiag", "tracemalloc"})
# Objects that make cycles in anyone's hands (a frame and its traceback): a cycle group of these alone is IPython's
# (a formatted traceback, a finished coroutine), not the user's.
CYCLE_ONLY_TYPES = (types.FrameType, types.TracebackType, types.CellType, types.CodeType, types.GeneratorType,
                    types.CoroutineType)
CYCLE_ONLY_NAMES = frozenset(protocol.type_name(tp=tp) for tp in CYCLE_ONLY_TYPES)

# A Dask worker process's own machinery (top-level names): what runs the tasks, moves their data and answers
# client.run. `%%memdiag --workers` names no allocation site and no module global in these (an allocation whose
# frames kept are these and the standard library alone is the worker's own: workerside._site_of), wherever they are
# installed (found from the worker's sys.modules, as _Files finds the kernel's); memdiag_workerside is memdiag's own
# code on the worker, _distutils_hack setuptools' import hook.
WORKER = frozenset({
    "distributed", "dask", "tornado", "msgpack", "cloudpickle", "toolz", "tlz", "cytoolz", "zict", "tblib", "psutil",
    "click", "yaml", "fsspec", "partd", "locket", "sortedcontainers", "jinja2", "markupsafe", "urllib3",
    "importlib_metadata", "lazy_importer", "memdiag_workerside", "memdiag", "_distutils_hack",
}) | STDLIB

# Kinds of a source file, as `file_kind` returns them.
KIND_OWN, KIND_KERNEL, KIND_RUNNER, KIND_IMPORT = "own", "kernel", "runner", "import"
_PACKAGE = os.path.dirname(os.path.abspath(__file__))


def is_machinery_module(modname):
    """True when a module (dotted name) belongs to the machinery: `IPython.core.formatters`, `asyncio.events`."""
    return isinstance(modname, str) and modname.split(".", 1)[0] in MODULES


def is_machinery_type(tp):
    """True for a type defined by the machinery (by its `__module__`, read without running user code)."""
    return is_machinery_module(protocol.type_attr(tp, "__module__"))


def is_kernel_type(tp):
    """A machinery type that is not merely a runner's: one of them in a cycle makes the cycle the kernel's."""
    module = protocol.type_attr(tp, "__module__")
    return is_machinery_module(module) and module.split(".", 1)[0] not in RUNNERS


def is_cycle_only_type(tp):
    """True for the types that make cycles in anyone's hands (CYCLE_ONLY_TYPES: frames, tracebacks, cells, code,
    generators, coroutines)."""
    return any(tp is kind for kind in CYCLE_ONLY_TYPES)  # identity: `in` would run a user metaclass's __eq__


class _Files:
    """Source files of the machinery (and of CLIENT_FILES), from the modules imported so far; rebuilt when one of
    them appears."""

    def __init__(self):
        self.present = None
        self.dirs = ()  # (prefix, top-level name) of packages, longest first
        self.files = {}  # file of a plain module -> top-level name
        self.kinds = {}  # filename -> kind or None, memoized

    def refresh(self):
        modules = sys.modules
        present = tuple(name for name in _SORTED if name in modules)
        if present == self.present:
            return
        dirs, files = [(_PACKAGE + os.sep, "memdiag")], {}
        for name in present:
            module = modules.get(name)
            try:
                filename = module.__dict__.get("__file__") if isinstance(module, types.ModuleType) else None
                is_package = "__path__" in module.__dict__
            except Exception:  # noqa: BLE001 - a module replaced by something odd
                continue
            if not isinstance(filename, str) or not filename:
                continue
            filename = _normal(filename)
            if is_package:
                dirs.append((os.path.dirname(filename) + os.sep, name))
            else:
                files[filename] = name
        dirs.sort(key=lambda d: len(d[0]), reverse=True)
        self.present, self.dirs, self.files, self.kinds = present, tuple(dirs), files, {}

    def top_name(self, filename):
        """The machinery's top-level module name a file belongs to, or None."""
        if filename.startswith("<frozen "):  # `<frozen importlib._bootstrap>`, `<frozen runpy>` (3.11+)
            name = filename[8:-1].split(".", 1)[0]
            return name if name in MODULES else None  # (CLIENT_FILES are never frozen)
        filename = _normal(filename)
        name = self.files.get(filename)
        if name is not None:
            return name
        for prefix, name in self.dirs:
            if filename.startswith(prefix):
                return name
        return None

    def kind(self, filename):
        try:
            return self.kinds[filename]
        except KeyError:
            pass
        name = self.top_name(filename) if isinstance(filename, str) else None
        if name is None:
            kind = None
        elif name in OWN:
            kind = KIND_OWN
        elif name in IMPORTERS:
            kind = KIND_IMPORT
        elif name in RUNNERS:
            kind = KIND_RUNNER
        else:  # the kernel's packages, and a Dask client's (CLIENT_FILES)
            kind = KIND_KERNEL
        if len(self.kinds) > 50_000:
            self.kinds.clear()
        self.kinds[filename] = kind
        return kind


def _normal(filename):
    return filename[:-1] if filename.endswith(".pyc") else filename  # as tracemalloc.Filter normalizes it


_FILES = _Files()


def file_kind(filename):
    """"own" (memdiag, tracemalloc), "kernel" (IPython, ipykernel, ... the stdlib that compiles and formats, and a Dask
    client's files: CLIENT_FILES),
    "import" (the import system), "runner" (threading, asyncio, contextlib, ...: they run anyone's code) or None (not
    machinery)."""
    _FILES.refresh()
    return _FILES.kind(filename)


def file_kinds():
    """`file_kind` for many files in a row (one refresh): returns the memoizing function."""
    _FILES.refresh()
    return _FILES.kind


def is_machinery_file(filename):
    """True for a source file of the machinery (`.pyc` normalised; `<frozen importlib._bootstrap>` included)."""
    return file_kind(filename) is not None
