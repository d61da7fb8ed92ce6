"""The objects a cell created that survive it, by type, with counts and sizes.

With the gc frozen before the cell, `gc.get_objects()` lists only the cell's own survivors (~25 ns each), whatever the
heap size. Counting by type runs at C speed (Counter over map of type ids); sizes come from a stratified sample: a
heavy survivor (4 kB or more, or a container longer than 512) stands for itself, a rare type is read whole, the rest
of a type is extrapolated from its light sample, read one type at a time with one gc.get_referents call. When the
allocators grew by more than the sample explains, the big objects it missed are found and counted (_heavy_payload).
What the kernel made around the cell and still holds (IPython's event arguments and history records, memdiag's own
records, a kernel thread's `with` blocks) is taken out where the sample holds every survivor of its type
(probes/leftovers.py): a two-line cell reports its two objects.

Payload by its own type: a survivor is sized by its own getsizeof (with, from 3.11, the array of attribute values an
instance keeps without a __dict__, which getsizeof leaves out: probes/instances.py), and the untracked objects it holds
(bytes, bytearray, str, numpy arrays, dicts and tuples of them: never in gc lists) are counted under their own types,
with their own bytes, each once (by id): a list holding three 5 MB bytes objects is `bytes 15 MB` and `list 88 B`. A
numpy array's bytes are those of the buffer it owns; a view's are its base's, or those of the bytearray or bytes it was
made from (np.frombuffer, through a memoryview), unless that base is bound to a name the cell left alone. The untracked
values the cell bound to names, left in Out[n] or appended to a container it grew are counted the same way, after the
survivors' payload (so an array both named and held by a new list counts once). The growth shows at most MAX_ROWS types,
each taking or holding at least MIN_ROW_SHARE of the total; the rest are summed into one "other" row.

No object is kept: the cycle probe's collection must still be able to free the cell's garbage.
"""
import gc
import itertools
import math
import operator
import random
import sys
import time
from collections import Counter
from types import CodeType

from .. import gcguard, machinery, protocol
from ..gcguard import RAW
from . import instances, leftovers, native

MAX_ROWS = 8  # growth rows shown; the rest are summed into one "other" row
MIN_ROW_SHARE = 0.01  # a row takes or holds at least this share of the total bytes
OTHER = "other"
# Survivors are counted by type exactly up to EXACT_COUNT; beyond, a strided sample of about COUNT_SAMPLE, scaled up.
# Reading a survivor's type is a cache miss each, after the cell: 43,000 of a million took 7 ms, 20,000 take 3 ms.
EXACT_COUNT = 100_000
COUNT_SAMPLE = 20_000
SIZE_SAMPLE = 1_024  # survivors sized (with what they hold), whatever the cell made
# A loop that makes four objects an iteration lists them in a period of four, which a stride of 2, 4 or 20 aliases:
# one type counted 1,000,000 times and three not at all, or a type left unsized. The count's stride is made coprime
# with 2, 3, 5 and 7 (_coprime_stride: a period made of those is read in every phase), and the samples for sizes and
# a container's items take one item at a random offset in each stride (_spread), whatever the period.
_SMALL_PRIMES = 2 * 3 * 5 * 7
_OFFSETS = tuple(map(random.Random(1983).randrange, itertools.repeat(1 << 30, 2 * SIZE_SAMPLE)))
PER_TYPE_SAMPLE = 128  # of one type, at most
RARE_SCAN_BYTES = 1 << 20  # allocator growth the sample leaves unexplained before every big payload is looked for
MIN_BLOCK_BYTES = 32  # a pymalloc block holds an object of at least this many bytes (an int: 28)
BIG_PAYLOAD = 4096  # an untracked object this big is counted one by one when the sample leaves growth unexplained
RARE_CHUNK = 256  # survivors scanned at a time for the types the sample under-sampled, at least
RARE_CHUNKS = 64  # and in this many chunks at most
HEAVY_CHUNK = 16_384  # survivors whose referents are read in one call
REFERENTS_SAMPLED = 256  # referents looked at in one container, at most
# The items of an object array (a pandas text column's strings): OBJECT_SAMPLE sampled first, and as many more as the
# spread of their sizes asks for OBJECT_ERROR relative standard error on their total, up to OBJECT_SAMPLE_MAX. A column
# of free text where one note in a hundred is 10 kB long was off by -35% to +73% from 256 items (20 layouts); 16,384
# strings are sized in about 2 ms, 512 alike ones in 0.1 ms.
OBJECT_SAMPLE = 512
OBJECT_SAMPLE_MAX = 16_384
OBJECT_ERROR = 0.02
TARGETS_KEPT = 24
CANDIDATES_PER_TYPE = 48  # sampled survivors of one type sized to pick the targets
# Of a builtin type (kept only from MIN_TARGET_SIZE bytes): the heavy ones come first (see _survivors), and a light one
# that holds that much is rare among the thousands a cell makes.
BUILTIN_CANDIDATES = 16
MIN_TARGET_SIZE = 4096  # smaller survivors are IPython's bookkeeping far more often than the user's data
_BASE_DEPTH = 32  # links of .base followed, at most


def _refcounts(objs):
    """sys.getrefcount of each of `objs` (a list), at C speed."""
    return list(map(sys.getrefcount, objs))


def _sole_keys(keys):
    """The keys (a list of one dict's keys) that nothing but their dict holds: the dict's own payload, as a dict of 1M
    new string ids holds 60 MB of them. A key something else holds too is left to that holder, or to nobody: a
    table of the words of an older list (`{w: i for i, w in enumerate(words)}`) keeps none of their bytes, and the
    new list the ids came from counts them once. Through refcounts (immortal keys, 3.12+, are never sole)."""
    return list(itertools.compress(keys, map(operator.eq, _refcounts(keys), itertools.repeat(_SOLE_KEY_REFS))))


def _sole_key_refs():
    """What _refcounts reads for a key only its dict holds (the dict, the list of keys, the read itself: 3 on CPython
    3.10-3.13), measured the way _sole_keys reads it."""
    table = {float("nan"): None}  # a new key, and its dict alive while the keys are read
    return _refcounts(list(dict.keys(table)))[0]


_SOLE_KEY_REFS = _sole_key_refs()


def referents(obj, limit=REFERENTS_SAMPLED):
    """(referents, weight): a list of obj's direct referents, `limit` to 2 * `limit` of them spread evenly when obj
    holds more (_spread: a list of alternating names and values is read in both phases), and how many referents each
    stands for (float, 1.0 when all are read). A list or tuple is indexed; a dict's values, and the keys only it holds
    (_sole_keys), are read through dict's own views, the same entries of both: no copy of every referent, no user
    code."""
    tp = type(obj)
    if tp is dict:
        stride = len(obj) // limit
        if stride < 2:
            return _sole_keys(list(dict.keys(obj))) + list(dict.values(obj)), 1.0
        # Picked at C speed as the entries go by: a dict of 1M entries is not copied to read 256 of them.
        wanted = bytearray(len(obj))
        for position in _positions(len(obj), stride):
            wanted[position] = 1
        values = list(itertools.compress(dict.values(obj), wanted))
        keys = _sole_keys(list(itertools.compress(dict.keys(obj), wanted)))
        return keys + values, len(obj) / len(values)
    if tp is not list and tp is not tuple:
        items = object_items(obj, limit)
        if items is not None:
            return items
        try:
            obj = gc.get_referents(obj)
        except Exception:  # noqa: BLE001
            return [], 1.0
    sample = _spread(obj, limit)
    return list(sample), len(obj) / len(sample) if sample else 1.0


# object_items' samples and pandas_size's figures during one post-cell pass (begin_pass to end_pass, _once):
# {(id(array), limit): (array, (items, weight))} and {(id(pandas object), None): (object, bytes)}, each object kept so
# that its id is not reused. The census, the ranking of backref targets and the names probe each read a text column's
# strings (13 samples of 512 a re-run of the bench's pandas cell, 1.5 ms, for 4 arrays); emptied when the pass ends:
# memdiag keeps nothing of the user's between cells.
_SAMPLES = {}
_SAMPLING = [False]


def begin_pass():
    """The census of a post-cell pass has its survivors: object_items and pandas_size keep what they read until
    end_pass. Makes no object."""
    _SAMPLES.clear()
    _SAMPLING[0] = True


def end_pass():
    """The post-cell pass is over: object_items' samples, and the arrays they hold, are let go."""
    _SAMPLING[0] = False
    _SAMPLES.clear()


