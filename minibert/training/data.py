"""Host-side data handling for ``fit``/``evaluate``/``predict``: batching, shuffling, splitting.

Everything here works on NumPy arrays (and Python strings) on the host; the trainer moves each
finished batch to the backend. Two kinds of input:

* in-memory data: ``x`` (an array, a list of strings, or a dict/tuple of them), ``y`` and
  ``sample_weight`` sliced together into batches of ``batch_size`` (default 32), the last one
  possibly smaller; with ``shuffle`` a fresh permutation drawn from ``minibert.utils.host_rng()``
  for every pass over the data;
* an iterable of ready batches (a generator, a ``tf.data.Dataset``, a list-free iterable...),
  each batch ``x``, ``(x, y)`` or ``(x, y, sample_weight)``. A generator is consumed across
  epochs; a re-iterable object is iterated afresh each epoch.

``steps_per_epoch`` follows Keras's ``EpochIterator``: the epochs draw consecutive batches from
one pass over the data and a new pass starts only when the old one is used up; an epoch that
hits the end of a pass stops there with a warning.

Structures follow ``tf.data.Dataset.from_tensor_slices``: dicts and tuples are structure, a
list is one leaf (a list of strings is one column of text).
"""
import math
import warnings

import numpy as np

from minibert import backend, utils

__all__ = ["unpack_x_y_sample_weight", "contains_strings", "strings_to_python", "to_host",
           "map_leaves", "leaves", "num_samples", "train_validation_split", "is_batch_iterable",
           "EpochIterator"]


def map_leaves(structure, fn):
    """Apply ``fn`` to every leaf; dicts and tuples are structure, None stays None."""
    if structure is None:
        return None
    if isinstance(structure, dict):
        return {key: map_leaves(value, fn) for key, value in structure.items()}
    if isinstance(structure, tuple):
        return tuple(map_leaves(value, fn) for value in structure)
    return fn(structure)


def leaves(structure):
    """The leaves of a structure, in order (dicts and tuples are structure)."""
    if structure is None:
        return []
    if isinstance(structure, dict):
        return [leaf for value in structure.values() for leaf in leaves(value)]
    if isinstance(structure, tuple):
        return [leaf for value in structure for leaf in leaves(value)]
    return [structure]


def unpack_x_y_sample_weight(data):
    """A batch ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)`` -> (x, y, sample_weight)."""
    if isinstance(data, tuple) and 1 <= len(data) <= 3:
        return tuple(data) + (None,) * (3 - len(data))
    return data, None, None


def _is_string_leaf(leaf):
    if isinstance(leaf, (str, bytes)):
        return True
    if isinstance(leaf, np.ndarray):
        return leaf.dtype.kind in "USO" and leaf.size > 0 and (
            leaf.dtype.kind != "O" or isinstance(leaf.flat[0], (str, bytes)))
    if isinstance(leaf, list):
        return bool(leaf) and _is_string_leaf(leaf[0])
    return "string" in str(getattr(leaf, "dtype", ""))


def contains_strings(structure):
    """True if any leaf is text (str/bytes, a string array, a list of strings, a tf string)."""
    return any(_is_string_leaf(leaf) for leaf in leaves(structure))


def _leaf_to_host(leaf):
    if isinstance(leaf, np.ndarray):
        return leaf
    if backend.is_array(leaf):
        return backend.to_numpy(leaf)
    if hasattr(leaf, "numpy") and not isinstance(leaf, (list, str, bytes)):
        leaf = leaf.numpy()                                   # tf / torch tensors
    return np.asarray(leaf)


def to_host(structure):
    """Every leaf as a NumPy array (lists, tensors of other libraries and device arrays too)."""
    return map_leaves(structure, _leaf_to_host)


def strings_to_python(structure):
    """String arrays -> lists of Python ``str`` (bytes decoded as UTF-8), for preprocessors."""
    def convert(leaf):
        if isinstance(leaf, bytes):
            return leaf.decode("utf-8")
        if isinstance(leaf, np.ndarray) and _is_string_leaf(leaf):
            return [convert(v) for v in leaf.tolist()] if leaf.ndim else convert(leaf.item())
        if isinstance(leaf, list):
            return [convert(v) for v in leaf]
        return leaf
    return map_leaves(structure, convert)


