"""Fast embedding gradients: no (V, H) temporaries.

The plain twins are ``minibert.ops.embedding.embedding_backward`` and
``reverse_embedding_backward``; tests/ops/test_fast_embedding.py checks that they agree.

A token table is large (30522 x 768 floats is 94 MB for BERT base) and, tied to a masked-LM
head, collects two gradients per step. The plain ops build each as a fresh (V, H) array, and the
reverse projection's is a transposed (strided) view, so adding the two reads memory in the wrong
order. Here the projection's gradient is computed directly in (V, H) order, and the lookup's
gradient is scatter-added into it in place.
"""
from minibert import backend
from minibert.ops.fast.gemm import matmuls


def embedding_backward_into(dtable, ids, dy):
    """dtable[ids[p]] += dy[p] for every position p, in place (repeated ids add up).

    dtable (V, H) an existing gradient, ids (...) integer, dy (..., H). Returns dtable.
    """
    backend.scatter_add(dtable, ids.reshape(-1), dy.reshape(-1, dtable.shape[1]))
    return dtable


def reverse_embedding_backward_fast(dlogits, cache, input_grad=True, param_grads=True):
    """Gradients of ``reverse_embedding_forward``: dx = dlogits @ table (..., H) and
    dtable = dlogits^T @ x (V, H), a contiguous array, the two products side by side on the
    pool. Skipped slots are None."""
    x2, kernel, x_shape, _, _ = cache                      # kernel = table.T (H, V), a view
    xp = backend.get_array_module(dlogits, kernel)
    dlogits2 = dlogits.reshape(-1, kernel.shape[1])        # (N, V)
    pairs = ([(dlogits2, kernel.T)] if input_grad else [])     # (N, V) @ (V, H)
    pairs += [(dlogits2.T, x2)] if param_grads else []         # (V, N) @ (N, H)
    products = iter(matmuls(xp, pairs))                        # side by side
    dx = next(products).reshape(x_shape) if input_grad else None   # (..., H)
    dtable = next(products) if param_grads else None               # (V, H)
    return dx, dtable