def object_items(obj, limit=REFERENTS_SAMPLED):
    """(items, weight) of a numpy array of Python objects (dtype object: a pandas text column's strings), sampled as
    referents samples a list, at least OBJECT_SAMPLE of them and more where their sizes spread widely (_items_wanted);
    None for anything else. numpy does not show these to the gc (gc.get_referents of any array is empty), so without
    this a Series of 500,000 strings was its 4 MB of pointers, not its 34.5 MB. Read through numpy's own descriptors
    (flat, tolist): no user code, no copy of the array. Within a post-cell pass, an array is sampled once (_SAMPLES);
    each caller gets its own list."""
    sample = _once(obj, limit, _object_items, limit)
    return None if sample is None else (list(sample[0]), sample[1])


def _once(obj, tag, read, *args):
    """read(obj, *args), kept for the rest of a post-cell pass under (id(obj), tag) with obj itself (its id is then not
    reused): each reader of a text column or a frame in one pass gets the same figures; read afresh outside a pass.
    None (not an object array) is not kept: most objects asked about are not."""
    if not _SAMPLING[0]:
        return read(obj, *args)
    key = (id(obj), tag)
    found = _SAMPLES.get(key)
    if found is not None and found[0] is obj:
        return found[1]
    value = read(obj, *args)
    if value is not None:
        _SAMPLES[key] = (obj, value)
    return value


def _object_items(obj, limit):
    """object_items without the pass's memo."""
    ndarray = _ndarray_type()
    if ndarray is None or not _is_a(type(obj), ndarray):
        return None
    try:
        if ndarray.dtype.__get__(obj).kind != "O":
            return None
        size = ndarray.size.__get__(obj)
        flat = ndarray.flat.__get__(obj)
        items = _picked(ndarray, flat, size, max(limit, OBJECT_SAMPLE))
        wanted = _items_wanted(items, size)
        if wanted > len(items):
            items = _picked(ndarray, flat, size, wanted)
    except Exception:  # noqa: BLE001 - numpy changed: the array is its pointers, as before
        return None
    return items, size / len(items) if items else 1.0


_OFFSET_ARRAY = []  # _OFFSETS as a numpy array, made for the first sample of more than len(_OFFSETS) items


def _picked(ndarray, flat, size, count):
    """A list of `count` to 2 * `count` of the `size` items of an object array's flat iterator, one in each stride at
    a pseudo-random offset within it (_positions); all of them when there are fewer than 2 * `count`. The positions of
    a big sample (16,384 strings of a text column) are computed by numpy: 0.05 ms where _positions takes 0.7."""
    stride = size // count
    if stride < 2:
        return ndarray.tolist(flat[:])
    if size // stride <= len(_OFFSETS):
        return ndarray.tolist(flat[list(_positions(size, stride))])
    np = sys.modules["numpy"]
    if not _OFFSET_ARRAY:
        _OFFSET_ARRAY.append(np.array(_OFFSETS, dtype=np.int64))
    starts = np.arange(0, size - stride + 1, stride, dtype=np.int64)
    return ndarray.tolist(flat[starts + np.resize(_OFFSET_ARRAY[0], len(starts)) % stride])


def _all_str(items):
    """True when every one of `items` (a list) is exactly a str, read at C speed."""
    return all(map(operator.is_, map(type, items), itertools.repeat(str)))


def _items_wanted(items, size):
    """How many of an object array's `size` items a sample needs for their total bytes to be within OBJECT_ERROR
    (relative standard error), judged from the sample `items` when every one is a str (sized by getsizeof at C speed):
    (their sizes' coefficient of variation / OBJECT_ERROR)**2, at most OBJECT_SAMPLE_MAX and `size`. len(items) when
    that is enough or the items are not all strings (a column of dicts or tuples is read as before)."""
    n = len(items)
    if n < 2 or n >= size or not _all_str(items):
        return n
    sizes = sizes_of(items, str)
    mean = sum(sizes) / n
    variance = max(sum(map(operator.mul, sizes, sizes)) / n - mean * mean, 0.0)
    wanted = math.ceil(variance / (mean * OBJECT_ERROR) ** 2)
    return max(n, min(wanted, OBJECT_SAMPLE_MAX, size))


def untracked_size(obj):
    """Bytes of obj's direct untracked referents (the payload of containers: bytes, arrays, strings) and of theirs one
    level down in untracked dicts and tuples, counted as the census counts a heavy survivor's (_Ledger.payload), each
    once.

    A big container is sampled (REFERENTS_SAMPLED to twice as many items, one in each stride: referents), scaled up:
    the cost stays bounded. The plain types and small tuples are sized in batches at C speed (a list of 200,000
    tuples of numbers and strings: 256 tuples and their items, about 0.15 ms).
    """
    # A frame refers to a local from its fast locals and again from its (untracked) f_locals dict: counted once.
    return int(_Ledger().payload(obj, 1, {}))


def held_size(obj, memo=None):
    """sizeof(obj) + untracked_size(obj): bytes obj takes with the untracked payload it holds directly. `memo`, one
    cell's {id(obj): (obj, bytes)}, answers a second asker without reading again (the variables probe, keep_targets
    and the chains all size the big list a cell bound; the census leaves there what it read of its heavy survivors);
    it keeps the objects alive while it lives."""
    if memo is not None:
        hit = memo.get(id(obj))
        if hit is not None and hit[0] is obj:
            return hit[1]
    size = sizeof(obj) + untracked_size(obj)
    if memo is not None:
        memo[id(obj)] = (obj, size)
    return size


def group_size(objs):
    """Bytes a group of objects (a list) takes with the untracked payload they hold directly, each payload object
    counted once however many of them hold it, in one batch: sizeof of each, and their untracked referents, read in one
    gc.get_referents call, counted as the census counts a group's (_Ledger.add_many). A big container's items are all
    read (no sample): for groups of small objects, such as a cycle's."""
    if not objs:
        return 0
    untracked = list(itertools.filterfalse(gc.is_tracked, gc.get_referents(*objs)))
    return sum(map(sizeof, objs)) + int(_Ledger().add_many(untracked, 1, {}))


def biggest_untracked(objs):
    """(obj, bytes) of the biggest of `objs` the gc does not track, by sizeof, classes left out; (None, 0) when there
    is none. Sized a type at a time: the builtin ones through map() (a list's 256 sampled tuples in a few µs)."""
    best, best_size = None, 0
    for group in _by_type(list(itertools.filterfalse(gc.is_tracked, objs))):
        tp = type(group[0])
        if issubclass(tp, type):
            continue
        sizes = sizes_of(group, tp) if id(tp) in _BUILTIN else list(map(sizeof, group))
        top = max(sizes)
        if top > best_size:
            best, best_size = group[sizes.index(top)], top
    return best, best_size


def _pandas_types():
    pd = sys.modules.get("pandas")
    if pd is None:
        return None
    try:
        return pd.DataFrame, pd.Series, pd.Index
    except AttributeError:  # pandas half imported
        return None


def _frame_bytes(frame):
    """A DataFrame's memory_usage(index=True, deep=True).sum() in bytes, estimated: read off its columns' arrays (a 2-D
    block once for all its columns), the Python objects of its text and object columns from a sample (_object_bytes).
    The public call builds a Series per column and one for the result, 0.5-1.3 ms for three columns, and deep=True
    reads every string (0.2 s for 300,000 rows), where this takes a few µs. The public shallow call and no objects
    where the frame has no block manager's `arrays` (a pandas before 1.3, or after it changes)."""
    arrays = getattr(getattr(frame, "_mgr", None), "arrays", None)
    if not isinstance(arrays, list):
        return int(frame.memory_usage(index=True, deep=False).sum())
    total = _pandas_bytes(frame.index)
    for array in arrays:
        # As pandas sizes a column: an array's own memory_usage (a Categorical: codes and categories), else nbytes.
        usage = getattr(array, "memory_usage", None)
        total += (usage(deep=False) if usage is not None else array.nbytes) + _object_bytes(array)
    return int(total)


def _pandas_bytes(obj):
    """A Series' or an Index's memory_usage(deep=True) in bytes, estimated: the shallow figure, and the Python objects
    its values hold from a sample (_object_bytes). Values are read only where the dtype holds objects: a RangeIndex's
    would be built (and cached on it: 24 MB for 3M rows) by the very asking."""
    shallow = int(obj.memory_usage(deep=False))
    if getattr(getattr(obj, "dtype", None), "kind", None) != "O":
        return shallow
    return shallow + _object_bytes(getattr(obj, "_values", None))


