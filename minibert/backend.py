"""The array-module shim: which library holds the arrays (NumPy or CuPy), and the few
functions that differ between them.

This is the only module that imports CuPy. Everything else asks for the module of its inputs
with ``get_array_module(*arrays)`` (for pure ops) or for the active one with ``xp()`` (for code
that creates arrays), and writes ``xp.matmul``, ``xp.exp``... so one line of maths serves both.

Transfers between host and device happen only at the edges, through ``asarray`` (host -> active
backend) and ``to_numpy`` (anything -> host).

Backends:
    "numpy"   the default; always available.
    "cupy"    needs the ``cuda12`` or ``cuda13`` extra (``pip install minibert[cuda12]``).
    others    registered with ``register_backend``; the test suite registers a NumPy-backed
              backend whose arrays behave like device arrays (see ``minibert.testing.device``).

The environment variable ``MINIBERT_BACKEND`` picks the backend at import time.
"""
import math
import os

import numpy as np

__all__ = [
    "set_backend", "get_backend", "xp", "get_array_module", "asarray", "to_numpy",
    "default_rng", "erf", "scatter_add", "register_backend", "is_array", "standardize_dtype",
]


class _Backend:
    """One backend: its array module and the functions that differ per library."""

    def __init__(self, name, module, to_numpy, erf, scatter_add, array_type):
        self.name = name
        self.module = module            # numpy-compatible namespace
        self.to_numpy = to_numpy        # array of this backend -> numpy.ndarray
        self.erf = erf                  # elementwise error function
        self.scatter_add = scatter_add  # (target, indices, values) -> None, in place, duplicates add up
        self.array_type = array_type    # the class of this backend's arrays


_REGISTRY = {}
_ACTIVE = None


def register_backend(name, module, to_numpy, erf, scatter_add, array_type):
    """Make a backend available to ``set_backend(name)``."""
    _REGISTRY[name] = _Backend(name, module, to_numpy, erf, scatter_add, array_type)


# ----------------------------------------------------------------------------------------------
# erf for NumPy.
#
# NumPy has no erf. We evaluate it in float64 with two classical expansions and pick, for each
# element, the one that converges fast and without cancellation there:
#
#   |x| <= 2.5:  erf(x) = 2/sqrt(pi) * exp(-x^2) * sum_{n>=0} (2x^2)^n x / (1*3*5*...*(2n+1))
#                every term is positive, so the sum has no cancellation; term n+1 is term n times
#                2x^2/(2n+3), so after N terms the rest is below term_N * (1 / (1 - 2x^2/(2N+3))).
#                With N = 48 and |x| <= 2.5 the tail is below 1e-17 of the sum.
#   |x| >  2.5:  erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...)))))
#                Laplace's continued fraction, evaluated bottom-up from a fixed depth of 80
#                levels; it converges faster the larger x is, and erf = 1 - erfc loses nothing
#                since erfc(2.5) ~ 4e-4 is small.
#   |x| >= 6:    erfc(x) < 2.2e-17, so erf(x) rounds to sign(x) exactly.
#
# The test suite checks the maximum absolute error against math.erf over the real line
# (<= 1e-14).
#
# float32 (and float16, bfloat16) inputs only need their result rounded to float32, so they take
# a cheaper road: W. J. Cody's rational approximations ("Rational Chebyshev approximations for the
# error function", Math. Comp. 23, 1969; the CALERF routine), evaluated in float64, which are
# accurate to about 1e-16 and so round to the same float32 as the exact value:
#
#   |x| <= 0.46875:      erf(x)  = x * A(x^2) / B(x^2)                 (degrees 4 / 4)
#   0.46875 < |x| < 4:   erfc(x) = exp(-x^2) * C(|x|) / D(|x|)         (degrees 8 / 8)
#   |x| >= 4:            erfc(x) < 1.6e-8, less than half a float32 ulp below 1: erf = +-1.
#
# Both branches are evaluated on blocks of 8192 elements (they stay in cache), and np.where picks.
# This is about ten times faster than the float64 series; the test checks the float32 results are
# within half a float32 ulp of math.erf.
# ----------------------------------------------------------------------------------------------
_SERIES_TERMS = 48
_CONTINUED_FRACTION_DEPTH = 80
_SERIES_LIMIT = 2.5
_SATURATION = 6.0


def _erf_series(x):
    """erf(x) by the positive-term series; accurate for |x| <= 2.5. x: float64 array."""
    x2 = x * x
    term = x.copy()
    total = x.copy()
    for n in range(_SERIES_TERMS):
        term = term * (2.0 * x2) / (2 * n + 3)
        total += term
    return (2.0 / math.sqrt(math.pi)) * np.exp(-x2) * total


def _erfc_continued_fraction(x):
    """erfc(x) by Laplace's continued fraction; accurate for x >= 2.5. x: positive float64."""
    tail = np.zeros_like(x)
    for k in range(_CONTINUED_FRACTION_DEPTH, 0, -1):
        tail = (k / 2.0) / (x + tail)
    return np.exp(-x * x) / (math.sqrt(math.pi) * (x + tail))


_CODY_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
           3.20937758913846947e03, 1.85777706184603153e-1)
_CODY_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
           2.84423683343917062e03)
_CODY_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
           2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03,
           2.05107837782607147e03, 1.23033935479799725e03, 2.15311535474403846e-8)
_CODY_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
           1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
           3.43936767414372164e03, 1.23033935480374942e03)
_CODY_SMALL = 0.46875
_CODY_BLOCK = 8192


