"""What one value keeps alive on its own: its held size and the tracked objects below it that nothing else holds.

census.held_size counts a value's own bytes and the untracked payload it holds (bytes, str, numbers, arrays, and the
dicts and tuples of them the gc does not track). A list of lists, a list of class instances or a dict of dicts of
lists hold most of their bytes one or more levels down, in objects the gc tracks, which held_size leaves to the
census's type rows: `grid = [[float(j) for j in range(20)] for i in range(10_000)]` read 90 kB beside 7.4 MB of lists
and floats.

kept_size follows, level by level down to LEVELS below the value, the tracked objects that only their holder refers
to (by refcount, read as census._sole_keys reads a dict's keys): what deleting the name would free. An object that
something else holds too, an older list's rows or a class, is not this value's to free and is left out, with all it
holds. A level is read from a sample of at most SAMPLE of its objects (spread evenly, each standing for its share of
the level), and their referents are read in one gc.get_referents call, so the cost is bounded whatever the value
holds: a few hundred objects a level. Their own bytes and the untracked payload they hold are counted, each object
once (census._Ledger). pandas objects count their memory_usage (census.pandas_size) and are not followed (their blocks
are in it).
A refcount leaves out what memdiag itself holds meanwhile (our_refs: the census's memo, the backref candidates) and
an object's references to itself (`self.me = self`).
"""
import gc
import itertools
import operator
from collections import Counter

from .census import (
    _SIZED,
    _SOLE_KEY_REFS,
    _by_type,
    _Ledger,
    _own_sizes,
    _pandas_types,
    _refcounts,
    _spread,
    held_size,
    own_size,
    pandas_size,
    referents,
    sizeof,
)

LEVELS = 4  # levels followed below the value: a dict of dicts of lists of objects
SAMPLE = 128  # objects read on one level, at most (spread evenly; _spread reads up to twice as many)
REFERENTS_READ = 1_024  # referents of one level's sample read, at most: beyond, an even sample of them
BIG_CONTAINER = 64  # a list, tuple, dict or set below the value with more items is sampled on its own
BIG_READ = 16  # of those, on one level, at most (to twice as many)
SELF_REFS = 2  # an object with up to this many references to itself is looked at for them
_SELF_EXCESS = frozenset(range(1, SELF_REFS + 1))


def kept_size(obj, memo=None, ours=None, met=None, old=frozenset()):
    """Bytes `obj` keeps alive on its own (int): census.held_size (with the cell's `memo`, see there) plus the weighted
    bytes of the tracked objects below it that nothing else holds (below). A pandas object's is its shallow
    memory_usage. Estimated from samples: exact for a container of up to 2 * SAMPLE items whose items are alike.
    Memo entries: (obj, held bytes); (obj, held bytes, (referents, weight)) where the census read a container the
    cell named (its sample, not read again: a dict of 1M entries takes 60 ms); (obj, held bytes, bytes below).
    `ours`: our_refs of what memdiag itself holds meanwhile (the memo's entries, backref targets). `met`, a set when
    given, gets the ids of the objects counted (those read, not those a sample stands for): what the names probe
    looks for the values of earlier names in (`holder = [rows]; del rows` moved rows, it did not free it). `old`: ids
    of untracked objects not counted (what the user's names hold, for a chain's size)."""
    if not gc.is_tracked(obj) or _is_pandas(type(obj)):
        return held_size(obj, memo)
    hit = memo.get(id(obj)) if memo is not None else None
    # held_size's reading, with its sample; read again with `old` where the memo has only held_size's (cheap: a
    # failed call's frame, counting the global it was passed), not where a container's reading is whole.
    if hit is None or hit[0] is not obj or (old and len(hit) == 2):
        read = []
        ledger = _Ledger(old)
        held = sizeof(obj) + int(ledger.payload(obj, 1, {}, read=read))
        sample = read.pop()
        if met is not None:
            met.update(ledger.seen)
    elif len(hit) == 2:  # the census read its payload
        held, sample = hit[1], referents(obj)
    elif type(hit[2]) is tuple:
        held, sample = hit[1], hit[2]
    else:
        return hit[1] + hit[2]
    extra = below(obj, *sample, ours=ours, met=met, old=old)
    if memo is not None and not old:  # the askers without `old` (the names) must not read a chain's figure
        memo[id(obj)] = (obj, held, extra)
    return held + extra


