"""IPython's roots, named as users know them: their variables, `Out[12]`, `_`, `_12`, `sys.last_traceback`, `module.attr`.

Found by identity, not by gc referrers: dicts whose values are all untracked (an `Out` cache of bytearrays, the dict
inside an lru_cache) are themselves untracked and invisible to `gc.get_referrers`, so roots also look one or two levels
into untracked dicts and tuples and into lru caches.
"""
import functools
import gc
import sys
import types

from .. import protocol
from .variables import is_ipython_name

DESCEND_ITEMS = 100_000
_LRU = functools._lru_cache_wrapper


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
    return protocol.type_name(obj)


class Roots:
    def __init__(self, shell):
        self.named = {}  # id(obj) -> (root name, [links below the root object])
        self.containers = {}  # id(dict) -> callable(child) -> root name, for namespaces that are roots themselves
        self._keep = []  # the root objects, alive while the search runs
        self._user_names = set()
        ns = shell.user_ns
        out = ns.get("Out") if isinstance(ns.get("Out"), dict) else {}
        self.containers[id(ns)] = lambda child: self._name_in(ns, child)
        if out:
            self.containers[id(out)] = lambda child: self._key_in(out, child, "Out")
        for name, value in list(ns.items()):
            if type(name) is str and not is_ipython_name(name) and not issubclass(type(value), types.ModuleType):
                self._add(value, name)
                self._user_names.add(name)
        for n, value in list(out.items()):
            self._add(value, f"Out[{n}]")
        if "_" in ns:
            self._add(ns["_"], "_")
        for attr in ("last_traceback", "last_value", "last_exc"):
            value = getattr(sys, attr, None)
            if value is not None:
                self._add(value, f"sys.{attr}")
        for modname, module in list(sys.modules.items()):
            mdict = getattr(module, "__dict__", None) if module is not None else None
            if type(mdict) is dict and mdict is not ns:
                self.containers.setdefault(id(mdict), lambda child, d=mdict, m=modname: self._key_in(d, child, m, "."))
        for name, value in list(ns.items()):
            if type(name) is str and not is_ipython_name(name):
                self._descend(value, name)

    def _add(self, obj, name):
        if id(obj) not in self.named:
            self.named[id(obj)] = (name, [])
            self._keep.append(obj)

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
        return name in self._user_names

    def is_container(self, obj):
        return id(obj) in self.containers

    def resolve(self, obj):
        """(root name, links below the root) when obj is a root or lies directly under one; else None."""
        return self.named.get(id(obj))

    def container_root(self, container, child):
        """When `container` is a namespace root (user_ns, Out, a module's globals), the name `child` has in it."""
        describe = self.containers.get(id(container))
        return describe(child) if describe is not None else None

    def release(self):
        self.named.clear()
        self.containers.clear()
        self._keep.clear()
