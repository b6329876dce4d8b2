"""Fast Adam update: every pass over one cache-sized block at a time, on the thread pool.

The plain twin is ``Adam._update`` in ``minibert/training/optimizers.py`` (read that first);
tests/ops/test_fast_adam.py checks that the two give bit-identical weights and moments.

The plain update is seven whole-array expressions, each making a temporary the size of the
weight: for BERT's token table (94 MB) that is seven fresh arrays, every page of them faulted in
by the kernel, and seven trips through main memory on one core. Here the same operations, in the
same order (so the same roundings), run on blocks of 256K elements with two scratch buffers
per block: the weight, its gradient and the two moments are read from memory once and
written back once, and the blocks are shared out over the cores.
"""
import numpy as np

from minibert.ops.fast import threads

#: Elements per block (1 MB of float32 per array). Measured on BERT's token table (23M
#: elements): 73 ms per update with 64K-element blocks, 59 ms with 128K, 55 ms with 256K; smaller
#: blocks pay NumPy's per-call cost more often.
BLOCK = 262144


def supports(value, grad, *state):
    """True if ``adam_update_fused`` applies: NumPy arrays of one float dtype, the weight and
    the state C-contiguous (they are updated through flat views; a strided gradient is read
    through a flat copy). The plain update handles everything else: other backends,
    half-precision weights."""
    written = (value,) + state
    return (all(isinstance(a, np.ndarray) for a in written + (grad,))
            and all(a.flags.c_contiguous for a in written)
            and len({a.dtype for a in written + (grad,)}) == 1 and value.dtype.kind == "f")


def adam_update_fused(value, grad, m, v, beta_1, beta_2, alpha, epsilon, v_hat=None):
    """One Adam step in place, with the plain update's formulas and order of operations:

        m <- beta_1 m + (1 - beta_1) g
        v <- beta_2 v + (1 - beta_2) g^2
        v_hat <- max(v_hat, v), used in place of v   (amsgrad, when v_hat is given)
        value <- value - (m alpha) / (sqrt(v) + epsilon)

    value, grad, m, v (and v_hat) have one shape and dtype (see ``supports``); grad is only
    read (a strided one through a flat copy). ``alpha`` is the bias-corrected step size
    (``Adam._update``).
    """
    flat = [a.reshape(-1) for a in (value, grad, m, v)]
    flat_hat = None if v_hat is None else v_hat.reshape(-1)
    dtype = value.dtype.type

    def run(start, stop):
        w, g, mb, vb = (a[start:stop] for a in flat)
        t = np.multiply(g, 1.0 - beta_1)                       # (1 - b1) g
        mb *= beta_1
        mb += t
        np.square(g, out=t)
        t *= 1.0 - beta_2                                      # (1 - b2) g^2
        vb *= beta_2
        vb += t
        if flat_hat is not None:
            hb = flat_hat[start:stop]
            np.maximum(hb, vb, out=hb)
            vb = hb
        s = np.sqrt(vb)
        s += dtype(epsilon)
        np.multiply(mb, alpha, out=t)
        t /= s
        w -= t
    threads.parallel_for(np, value.size, BLOCK, run)
