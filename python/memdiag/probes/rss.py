"""Resident memory: current RSS, the exact peak during a cell, and the memory limit the kernel lives under.

Linux gives an exact per-cell peak: writing "5" to /proc/self/clear_refs resets VmHWM to the current RSS, and VmHWM
read after the cell is the high-water mark of that cell alone. The files stay open and are read with pread (~3 µs),
because psutil costs ~20 µs and smaps_rollup grows with RSS. Elsewhere: psutil for RSS and getrusage for the peak.

Right after a cell os.pread and os.pwrite cost about 35-40 µs each (three reads and a write per cell; measured at 5M
live objects, in IPython with its history thread): they let the GIL go for the syscall, which another thread then
takes, and os.pread reads into a fresh buffer. Here the reads go into one buffer made once, through libc's pread64
and pwrite64 called with ctypes.PyDLL, which keeps the GIL: 11-14 µs each.
"""
import ctypes
import os
import sys
import threading

try:
    import resource
except ImportError:  # Windows
    resource = None

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_UNLIMITED = 1 << 60  # cgroups write "max" or a huge page-aligned number for "no limit"


def _libc_io():
    """libc's (pread64, pwrite64) as ctypes.PyDLL functions, which keep the GIL through the syscall: the symbols of
    the running interpreter's own C library. None where they are missing (not Linux; musl 1.2.4+ dropped the *64
    names): os.pread and os.pwrite are used then."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.PyDLL(None, use_errno=True)
        c_pread, c_pwrite = libc.pread64, libc.pwrite64
    except (OSError, AttributeError):
        return None
    for fn in (c_pread, c_pwrite):
        fn.restype = ctypes.c_ssize_t
        fn.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int64]
    return c_pread, c_pwrite


_LIBC_IO = _libc_io()
_READ_BYTES = 4096  # /proc/self/status is about 1.5 kB, statm under 100 bytes


def _checked(result):
    """A libc call's result (bytes read or written), or OSError from its errno when it is negative."""
    if result < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))
    return result


class RssReader:
    """RSS of this process in bytes, and its peak during a cell: /proc/self/statm and /proc/self/status kept open and
    read with pread, the peak reset through /proc/self/clear_refs; psutil and getrusage where those are missing. The
    files are reopened after a fork."""

    def __init__(self):
        self._pid = None
        self._statm = self._status = self._clear = None
        # One buffer the reads fill, made once: a fresh one per read (what os.pread makes) costs the read 3x, after a
        # cell. The lock keeps a read and its copy together.
        self._buffer = ctypes.create_string_buffer(_READ_BYTES)
        self._io_lock = threading.Lock()
        self._open()

    def _pread(self, fd, size):
        """Up to `size` bytes of the open file `fd` from its start (bytes); OSError as os.pread raises it."""
        if _LIBC_IO is None:
            return os.pread(fd, size, 0)
        with self._io_lock:
            n = _checked(_LIBC_IO[0](fd, self._buffer, min(size, _READ_BYTES), 0))
            return self._buffer.raw[:n]  # read after the call: `.raw` is a copy

    def _write_5(self, fd):
        """Write b"5" at the start of `fd` (/proc/self/clear_refs); OSError as os.pwrite raises it."""
        if _LIBC_IO is None:
            os.pwrite(fd, b"5", 0)
            return
        _checked(_LIBC_IO[1](fd, b"5", 1, 0))

    def _open(self):
        self.close()
        self._pid = os.getpid()
        try:
            self._statm = os.open("/proc/self/statm", os.O_RDONLY)
            self._status = os.open("/proc/self/status", os.O_RDONLY)
        except OSError:
            self.close()  # the one that did open is not leaked
        try:
            self._clear = os.open("/proc/self/clear_refs", os.O_WRONLY)
            os.write(self._clear, b"5")
        except OSError:  # not writable here (some containers): no exact per-cell peak
            if self._clear is not None:
                os.close(self._clear)
            self._clear = None

    def close(self):
        """Close the /proc files held open (idempotent)."""
        for fd in (self._statm, self._status, self._clear):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._statm = self._status = self._clear = None

    def _check_pid(self):
        # A fork keeps our descriptors, which would then describe the parent.
        if os.getpid() != self._pid:
            self._open()

    @property
    def exact_peak(self):
        """True when the peak is exact per cell (clear_refs writable and /proc/self/status open: Linux)."""
        return self._clear is not None and self._status is not None

    def rss(self):
        """Current RSS in bytes: resident pages in /proc/self/statm times the page size; psutil where /proc is
        missing, or without psutil getrusage's lifetime peak (0 when there is none)."""
        self._check_pid()
        if self._statm is not None:
            fields = self._pread(self._statm, 128).split()
            return int(fields[1]) * _PAGE
        return _psutil_rss()

    def reset_peak(self):
        """Start a new high-water mark (write "5" to /proc/self/clear_refs) and return None; where that cannot be
        done, return the marker peak() compares with: getrusage's lifetime peak RSS in bytes (None without it)."""
        self._check_pid()
        if self._clear is not None:
            try:
                self._write_5(self._clear)
                return None
            except OSError:
                self._clear = None
        return _maxrss()

    def high_water(self):
        """VmHWM in bytes since the last reset_peak, or None where the peak is not exact (see exact_peak)."""
        if not self.exact_peak:
            return None
        for line in self._pread(self._status, 4096).splitlines():
            if line.startswith(b"VmHWM:"):
                return int(line.split()[1]) * 1024
        return None

    def peak(self, marker, before, after):
        """The cell's peak RSS in bytes, never below `before` or `after`: VmHWM from /proc/self/status since
        reset_peak; with no exact source, getrusage's lifetime peak if it rose above `marker` during the cell, else
        max(before, after)."""
        high = self.high_water()
        if high is not None:
            return max(high, before, after)
        now = _maxrss()
        if now is not None and marker is not None and now > marker:
            return max(now, before, after)
        return max(before, after)


