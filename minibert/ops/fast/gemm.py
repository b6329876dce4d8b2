"""Matrix products whose rows are shared out over the thread pool, one BLAS thread each.

The plain product is ``minibert.ops.precision.matmul`` (``a @ b``), where BLAS splits the work
over its own threads. Those threads do not sleep when a product ends: they spin, waiting for
the next one, for about a tenth of a second (OpenBLAS's default). The elementwise passes that
follow a product (bias, GELU, softmax, layer norm) run on minibert's pool, on the same cores,
and the spinning threads take half their time. Measured on 2 cores: the fused attention took
13 ms after a product against 7 ms without one.

So the fast paths do their large products themselves: the longer side of the result (the rows
of ``a`` or the columns of ``b``) is cut into one block per pool thread, and each block is one
single-threaded BLAS call (``threads.single_thread_blas``). BLAS's own threads then stay asleep,
and the pool's threads wait on a queue (not spinning) between calls. Each block packs all of the
other operand, so cutting the longer side repeats the smaller packing; the blocks keep 90-100% of
the throughput of one product on every core.

Independent products of one backward step (a dense layer's input and kernel gradients,
dy @ W^T and x^T @ dy, the same number of multiply-adds) do better still side by side
(``matmuls``): each whole product is one single-threaded call on its own core, with nothing
packed twice. Measured on 2 cores, a feed-forward layer's two backward products: 36.8 ms cut in
blocks, 34.2 ms side by side.
"""
import numpy as np

from minibert.ops.fast import threads
from minibert.ops.precision import matmul as plain_matmul

#: Below this many multiply-adds a product is one call: splitting costs more than it gives.
MIN_SPLIT_WORK = 1 << 22


def _splits(xp, a, b):
    """True if a @ b is shared out over the pool (see ``matmul``)."""
    return (a.ndim == 2 and b.ndim == 2 and threads.uses_pool(xp)     # uses_pool: NumPy only
            and threads.can_limit_blas()
            and a.shape[0] * a.shape[1] * b.shape[1] >= MIN_SPLIT_WORK)


def matmul(xp, a, b, out=None):
    """a (M, K) @ b (K, N) -> (M, N) in the common dtype; the longer side shared out over the
    pool for large NumPy products, ``minibert.ops.precision.matmul`` otherwise (other
    backends, batched operands, small products, or a BLAS whose threads cannot be set).

    ``out``: an (M, N) array of that dtype to write into (it may be a column slice of a wider
    array: BLAS writes strided rows directly), returned."""
    if not _splits(xp, a, b):
        if out is None:
            return plain_matmul(xp, a, b)
        return xp.matmul(a, b, out=out)
    m, n = a.shape[0], b.shape[1]
    if out is None:
        out = np.empty((m, n), dtype=np.result_type(a.dtype, b.dtype))      # (M, N)

    def rows(start, stop):
        np.matmul(a[start:stop], b, out=out[start:stop])

    def columns(start, stop):
        np.matmul(a, b[:, start:stop], out=out[:, start:stop])
    # Cut the longer side: each block packs all of the other operand, the smaller one.
    size, run = (m, rows) if m >= n else (n, columns)
    with threads.single_thread_blas():
        threads.parallel_for(xp, size, -(-size // threads.num_threads()), run)
    return out


def matmuls(xp, pairs):
    """[a @ b for (a, b) in pairs], independent products with the same number of multiply-adds.

    Each product is a whole single-threaded BLAS call, side by side on the pool, when the
    products share out evenly (a multiple of the thread count) and each is large enough to be
    shared out alone; otherwise it is one ``matmul`` after the other."""
    workers = threads.num_threads()
    if len(pairs) % workers or not all(_splits(xp, a, b) for a, b in pairs):
        return [matmul(xp, a, b) for a, b in pairs]
    # Allocated here, not in the pool's threads: glibc gives each thread its own arena, and
    # memory freed there is not reused by the next arrays made here.
    products = [np.empty((a.shape[0], b.shape[1]), dtype=np.result_type(a.dtype, b.dtype))
                for a, b in pairs]

    def run(start, stop):
        for i in range(start, stop):
            np.matmul(*pairs[i], out=products[i])
    with threads.single_thread_blas():
        threads.parallel_for(xp, len(pairs), 1, run)
    return products
