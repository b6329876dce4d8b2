"""The fast embedding gradients (minibert.ops.fast.embedding) against the plain ops."""
import numpy as np

from minibert.ops import (embedding_backward, embedding_forward, reverse_embedding_backward,
                          reverse_embedding_forward)
from minibert.ops.fast import embedding_backward_into, reverse_embedding_backward_fast


def test_reverse_embedding_backward_fast_matches_the_plain_op():
    rng = np.random.default_rng(0)
    table, x = rng.normal(size=(50, 8)), rng.normal(size=(3, 4, 8))
    dlogits = rng.normal(size=(3, 4, 50))
    _, cache = reverse_embedding_forward(x, table)
    dx, dtable = reverse_embedding_backward(dlogits, cache)
    dx_fast, dtable_fast = reverse_embedding_backward_fast(dlogits, cache)
    np.testing.assert_allclose(dx_fast, dx, rtol=1e-12)
    np.testing.assert_allclose(dtable_fast, dtable, rtol=1e-12)
    assert dtable_fast.flags.c_contiguous
    assert reverse_embedding_backward_fast(dlogits, cache, param_grads=False)[1] is None


def test_embedding_backward_into_adds_the_lookup_gradient_in_place():
    rng = np.random.default_rng(1)
    table = rng.normal(size=(20, 6))
    ids = np.array([[1, 5, 5], [0, 19, 1]])                 # repeated ids add up
    dy = rng.normal(size=(2, 3, 6))
    _, cache = embedding_forward(ids, table)
    existing = rng.normal(size=(20, 6))
    expected = existing + embedding_backward(dy, cache)
    target = existing.copy()
    assert embedding_backward_into(target, ids, dy) is target
    np.testing.assert_allclose(target, expected, rtol=1e-12)
