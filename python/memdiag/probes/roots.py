"""IPython's roots, named as users know them: their variables, `Out[12]`, `_`, `_12`, `sys.last_exc` (3.12+; before:
`sys.last_value` and `sys.last_traceback`), `module.attr`.

Found by identity, not by gc referrers: dicts whose values are all untracked (an `Out` cache of bytearrays, the dict
inside an lru_cache) are themselves untracked and invisible to `gc.get_referrers`, so roots also look one or two levels
into untracked dicts and tuples and into lru caches. The last error's traceback is walked the same way: each frame it
keeps, and each local of those frames (`sys.last_exc.__traceback__.tb_next.tb_frame.f_locals['big']`), is named.
"""
import functools
import gc
import sys
import types

from .. import protocol
from ..machinery import is_machinery_module
from ..verdict import format_bytes
from .census import held_size
from .variables import is_ipython_name

DESCEND_ITEMS = 100_000
_TYPE_DICT = type.__dict__["__dict__"]  # a class's namespace as a mappingproxy, read without the class's own code
_LRU = functools._lru_cache_wrapper
MAX_TRACEBACK = 64  # tracebacks followed down from the last error
MAX_LOCALS = 200  # locals of one frame looked at
FRAME_LOCAL_MIN = 4096  # a frame's label names its locals that keep at least this much
CO_OPTIMIZED = 0x1  # a function's frame: its locals are its own (not a module's or a class body's namespace)
_TB_NEXT = types.TracebackType.tb_next
_TB_FRAME = types.TracebackType.tb_frame
_EXC_TB = BaseException.__traceback__


def frame_name(frame):
    """A frame's function name (co_qualname on 3.11+, else co_name), at most 60 characters."""
    code = frame.f_code
    name = getattr(code, "co_qualname", None) or code.co_name  # co_qualname: 3.11+
    return protocol.short(name, 60)


def frame_locals(frame):
    """[(name, value)] of a function frame's locals, read without running user code; [] for a module or class body.

    3.13+: f_locals is a view (PEP 667) that reads the frame's own slots. Before 3.13 it builds a dict once per frame
    (kept by the frame: a few hundred bytes); memdiag reads it only for frames on a chain or in the last error.
    """
    if not frame.f_code.co_flags & CO_OPTIMIZED:
        return []
    try:
        items = list(frame.f_locals.items())[:MAX_LOCALS]
    except Exception:  # noqa: BLE001 - a frame being torn down
        return []
    return [(name, value) for name, value in items if type(name) is str]


def _frame_label(frame):
    """`frame f (big 30.0 MB)`: the function, and the locals that keep the most."""
    held = []
    for name, value in ([] if _internal_frame(frame) else frame_locals(frame)):
        if issubclass(type(value), (type, types.ModuleType, types.FunctionType)):
            continue
        size = held_size(value)
        if size >= FRAME_LOCAL_MIN:
            held.append((size, name))
    held.sort(reverse=True)
    text = ", ".join(f"{protocol.short(name, 40)} {format_bytes(size)}" for size, name in held[:3])
    return f"frame {frame_name(frame)}" + (f" ({text})" if text else "")


def _internal_frame(frame):
    module = frame.f_globals.get("__name__") if type(frame.f_globals) is dict else None
    return is_machinery_module(module)


def label(obj):
    """A short, user-facing label for a node of a chain (hostile names capped by protocol)."""
    tp = type(obj)
    kind = protocol.type_attr(tp, "__name__")
    builtin = protocol.type_attr(tp, "__module__") == "builtins"
    if builtin and kind in ("function", "builtin_function_or_method", "method"):
        qual = getattr(obj, "__qualname__", None)
        return f"{kind} {protocol.short(qual, 60)}" if isinstance(qual, str) else kind
    if tp is _LRU:
        qual = getattr(obj, "__qualname__", None)
        return f"lru_cache {protocol.short(qual, 60)}" if isinstance(qual, str) else "lru_cache"
    if issubclass(tp, type):
        return f"class {protocol.type_name(tp=obj)}"
    if tp is types.FrameType:
        return _frame_label(obj)
    return protocol.type_name(obj)