def _object_bytes(array):
    """Bytes of the Python objects (strings, mostly; dicts and what they hold one level down) that a pandas column's
    values hold: an ndarray of dtype object, or the one inside a python-backed string or object extension array
    (`_ndarray`), estimated from a sample of its items (object_items), an item the sample meets several times
    counted once (a column of four region names is four strings, not 300,000). 0 for numbers, dates, categoricals
    (their categories are in the shallow figure) and Arrow strings (in nbytes already). What pandas' deep=True adds,
    without reading every row."""
    ndarray = _ndarray_type()
    if array is None or ndarray is None:
        return 0
    if not _is_a(type(array), ndarray):
        array = getattr(array, "_ndarray", None)
        if array is None or not _is_a(type(array), ndarray):
            return 0
    sample = object_items(array)
    if sample is None:
        return 0
    items, each = sample
    if _all_str(items) and len(set(map(id, items))) == len(items):
        # Distinct strings (free text, ids): what the ledger would count, without its bookkeeping per item.
        return int(sum(sizes_of(items, str)) * each)
    # Every item, tracked or not (a column of dicts is its dicts, as pandas counts them), and what a dict or tuple
    # among them holds one level down.
    return int(_Ledger().add_many(items, each, {}, depth=1, big_alone=False))


def pandas_size(obj):
    """pandas' __sizeof__ is memory_usage(deep=True), O(rows) for string and object columns (~0.2 s for a 300k-row
    column, several times per cell): the same figure (bytes) estimated from the arrays, their strings sampled
    (_frame_bytes, _pandas_bytes); within a post-cell pass, once per object (_SAMPLES). None: not pandas."""
    kinds = _pandas_types()
    if kinds is None:
        return None
    tp = type(obj)
    try:
        if issubclass(tp, kinds[0]):
            return _once(obj, None, _frame_bytes)
        if issubclass(tp, kinds[1:]):
            return _once(obj, None, _pandas_bytes)
    except Exception:  # noqa: BLE001 - a broken subclass: fall back to getsizeof
        return None
    return None


def own_size(obj):
    """obj's own bytes, without what it refers to: getsizeof, with the attribute values array of an instance on 3.11+
    (probes/instances.py); a pandas object's header only (its blocks are numpy arrays, counted as such; pandas'
    __sizeof__ would walk every string); 0 when __sizeof__ raises."""
    kinds = _pandas_types()
    try:
        if kinds is not None and issubclass(type(obj), kinds):
            size = object.__sizeof__(obj)
        else:
            size = sys.getsizeof(obj)
    except Exception:  # noqa: BLE001 - a user __sizeof__ may raise
        return 0
    return size + instances.extra_size(obj) if isinstance(size, int) else 0


def sizeof(obj):
    """Cheap, honest size in bytes: getsizeof (pandas: memory_usage, pandas_size), plus what getsizeof leaves out: the
    base buffer of a numpy view, an instance's attribute values array (3.11+, probes/instances.py); 0 when the object's
    own __sizeof__ raises. An array over memory numpy does not own (np.frombuffer of a bytearray) is its header only
    here: the bytearray has its own name more often than not, and the names probe would count it twice
    (retained_size, for `why`, and the census add it, once)."""
    parts = _GETSIZEOF.get(id(type(obj)))
    if parts is not None:  # an int, a str, a tuple: getsizeof is all of it (most calls; no pandas look)
        return parts[0](obj) + parts[1]
    try:
        size = pandas_size(obj)
        if size is None:
            size = sys.getsizeof(obj)
    except Exception:  # noqa: BLE001 - a user __sizeof__ may raise
        return 0
    if not isinstance(size, int):
        return 0
    size += instances.extra_size(obj)
    base = array_base(obj)
    return size + _ndarray_type().nbytes.__get__(base) if base is not None else size


def _ndarray_type():
    numpy = sys.modules.get("numpy")
    return getattr(numpy, "ndarray", None) if numpy is not None else None


def _is_a(tp, klass):
    # Through the MRO, by identity: isinstance may read __class__ (a user property), `in` would run a metaclass's ==.
    return any(k is klass for k in type.__dict__["__mro__"].__get__(tp))


def _root_array(obj, ndarray):
    """(the last ndarray in obj's chain of .base, what that one's .base is: None or the object it was made from)."""
    get_base = ndarray.base.__get__
    root, base = obj, get_base(obj)
    for _ in range(_BASE_DEPTH):
        if base is None or not _is_a(type(base), ndarray):
            break
        root, base = base, get_base(base)
    return root, base


def array_base(obj):
    """The ndarray that owns the memory of a view or of an ndarray subclass (a MaskedArray's data, a matrix), or None
    (not an array, an array that owns its data, or one whose memory numpy does not own: see buffer_owner).

    Checked through the type's MRO (no user __getattr__ or __class__ runs); `.base` is numpy's own C getter.
    """
    ndarray = _ndarray_type()
    if ndarray is None or not _is_a(type(obj), ndarray):
        return None
    root, base = _root_array(obj, ndarray)
    return root if root is not obj and base is None else None


def _exporter(obj):
    """The object whose memory a memoryview (chain) exposes, or obj; None for a released memoryview."""
    for _ in range(_BASE_DEPTH):
        if type(obj) is not memoryview:
            return obj
        try:
            obj = memoryview.obj.__get__(obj)
        except ValueError:  # released
            return None
    return obj


def buffer_owner(obj, _depth=0):
    """(owner, bytes) of the memory a numpy array or a memoryview exposes when obj does not own it: the ndarray at the
    end of an array's chain of .base (its nbytes), or the object that array or memoryview was made from (a bytearray
    or bytes: its getsizeof; anything else, an mmap: the bytes the array sees). None for anything else, and for an
    array that owns its data."""
    if type(obj) is memoryview:
        exporter = _exporter(obj)
        if exporter is None or exporter is obj:
            return None
        try:
            nbytes = memoryview.nbytes.__get__(obj)
        except ValueError:
            return None
        return _owner_of(exporter, nbytes, _depth)
    ndarray = _ndarray_type()
    if ndarray is None or not _is_a(type(obj), ndarray):
        return None
    root, base = _root_array(obj, ndarray)
    nbytes = ndarray.nbytes.__get__(root)
    if base is None:
        return (root, nbytes) if root is not obj else None
    exporter = _exporter(base)
    if exporter is None:
        return (root, nbytes) if root is not obj else None
    return _owner_of(exporter, nbytes, _depth)


def _owner_of(exporter, nbytes, depth):
    tp = type(exporter)
    if tp is bytes or tp is bytearray:
        return exporter, sys.getsizeof(exporter)
    if depth < 4:  # a memoryview of an array, an array made from that: the memory is the first array's
        inner = buffer_owner(exporter, depth + 1)
        if inner is not None:
            return inner
    ndarray = _ndarray_type()
    if ndarray is not None and _is_a(tp, ndarray):
        return exporter, ndarray.nbytes.__get__(exporter)
    return exporter, nbytes


# Untracked types whose getsizeof is all they hold (no buffer of another object's, no referents worth a look).
# By id: `tp in a_set` would hash tp, which runs its metaclass's __hash__ (or raises, for an unhashable class).
# (A code object's constants and names are tuples of their own, which getsizeof leaves out and no census counts.)
_PLAIN = frozenset(map(id, (int, float, complex, str, bytes, bytearray, bool, range, slice, type(None),
                            CodeType)))
_SIZED = frozenset(map(id, (list, tuple, dict, set, frozenset)))
# The interpreter's singletons (None, True and False, Ellipsis, NotImplemented): held by a cell's objects, never made
# by it, never its payload (a `NoneType 1 (16 B)` row under a tuple that held None).
_SINGLETONS = frozenset(map(id, (type(None), bool, type(Ellipsis), type(NotImplemented))))
_BUILTIN = _PLAIN | _SIZED  # exact builtin types: getsizeof is their whole own size


# One instance of each exact builtin type of _BUILTIN.
_BUILTIN_SAMPLES = (10**30, 0.5, 1j, "é", b"x", bytearray(b"x"), True, range(3), slice(1), None,
                    compile("", "", "exec"), [1], (1,), {1: 1}, {1}, frozenset({1}))


def _getsizeof_parts():
    """{id(type): (its own __sizeof__, the bytes getsizeof adds to it)} for the exact builtin types of _BUILTIN.

    sys.getsizeof costs about 115 ns a call (3.11: it parses keyword arguments and looks __sizeof__ up on each call);
    the type's own __sizeof__ through map() about 17 ns. getsizeof adds the gc header for container types: a constant
    per builtin type (none of them has a per-object tp_is_gc), read here from one instance of each."""
    parts = {}
    for sample in _BUILTIN_SAMPLES:
        own = type(sample).__sizeof__
        parts[id(type(sample))] = (own, sys.getsizeof(sample) - own(sample))
    assert parts.keys() == _BUILTIN
    return parts


_GETSIZEOF = _getsizeof_parts()


def sizes_of(objs, tp):
    """[sys.getsizeof(obj) for obj in objs], every one of the exact builtin type `tp` (its id in _BUILTIN), in bytes, at
    C speed (_getsizeof_parts)."""
    own, header = _GETSIZEOF[id(tp)]
    return list(map(header.__add__, map(own, objs))) if header else list(map(own, objs))