def _erf_cody_block(x):
    """erf of a 1-d block by Cody's approximations in float64; good to float32 rounding."""
    v = x.astype(np.float64)                                    # (n,)
    a = np.abs(v)
    y = a * a
    num, den = _CODY_A[4] * y, y.copy()                         # |x| <= 0.46875: x A(y) / B(y)
    for i in range(3):
        num += _CODY_A[i]
        num *= y
        den += _CODY_B[i]
        den *= y
    small = v * (num + _CODY_A[3]) / (den + _CODY_B[3])
    num, den = _CODY_C[8] * a, a.copy()                         # else: erfc = e^-y C(a) / D(a)
    for i in range(7):
        num += _CODY_C[i]
        num *= a
        den += _CODY_D[i]
        den *= a
    erfc = np.exp(-y) * (num + _CODY_C[7]) / (den + _CODY_D[7])
    sign = np.sign(v)
    middle = sign * (1.0 - erfc)
    return np.where(a <= _CODY_SMALL, small, np.where(a < 4.0, middle, sign))


def _erf_float32(x):
    """erf for float32 / float16 / bfloat16 arrays: Cody in float64, rounded to x's dtype."""
    out = np.empty(x.shape, dtype=x.dtype)
    flat_in, flat_out = x.reshape(-1), out.reshape(-1)
    for start in range(0, flat_in.size, _CODY_BLOCK):
        block = slice(start, start + _CODY_BLOCK)
        flat_out[block] = _erf_cody_block(flat_in[block])
    return out


def _numpy_erf(x):
    """Elementwise erf on NumPy arrays, max abs error <= 1e-14 in float64; float32 and narrower
    inputs are correctly rounded (within half an ulp of their dtype)."""
    x = np.asarray(x)
    if np.issubdtype(x.dtype, np.floating) and x.dtype.itemsize <= 4 and x.ndim > 0:
        return _erf_float32(x)
    out_dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float64
    v = x.astype(np.float64, copy=False)
    a = np.abs(v)
    out = np.sign(v, out=np.empty_like(v))                      # |x| >= 6: erf = +-1
    small = a <= _SERIES_LIMIT
    middle = (a > _SERIES_LIMIT) & (a < _SATURATION)
    if small.any():
        out[small] = _erf_series(v[small])
    if middle.any():
        out[middle] = np.sign(v[middle]) * (1.0 - _erfc_continued_fraction(a[middle]))
    return out.astype(out_dtype, copy=False)


def _numpy_scatter_add(target, indices, values):
    np.add.at(target, indices, values)


register_backend("numpy", np, np.asarray, _numpy_erf, _numpy_scatter_add, np.ndarray)


def _load_cupy():
    """Register the CuPy backend, or raise an error that says which extra to install."""
    try:
        import cupy
        import cupyx
        import cupyx.scipy.special
    except ImportError as error:
        raise ImportError(
            "The 'cupy' backend needs CuPy. Install minibert with the extra that matches your "
            "CUDA version: pip install 'minibert[cuda12]' or 'minibert[cuda13]'. "
            f"(import failed: {error})"
        ) from error
    register_backend("cupy", cupy, cupy.asnumpy, cupyx.scipy.special.erf, cupyx.scatter_add,
                     cupy.ndarray)


def set_backend(name):
    """Choose the array library for everything created from now on: "numpy" or "cupy"."""
    global _ACTIVE
    if name == "cupy" and name not in _REGISTRY:
        _load_cupy()
    if name not in _REGISTRY:
        raise ValueError(f"set_backend: unknown backend {name!r}; expected one of "
                         f"{sorted(set(_REGISTRY) | {'cupy'})}")
    _ACTIVE = _REGISTRY[name]


def get_backend():
    """The name of the active backend."""
    return _ACTIVE.name


def xp():
    """The array module of the active backend (numpy, cupy, ...)."""
    return _ACTIVE.module


def _backend_of(array):
    for backend in _REGISTRY.values():
        if type(array) is backend.array_type or (
                backend.name != "numpy" and isinstance(array, backend.array_type)):
            return backend
    return None


def get_array_module(*arrays):
    """The array module that holds ``arrays``: numpy unless one of them is a device array."""
    for array in arrays:
        backend = _backend_of(array)
        if backend is not None and backend.name != "numpy":
            return backend.module
    return np


def is_array(value):
    """True for an array of any registered backend."""
    return any(isinstance(value, b.array_type) for b in _REGISTRY.values())


def asarray(value, dtype=None):
    """Move ``value`` (array of any backend, list, scalar) to the active backend."""
    backend = _backend_of(value)
    if backend is not None and backend is not _ACTIVE and backend.name != "numpy":
        value = backend.to_numpy(value)
    return _ACTIVE.module.asarray(value, dtype=dtype)


def to_numpy(value):
    """Bring an array of any backend to the host as a numpy.ndarray."""
    backend = _backend_of(value)
    if backend is not None:
        return backend.to_numpy(value)
    return np.asarray(value)


def erf(x):
    """Elementwise error function on an array of any backend."""
    backend = _backend_of(x) or _REGISTRY["numpy"]
    return backend.erf(x)


def scatter_add(target, indices, values):
    """``target[indices] += values`` in place, where repeated indices add up (np.add.at)."""
    backend = _backend_of(target) or _REGISTRY["numpy"]
    backend.scatter_add(target, indices, values)


def default_rng(seed=None):
    """A seeded random generator of the active backend (``numpy.random.Generator`` API)."""
    return _ACTIVE.module.random.default_rng(seed)


def standardize_dtype(dtype):
    """A dtype name ("float32", "bfloat16", ...) or dtype object -> a NumPy dtype object.

    bfloat16 comes from ml_dtypes on NumPy (NumPy has no bfloat16 of its own).
    """
    if isinstance(dtype, str) and dtype == "bfloat16":
        import ml_dtypes
        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(dtype)


set_backend(os.environ.get("MINIBERT_BACKEND", "numpy"))
