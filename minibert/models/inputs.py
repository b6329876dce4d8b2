"""Checks of the integer inputs a backbone takes, with errors that say what was expected."""
import numpy as np

from minibert import backend


def check_backbone_inputs(inputs, keys, vocabulary_size, max_sequence_length, num_segments=None):
    """Validate a backbone's input dict and return it with every array on the active backend.

    Each of ``keys`` must be present and hold a (batch, sequence) integer (or, for
    padding_mask, boolean) array, all of one shape; token ids must be in [0, vocabulary_size),
    segment ids in [0, num_segments), the sequence no longer than max_sequence_length. Checks
    run on the host, where an out-of-range id raises instead of wrapping around.
    """
    if not isinstance(inputs, dict):
        raise ValueError(f"inputs: expected a dict with keys {list(keys)}, got "
                         f"{type(inputs).__name__}")
    missing = [k for k in keys if k not in inputs]
    if missing:
        raise ValueError(f"inputs: missing key(s) {missing}; expected {list(keys)}, got "
                         f"{sorted(inputs)}")
    host = {k: backend.to_numpy(inputs[k]) for k in keys}
    shape = host[keys[0]].shape
    for key, array in host.items():
        if array.ndim != 2:
            raise ValueError(f"{key}: expected a 2-D (batch, sequence) array, got shape "
                             f"{array.shape}")
        if array.shape != shape:
            raise ValueError(f"{key}: expected shape {shape} like {keys[0]}, got {array.shape}")
        if array.dtype.kind not in ("iub" if key == "padding_mask" else "iu"):
            raise ValueError(f"{key}: expected an integer array, got dtype {array.dtype}")
    if shape[1] > max_sequence_length:
        raise ValueError(f"token_ids: sequence length {shape[1]} is longer than "
                         f"max_sequence_length={max_sequence_length}")
    _check_range(host["token_ids"], "token_ids", vocabulary_size)
    if "segment_ids" in host:
        _check_range(host["segment_ids"], "segment_ids", num_segments)
    if "padding_mask" in host:
        _check_range(host["padding_mask"].astype(np.int64), "padding_mask", 2)
    return {k: backend.asarray(inputs[k]) for k in keys}


def _check_range(array, name, upper):
    if array.size and (array.min() < 0 or array.max() >= upper):
        bad = array[(array < 0) | (array >= upper)]
        raise ValueError(f"{name}: every value must be in [0, {upper}); got {bad[:5].tolist()}")