class _Ledger:
    """Untracked objects counted under their own types, each once (by id): {id(type): [type, count, bytes]} per sink.

    Counts and bytes are weighted (a sampled holder stands for `weight` of its kind). `old`: ids never counted (values
    the user's names kept through the cell). `tracked_owners`: count a buffer's owner even when the gc tracks it (the
    census leaves those to the survivors' own sizes: new ones are survivors, the others are not the cell's).
    `skipped`: how many objects were not counted because `old` held them or they had been counted already: while it
    stays put, what one holder's payload added is what a fresh ledger would count for it (untracked_size)."""

    def __init__(self, old=frozenset(), tracked_owners=False):
        self.old = old
        self.seen = set()
        self.holders = set()  # ids of survivors whose holdings were counted one by one
        self.tracked_owners = tracked_owners
        self.skipped = 0

    def holdings(self, obj, weight, into, limit=REFERENTS_SAMPLED, read=None):
        """Count what obj holds that no gc list shows: the buffer it views and its payload; returns their weighted
        bytes. `read`: see payload."""
        total = 0
        owner = buffer_owner(obj)
        if owner is not None:
            total += self.add_owner(owner[0], owner[1], weight, into)
        return total + self.payload(obj, weight, into, limit, read)

    def payload(self, obj, weight, into, limit=REFERENTS_SAMPLED, read=None):
        """Count obj's untracked referents (`limit` to twice as many, spread evenly, standing for the rest: referents)
        and, in untracked dicts and tuples among them, theirs; returns their weighted bytes. `read`, a list: gets
        (referents, weight) of the sample, for a caller that looks below obj too (kept.py) without reading a big dict
        again (about 60 ns an entry)."""
        refs, each = referents(obj, limit)
        if read is not None:
            read.append((refs, each))
        # In one batch (a list of 200,000 tuples: 256 of them and their items at C speed); an item the sample met
        # several times is one object, counted once.
        return self.add_many(list(itertools.filterfalse(gc.is_tracked, refs)), weight * each, into, big_alone=False)

    def add(self, obj, weight, into, depth=1):
        """Count one untracked object (its own size), the buffer it views and, for an untracked dict or tuple, its
        values one level down; returns the weighted bytes added (0 when already counted)."""
        oid = id(obj)
        if id(type(obj)) in _SINGLETONS:
            return 0
        if oid in self.seen or oid in self.old:
            self.skipped += 1
            return 0
        self.seen.add(oid)
        tp = type(obj)
        total = _put(into, tp, weight, own_size(obj))
        owner = buffer_owner(obj)
        if owner is not None:
            total += self.add_owner(owner[0], owner[1], weight, into)
        if depth > 0 and (tp is dict or tp is tuple):
            # An untracked dict or tuple holds only untracked values (a 3.10 instance's __dict__ of one 5 MB bytes).
            values, each = referents(obj)
            for value in values:
                total += self.add(value, weight * each, into, depth - 1)
        elif depth > 0:
            items = object_items(obj)
            if items is not None:  # an array of Python objects: its strings, sampled (tracked items are survivors)
                values, each = items
                # Read as a list's items are: a tuple among them one level down (an array of 200k tuples of numbers
                # read 12.8 MB here and 29.3 MB as the name's size).
                total += self.add_many(list(itertools.filterfalse(gc.is_tracked, values)), weight * each, into,
                                       depth, big_alone=False)
        return total

    def add_many(self, objs, weight, into, depth=1, big_alone=True):
        """Count a batch of untracked objects (the referents of a sampled group of survivors) as `add` does, at C speed
        for the plain types: dedup by id, grouping by type and sizing through map(). An object several of the group
        refer to is shared, and one of BIG_PAYLOAD bytes or more stands for itself: each counts once, not `weight`
        times. Returns the weighted bytes added. `big_alone=False`: the group is an even sample of one container's items
        (what each item stands for is in `weight`), so a big item stands for its unsampled neighbours as much as a
        small one does."""
        if not objs:
            return 0
        ids = list(map(id, objs))
        unique = dict(zip(ids, objs, strict=True))
        shared = ()
        if len(unique) < len(ids):
            shared = {oid for oid, n in Counter(ids).items() if n > 1}
        for counted in (self.seen, self.old):
            if counted:
                for oid in unique.keys() & counted:
                    del unique[oid]
                    self.skipped += 1
        self.seen.update(unique)
        values = list(unique.values())
        unique.clear()
        total = 0
        for group in _by_type(values):
            tp = type(group[0])
            if issubclass(tp, type) or id(tp) in _SINGLETONS:
                continue  # a static type held as a value (`{"kind": int}`), None, a bool: the interpreter's
            if id(tp) in _PLAIN:
                sizes = sizes_of(group, tp)
            elif (tp is tuple or tp is dict) and depth > 0:
                sizes = sizes_of(group, tp)
                # An untracked dict or tuple holds only untracked values: one level down, in one batch.
                inner = gc.get_referents(*group) if len(group) < 4096 else list(
                    itertools.chain.from_iterable(map(gc.get_referents, group)))
                total += self.add_many(inner, weight, into, depth - 1, big_alone)
            else:  # arrays, memoryviews, user types without gc: one by one (their buffers, their __sizeof__)
                for obj in group:
                    self.seen.discard(id(obj))
                    alone = id(obj) in shared or (big_alone and sizeof(obj) >= BIG_PAYLOAD)
                    total += self.add(obj, 1 if alone else weight, into, depth)
                continue
            if shared or (big_alone and weight != 1 and max(sizes) >= BIG_PAYLOAD):
                # A big object stands for itself, not for `weight` unseen ones: one frame of three keeps a 30 MB local,
                # not all three (what the sample misses is looked for when the allocator's growth says so).
                weights = [1 if oid in shared or (big_alone and size >= BIG_PAYLOAD) else weight
                           for oid, size in zip(map(id, group), sizes, strict=True)]
                row_weight = sum(weights)
                size = sum(map(operator.mul, sizes, weights))
            else:
                row_weight, size = weight * len(group), weight * sum(sizes)
            row = into.get(id(tp))
            if row is None:
                row = into[id(tp)] = [tp, 0.0, 0.0]
            row[1] += row_weight
            row[2] += size
            total += size
        return total

    def add_owner(self, owner, nbytes, weight, into):
        oid = id(owner)
        if oid in self.seen or oid in self.old:
            self.skipped += 1
            return 0
        if not self.tracked_owners and gc.is_tracked(owner):
            return 0
        self.seen.add(oid)
        return _put(into, type(owner), weight, nbytes)


# A batch of more types than this is grouped in one Python loop, not one C-speed pass per type.
_GROUP_PASSES = 8


def _by_type(objs):
    """objs grouped by exact type, each group in objs' order: [[obj, ...], ...]. A few types (the ints, strs and floats
    of a list of rows) in one C-speed pass per type (a filter on type identity: no metaclass's == or hash runs); the
    types beyond _GROUP_PASSES in one Python loop."""
    if not objs:
        return []
    kinds = list(map(type, objs))
    groups, done, grouped = [], set(), 0
    tp = kinds[0]
    while tp is not None and len(groups) < _GROUP_PASSES:
        groups.append(list(itertools.compress(objs, map(operator.is_, kinds, itertools.repeat(tp)))))
        grouped += len(groups[-1])
        if grouped == len(objs):
            return groups
        done.add(id(tp))
        # The next type not grouped yet: lazily, so a mix that alternates finds it within a few items.
        tp = next(itertools.compress(kinds, map(operator.not_, map(done.__contains__, map(id, kinds)))), None)
    by_id = {}
    for obj, kind in zip(objs, kinds, strict=True):
        if id(kind) not in done:
            group = by_id.get(id(kind))
            if group is None:
                group = by_id[id(kind)] = []
            group.append(obj)
    groups.extend(by_id.values())
    return groups


def _put(into, tp, weight, size):
    row = into.get(id(tp))
    if row is None:
        row = into[id(tp)] = [tp, 0.0, 0.0]
    row[1] += weight
    row[2] += weight * size
    return weight * size