def _psutil_rss():
    try:
        import psutil
    except ImportError:
        return _maxrss() or 0
    return psutil.Process().memory_info().rss


def _maxrss():
    if resource is None:
        return None
    value = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return value if sys.platform == "darwin" else value * 1024  # macOS reports bytes, Linux KiB


def _read_limit(path):
    try:
        with open(path) as f:
            text = f.read().strip()
    except OSError:
        return None
    if not text.isdigit():
        return None  # "max"
    value = int(text)
    return value if 0 < value < _UNLIMITED else None


def memory_limit():
    """The cgroup v2 or v1 memory limit of this process in bytes, or None when there is none."""
    try:
        with open("/proc/self/cgroup") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    candidates = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hierarchy, controllers, path = parts
        if hierarchy == "0" and controllers == "":
            candidates += [f"/sys/fs/cgroup{path.rstrip('/')}/memory.max", "/sys/fs/cgroup/memory.max"]
        elif "memory" in controllers.split(","):
            candidates += [f"/sys/fs/cgroup/memory{path.rstrip('/')}/memory.limit_in_bytes",
                           "/sys/fs/cgroup/memory/memory.limit_in_bytes"]
    limits = [v for v in map(_read_limit, candidates) if v is not None]
    return min(limits) if limits else None


def before(ctx):
    """Before the cell: reset the peak (ctx.peak_marker), then ctx.rss_before = RSS in bytes."""
    reader = ctx.recorder.rss_reader
    ctx.peak_marker = reader.reset_peak()
    ctx.rss_before = reader.rss()


def after(ctx):
    """Right after the cell: report["rss"] = {"before", "after", "peak": RSS in bytes (RssReader), "limit": the cgroup
    memory limit in bytes, or None}."""
    reader = ctx.recorder.rss_reader
    after_ = reader.rss()
    ctx.report["rss"] = {
        "before": ctx.rss_before,
        "after": after_,
        # `%%memdiag --lines` reset the mark for each statement and kept the highest it read (peak_floor).
        "peak": max(reader.peak(ctx.peak_marker, ctx.rss_before, after_), ctx.peak_floor),
        "limit": ctx.recorder.memory_limit,
    }
