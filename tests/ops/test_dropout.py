import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minibert.ops import dropout_backward, dropout_forward
from ops.checks import LINEAR_EPS, SETTINGS, check_op


@SETTINGS
@given(seed=st.integers(0, 2**31 - 1), shape=st.lists(st.integers(1, 5), min_size=1, max_size=3),
       rate=st.floats(0.05, 0.9))
def test_dropout_gradients(seed, shape, rate):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape)
    # A fresh generator with the same seed on every call: the same mask each time.
    analytic = check_op(lambda x: dropout_forward(x, rate, np.random.default_rng(seed)),
                        lambda dy, cache: {"x": dropout_backward(dy, cache)}, {"x": x}, rng, 1e-7,
                        LINEAR_EPS)
    y, _ = dropout_forward(x, rate, np.random.default_rng(seed))
    assert (analytic["x"][y == 0] == 0).all()


def test_same_seed_gives_same_mask():
    x = np.ones((8, 16))
    y1, _ = dropout_forward(x, 0.3, np.random.default_rng(7))
    y2, _ = dropout_forward(x, 0.3, np.random.default_rng(7))
    y3, _ = dropout_forward(x, 0.3, np.random.default_rng(8))
    np.testing.assert_array_equal(y1, y2)
    assert (y1 != y3).any()


def test_dropout_mask_follows_the_generator():
    x = np.ones((4, 5))
    y, _ = dropout_forward(x, 0.4, np.random.default_rng(3))
    keep = np.random.default_rng(3).random((4, 5)) >= 0.4
    np.testing.assert_array_equal(y, np.where(keep, 1 / 0.6, 0.0))


@pytest.mark.parametrize("rate, rng", [(0.0, np.random.default_rng(0)), (0.5, None)])
def test_rate_zero_or_no_rng_is_identity(rate, rng):
    x = np.random.default_rng(1).normal(size=(3, 4))
    y, cache = dropout_forward(x, rate, rng)
    assert y is x
    dy = np.ones_like(x)
    assert dropout_backward(dy, cache) is dy


def test_dropout_is_unbiased():
    """E[y] = x. Each y is x * keep / (1 - p), so its standard deviation is |x| sqrt(p / (1 - p));
    the mean of N independent draws lies within 5 standard errors of x except with
    probability < 1e-6 per element (fixed seed: the outcome is deterministic)."""
    rate, draws = 0.3, 20000
    x = np.random.default_rng(2).normal(size=40)
    y, _ = dropout_forward(np.broadcast_to(x, (draws, 40)), rate, np.random.default_rng(3))
    standard_error = np.abs(x) * np.sqrt(rate / (1 - rate) / draws)
    assert (np.abs(y.mean(axis=0) - x) <= 5 * standard_error).all()
    kept = (y != 0).mean()
    assert abs(kept - (1 - rate)) <= 5 * np.sqrt(rate * (1 - rate) / y.size)


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5])
def test_invalid_rate_is_rejected(rate):
    with pytest.raises(ValueError, match="rate"):
        dropout_forward(np.ones(3), rate, np.random.default_rng(0))