_NAMESPACES = {"key": None, "namespaces": [], "machinery": set(), "containers": {}}


def _module_namespaces():
    """([(dict, prefix)], ids): the globals of every imported module (prefix: its name) and the namespaces of the
    classes each module defines (`logging.Logger`: a class attribute is found by identity, however many instances
    point at it); and the ids of the kernel's machinery modules and their globals, which are no root a user can act
    on (ipykernel's own `logger` leads to every Logger): searches go on past them, never through them.

    Cached until sys.modules changes (its length or its newest module): ~1,000 modules and their classes take ~20 ms
    to list, and every flagged cell asks."""
    modules = sys.modules
    key = (len(modules), id(next(reversed(modules.values()), None)))
    if _NAMESPACES["key"] == key:
        return _NAMESPACES["namespaces"], _NAMESPACES["machinery"]
    namespaces, machinery = [], set()
    for modname, module in list(modules.items()):
        mdict = getattr(module, "__dict__", None) if module is not None else None
        if type(mdict) is not dict or modname == "__main__":  # the user's namespace: its names are roots already
            continue
        if is_machinery_module(modname):
            machinery.update((id(mdict), id(module)))
            continue
        namespaces.append((mdict, modname))
        for name, value in list(mdict.items()):
            # Only the module's own classes (their __module__ is the module), read through type's descriptors: no
            # user code runs.
            if type(name) is not str or not issubclass(type(value), type):  # isinstance may read a __class__
                continue
            if protocol.type_attr(value, "__module__") != modname:
                continue
            try:
                namespace = gc.get_referents(_TYPE_DICT.__get__(value))
            except Exception:  # noqa: BLE001 - a type without a namespace
                continue
            if len(namespace) == 1 and type(namespace[0]) is dict:
                namespaces.append((namespace[0], f"{modname}.{name}"))
    # Roots.containers starts from this mapping, copied at C speed: ~2,000 namespaces.
    containers = {}
    for mapping, prefix in namespaces:
        containers.setdefault(id(mapping), (mapping, prefix, "."))
    _NAMESPACES.update(key=key, namespaces=namespaces, machinery=machinery, containers=containers)
    return namespaces, machinery


