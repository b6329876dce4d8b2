"""Fast GELU: bias add and activation in one pass per block of rows, and a float32 erf.

The plain twins are ``minibert.ops.activations.gelu_forward`` / ``gelu_backward`` (read those
first); tests/ops/test_fast_activations.py checks that these agree with them.

Differences from the plain op, all for speed or memory:
- the bias of the dense layer before the activation is added here, in place, in the same pass;
- the tanh form is computed as a sigmoid: with u = c (x + a x^3),
  (1 + tanh(u)) / 2 = 1 / (1 + exp(-2u)) = sigma(2u), so y = x / (1 + exp(-2u)) and
  gelu'(x) = sigma + 2u' x sigma (1 - sigma). The same function, rounded differently: NumPy's
  float32 exp is vectorised where its tanh is not everywhere (measured on an AVX2 machine:
  tanh 4.4 ns per value, exp 2.2 ns, a multiply 0.16 ns);
- for the tanh form the cache keeps only the pre-activation z (the plain op also keeps
  tanh(...)); the backward recomputes sigma, block by block while the block is in cache.
  The exact form keeps Phi(z) as the plain op does, since erf is the costly part;
- float32 inputs use ``erf_float32`` below (float64 inputs keep ``backend.erf``).
"""
import math

import numpy as np

from minibert import backend
from minibert.ops.fast import threads

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_CUBIC = 0.044715
#: exp(80) = 5.5e34 is finite in float32; past it the sigmoid's tail is below 1e-34.
_EXP_ARGUMENT_MAX = 80.0

# ------------------------------------------------------------------------------ float32 erf
# erf in float32 arithmetic, for float32 inputs, in two pieces:
#
#   |x| <= 0.921875:      erf(x) = x + x * P(x^2)            P of degree 5 (P(0) = 2/sqrt(pi) - 1)
#   0.921875 < |x| < 4:   erf(x) = sign(x) * (1 - exp(Q(|x|) - x^2))     Q of degree 8
#   |x| >= 4:             erf(x) = sign(x)   (erfc(4) = 1.5e-8 is below half a float32 ulp of 1)
#
# Writing the small piece as x + x * P keeps the rounding of P's Horner steps far below the
# result's ulp; in the large piece Q(t) fits log(erfc(t)) + t^2, a smooth function. The
# coefficients are least-squares fits on Chebyshev nodes of each interval (weighted by 1/erf(x)
# for P), rounded to float32. Measured maximum error against math.erf: 7.7e-8 absolute, 1.3 ulp
# (over 4 million points in [-4.5, 4.5]); tests/ops/test_fast_activations.py asserts <= 1e-7
# absolute and <= 2 ulp. The float32 epsilon is 1.19e-7.
_ERF_SPLIT = np.float32(0.921875)
_ERF_CLIP_HIGH = np.float32(4)
_ERF_P = tuple(np.float32(c) for c in (
    0.12837915122509003, -0.37612491846084595, 0.1128179281949997, -0.026765864342451096,
    0.004992183297872543, -0.0005986210890114307))
_ERF_Q = tuple(np.float32(c) for c in (
    0.00030253425939008594, -1.1301639080047607, 0.36805829405784607, -0.10997398942708969,
    0.026362348347902298, -0.004739406052976847, 0.0005925991572439671,
    -4.5570875954581425e-05, 1.613085714780027e-06))


def _erf_float32_block(xp, x, out):
    """out[...] = erf(x) for a float32 block (any shape); out may not be x.

    erf is odd, so both pieces are evaluated on |x| over the whole block, each element takes
    the small one where |x| <= 0.921875 and the large one elsewhere, and x's sign is put back
    at the end. Past |x| = 4 the large piece, evaluated at 4, gives 1 - erfc(4) = 1 - 1.5e-8,
    which rounds to exactly 1 in float32, so clipping |x| at 4 is all the tail needs.
    """
    t = xp.abs(x)
    xp.clip(t, 0, _ERF_CLIP_HIGH, out=t)                   # |x|, clipped at 4 (NaN stays)
    s = t * t                                              # x^2 (where the small piece is used)
    small = s * _ERF_P[-1]                                 # Horner for P(s)
    small += _ERF_P[-2]
    for c in _ERF_P[-3::-1]:
        small *= s
        small += c
    small *= t
    small += t                                             # |x| + |x| P(x^2)
    large = out                                            # Horner for Q(t), in place
    xp.multiply(t, _ERF_Q[-1], out=large)
    large += _ERF_Q[-2]
    for c in _ERF_Q[-3::-1]:
        large *= t
        large += c
    large -= s
    xp.exp(large, out=large)                               # erfc(|x|)
    xp.subtract(1, large, out=large)                       # 1 - erfc(|x|)
    # Select by arithmetic: a masked copy (np.where, copyto's where=) costs several times a
    # pass on a mask that changes element by element. Multiplying by 1 or 0 and adding a zero
    # leaves the chosen value exactly (the other one is finite, so times 0 it is a zero).
    use_small = t <= _ERF_SPLIT                            # bool
    small *= use_small
    large *= ~use_small
    large += small                                         # erf(|x|), sign bit clear
    # x's sign bit into the result's: two integer passes (copysign is a slow loop in NumPy).
    sign = xp.bitwise_and(x.view(xp.int32), xp.int32(-2 ** 31))
    xp.bitwise_or(out.view(xp.int32), sign, out=out.view(xp.int32))


