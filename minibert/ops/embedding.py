"""Embedding lookup (a row gather) and the tied reverse projection (logits = x @ table.T).

Derivation: docs/ops/embedding.md. Gradient check: tests/ops/test_embedding.py.
"""
from minibert import backend
from minibert.ops.dense import dense_backward, dense_forward
from minibert.ops.precision import matmul


def embedding_forward(ids, table):
    """Look up one row of ``table`` per id.

    ids (...) integer in [0, V), table (V, H)  ->  y (..., H),   y[..., :] = table[ids[...], :]

    Returns (y, cache). Ids are not range-checked here (the layer checks them on the host).
    """
    xp = backend.get_array_module(ids, table)
    y = xp.take(table, ids, axis=0)                        # (..., H)
    cache = (ids, table.shape, table.dtype)
    return y, cache


def embedding_backward(dy, cache):
    """Gradient of embedding_forward with respect to the table.

    dy (..., H)  ->  dtable (V, H),   dtable[v] = sum of dy[p] over the positions p with ids[p] == v

    Repeated ids add up (scatter-add); rows that were never looked up stay exactly zero.
    """
    ids, table_shape, table_dtype = cache
    xp = backend.get_array_module(dy)
    dtable = xp.zeros(table_shape, dtype=table_dtype)      # (V, H)
    backend.scatter_add(dtable, ids.reshape(-1),
                        dy.reshape(-1, table_shape[1]))    # (N,) ids, (N, H) rows
    return dtable


def reverse_embedding_forward(x, table, product=matmul):
    """Tied output projection: score every vocabulary row against x.

    x (..., H), table (V, H)  ->  logits (..., V) = x @ table.T

    This is dense_forward with kernel = table.T (a transposed view, no copy), and the same
    ``product``. Returns (logits, cache).
    """
    return dense_forward(x, table.T, product=product)      # (..., V)


def reverse_embedding_backward(dlogits, cache, input_grad=True, param_grads=True):
    """Gradients of reverse_embedding_forward.

    dlogits (..., V)  ->  dx (..., H) = dlogits @ table,  dtable (V, H) = dlogits.T @ x

    dtable is the transpose of the dense kernel gradient (a view). A tied table receives this
    gradient and the lookup's gradient; the caller adds both. Skipped slots are None.
    """
    dx, dkernel, _ = dense_backward(dlogits, cache, input_grad, param_grads)
    dtable = None if dkernel is None else dkernel.T        # (V, H)
    return dx, dtable
