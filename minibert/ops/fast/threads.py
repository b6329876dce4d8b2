"""Running NumPy work on every core: row blocks on a small thread pool.

NumPy's elementwise functions and reductions run on one core, while its matrix products
(BLAS) use all of them. The fast ops split their elementwise work into blocks of rows that
fit in the CPU cache and hand the blocks to a pool of threads: NumPy releases the GIL inside
each call, so the blocks run in parallel, and every pass over a block reads memory that the
previous pass just brought into the cache.

Small matrix products (one attention head: 128 x 64 by 64 x 128) are another matter: BLAS
splits each of them over its threads, and the threads meet again after a few microseconds, many
times per layer. On a busy or virtual machine one late thread stalls the whole product. Inside
the pool the fast attention therefore asks BLAS for one thread per call (``single_thread_blas``)
and gets its parallelism from the blocks instead, as PyTorch does for its batched products.

Environment: ``MINIBERT_NUM_THREADS`` sets the pool size (default: the number of CPUs the process
may use; 1 turns the pool off). Only NumPy arrays use the pool: other backends (CuPy, the device
test backend) run each op as one call on the whole array.
"""
import contextlib
import ctypes
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

_POOL = None
_POOL_LOCK = threading.Lock()
_LOCAL = threading.local()


def num_threads():
    """Threads the fast ops use on NumPy arrays."""
    value = os.environ.get("MINIBERT_NUM_THREADS")
    if value:
        return max(1, int(value))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:                      # not on Linux
        return max(1, os.cpu_count() or 1)


def _pool():
    global _POOL
    if _POOL is None:
        with _POOL_LOCK:
            if _POOL is None:
                _POOL = ThreadPoolExecutor(num_threads(), thread_name_prefix="minibert")
    return _POOL


def uses_pool(xp):
    """True when work on arrays of module ``xp`` is split over the pool (NumPy, several CPUs,
    and not already inside a pool thread)."""
    return xp is np and num_threads() > 1 and not getattr(_LOCAL, "inside", False)


def _drain(function, work):
    """Call function(start, stop) for blocks taken from the shared iterator ``work`` until it
    is empty (each ``next`` on a list iterator is atomic, so every block runs exactly once)."""
    _LOCAL.inside = True
    try:
        for start, stop in work:
            function(start, stop)
    finally:
        _LOCAL.inside = False


def blocks(n, block):
    """[(start, stop), ...] covering range(n) in blocks of ``block`` (the last may be shorter)."""
    block = max(1, int(block))
    return [(start, min(start + block, n)) for start in range(0, n, block)]


def parallel_for(xp, n, block, function):
    """Call ``function(start, stop)`` for consecutive blocks of range(n).

    On NumPy the blocks are shared out between the pool's threads and this one, each taking the
    next block when it is done with its last (the calls must write disjoint parts of their
    outputs); on any other backend, or for a single block, ``function(0, n)`` runs once, here.
    """
    if n <= 0:
        return
    if not uses_pool(xp) or n <= block:
        function(0, n)
        return
    work = iter(blocks(n, block))
    helpers = min(num_threads(), -(-n // block)) - 1
    futures = [_pool().submit(_drain, function, work) for _ in range(helpers)]
    _drain(function, work)
    for future in futures:
        future.result()                         # re-raises the first error of a block


def rows_per_block(row_bytes, target_bytes=512 * 1024):
    """How many rows of ``row_bytes`` bytes make a block of about ``target_bytes`` (>= 1)."""
    return max(1, target_bytes // max(1, row_bytes))


# ---------------------------------------------------------------------------------- BLAS threads
def _loaded_libraries():
    """Paths of the shared libraries with "blas" in their name that this process has loaded."""
    paths = set()
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                path = line.split()[-1]
                name = os.path.basename(path).lower()
                if path.startswith("/") and "blas" in name and ".so" in name:
                    paths.add(path)
    except OSError:
        pass
    return sorted(paths)


def _find_blas_control():
    """(get_num_threads, set_num_threads) of the OpenBLAS NumPy uses, or None."""
    prefixes = ("scipy_openblas", "openblas")
    suffixes = ("64_", "")
    for path in _loaded_libraries():
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in prefixes:
            for suffix in suffixes:
                getter = getattr(library, f"{prefix}_get_num_threads{suffix}", None)
                setter = getattr(library, f"{prefix}_set_num_threads{suffix}", None)
                if getter is not None and setter is not None:
                    getter.restype, setter.argtypes = ctypes.c_int, [ctypes.c_int]
                    return getter, setter
    try:                                        # MKL, BLIS, ...: threadpoolctl knows them
        import threadpoolctl
        controller = threadpoolctl.ThreadpoolController().select(user_api="blas")
        if controller.lib_controllers:
            library = controller.lib_controllers[0]
            return library.get_num_threads, library.set_num_threads
    except Exception:                           # not installed, or an unknown library
        pass
    return None


_BLAS_CONTROL = None
_BLAS_LOCK = threading.Lock()


def _blas_control():
    global _BLAS_CONTROL
    if _BLAS_CONTROL is None:
        _BLAS_CONTROL = _find_blas_control() or False
    return _BLAS_CONTROL


def can_limit_blas():
    """True if the BLAS NumPy uses can be told to use one thread."""
    return bool(_blas_control())


@contextlib.contextmanager
def single_thread_blas():
    """BLAS uses one thread per call inside this block (restored afterwards); a no-op when the
    BLAS library cannot be controlled."""
    control = _blas_control()
    if not control:
        yield
        return
    get_threads, set_threads = control
    with _BLAS_LOCK:
        previous = get_threads()
        set_threads(1)
    try:
        yield
    finally:
        with _BLAS_LOCK:
            set_threads(previous)