# -- the census of one cell ------------------------------------------------------------------------------------------
def _bound_values(ctx):
    """(ids of the values the user's names kept through the cell, with the buffers they own; [(value, weight)] of
    the untracked values the cell bound to names, left in Out[n], or appended to a name it grew; [the big containers
    the cell bound to names]: lists, tuples, dicts and sets longer than REFERENTS_SAMPLED, see _named_containers;
    [the tracked values the cell bound to names], for _older_values)."""
    from . import variables  # variables imports this module

    before = ctx.names
    if before is None:  # the variables probe failed before the cell: nothing to tell old from new
        return frozenset(), [], [], []
    ns = ctx.recorder.shell.user_ns
    old, bound, fresh, tracked = set(), [], [], []
    for name, value in variables._user_names(ns):
        seen = before.get(name)
        if seen is None or seen[0] != id(value):
            if not gc.is_tracked(value):
                bound.append((value, 1))
                continue
            tracked.append(value)
            if id(type(value)) in _SIZED and len(value) > REFERENTS_SAMPLED:
                fresh.append(value)
            continue
        old.add(id(value))
        owner = buffer_owner(value)
        if owner is not None:
            old.add(id(owner[0]))
        now = variables.length(value)
        if now is not None and seen[1] is not None and now > seen[1]:
            items = variables.newest_items(value, min(now - seen[1], variables.NEW_ITEMS_SIZED))
            weight = (now - seen[1]) / len(items) if items else 1
            bound.extend((item, weight) for item in items if not gc.is_tracked(item))
    out = ns.get("Out")
    if type(out) is dict and ctx.cache_lens is not None and len(out) > ctx.cache_lens[0]:
        added = len(out) - ctx.cache_lens[0]
        bound.extend((value, 1) for value in itertools.islice(reversed(out.values()), added)
                     if not gc.is_tracked(value))
    return old, bound, fresh, tracked


def _older_values(values, objs):
    """Ids of `values` (tracked values the cell bound to names) that are not among `objs`, the cell's survivors: they
    were made before the cell (`t = module.TABLE`), so the cell did not add them, whatever they keep. Read by id over
    the survivors at C speed (about 0.1 ms for 10,000), up to EXACT_COUNT of them; beyond, an empty set (unknown)."""
    if not values or len(objs) >= EXACT_COUNT:
        return frozenset()
    wanted = set(map(id, values))
    return frozenset(wanted - wanted.intersection(map(id, objs)))


_HASHED_FROM = 2_000  # survivors from which the census tallies by the type itself when it may (types_hash_plainly)
_RUNS_TRIED = 64  # runs of one type counted before their mean length is judged (_tally_runs)
_RUN_MIN = 16  # a mean run shorter than this many survivors costs more than a Counter: the rest goes to one
# Metaclasses known to hash and compare their classes as `type` does, though they define __hash__ and __eq__ in Python
# (typing_extensions' Protocol, imported by most kernels): (module, qualified name).
_PLAIN_HASH_METAS = frozenset({("typing_extensions", "_ProtocolMeta")})


def types_hash_plainly():
    """True when hashing any class alive runs no user code: no metaclass (a subclass of `type`) defines __hash__ or
    __eq__ in its MRO, but `type` and the few in _PLAIN_HASH_METAS. Then a Counter or a set may hold classes; else
    only their ids may be hashed (a metaclass's __eq__ without __hash__ makes its classes unhashable). About 30 µs:
    the metaclasses are read from type.__subclasses__, the MROs through type's own descriptors."""
    get_mro = type.__dict__["__mro__"].__get__
    get_dict = type.__dict__["__dict__"].__get__
    stack, seen = [type], set()
    while stack:
        for meta in type.__subclasses__(stack.pop()):
            if id(meta) in seen:
                continue
            seen.add(id(meta))
            stack.append(meta)
            for klass in get_mro(meta):
                if klass is type or klass is object:
                    continue
                attrs = get_dict(klass)
                if ("__hash__" in attrs or "__eq__" in attrs) and (
                        protocol.type_attr(klass, "__module__"), protocol.type_attr(klass, "__qualname__")) \
                        not in _PLAIN_HASH_METAS:
                    return False
    return True


def _tally_runs(kinds):
    """{type: how many times it is in `kinds`} for the list of the survivors' types, exact, counted run by run:
    gc.get_objects() lists what a cell made in the order it made it, so a cell's thousands of rows are a few long runs
    of one type, each counted at C speed (one list of its members, ~5 ns each, against ~45 ns per object for a
    Counter, which makes a new int per increment past 256). Where runs turn out short (types interleaved), the rest is
    counted by a Counter. Hashes and compares classes: only when types_hash_plainly()."""
    counts = {}
    done = 0
    for i, (tp, run) in enumerate(itertools.groupby(kinds)):
        n = len(list(run))
        counts[tp] = counts.get(tp, 0) + n
        done += n
        if i >= _RUNS_TRIED and done < i * _RUN_MIN:
            for tp, n in Counter(kinds[done:]).items():
                counts[tp] = counts.get(tp, 0) + n
            break
    return counts


_POSITIONS = {}  # (length, stride): _positions' list, for the re-runs of a cell (the same survivors, the same spread)
_POSITIONS_KEPT = 16


def _positions(length, stride):
    """One index in each whole stride of range(length), at a pseudo-random offset within it (the offsets repeat every
    len(_OFFSETS) strides): a list, computed at C speed. Kept for the next call with the same length and stride when it
    has at most len(_OFFSETS) positions (a sample of a text column's 16,384 strings is not worth 0.6 MB kept)."""
    key = (length, stride)
    found = _POSITIONS.get(key)
    if found is None:
        offsets = map(operator.mod, itertools.cycle(_OFFSETS), itertools.repeat(stride))
        found = list(map(operator.add, range(0, length - stride + 1, stride), offsets))
        if len(found) <= len(_OFFSETS):
            if len(_POSITIONS) >= _POSITIONS_KEPT:
                _POSITIONS.clear()
            _POSITIONS[key] = found
    return found


def _spread(seq, total):
    """`seq` itself when it has fewer than 2 * `total` items, else a new list of `total` to 2 * `total` of them
    (total <= SIZE_SAMPLE): one in each stride, at a random offset within it. A jittered systematic sample: it covers
    `seq` as evenly as a stride does, and no period in `seq` aliases it."""
    stride = len(seq) // total
    if stride < 2:
        return seq
    return list(map(seq.__getitem__, _positions(len(seq), stride)))


def _coprime_stride(step):
    """The smallest stride >= `step` that shares no factor with 2, 3, 5 and 7 (11, 13, 17, 19, 23, ...), for step >=
    2: a strided sample then reads every phase of a period made of those (a loop making 2, 4 or 6 objects a turn)."""
    while math.gcd(step, _SMALL_PRIMES) != 1:
        step += 1
    return step