def below(obj, refs, each, ours=None, met=None, old=frozenset()):
    """Bytes (int) of the tracked objects below `obj` that only their holder refers to, down to LEVELS, with what they
    hold, from `refs` (a list: obj's referents as census.referents read them, each standing for `each`), which
    held_size counted the untracked ones of. `refs` must be the only list holding them (their refcounts are read),
    with what memdiag holds besides (`ours`, our_refs). `met`, `old`: as kept_size's."""
    ledger = _Ledger(old)
    ledger.seen.add(id(obj))
    ledger.seen.update(map(id, itertools.filterfalse(gc.is_tracked, refs)))
    size = int(_levels([(each, _sole(refs, ours))], ledger, ours=ours))
    if met is not None:
        met.update(ledger.seen)
    return size


def retained_size(obj, ours=None):
    """Bytes obj keeps alive, as `%memdiag why` tells it: a pandas object's memory_usage (census.pandas_size: its
    blocks and index); a numpy array's header and the buffer it views (its base's, or the bytearray or bytes
    np.frombuffer read); a container's getsizeof plus its untracked payload (bytes, str, arrays with their buffers,
    each once), sampled like the census (REFERENTS_SAMPLED items, scaled up), and the tracked objects below it nothing
    else holds (kept_size's levels; `ours`: our_refs)."""
    size = pandas_size(obj)
    if size is not None:
        return size
    ledger = _Ledger(tracked_owners=True)
    ledger.seen.add(id(obj))
    read = []
    size = own_size(obj) + ledger.holdings(obj, 1, {}, read=read)
    if gc.is_tracked(obj):
        refs, each = read[0]
        size += _levels([(each, _sole(refs, ours))], ledger, ours=ours)
    return int(size)


def _is_pandas(tp):
    kinds = _pandas_types()
    return kinds is not None and issubclass(tp, kinds)


def our_refs(objects=(), memo=None):
    """Counter {id: references}: what memdiag itself holds to survivors while it sizes them (`objects`, an iterable
    of its lists of them: backref targets, a search's frontier; the cell's `memo`, whose entries hold their object).
    _sole counts them out of a refcount: the census's heavy survivors are in the memo and among the backref
    candidates, so a list of three 5 MB lists had none of them sole and was 88 bytes. (A memo entry's sample of a
    named container's referents is the very list kept_size reads them from: already in the count.)"""
    held = Counter(map(id, itertools.chain.from_iterable(objects)))
    held.update(map(id, map(operator.itemgetter(0), (memo or {}).values())))
    return held


def _sole(objs, ours=None):
    """The tracked objects of `objs` (a list of referents read for one level) that only their holder refers to."""
    # Read where each object is in this one list only: its holder, the list and the read itself (3), and what memdiag
    # holds of it (ours).
    expected = itertools.repeat(_SOLE_KEY_REFS)
    if ours:
        expected = list(map(operator.add, expected, map(ours.get, map(id, objs), itertools.repeat(0))))
    else:
        expected = [_SOLE_KEY_REFS] * len(objs)
    excess = list(map(operator.sub, _refcounts(objs), expected))
    sole = list(map(operator.and_, map(operator.not_, excess), map(gc.is_tracked, objs)))
    # An object that refers to itself (`self.me = self`) is its holder's alone too: its extra references are its own.
    for i in itertools.compress(range(len(objs)), map(_SELF_EXCESS.__contains__, excess)):
        if gc.is_tracked(objs[i]) and _self_refs(objs[i]) == excess[i]:
            sole[i] = True
    return list(itertools.compress(objs, sole))


