"""A NumPy-backed stand-in for a GPU backend, to prove that code never mixes host and device arrays.

CI has no GPU, so the CuPy path is kept honest by this backend instead. Its arrays
(``DeviceArray``) behave like CuPy's in the ways that catch bugs:

- they are not ``numpy.ndarray``s and refuse implicit conversion: ``numpy.asarray(a)`` raises
  TypeError;
- an operation that mixes them with a host ``numpy.ndarray`` raises TypeError
  (``device + host``, ``xp.where(device_mask, host, 0)``, indexing with a host array, ...);
- the module's functions (``xp.zeros``, ``xp.matmul``, ...) reject host arrays, except the
  explicit transfers ``xp.asarray`` / ``xp.array``; ``xp.asnumpy`` brings an array back;
- reductions return 0-d device arrays, not NumPy scalars.

Python and NumPy scalars mix freely with device arrays, as they do in CuPy. Use it with

    from minibert.testing import device
    device.register()                      # once; then
    minibert.set_backend(device.NAME)
"""
import numpy as np

from minibert import backend

NAME = "device_test"

_TRANSFERS = {"asarray", "array", "ascontiguousarray"}


def _to_host(value, operation):
    """Unwrap device arrays (recursively in tuples, lists and dicts); refuse host arrays."""
    if isinstance(value, DeviceArray):
        return value._data
    if isinstance(value, np.ndarray):
        raise TypeError(f"{operation}: got a host numpy.ndarray of shape {value.shape} among "
                        "device arrays; move it with minibert.backend.asarray first.")
    if isinstance(value, (tuple, list)):
        return type(value)(_to_host(v, operation) for v in value)
    if isinstance(value, dict):
        return {k: _to_host(v, operation) for k, v in value.items()}
    return value


def _to_device(value):
    """Wrap ndarray results and NumPy scalars (recursively in tuples and lists)."""
    if isinstance(value, (np.ndarray, np.generic)) and not isinstance(value, DeviceArray):
        return DeviceArray(np.asarray(value))
    if isinstance(value, (tuple, list)):
        return type(value)(_to_device(v) for v in value)
    return value


def _device_call(function, name):
    """``function`` with device arrays unwrapped on the way in and wrapped on the way out."""
    def call(*args, **kwargs):
        return _to_device(function(*_to_host(args, name), **_to_host(kwargs, name)))
    return call


class DeviceArray:
    """A device-like array holding a NumPy array ``_data`` (see the module docstring)."""

    __slots__ = ("_data",)

    def __init__(self, data):
        self._data = data

    def __getattr__(self, name):
        if name.startswith("__"):              # no __array_interface__ & co: no silent export
            raise AttributeError(name)
        attribute = getattr(self._data, name)
        return _device_call(attribute, f"array.{name}") if callable(attribute) \
            else _to_device(attribute)

    def __array__(self, dtype=None, copy=None):
        raise TypeError("Implicit conversion to a NumPy array is not allowed for a device array; "
                        "use minibert.backend.to_numpy(array).")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return _device_call(getattr(ufunc, method), f"numpy.{ufunc.__name__}")(*inputs, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return _device_call(func, f"numpy.{func.__name__}")(*args, **kwargs)

    def __getitem__(self, key):
        return _to_device(self._data[_to_host(key, "indexing")])

    def __setitem__(self, key, value):
        self._data[_to_host(key, "indexing")] = _to_host(value, "assignment")

    def __len__(self):
        return len(self._data)

    def __bool__(self):
        return bool(self._data)

    def __float__(self):
        return float(self._data)

    def __int__(self):
        return int(self._data)

    def __repr__(self):
        return f"DeviceArray({self._data!r})"


def _add_operators():
    """Arithmetic and comparison operators through NumPy's ufuncs, with the mixing rules."""
    binary = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "truediv": np.true_divide,
              "floordiv": np.floor_divide, "mod": np.remainder, "pow": np.power,
              "matmul": np.matmul, "and": np.logical_and, "or": np.logical_or}
    for name, ufunc in binary.items():
        setattr(DeviceArray, f"__{name}__",
                lambda self, other, u=ufunc: _device_call(u, f"numpy.{u.__name__}")(self, other))
        setattr(DeviceArray, f"__r{name}__",
                lambda self, other, u=ufunc: _device_call(u, f"numpy.{u.__name__}")(other, self))
        setattr(DeviceArray, f"__i{name}__",
                lambda self, other, u=ufunc: _inplace(u, self, other))
    comparisons = {"lt": np.less, "le": np.less_equal, "gt": np.greater,
                   "ge": np.greater_equal, "eq": np.equal, "ne": np.not_equal}
    for name, ufunc in comparisons.items():
        setattr(DeviceArray, f"__{name}__",
                lambda self, other, u=ufunc: _device_call(u, f"numpy.{u.__name__}")(self, other))
    DeviceArray.__neg__ = lambda self: DeviceArray(-self._data)
    DeviceArray.__invert__ = lambda self: DeviceArray(~self._data)
    DeviceArray.__abs__ = lambda self: DeviceArray(np.abs(self._data))
    DeviceArray.__hash__ = None


def _inplace(ufunc, array, other):
    ufunc(array._data, _to_host(other, f"numpy.{ufunc.__name__}"), out=array._data)
    return array


_add_operators()


class _Generator:
    """numpy.random.Generator whose draws are device arrays."""

    def __init__(self, seed):
        self._generator = np.random.default_rng(seed)

    def __getattr__(self, name):
        return _device_call(getattr(self._generator, name), f"random.{name}")


class _Random:
    @staticmethod
    def default_rng(seed=None):
        return _Generator(seed)


class _Module:
    """The array module of the test backend: NumPy's namespace with device semantics."""

    random = _Random()

    def __getattr__(self, name):
        attribute = getattr(np, name)
        if isinstance(attribute, type) or not callable(attribute):
            return attribute                          # dtypes, classes, constants
        if name in _TRANSFERS:
            return lambda value, *args, **kwargs: _transfer(attribute, value, *args, **kwargs)
        return _device_call(attribute, f"xp.{name}")

    @staticmethod
    def asnumpy(value):
        return to_numpy(value)


def _transfer(function, value, *args, **kwargs):
    """xp.asarray / xp.array / xp.ascontiguousarray: a host value is copied to the "device"
    (as a real transfer would), a device array is handled by ``function`` itself."""
    if isinstance(value, DeviceArray):
        return _to_device(function(value._data, *args, **kwargs))
    return DeviceArray(np.array(value, *args, **kwargs))


def to_numpy(value):
    """Device -> host copy."""
    return np.array(value._data) if isinstance(value, DeviceArray) else np.asarray(value)


def _erf(x):
    return DeviceArray(backend.erf(x._data))


def _scatter_add(target, indices, values):
    np.add.at(target._data, _to_host(indices, "scatter_add"), _to_host(values, "scatter_add"))


def register():
    """Make ``set_backend("device_test")`` available."""
    backend.register_backend(NAME, _Module(), to_numpy, _erf, _scatter_add, DeviceArray)
