import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from minibert.ops import (embedding_backward, embedding_forward, reverse_embedding_backward,
                          reverse_embedding_forward)
from ops.checks import LINEAR_EPS, SETTINGS, check_op


@SETTINGS
@given(seed=st.integers(0, 2**31 - 1), batch=st.integers(1, 3), length=st.integers(1, 4),
       vocab=st.integers(2, 9), hidden=st.integers(1, 4))
def test_embedding_gradients_and_unused_rows(seed, batch, length, vocab, hidden):
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, vocab, size=(batch, length))
    table = rng.normal(size=(vocab, hidden))
    analytic = check_op(lambda table: embedding_forward(ids, table),
                        lambda dy, cache: {"table": embedding_backward(dy, cache)},
                        {"table": table}, rng, 1e-7, LINEAR_EPS)
    unused = np.setdiff1d(np.arange(vocab), ids)
    assert (analytic["table"][unused] == 0).all()


def test_embedding_forward_gathers_rows_and_repeated_ids_add_up():
    table = np.arange(12.0).reshape(4, 3)
    ids = np.array([[1, 1, 3], [1, 0, 3]])
    y, cache = embedding_forward(ids, table)
    np.testing.assert_array_equal(y[0, 2], table[3])
    np.testing.assert_array_equal(y[1, 1], table[0])
    dy = np.ones((2, 3, 3))
    dtable = embedding_backward(dy, cache)
    # id 1 appears three times, 3 twice, 0 once, 2 never.
    np.testing.assert_array_equal(dtable, [[1] * 3, [3] * 3, [0] * 3, [2] * 3])


@SETTINGS
@given(seed=st.integers(0, 2**31 - 1), batch=st.integers(1, 3), length=st.integers(1, 3),
       vocab=st.integers(1, 7), hidden=st.integers(1, 4))
def test_reverse_embedding_gradients(seed, batch, length, vocab, hidden):
    rng = np.random.default_rng(seed)
    inputs = {"x": rng.normal(size=(batch, length, hidden)), "table": rng.normal(size=(vocab, hidden))}

    def backward(dlogits, cache):
        dx, dtable = reverse_embedding_backward(dlogits, cache)
        return {"x": dx, "table": dtable}

    check_op(reverse_embedding_forward, backward, inputs, rng, 1e-7, LINEAR_EPS)


def test_reverse_embedding_forward_scores_every_row_and_flags():
    rng = np.random.default_rng(2)
    x, table = rng.normal(size=(2, 3, 4)), rng.normal(size=(6, 4))
    logits, cache = reverse_embedding_forward(x, table)
    assert logits.shape == (2, 3, 6)
    for v in range(6):
        np.testing.assert_allclose(logits[..., v], (x * table[v]).sum(-1), rtol=1e-13, atol=1e-13)
    dlogits = rng.normal(size=logits.shape)
    dx, dtable = reverse_embedding_backward(dlogits, cache, input_grad=False)
    assert dx is None and dtable.shape == (6, 4)
    dx, dtable = reverse_embedding_backward(dlogits, cache, param_grads=False)
    assert dx.shape == x.shape and dtable is None