def _self_refs(obj):
    """How many references `obj` holds to itself: directly, or through its __dict__ (a dict among its referents)."""
    # By id: countOf compares with ==, which runs a user's __eq__ (or a metaclass's) on every other item.
    refs = gc.get_referents(obj)
    me = id(obj)
    n = operator.countOf(map(id, refs), me)
    for ref in refs:
        if type(ref) is dict:
            n += operator.countOf(map(id, dict.values(ref)), me)
    return n


def items_size(items, ours=None):
    """Bytes (int) that `items` (a list: a container's newest items) take, each once, with what they alone hold below
    them: their own bytes and payload, and the tracked objects under them that nothing else holds (_levels), read from
    a sample of them like one level of kept_size. What a grown list's newest rows keep. `ours`: our_refs."""
    ledger = _Ledger()
    total = ledger.add_many(list(itertools.filterfalse(gc.is_tracked, items)), 1.0, {}, big_alone=False)
    return int(total + _levels([(1.0, list(filter(gc.is_tracked, items)))], ledger, LEVELS + 1, ours))


def _levels(level, ledger, levels=LEVELS, ours=None):
    """Weighted bytes (float) of the tracked objects that only their holder refers to, from `level` ([(weight, objects)]
    of the first level below a value) down to LEVELS, with the untracked payload they hold, each object once
    (`ledger`), `levels` of them. Never runs user code: sizes through census._own_sizes (getsizeof, pandas' header),
    referents through the gc."""
    total = 0.0
    for _ in range(levels):
        level = [(weight, objs) for weight, objs in level if objs]
        if not level:
            break
        share = max(SAMPLE // len(level), 16)
        below = []
        for weight, objs in level:
            total += _read_level(objs, weight, share, ledger, below, ours)
        level = below
    return total


def _read_level(objs, weight, share, ledger, below, ours):
    """Count one group of a level (`objs`, each standing for `weight` of its kind): their own bytes and their untracked
    payload; put their sole tracked referents in `below` as (weight, objects). Returns the weighted bytes."""
    sample = _spread(objs, share)
    weight *= len(objs) / len(sample)
    # An object met twice (two paths to it) counts once.
    fresh = list(itertools.compress(sample, map(operator.not_, map(ledger.seen.__contains__, map(id, sample)))))
    ledger.seen.update(map(id, fresh))
    total, small, into = 0.0, [], {}
    for group in _by_type(fresh):
        tp = type(group[0])
        if _is_pandas(tp):
            total += weight * sum(map(pandas_size, group))
            continue
        total += weight * sum(_own_sizes(group))
        if id(tp) in _SIZED:
            # Exact builtins: len() runs no user code. A big one is sampled on its own, its items standing for the rest.
            big = list(map(BIG_CONTAINER.__lt__, map(len, group)))
            bigs = list(itertools.compress(group, big))
            read = _spread(bigs, BIG_READ)
            for item in read:
                refs, each = referents(item, BIG_CONTAINER // 2)
                each *= weight * len(bigs) / len(read)
                total += ledger.add_many(list(itertools.filterfalse(gc.is_tracked, refs)), each, into, big_alone=False)
                below.append((each, _sole(refs, ours)))
            group = list(itertools.compress(group, map(operator.not_, big)))
        small.extend(group)
    if not small:
        return total
    refs = gc.get_referents(*small)
    scale = 1.0
    if len(refs) > REFERENTS_READ:  # 256 dicts of a hundred keys each: an even sample of their referents
        sampled = _spread(refs, REFERENTS_READ // 2)
        scale = len(refs) / len(sampled)
        refs = sampled
    total += ledger.add_many(list(itertools.filterfalse(gc.is_tracked, refs)), weight * scale, into, big_alone=False)
    below.append((weight * scale, _sole(refs, ours)))
    return total
