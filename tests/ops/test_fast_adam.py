"""The fast Adam update (minibert.ops.fast.adam) against the plain ``Adam._update``: the same
operations in the same order, so the weights and moments must be bit-identical."""
import numpy as np
import pytest

from minibert.ops import fast
from minibert.ops.fast import adam as fast_adam
from minibert.training.optimizers import Adam, AdamW
from training.helpers import Holder


def _run(optimizer_factory, dtype, use_fast, steps=4):
    """Weights and optimizer state after ``steps`` updates of three variables: one larger than
    a block and not a multiple of it (so the last block is short), a small one, and one whose
    gradients are strided views (as the fused attention's query/key/value kernel gradients)."""
    rng = np.random.default_rng(0)
    shapes = [(3 * fast_adam.BLOCK // 100 + 7, 100), (33,), (50, 6)]
    variables = Holder({f"w{i}": rng.normal(size=shape) for i, shape in enumerate(shapes)},
                       dtype=dtype).variables
    optimizer = optimizer_factory()
    grads = [[rng.normal(size=shapes[0]).astype(dtype), rng.normal(size=shapes[1]).astype(dtype),
              rng.normal(size=(50, 12)).astype(dtype)[:, ::2]] for _ in range(steps)]
    with fast.enabled_as(use_fast):
        for step_grads in grads:
            optimizer.apply(step_grads, variables)
    return [v.value for v in variables], optimizer.variables, grads


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("factory", [
    lambda: Adam(1e-3),
    lambda: Adam(3e-2, beta_1=0.8, beta_2=0.95, epsilon=1e-6, amsgrad=True),
    lambda: AdamW(1e-2, weight_decay=0.1),
], ids=["adam", "amsgrad", "adamw"])
def test_fast_adam_is_bit_identical_to_the_plain_update(factory, dtype):
    values, state, grads = _run(factory, dtype, use_fast=True)
    plain_values, plain_state, plain_grads = _run(factory, dtype, use_fast=False)
    for ours, theirs in zip(values + state, plain_values + plain_state):
        assert ours.dtype == theirs.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(ours, theirs)
    for ours, theirs in zip(grads[-1], plain_grads[-1]):     # gradients are only read
        np.testing.assert_array_equal(ours, theirs)


def test_the_fast_update_is_taken_only_where_it_applies():
    value = np.zeros((4, 5), np.float32)
    assert fast_adam.supports(value, value.copy(), value.copy(), value.copy())
    strided = np.zeros((4, 10), np.float32)[:, ::2]                    # a column slice
    assert fast_adam.supports(value, strided, value.copy(), value.copy())   # grads only read
    assert not fast_adam.supports(strided, value.copy(), value.copy(), value.copy())
    assert not fast_adam.supports(value, value.copy(), strided, value.copy())
    assert not fast_adam.supports(value, value.astype(np.float64), value.copy(), value.copy())
