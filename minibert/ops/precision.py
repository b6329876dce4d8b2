"""Dtype rules shared by the ops.

Two facts drive them:
- Reductions that lose digits in half precision (softmax, layer norm, cross-entropy) run in
  float32 at least (``accumulation_dtype``).
- NumPy (through ml_dtypes) returns float32 from a bfloat16 matmul, and promotes bfloat16 to
  float32 when it meets a Python float; results are cast back so an op's output dtype is its
  input dtype (``matmul``; elementwise ops cast with ``astype(..., copy=False)``, a no-op for
  float16/32/64).
"""


def accumulation_dtype(xp, dtype):
    """float64 stays float64; everything else (float32, float16, bfloat16) computes in float32.

    Half-precision formats have 10 (float16) or 7 (bfloat16) mantissa bits: a sum over a few
    hundred terms or an exp of a difference of logits would lose most of its digits there.
    """
    return xp.dtype(xp.float64) if dtype == xp.float64 else xp.dtype(xp.float32)


def matmul(xp, a, b):
    """a @ b (batched over leading axes) in the common dtype of a and b."""
    return xp.matmul(a, b).astype(xp.result_type(a.dtype, b.dtype), copy=False)
