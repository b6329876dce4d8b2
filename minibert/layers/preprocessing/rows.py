"""Reading the token inputs of the preprocessing layers: one sequence or a batch of them."""
import numpy as np


def as_token_rows(inputs, name):
    """(list of token lists, batched) from a 1-D sequence or a batch of them (a list of lists
    or a 2-D array); tokens are ids or strings. ``name`` (say "inputs[0]") starts the message
    of the ValueError raised for anything else."""
    if isinstance(inputs, np.ndarray):
        if inputs.ndim not in (1, 2):
            raise ValueError(f"{name}: expected a sequence of tokens or a batch of them "
                             f"(rank 1 or 2), got an array of shape {inputs.shape}")
        inputs = inputs.tolist()
    if not isinstance(inputs, (list, tuple)):
        raise ValueError(f"{name}: expected a list of tokens or a list of such lists, got "
                         f"{type(inputs).__name__}")
    if inputs and all(isinstance(row, (list, tuple, np.ndarray)) for row in inputs):
        return [list(np.asarray(row).tolist()) if isinstance(row, np.ndarray) else list(row)
                for row in inputs], True
    return [list(inputs)], False