def num_samples(*structures):
    """The common first-axis length of every leaf; ValueError if they differ or are scalars."""
    lengths = {}
    for name, structure in zip(("x", "y", "sample_weight"), structures):
        for leaf in leaves(structure):
            if np.ndim(leaf) == 0:
                raise ValueError(f"{name}: every array needs a batch axis; got a scalar "
                                 f"{leaf!r}")
            lengths.setdefault(len(leaf), name)
    if len(lengths) > 1:
        raise ValueError("x, y and sample_weight must have the same number of samples; got "
                         + ", ".join(f"{n} ({name})" for n, name in lengths.items()))
    if not lengths:
        raise ValueError("x: no data given")
    return next(iter(lengths))


def _take(structure, indices):
    return map_leaves(structure, lambda leaf: leaf[indices])


def train_validation_split(arrays, validation_split):
    """Split in-memory (x, y, sample_weight) into the first and last fractions (no shuffle,
    as Keras): the last ``validation_split`` of the samples are the validation set."""
    n = num_samples(*arrays)
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(f"validation_split={validation_split} leaves an empty training or "
                         f"validation set with {n} samples")
    return (tuple(_take(a, slice(0, split_at)) for a in arrays),
            tuple(_take(a, slice(split_at, n)) for a in arrays))


def is_batch_iterable(x):
    """True for an iterable of ready batches (not an array, a dict, a tuple, a list or text)."""
    if x is None or isinstance(x, (dict, tuple, list, str, bytes, np.ndarray)):
        return False
    if backend.is_array(x) or hasattr(x, "__array__") or hasattr(x, "shape"):
        return False
    return hasattr(x, "__iter__") or hasattr(x, "__next__")


class EpochIterator:
    """Yields ``(step, (x, y, sample_weight))`` host batches, one epoch per ``epoch()`` call."""

    def __init__(self, x, y=None, sample_weight=None, batch_size=None, steps_per_epoch=None,
                 shuffle=False):
        self.steps_per_epoch = steps_per_epoch
        self._iterator = None          # the pass in progress
        self._seen = 0                 # batches taken from it
        if is_batch_iterable(x):
            if y is not None or sample_weight is not None:
                raise ValueError("y and sample_weight must be None when x is an iterable of "
                                 "batches: put them in the batches as (x, y, sample_weight)")
            if batch_size is not None:
                raise ValueError("batch_size must be None when x is an iterable of batches "
                                 "(its batches are already made)")
            self._source = x
            self._arrays = None
            self.num_batches_per_pass = len(x) if hasattr(x, "__len__") else None
        else:
            self._arrays = tuple(to_host(a) for a in (x, y, sample_weight))
            self._num_samples = num_samples(*self._arrays)
            self._batch_size = int(batch_size or 32)
            self._shuffle = shuffle
            self.num_batches_per_pass = math.ceil(self._num_samples / self._batch_size)

    @property
    def num_batches(self):
        """Batches per epoch, or None when unknown (a generator without steps_per_epoch)."""
        return self.steps_per_epoch or self.num_batches_per_pass

    def _new_pass(self):
        if self._arrays is None:
            # A generator is one stream shared by every epoch; other iterables start afresh.
            return self._source if hasattr(self._source, "__next__") else iter(self._source)
        order = (utils.host_rng().permutation(self._num_samples) if self._shuffle
                 else np.arange(self._num_samples))
        return (tuple(_take(a, order[start:start + self._batch_size]) for a in self._arrays)
                for start in range(0, self._num_samples, self._batch_size))

    def epoch(self):
        """One epoch of (step, batch) pairs."""
        if self._iterator is None or self.steps_per_epoch is None:
            self._iterator, self._seen = self._new_pass(), 0
        limit = self.num_batches                    # None: until the data runs out
        step = 0
        while limit is None or step < limit:
            if self.num_batches_per_pass and self._seen >= self.num_batches_per_pass:
                self._out_of_data()                 # only with steps_per_epoch set
                return
            try:
                batch = next(self._iterator)
            except StopIteration:
                if self.steps_per_epoch is not None:
                    self._out_of_data()
                self._iterator = None
                return
            self._seen += 1
            yield step, tuple(to_host(part) for part in unpack_x_y_sample_weight(batch))
            step += 1
        if self.num_batches_per_pass and self._seen >= self.num_batches_per_pass:
            self._iterator = None                   # the next epoch starts a new pass

    def _out_of_data(self):
        warnings.warn("Your input ran out of data; this epoch stops early. Make sure the data "
                      "can give at least steps_per_epoch * epochs batches.", stacklevel=3)
        self._iterator = None