def erf_float32(x):
    """erf(x) for a float32 array, computed in float32 (error <= 1e-7 absolute, see above).

    Other dtypes go to ``backend.erf`` (float64 keeps its 1e-14 accuracy).
    """
    xp = backend.get_array_module(x)
    if x.dtype != xp.float32:
        return backend.erf(x)
    out = xp.empty_like(x)
    flat_x, flat_out = x.reshape(-1), out.reshape(-1)

    def run(start, stop):
        for a, b in threads.blocks(stop - start, 16384):
            _erf_float32_block(xp, flat_x[start + a:start + b], flat_out[start + a:start + b])
    threads.parallel_for(xp, flat_x.size, 65536, run)
    return out


def _erf_into(xp, x, out):
    """out[...] = erf(x): ``erf_float32``'s formula for float32, ``backend.erf`` otherwise."""
    if x.dtype == xp.float32:
        _erf_float32_block(xp, x, out)
    else:
        out[...] = backend.erf(x)


# ------------------------------------------------------------------------------------- GELU
def gelu_forward_fused(z, bias=None, approximate=False):
    """y = gelu(z + bias) over rows. z (N, F) is a private buffer (a matmul result): the bias is
    added into it in place. bias (F,) or None.

    Returns (y, cache); cache = (z + bias, approximate, Phi(z + bias) for the exact form).
    float32 or float64.
    """
    xp = backend.get_array_module(z)
    n, f = z.shape
    y = xp.empty_like(z)                                   # (N, F)
    cdf = None if approximate else xp.empty_like(z)        # (N, F) Phi, kept for the backward
    dtype = z.dtype.type

    def run(start, stop):
        x = z[start:stop]                                  # (rows, F)
        if bias is not None:
            x += bias
        out = y[start:stop]
        if approximate:                                    # x / (1 + exp(-2u)), see above
            e = x * x
            e *= dtype(-2 * _SQRT_2_OVER_PI * _GELU_CUBIC)
            e += dtype(-2 * _SQRT_2_OVER_PI)
            e *= x                                         # -2u
            with np.errstate(over="ignore"):               # exp -> inf: y -> -0, as it should
                xp.exp(e, out=e)
            e += 1
            xp.divide(x, e, out=out)
        else:                                              # x Phi(x), Phi = (1 + erf(x/sqrt2))/2
            phi = cdf[start:stop]
            _erf_into(xp, x * dtype(_SQRT_HALF), phi)
            phi += 1
            phi *= dtype(0.5)
            xp.multiply(phi, x, out=out)
    threads.parallel_for(xp, n, threads.rows_per_block(f * z.itemsize), run)
    return y, (z, approximate, cdf)


def gelu_backward_fused(dy, cache):
    """dz = dy * gelu'(z). dy (N, F) is a private buffer and is overwritten with dz (returned).

    The slope is recomputed from z and, for the exact form, the stored Phi(z) (see
    ``minibert.ops.activations.gelu_backward`` for the formulas).
    """
    z, approximate, cdf = cache
    xp = backend.get_array_module(dy)
    n, f = dy.shape
    dtype = z.dtype.type

    def run(start, stop):
        x = z[start:stop]
        d = dy[start:stop]
        s = x * x                                          # x^2
        if approximate:
            # slope = sigma + 2u' x sigma (1 - sigma),  sigma = sigma(2u), u' = c (1 + 3 a x^2),
            # with sigma (1 - sigma) = e sigma^2, e = exp(-2u): 1 - sigma would round to 0 for
            # x > 5 in float32, where the term is still 1e-6.
            e = s * dtype(-2 * _SQRT_2_OVER_PI * _GELU_CUBIC)
            e += dtype(-2 * _SQRT_2_OVER_PI)
            e *= x                                         # -2u
            xp.clip(e, np.finfo(dtype).min, _EXP_ARGUMENT_MAX, out=e)   # e finite: not inf * 0
            xp.exp(e, out=e)
            sigma = e + 1
            xp.divide(1, sigma, out=sigma)
            e *= sigma
            e *= sigma                                     # sigma (1 - sigma)
            s *= dtype(6 * _SQRT_2_OVER_PI * _GELU_CUBIC)
            s += dtype(2 * _SQRT_2_OVER_PI)                # 2u'
            s *= x
            s *= e
            s += sigma
        else:
            # slope = Phi(x) + x phi(x)
            s *= dtype(-0.5)
            xp.exp(s, out=s)
            s *= x
            s *= dtype(_INV_SQRT_2PI)                      # x phi(x)
            s += cdf[start:stop]
        d *= s
    threads.parallel_for(xp, n, threads.rows_per_block(f * dy.itemsize), run)
    return dy