class Roots:
    """The roots a user can name, found by identity when made: the user's names, Out[n], `_`, the last error and what
    its traceback keeps, and the items of untracked containers and lru caches under the user's names; plus the
    namespaces (user_ns, Out, modules' globals) that name a child found among their referents. Keeps the root
    objects alive until release()."""

    def __init__(self, shell):
        self.named = {}  # id(obj) -> (root name, [links below the root object])
        self.others = {}  # id(obj) -> (root name, links): a second root of an object a user's name holds (other())
        _, machinery = _module_namespaces()
        # id(dict) -> (dict, prefix, sep): namespaces that are roots themselves (container_root); modules' globals and
        # their classes' namespaces, then the user's namespace and Out, whose names are their own roots.
        self.containers = dict(_NAMESPACES["containers"])
        # ids of machinery modules and their globals: no path to the user goes through them
        self.machinery = set(machinery)
        self._keep = []  # the root objects, alive while the search runs
        self._root_objs = {}  # root name -> the root object itself (resolve() may give an object below it)
        self._user_names = set()
        ns = shell.user_ns
        out = ns.get("Out") if isinstance(ns.get("Out"), dict) else {}
        self.containers[id(ns)] = (ns, None, None)  # a user's name is its own root: `df`, not `__main__.df`
        if out:
            self.containers[id(out)] = (out, "Out", None)
        for name, value in list(ns.items()):
            if type(name) is str and not is_ipython_name(name) and not issubclass(type(value), types.ModuleType):
                self._add(value, name)
                self._user_names.add(name)
        for n, value in list(out.items()):
            self._add(value, f"Out[{n}]")
        if "_" in ns:
            self._add(ns["_"], "_")
        for name, value in list(ns.items()):
            if type(name) is str and not is_ipython_name(name):
                self._descend(value, name)
        self._last_error()
        self._history(getattr(shell, "history_manager", None))
        self._pyplot_figures()

    def _last_error(self):
        """The last error and what its traceback keeps alive: the exception, each traceback, frame and local.

        3.12+ names them under `sys.last_exc` (`sys.last_value` and `sys.last_traceback` are its deprecated aliases:
        the same objects); before, under `sys.last_traceback` and `sys.last_value`.
        """
        exc = getattr(sys, "last_exc", None)  # 3.12+
        walked = None
        if isinstance(exc, BaseException):
            self._add(exc, "sys.last_exc")
            walked = _EXC_TB.__get__(exc)
            self._root_objs.setdefault("sys.last_exc", exc)
            self._traceback(walked, "sys.last_exc", [{"label": "traceback", "edge": ".__traceback__"}])
        tb = getattr(sys, "last_traceback", None)
        if type(tb) is types.TracebackType and tb is not walked:
            self._root_objs.setdefault("sys.last_traceback", tb)
            self._traceback(tb, "sys.last_traceback", [])
        value = getattr(sys, "last_value", None)
        if value is not None:
            self._add(value, "sys.last_value")

    def _traceback(self, tb, root, links):
        """Name the tracebacks from `tb` down, their frames and the frames' locals, under `root` + `links`.

        The locals of memdiag's and IPython's own frames are left alone. Each frame's label names the locals that keep
        the most (`frame f (big 30.0 MB)`).
        """
        depth = 0
        while type(tb) is types.TracebackType and depth < MAX_TRACEBACK:
            if depth:
                links = links + [{"label": "traceback", "edge": ".tb_next"}]
            if id(tb) not in self.named:
                self.named[id(tb)] = (root, links)
                self._keep.append(tb)
            frame = _TB_FRAME.__get__(tb)
            at_frame = links + [{"label": label(frame), "edge": ".tb_frame"}]
            if id(frame) not in self.named:
                self.named[id(frame)] = (root, at_frame)
                self._keep.append(frame)
            if not _internal_frame(frame):
                for name, value in frame_locals(frame):
                    if id(value) not in self.named:
                        edge = f".f_locals[{protocol.key_repr(name)}]"
                        self.named[id(value)] = (root, at_frame + [{"label": label(value), "edge": edge}])
                        self._keep.append(value)
            tb = _TB_NEXT.__get__(tb)
            depth += 1

    def _history(self, history):
        """What IPython's history keeps of each cell's output, named by identity: the text a cell printed ("printed
        output of cell [n]") and the bundles it displayed (HistoryManager.outputs[n]). Their holders are IPython's own
        objects, which the search never walks through."""
        outputs = getattr(history, "outputs", None)
        if not isinstance(outputs, dict):
            return
        for count, entries in list(outputs.items())[-DESCEND_ITEMS:]:
            for entry in entries if type(entries) is list else ():
                bundle = getattr(entry, "bundle", None)
                if type(bundle) is not dict:
                    continue
                stream = getattr(entry, "output_type", "") in ("out_stream", "err_stream")
                name = f"printed output of cell [{count}]" if stream else f"HistoryManager.outputs[{count}]"
                for value in bundle.values():
                    self._add(value, name)

    def _add(self, obj, name):
        self._root_objs.setdefault(name, obj)
        if id(obj) not in self.named:
            self.named[id(obj)] = (name, [])
            self._keep.append(obj)

    def _pyplot_figures(self):
        """The figures pyplot keeps open (matplotlib._pylab_helpers.Gcf.figs: figure number -> manager -> canvas ->
        figure), by identity, as another root of a figure a user's name holds too (other()): re-running
        `fig, ax = plt.subplots()` piles figures up there, which a heap search reached through ten levels or not at
        all. Only when pyplot was imported; its managers' plain attributes are read."""
        helpers = sys.modules.get("matplotlib._pylab_helpers")
        figs = getattr(getattr(helpers, "Gcf", None), "figs", None)
        if not isinstance(figs, dict):
            return
        root = "matplotlib._pylab_helpers.Gcf.figs"
        self._root_objs.setdefault(root, figs)
        for number, manager in list(figs.items())[:DESCEND_ITEMS]:
            canvas = getattr(manager, "canvas", None)
            figure = getattr(canvas, "figure", None)
            if figure is None:
                continue
            links = [{"label": label(manager), "edge": f"[{protocol.key_repr(number)}]"},
                     {"label": label(canvas), "edge": ".canvas"}, {"label": label(figure), "edge": ".figure"}]
            if id(figure) in self.named:
                self.others[id(figure)] = (root, links)
            else:
                self.named[id(figure)] = (root, links)
            self._keep.append(figure)

    def other(self, obj):
        """(root name, links) of another root that holds obj beside the user's name it resolves to (pyplot's figure
        registry for a figure bound to `fig`), or None."""
        return self.others.get(id(obj))

    def _descend(self, value, name):
        """Map the items of untracked containers (and lru caches) under a root value, so they resolve by identity."""
        inner = []
        if type(value) is _LRU:
            inner = [(r, ".cache") for r in gc.get_referents(value) if type(r) is dict]
        elif (type(value) is dict or type(value) is tuple) and not gc.is_tracked(value):
            inner = [(value, "")]
        for container, edge in inner:
            items = container.items() if type(container) is dict else enumerate(container)
            for n, (key, item) in enumerate(items):
                if n >= DESCEND_ITEMS:
                    break
                if id(item) not in self.named:
                    links = ([{"label": label(container), "edge": edge}] if edge else [])
                    links.append({"label": label(item), "edge": f"[{protocol.key_repr(key)}]"})
                    self.named[id(item)] = (name, links)
                    self._keep.append(item)

    @staticmethod
    def _name_in(ns, child):
        for key, value in list(ns.items()):
            if value is child and type(key) is str:
                return key
        return None

    @staticmethod
    def _key_in(mapping, child, prefix, sep=None):
        for key, value in list(mapping.items())[:DESCEND_ITEMS]:
            if value is child:
                if sep and type(key) is str:
                    return f"{prefix}{sep}{key}"
                return f"{prefix}[{protocol.key_repr(key)}]"
        return None

    def is_user_name(self, name):
        """True for a name in the user's namespace that is neither IPython's (In, Out, _5...) nor a module."""
        return name in self._user_names

    def is_machinery(self, obj):
        """True for a machinery module or its globals dict (probes search past them, never through them)."""
        return id(obj) in self.machinery

    def is_container(self, obj):
        """True when `obj` is a namespace root (user_ns, Out, a module's globals): see container_root."""
        return id(obj) in self.containers

    def resolve(self, obj):
        """(root name, links below the root) when obj is a root or lies directly under one; else None."""
        return self.named.get(id(obj))

    def container_root(self, container, child):
        """When `container` is a namespace root (user_ns, Out, a module's globals), the name `child` has in it."""
        entry = self.containers.get(id(container))
        if entry is None:
            return None
        mapping, prefix, sep = entry
        return self._name_in(mapping, child) if prefix is None else self._key_in(mapping, child, prefix, sep)

    def root_label(self, name):
        """The label of the root object called `name` (`ValueError` for sys.last_exc), or None when `name` is not one
        of the roots found by identity. A chain that resolve() gave with links starts at this object, not at the one
        resolved."""
        if name not in self._root_objs:
            return None
        return label(self._root_objs[name])

    def release(self):
        """Drop every object and name held (the search is over)."""
        self._root_objs.clear()
        self.named.clear()
        self.others.clear()
        self.machinery.clear()
        self.containers.clear()
        self._keep.clear()