class _Counted:
    """The survivors counted by type at C speed, and a sample of each type for sizes.

    counts: {id(type): survivors}, exact below EXACT_COUNT survivors, beyond that a strided sample
    (_coprime_stride) scaled up to the exact total. Keyed by id: hashing a class runs its metaclass's __hash__ (user
    code; a metaclass's __eq__ without __hash__ makes its classes unhashable). groups: {id(type): [sampled
    survivors]}, a jittered sample of SIZE_SAMPLE to 2 * SIZE_SAMPLE survivors (_spread), PER_TYPE_SAMPLE of a type at
    most, every survivor of a type that has no more; types: {id(type): type} of the sampled ones. Beyond
    EXACT_COUNT survivors a type too rare to fall in the count's stride is not counted (what it holds is found by
    _heavy_payload when the allocators' growth says so)."""

    def __init__(self, objs):
        self.objs = objs
        step = max(len(objs) // COUNT_SAMPLE, 2)
        counted = objs if len(objs) < EXACT_COUNT else objs[::_coprime_stride(step)]
        # Tallied by the type itself when no class hashes through user code (no int made per survivor: about twice
        # as fast), else by id; {id(type): n} either way.
        hashed = len(counted) >= _HASHED_FROM and types_hash_plainly()
        # Each survivor's type read once (the one pass that touches every survivor, cache-cold after the cell); the
        # tally and the search for rare types below read this list, not the survivors.
        kinds = list(map(type, counted)) if hashed else list(map(id, map(type, counted)))
        tally = _tally_runs(kinds) if hashed else Counter(kinds)
        counts = {id(tp): n for tp, n in tally.items()} if hashed else tally
        self.groups = groups = {}
        sample = _spread(counted, SIZE_SAMPLE)
        if hashed:  # the sample in runs of one type, as _tally_runs counts them (compares classes)
            for tp, run in itertools.groupby(sample, type):
                group = groups.setdefault(id(tp), [])
                if len(group) < PER_TYPE_SAMPLE:
                    group.extend(itertools.islice(run, PER_TYPE_SAMPLE - len(group)))
        else:
            for obj in sample:
                group = groups.get(id(type(obj)))
                if group is None:
                    groups[id(type(obj))] = [obj]
                elif len(group) < PER_TYPE_SAMPLE:
                    group.append(obj)
        if sample is not counted:
            # A type the sample under-sampled is read whole: one frame of three keeps a 30 MB local, one DataFrame
            # among 50,000 of pandas' small objects is the cell's data (one more C-speed pass).
            missing = {key: n - len(groups.get(id(key) if hashed else key, ())) for key, n in tally.items()
                       if n <= PER_TYPE_SAMPLE}
            rare = {key for key, n in missing.items() if n > 0}
            needed = sum(missing[key] for key in rare)
            # In chunks from both ends, stopping once every one is found: what the kernel made around the cell (a few
            # of each of twenty types) is at the ends, in the youngest generation and promoted first into the oldest.
            # At most RARE_CHUNKS of them: an import cell's hundreds of rare types are everywhere in it.
            chunk = max(RARE_CHUNK, -(-len(counted) // RARE_CHUNKS))
            starts = list(range(0, len(counted), chunk)) if rare else []
            ends = itertools.chain.from_iterable(zip(starts, reversed(starts), strict=True))
            # The rare types' survivors the sample holds already, by id: an import cell has hundreds of rare types,
            # and comparing each survivor found with its group one by one took 24 ms of it.
            sampled = {id(o) for key in rare for o in groups.get(id(key) if hashed else key, ())}
            for start in dict.fromkeys(ends):
                for obj in itertools.compress(counted[start:start + chunk],
                                              map(rare.__contains__, kinds[start:start + chunk])):
                    if id(obj) in sampled:
                        continue
                    group = groups.get(id(type(obj)))
                    if group is None:
                        groups[id(type(obj))] = [obj]
                        needed -= 1
                    elif len(group) < PER_TYPE_SAMPLE:
                        group.append(obj)
                        needed -= 1
                if needed <= 0:
                    break
        del sample
        self.exact = counted is objs
        if not self.exact:
            scale = len(objs) / len(counted)
            counts = {tid: round(n * scale) for tid, n in counts.items()}
        self.counts = counts
        self.types = {tid: type(group[0]) for tid, group in groups.items()}

    def whole(self, tid):
        """The sample of the type `tid` when it holds every survivor of that type (exact counts), else None."""
        group = self.groups.get(tid)
        return group if self.exact and group is not None and len(group) == self.counts.get(tid) else None

    def release(self):
        """Drop every survivor held."""
        self.objs = None
        self.groups = {}


def _heavy_payload(objs, ledger, rows, own, held, types, internal, candidates):
    """What the sample missed, when the allocators say something is unexplained: every list, tuple, dict or set longer
    than REFERENTS_SAMPLED among the survivors `objs` not looked at yet (its own size to `own`, what it holds to
    `held`), and every untracked object of at least BIG_PAYLOAD bytes (or a numpy view, whose bytes are its base's)
    that the survivors hold and nothing counted yet, once each, under its own type in `rows`, charged to its holder's
    type in `held` (and `types`); the holders go to `candidates`. At C speed: types and lengths by map(), referents in
    chunks; the holders come from gc.get_referrers, which (the gc frozen) scans only the cell's own survivors."""
    sized = list(itertools.compress(objs, map(_SIZED.__contains__, map(id, map(type, objs)))))
    for obj, n in zip(sized, map(len, sized), strict=True):
        tid = id(type(obj))
        if n > REFERENTS_SAMPLED and id(obj) not in ledger.holders and tid not in internal:
            ledger.holders.add(id(obj))
            own[tid] = own.get(tid, 0) + sys.getsizeof(obj)
            held[tid] = held.get(tid, 0) + ledger.holdings(obj, 1, rows)
            candidates.append(obj)
    sized.clear()
    # A container counted one by one was sampled; of its items only the newest are read again (what a re-run appends):
    # sizing a million small strings one by one would cost a second.
    holders = ledger.holders
    light = [obj for obj in objs if id(obj) not in holders] if holders else objs
    newest = []
    for obj in (o for o in objs if id(o) in holders) if holders else ():
        if type(obj) is list or type(obj) is tuple:
            newest.extend(obj[-REFERENTS_SAMPLED:])
        elif type(obj) is dict:
            newest.extend(itertools.islice(reversed(dict.values(obj)), REFERENTS_SAMPLED))
    ndarray = _ndarray_type()
    found = {}
    for start in range(0, len(light) + 1, HEAVY_CHUNK):
        refs = gc.get_referents(*light[start:start + HEAVY_CHUNK])
        if start == 0:
            refs.extend(newest)
        untracked = list(itertools.filterfalse(gc.is_tracked, refs))
        del refs
        big = list(itertools.compress(untracked, map(BIG_PAYLOAD.__le__, map(sys.getsizeof, untracked))))
        found.update(zip(map(id, big), big, strict=True))
        kinds = dict(zip(map(id, map(type, untracked)), map(type, untracked), strict=True))
        views = {tid for tid, k in kinds.items() if k is memoryview or (ndarray is not None and _is_a(k, ndarray))}
        if views:
            for obj in itertools.compress(untracked, map(views.__contains__, map(id, map(type, untracked)))):
                if buffer_owner(obj) is not None:
                    found[id(obj)] = obj
        untracked.clear()
    for oid in found.keys() & (ledger.seen | ledger.old):
        del found[oid]
    heavy = [obj for obj in found.values() if not issubclass(type(obj), type)]
    found.clear()
    newest.clear()
    if not heavy:
        return
    sizes = {id(obj): ledger.add(obj, 1, rows) for obj in heavy}
    mine = {id(heavy), id(sizes), id(objs), id(light), id(newest)}
    # Oldest first (get_referrers lists the youngest first): the frame before the traceback formatter's copies. Each
    # object is charged to one holder, the first that holds it.
    for holder in reversed(gc.get_referrers(*heavy)):
        tid = id(type(holder))
        if id(holder) in mine or tid in internal:
            continue
        if tid not in types:  # a type the sample missed: the holder names it
            types[tid] = type(holder)
            if machinery.is_machinery_type(types[tid]):
                internal.add(tid)
                continue
        kept = sum(sizes.pop(id(ref), 0) for ref in gc.get_referents(holder))
        if kept:
            held[id(type(holder))] = held.get(id(type(holder)), 0) + kept
            candidates.append(holder)
    heavy.clear()


def _own_sections(ctx):
    """memdiag's own survivors: the report sections the after-probes wrote since the gc was frozen (rss, gc, heap,
    traced) and the dicts and lists in them, {id: object}. They are new, tracked and not the user's. (Tuples are left:
    a constant tuple is old, and the sections are made of dicts, lists and scalars.)"""
    before = ctx.gc.report_before
    stack = [value for key, value in ctx.report.items() if before.get(key) != id(value)]
    found = {}
    while stack:
        value = stack.pop()
        kind = type(value)
        if (kind is dict or kind is list) and id(value) not in found and gc.is_tracked(value):
            found[id(value)] = value
            stack.extend(dict.values(value) if kind is dict else value)
    return found


def _leave_out(census, own):
    """Take memdiag's own survivors `own` ({id: object}, see _own_sections) out of the census's counts (when exact)
    and sample."""
    for obj in own.values():
        tid = id(type(obj))
        if census.exact and census.counts.get(tid):
            census.counts[tid] -= 1
            if not census.counts[tid]:
                del census.counts[tid]
        group = census.groups.get(tid)
        if group is not None:
            group[:] = [member for member in group if member is not obj]
            if not group:
                del census.groups[tid]
                census.types.pop(tid, None)


_TUPLE_ID = id(tuple)


def _leave_out_held(census, held):
    """Take the kernel's objects `held` ({id: object}, leftovers.held), the generators and bound methods that run
    its code (leftovers.runs_machinery), the methods bound to what it holds (leftovers.bound_to) and the tuples made of
    it (leftovers.made_of), out of the census where it counted them: of a type whose every survivor is in
    the sample (exact counts, the sample as long as the count), those in it. A type the sample holds only part of keeps
    its count: its few kernel objects are lost among the cell's many."""
    if not census.exact:
        return
    kind = machinery.file_kinds()
    for tid in list(census.groups):
        group = census.whole(tid)
        if group is None:
            continue
        associated = tid in leftovers.ASSOCIATED
        kept = [obj for obj in group if id(obj) not in held and not (
            associated and (leftovers.runs_machinery(obj, kind) or leftovers.bound_to(obj, held))) and not (
            tid == _TUPLE_ID and leftovers.made_of(obj, held))]
        if len(kept) == len(group):
            continue
        if kept:
            group[:] = kept
            census.counts[tid] = len(kept)
        else:
            del census.groups[tid]
            census.types.pop(tid, None)
            census.counts.pop(tid, None)


def _named_containers(census, fresh):
    """Put the cell's big named containers (`fresh`, from _bound_values) in the sample: the value of a name the cell
    bound or rebound that is a list, tuple, dict or set longer than REFERENTS_SAMPLED (one list of a million items
    among a million small ones is what a sample misses, and what a re-run that rebinds it frees as much as it makes,
    so the allocators show nothing unexplained). Only survivors of this cell: an old object bound to a new name is
    not the cell's."""
    for value in fresh:
        # `in` over the ids compares ints and stops at the match: the cell's oldest survivors (a container that grew
        # through the cell was promoted first) come early in gc.get_objects(); an old object costs one full pass.
        if id(value) not in map(id, census.objs):
            continue
        group = census.groups.setdefault(id(type(value)), [])
        if all(obj is not value for obj in group):
            group.append(value)
            census.types.setdefault(id(type(value)), type(value))


def _unexplained(report, own, held, bound_size):
    """True when the allocators' in-use memory (glibc's bytes, and pymalloc's blocks at MIN_BLOCK_BYTES each) grew
    during the cell by RARE_SCAN_BYTES more than the census's estimate, or cannot be read: what the sample missed
    may hold it. (A re-run that rebinds its names frees about what it makes: the big containers it binds are in the
    sample already, see _named_containers.)"""
    heap = report.get("heap") or {}
    before, after = heap.get("before"), heap.get("after")
    if before is None or after is None:
        return True
    # pymalloc's blocks (objects up to 512 bytes) are not in mallinfo: at least MIN_BLOCK_BYTES each.
    blocks = (heap.get("blocks_after") or 0) - (heap.get("blocks_before") or 0)
    explained = sum(own.values()) + sum(held.values()) + bound_size
    # Blocks are counted at their smallest and sizes differ from block sizes by rounding: a margin of a fifth.
    return after - before + max(blocks, 0) * MIN_BLOCK_BYTES > explained * 1.2 + RARE_SCAN_BYTES


def _own_sizes(group):
    """getsizeof of each survivor of one type, at C speed, with an instance's attribute values array (3.11+,
    probes/instances.py); own_size one by one when a __sizeof__ raises, returns a non-int, or the type is pandas'
    (whose __sizeof__ walks every string)."""
    tp = type(group[0])
    if id(tp) in _BUILTIN:
        return sizes_of(group, tp)
    kinds = _pandas_types()
    if kinds is None or not issubclass(tp, kinds):
        try:
            sizes = list(map(sys.getsizeof, group))
        except Exception:  # noqa: BLE001 - a user __sizeof__
            pass
        else:
            extra = instances.extra_sizes(group, tp)  # the attribute values getsizeof leaves out (3.11+)
            return sizes if extra is None else list(map(operator.add, sizes, extra))
    return list(map(own_size, group))


def _survivors(groups, counts, internal, ledger, rows, machinery_rows, candidates, memo, named):
    """Own bytes and the payload the sampled survivors hold, extrapolated per type: ({id(type): own bytes},
    {id(type): payload bytes its survivors hold}); the payload goes to rows (machinery_rows for the kernel's).

    Stratified: a heavy survivor (its own size at least BIG_PAYLOAD, or a list, tuple, dict or set longer than
    REFERENTS_SAMPLED) stands for itself and is looked at one by one (its referents sampled); the light ones stand for
    the rest of their type, their referents read in one gc.get_referents call and counted by Ledger.add_many.
    Memoryviews and array subclasses are looked at one by one too (the buffer they view). `candidates` gets the sampled
    user survivors, for keep_targets; `ledger.holders` the ids of the heavy ones; `memo` (the cell's held_size memo)
    the size of a heavy builtin container whose payload no other survivor shared, which is its held_size: the
    variables probe and the chains then do not read the big list a cell bound a second time; for one the cell bound
    to a name (its id in `named`), with the sample of its referents read ((referents, weight), see kept.kept_size)."""
    own, held = {}, {}
    ndarray = _ndarray_type()
    for tid, group in groups.items():
        tp = type(group[0])
        into = machinery_rows if tid in internal else rows
        sizes = _own_sizes(group)
        heavy = [size >= BIG_PAYLOAD for size in sizes]
        if id(tp) in _SIZED:
            heavy = [h or n > REFERENTS_SAMPLED for h, n in zip(heavy, map(len, group), strict=True)]
        light = list(itertools.compress(group, map(operator.not_, heavy)))
        heavy_objs = list(itertools.compress(group, heavy))
        # The light sample stands for every survivor of the type but the heavy ones it found.
        weight = (counts[tid] - len(heavy_objs)) / len(light) if light else 0.0
        own[tid] = sum(itertools.compress(sizes, heavy)) + weight * sum(
            itertools.compress(sizes, map(operator.not_, heavy)))
        total = 0
        builtin = id(tp) in _BUILTIN  # its own size is sizeof's
        for obj, size in zip(heavy_objs, itertools.compress(sizes, heavy), strict=True):
            ledger.holders.add(id(obj))
            skipped = ledger.skipped
            read = [] if id(obj) in named else None
            kept = ledger.holdings(obj, 1, into, read=read)
            total += kept
            if builtin and ledger.skipped == skipped:  # nothing it holds was counted before: held_size's reading
                # A named container's with the sample read, for kept.kept_size to look below it (after the census:
                # its lists hold every survivor, and kept reads refcounts) without reading a big dict again.
                memo[id(obj)] = (obj, size + int(kept)) + tuple(read or ())
        if tp is memoryview or (ndarray is not None and _is_a(tp, ndarray)):
            total += sum(ledger.holdings(obj, weight, into) for obj in light)
        elif light:
            untracked = list(itertools.filterfalse(gc.is_tracked, gc.get_referents(*light)))
            total += ledger.add_many(untracked, weight, into)
        held[tid] = total
        if tid not in internal:  # the heavy first: keep_targets sizes the first few of a type
            candidates.extend(heavy_objs)
            candidates.extend(light)
    return own, held


def _row(tp, survivors, size, payload, holds):
    # survivors: an exact count; payload: extrapolated, rounded apart so that count - payload is the survivors.
    return {"type": protocol.type_name(tp=tp), "count": survivors + round(payload), "size": round(size),
            "payload": round(payload), "holds": round(holds)}


def limit_rows(rows, total):
    """At most MAX_ROWS rows (dicts with "type", "count", "size", optional "payload" and "holds"), each taking or
    holding at least MIN_ROW_SHARE of `total` bytes, biggest first, then one "other" row summing the rest (its
    "types": how many)."""
    floor = max(1, total * MIN_ROW_SHARE)
    ranked = sorted(rows, key=lambda r: (max(r["size"], r.get("holds", 0)), r["count"]), reverse=True)
    shown = [r for r in ranked if max(r["size"], r.get("holds", 0)) >= floor][:MAX_ROWS]
    kept = set(map(id, shown))
    rest = [r for r in ranked if id(r) not in kept]
    shown.sort(key=lambda r: (r["size"], r["count"]), reverse=True)
    if rest:
        shown.append({"type": OTHER, "count": sum(r["count"] for r in rest), "size": sum(r["size"] for r in rest),
                      "payload": sum(r.get("payload", 0) for r in rest),
                      "types": sum(r.get("types", 1) for r in rest)})
    return shown


def after(ctx):
    """After the cell, the gc still frozen: report["objects"] = {"new": how many gc-tracked objects the cell created
    survive it, "size": their bytes and those of the untracked payload they hold (sampled, extrapolated per type),
    "growth": rows by type, [{"type", "count", "size", "payload" (how many of count are untracked payload), "holds"
    (bytes of payload its objects hold, counted in other rows)}] as limit_rows keeps them, "bound": {"count", "size"}
    of the untracked values the cell bound to names, Out[n] or grown names and nothing else holds (in growth, not in
    size), "machinery": {"count", "size"} of the kernel's own, not counted above}; or {"new": 0, "growth": [],
    "skipped": why} when the gc was not frozen for this cell; or, for an import cell (native.imported) not run in
    depth, {"new": how many gc-tracked objects survive it, kernel's included, "growth": [], "imports": True}: what
    modules leave behind is summarised by package (report["imports"]), never counted object by object (pandas and
    matplotlib leave 70,000 functions, dicts and classes of hundreds of types: 35 ms to count and sample). The names
    the cell bound are sized as on any cell (variables.py).
    ctx.census_types: the 8 survivor types that take or hold the most, for keep_targets."""
    if not ctx.gc.frozen:
        reason = gcguard.not_frozen_reason(ctx.gc)
        ctx.report["objects"] = {"new": 0, "growth": [], "skipped": reason}
        return
    if not ctx.deep and native.imported(ctx):
        ctx.report["objects"] = {"new": len(RAW.get_objects()), "growth": [], "imports": True}
        return
    shell = ctx.recorder.shell
    leftovers.settle(shell, time.perf_counter() - ctx.t_start)
    leftovers.join_stream_buffers()
    # A few survivors: the kernel's threads finish first what the cell gave them (IPython's history write, ipykernel's
    # messages). Asked before and after the listing: a write that ends in between (the thread had only the GIL to
    # wait for) left its objects in the list, which keeps them alive.
    writing = leftovers.history_writing(shell)
    objs = RAW.get_objects()
    if len(objs) < leftovers.FEW_SURVIVORS and (writing or leftovers.history_writing(shell)
                                                 or leftovers.iopub_thread() is not None):
        del objs  # the list would keep what those threads hold alive after they are done
        leftovers.wait_for_kernel_threads(shell)
        objs = RAW.get_objects()
    _census(ctx, objs)


def _census(ctx, objs):
    """after's work on the survivors `objs` (gc.get_objects(), the gc frozen). Kept apart from `after`, which has no
    closure: the cells a function's comprehensions and lambdas share (3.10, 3.11) are made when it is called, and would
    be counted among the survivors had they been made before gc.get_objects()."""
    # From here on, what the pass reads of a text column or a frame is kept for its other readers (not before: the
    # cycle probe's entries would have been survivors of the cell); the recorder ends the pass.
    begin_pass()
    # An old container the gc did not track (Out holding only arrays and numbers) is tracked from the moment the cell
    # puts a list in it, and then looks new: it is the kernel's, not a survivor of this cell.
    became = {id(c) for c in ctx.untracked_namespaces if gc.is_tracked(c)}
    if became:
        objs = [o for o in objs if id(o) not in became]
    census = _Counted(objs)
    del objs
    _leave_out(census, _own_sections(ctx))
    # What the kernel holds right now (IPython's event arguments and history records, memdiag's progress records) is
    # not the cell's either: found from where it is held (probes/leftovers.py).
    # Where the counts are exact (_leave_out_held): among 100,000 survivors and more, the kernel's few are lost.
    if census.exact:
        roots = ctx.progress.records() if ctx.progress is not None else []
        if ctx.run_start is not None:  # the history's entry for this run, tracked since it got the cluster's readings
            roots.append(ctx.run_start)
        if ctx.result is not None:
            # Among the types' survivors when the sample holds them all (_leave_out_held takes out no others).
            whole = [census.whole(id(tp)) or () for tp in leftovers.EVENT_TYPES]
            roots += leftovers.event_call(ctx.recorder.shell, ctx.result, itertools.chain.from_iterable(whole))
        # The survivors the sample holds whole, through which the kernel's output records are followed.
        sampled = {id(obj) for tid in census.groups for obj in census.whole(tid) or ()}
        # A Dask client's event loop reschedules its heartbeats while the cell runs: distributed's, not the cell's.
        loop = getattr(getattr(ctx.cluster_client, "loop", None), "asyncio_loop", None)
        _leave_out_held(census, leftovers.held(ctx.recorder.shell, roots, sampled, [loop] if loop else []))
    old, bound, fresh, tracked = _bound_values(ctx)
    ctx.older_values = _older_values(tracked, census.objs)
    tracked.clear()
    _named_containers(census, fresh)
    named = set(map(id, fresh))
    fresh.clear()
    counts, types = census.counts, census.types
    # What IPython, ipykernel, asyncio and memdiag made around the cell (handles, futures, tokens of a formatted
    # traceback) is not the user's: counted apart, never a row.
    internal = {tid for tid, tp in types.items() if machinery.is_machinery_type(tp)}
    ledger = _Ledger(old)
    payload, kernel_payload = {}, {}
    candidates = ctx.candidates
    own, held = _survivors(census.groups, counts, internal, ledger, payload, kernel_payload, candidates, ctx.sizes,
                           named)
    bound_size = bound_count = 0
    for value, weight in bound:
        added = ledger.add(value, weight, payload)
        if added:
            bound_size += added
            bound_count += weight
    bound.clear()
    if ctx.deep or _unexplained(ctx.report, own, held, bound_size):
        # The allocator grew by more than the sample explains: a survivor the sample missed holds it (the one frame
        # of three that keeps a 30 MB local, one dict of 100 arrays among 10,000 small lists). Sampling cannot see a
        # heavy tail: every big untracked object the survivors hold is counted, with its holders. Always in a deep
        # run: a re-run that rebinds a short list of 50 big bytes among 20,000 small lists frees what it makes, and
        # the allocators show nothing unexplained, yet the user asked for the whole picture.
        _heavy_payload(census.objs, ledger, payload, own, held, types, internal, candidates)
        for tid in types.keys() - counts.keys():  # a holder of a type the count's sample missed: one at least
            counts[tid] = 1
    census.release()
    user = [tid for tid in counts if tid not in internal]
    ctx.census_types = [types[tid] for tid in sorted(user, key=lambda t: own.get(t, 0) + held.get(t, 0),
                                                     reverse=True)[:8] if tid in types]
    rows = {tid: [types[tid], counts[tid], own.get(tid, 0), 0, held.get(tid, 0)] for tid in user if tid in types}
    unsized = [counts[tid] for tid in user if tid not in types]  # rarer than the sample's spacing: counted, in "other"
    for tid, (tp, n, size) in payload.items():
        if machinery.is_machinery_type(tp):
            kernel_payload[tid] = [tp, n, size]
            continue
        row = rows.setdefault(tid, [tp, 0, 0, 0, 0])
        row[2] += size
        row[3] += n
    size = sum(own.get(tid, 0) + held.get(tid, 0) for tid in user)
    ctx.report["objects"] = {
        "new": sum(counts[tid] for tid in user),
        "size": round(size),
        "growth": limit_rows([_row(*row) for row in rows.values()] + [
            {"type": OTHER, "count": sum(unsized), "size": 0, "payload": 0, "types": len(unsized)}] * bool(unsized),
            size + bound_size),
        "bound": {"count": round(bound_count), "size": round(bound_size)},
        "machinery": {"count": sum(counts[tid] for tid in internal),
                      "size": round(sum(own.get(tid, 0) + held.get(tid, 0) for tid in internal))},
    }


def _size_and_id(candidate):
    return candidate[:2]


def keep_targets(ctx):
    """Keep a few of each type of the survivors the census sampled (the heavy first; BUILTIN_CANDIDATES of a builtin
    type, CANDIDATES_PER_TYPE of the others) as candidate backref targets, ctx.targets, for cells that may be flagged
    (after cycles freed garbage); drop the census's sample either way. They are sized and ranked only when the chains
    are searched (rank_targets), after the variables probe has sized the big values the cell bound (one reading)."""
    candidates, ctx.candidates = ctx.candidates, []
    if not ctx.gc.frozen or not ctx.census_types or not ctx.interesting:
        candidates.clear()
        return
    wanted = {id(tp) for tp in ctx.census_types if not machinery.is_machinery_type(tp)}
    # Out, tracked since the cell put a list in it: a root, not a target.
    kernel = set(map(id, ctx.untracked_namespaces))
    limit = {id(tp): BUILTIN_CANDIDATES if protocol.type_attr(tp, "__module__") == "builtins" else CANDIDATES_PER_TYPE
             for tp in ctx.census_types}
    per_type = {}
    kept = []
    for obj in candidates:
        tid = id(type(obj))
        if tid in wanted and id(obj) not in kernel and per_type.get(tid, 0) < limit[tid]:
            per_type[tid] = per_type.get(tid, 0) + 1
            kept.append(obj)
    candidates.clear()
    ctx.targets = kept


def rank_targets(ctx, wanted=None):
    """The candidates keep_targets kept, taken from ctx.targets (left empty: the list is ours and must not be found as
    a referrer), sized one by one (held_size, with the cell's memo ctx.sizes) and ranked: at most TARGETS_KEPT, the
    biggest first, of at least MIN_TARGET_SIZE bytes unless their type is not a builtin. `wanted`, a predicate: only
    the candidates it accepts are sized (a search by identity alone answers only for those a root names: none of the
    55 a re-run of the bench's pandas cell keeps, whose sizing took 1.1 ms)."""
    kept, ctx.targets = ctx.targets, []
    if wanted is not None:
        kept[:] = filter(wanted, kept)
    picked = sorted(((held_size(obj, ctx.sizes), id(obj), obj) for obj in kept), key=_size_and_id,
                    reverse=True)
    kept.clear()
    # Small survivors are kept too when their type is not a builtin: 8,000 Loggers of 500 B each are the leak.
    # (Filtered before the cut: 24 bigger dicts must not push the Loggers out and then be dropped themselves.)
    ranked = [obj for size, _, obj in picked
              if size >= MIN_TARGET_SIZE or protocol.type_attr(type(obj), "__module__") != "builtins"]
    picked.clear()
    del ranked[TARGETS_KEPT:]
    return ranked
