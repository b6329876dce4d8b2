"""The pooled product (minibert.ops.fast.gemm.matmul) against the plain one."""
import numpy as np
import pytest

from minibert.ops.fast import gemm, threads
from minibert.ops.precision import matmul


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(300, 70, 260), (70, 300, 500), (257, 129, 257)],
                         ids=["rows longer", "columns longer", "odd sizes"])
def test_pooled_product_matches_the_plain_one(shape, dtype, monkeypatch):
    monkeypatch.setattr(gemm, "MIN_SPLIT_WORK", 1)             # split even these small ones
    monkeypatch.setattr(threads, "num_threads", lambda: 2)     # two blocks, on any machine
    if not threads.can_limit_blas():
        pytest.skip("this BLAS cannot be set to one thread: products are never split")
    split = []
    parallel_for = threads.parallel_for
    monkeypatch.setattr(threads, "parallel_for",
                        lambda *args: split.append(args[1]) or parallel_for(*args))
    m, k, n = shape
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((n, k)).astype(dtype).T            # a transposed operand, as dx
    ours = gemm.matmul(np, a, b)
    assert split == [max(m, n)]                                 # the longer side was cut
    assert ours.dtype == np.dtype(dtype) and ours.shape == (m, n) and ours.flags.c_contiguous
    rtol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(ours, matmul(np, a, b), rtol=rtol, atol=rtol * np.sqrt(k))


def test_small_or_batched_products_take_the_plain_path(monkeypatch):
    calls = []
    monkeypatch.setattr(threads, "parallel_for", lambda *args: calls.append(args))
    rng = np.random.default_rng(1)
    small = rng.standard_normal((4, 5)), rng.standard_normal((5, 6))
    batched = rng.standard_normal((2, 64, 64)), rng.standard_normal((2, 64, 64))
    for a, b in (small, batched):
        np.testing.assert_allclose(gemm.matmul(np, a, b), a @ b, rtol=1e-12)
    assert calls == []


@pytest.mark.parametrize("split", [True, False], ids=["pooled", "plain"])
def test_the_product_writes_into_a_column_slice(split, monkeypatch):
    """out= a column block of a wider array, as the fused attention's [x Wq | x Wk | x Wv]:
    those columns get the product, the others stay untouched."""
    monkeypatch.setattr(gemm, "MIN_SPLIT_WORK", 1 if split else 1 << 60)
    monkeypatch.setattr(threads, "num_threads", lambda: 2)
    rng = np.random.default_rng(2)
    a = rng.standard_normal((90, 40)).astype("float32")
    b = rng.standard_normal((40, 30)).astype("float32")
    wide = np.full((90, 3 * 30), 7.0, dtype="float32")
    result = gemm.matmul(np, a, b, out=wide[:, 30:60])
    assert np.shares_memory(result, wide)
    np.testing.assert_allclose(wide[:, 30:60], a @ b, rtol=1e-5, atol=1e-5)
    assert (wide[:, :30] == 7.0).all() and (wide[:, 60:] == 7.0).all()


@pytest.mark.parametrize("count", [2, 3, 4])
def test_independent_products_run_side_by_side_when_they_share_out_evenly(count, monkeypatch):
    """gemm.matmuls: with two threads, 2 or 4 products go to the pool whole (one parallel_for
    over the products); 3 would leave a thread idle, so each is cut in blocks instead."""
    monkeypatch.setattr(gemm, "MIN_SPLIT_WORK", 1)
    monkeypatch.setattr(threads, "num_threads", lambda: 2)
    if not threads.can_limit_blas():
        pytest.skip("this BLAS cannot be set to one thread: products are never split")
    calls = []
    parallel_for = threads.parallel_for
    monkeypatch.setattr(threads, "parallel_for",
                        lambda *args: calls.append(args[1]) or parallel_for(*args))
    rng = np.random.default_rng(4)
    dy = rng.standard_normal((120, 50)).astype("float32")
    x = rng.standard_normal((120, 40)).astype("float32")
    kernel = rng.standard_normal((40, 50)).astype("float32")
    pairs = [(dy, kernel.T), (x.T, dy), (dy, kernel.T), (x.T, dy)][:count]
    products = gemm.matmuls(np, pairs)
    for (a, b), product in zip(pairs, products):
        assert product.dtype == np.float32 and product.flags.c_contiguous
        np.testing.assert_allclose(product, a @ b, rtol=1e-5, atol=1e-5)
    assert calls == ([count] if count % 2 == 0 else [120, 50, 120])
