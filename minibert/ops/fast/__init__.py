"""Fast variants of the ops, for the layers to run; the plain ops in ``minibert.ops`` are the ones
to read first, and the reference these are tested against (tests/ops/test_fast_*.py).

Same maths, arranged for a CPU:
- fused passes: a dense layer's bias add goes into the op after it (GELU, add & norm, attention);
  the query, key and value projections write one array, side by side;
- in place on private buffers, and fewer cached arrays (the backward recomputes cheap factors);
- rows cut into blocks that stay in the CPU cache, run on a small thread pool (``threads``).

The layers use these when ``enabled()`` and the compute dtype is float32 or float64; other
policies (float16, bfloat16, mixed) run the plain ops. Turn the fast paths off with
``minibert.ops.fast.set_enabled(False)``, for one block with ``disabled()`` (or
``enabled_as(False)``), or with the environment variable ``MINIBERT_FAST=0`` (to compare, or
to step through the plain code in a debugger).
"""
import contextlib
import os

from minibert.ops.fast.activations import erf_float32, gelu_backward_fused, gelu_forward_fused
from minibert.ops.fast.attention import attention_backward_fused, attention_forward_fused
from minibert.ops.fast.cross_entropy import (softmax_cross_entropy_backward_fast,
                                             softmax_cross_entropy_forward_fast)
from minibert.ops.fast.dropout import draw_keep
from minibert.ops.fast.embedding import embedding_backward_into, reverse_embedding_backward_fast
from minibert.ops.fast.gemm import matmul as pooled_matmul
from minibert.ops.fast.layer_norm import (add_layer_norm_backward, add_layer_norm_forward,
                                          column_sum)
from minibert.ops.precision import matmul as plain_matmul

__all__ = [
    "enabled", "set_enabled", "enabled_as", "disabled", "supports_dtype", "product",
    "erf_float32", "gelu_forward_fused", "gelu_backward_fused", "draw_keep",
    "attention_forward_fused", "attention_backward_fused",
    "softmax_cross_entropy_forward_fast", "softmax_cross_entropy_backward_fast",
    "add_layer_norm_forward", "add_layer_norm_backward", "column_sum",
    "embedding_backward_into", "reverse_embedding_backward_fast",
]

_ENABLED = os.environ.get("MINIBERT_FAST", "1") != "0"


def enabled():
    """True if layers take the fast paths."""
    return _ENABLED


def set_enabled(value):
    """Turn the fast paths on or off for every layer."""
    global _ENABLED
    _ENABLED = bool(value)


@contextlib.contextmanager
def enabled_as(value):
    """Run this block with the fast paths on (True) or off (False), then restore the setting."""
    previous = _ENABLED
    set_enabled(value)
    try:
        yield
    finally:
        set_enabled(previous)


def disabled():
    """Run the plain ops inside this block."""
    return enabled_as(False)


def supports_dtype(dtype):
    """The fast paths compute in float32 or float64."""
    return str(dtype) in ("float32", "float64")


def product(dtype):
    """The matrix product ``product(xp, a, b)`` a layer hands to a plain op computing in
    ``dtype`` (``minibert.ops.dense_forward``): the pooled one (``gemm.matmul``) on the fast
    paths, so that no product leaves BLAS's own threads spinning beside the pool; a @ b
    (``minibert.ops.precision.matmul``) otherwise."""
    return pooled_matmul if enabled() and supports_dtype(dtype) else plain_matmul
