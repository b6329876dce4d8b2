"""Op-level timings: each fast op (minibert.ops.fast) against its plain twin, on BERT-base shapes.

    python benchmarks/micro.py [--repeats 15]

Plain and fast calls alternate, so a change of load hits both; each line gives the median and
the minimum over the repeats, in milliseconds, and the ratio of the medians. Shapes are those of
one BERT-base layer at batch 8 x 128 (N = 1024 rows, H = 768, I = 3072, 12 heads of 64).

A plain op that calls BLAS on several threads (the attention's batched products) leaves those
threads spinning for about 0.1 s, which slows the fast call after it, so the attention's ratios
here understate its gain; the model-level numbers of ``benchmarks/run.py`` are the ones that
count.
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from minibert import backend  # noqa: E402
from minibert.ops import (attention_backward, attention_forward, gelu_backward,  # noqa: E402
                          gelu_forward, layer_norm_backward, layer_norm_forward,
                          softmax_cross_entropy_backward, softmax_cross_entropy_forward)
from minibert.layers.layer import Layer  # noqa: E402
from minibert.ops import fast  # noqa: E402
from minibert.training.optimizers import Adam  # noqa: E402


def _erf_series(x):
    """backend.erf as it was for every dtype: the float64 series, cast back."""
    return backend._numpy_erf(x.astype(np.float64)).astype(x.dtype)


def _adam_step(optimizer, variable, grad, use_fast):
    """One Adam update of ``variable``, on the plain code or the fast one."""
    with fast.enabled_as(use_fast):
        optimizer.apply([grad], [variable])


def cases():
    rng = np.random.default_rng(0)
    n, h, inter, heads, dim = 1024, 768, 3072, 12, 64
    z = rng.normal(size=(n, inter)).astype(np.float32)
    b_inter = rng.normal(size=inter).astype(np.float32)
    dz = rng.normal(size=(n, inter)).astype(np.float32)
    x, a, dy = (rng.normal(size=(n, h)).astype(np.float32) for _ in range(3))
    gamma, beta, b_h = (rng.normal(size=h).astype(np.float32) for _ in range(3))
    qkv = rng.normal(size=(8, 128, 3, heads, dim)).astype(np.float32)
    b_qkv = rng.normal(size=(3, heads, dim)).astype(np.float32)
    mask = np.ones((8, 128), "int32")
    mask[1:, 100:] = 0
    q, k, v = (qkv[:, :, i] + b_qkv[i] for i in range(3))
    dout = rng.normal(size=(8, 128, heads, dim)).astype(np.float32)

    _, gelu_cache = gelu_forward(z + b_inter, True)
    _, fast_gelu_cache = fast.gelu_forward_fused(z.copy(), b_inter, True)
    _, exact_cache = gelu_forward(z + b_inter, False)
    _, fast_exact_cache = fast.gelu_forward_fused(z.copy(), b_inter, False)
    _, ln_cache = layer_norm_forward(x + (a + b_h), gamma, beta, 1e-12)
    _, fast_ln_cache = fast.add_layer_norm_forward(x, a, b_h, gamma, beta, 1e-12)
    _, att_cache = attention_forward(q, k, v, mask)
    _, fast_att_cache = fast.attention_forward_fused(qkv.copy(), b_qkv, mask)
    logits = rng.normal(size=(32, 20, 30522)).astype(np.float32)   # bert_tiny's masked LM
    labels = rng.integers(0, 30522, (32, 20))
    # "sum": d loss / d ce = 1, so the fast backward, which rewrites its cache in place at every
    # call, keeps subtracting 1 at the labels and never drifts into denormal numbers.
    _, ce_cache = softmax_cross_entropy_forward(logits, labels, reduction="sum")
    _, fast_ce_cache = fast.softmax_cross_entropy_forward_fast(logits, labels, reduction="sum")
    table = Layer(name="token_embedding").add_weight("embeddings", (30522, h), "ones")
    table_grad = rng.normal(size=table.shape).astype(np.float32)
    optimizer = Adam(1e-4)
    return [
        ("erf float32, 3.1M values (series -> fast float32)",
         lambda: _erf_series(z), lambda: fast.erf_float32(z)),
        ("erf float32, 3.1M values (series -> backend.erf, Cody)",
         lambda: _erf_series(z), lambda: backend.erf(z)),
        ("GELU tanh forward (N, I), bias add included",
         lambda: gelu_forward(z + b_inter, True),
         lambda: fast.gelu_forward_fused(z.copy(), b_inter, True)),
        ("GELU tanh backward (N, I)",
         lambda: gelu_backward(dz, gelu_cache),
         lambda: fast.gelu_backward_fused(dz.copy(), fast_gelu_cache)),
        ("GELU exact forward (N, I), bias add included",
         lambda: gelu_forward(z + b_inter, False),
         lambda: fast.gelu_forward_fused(z.copy(), b_inter, False)),
        ("GELU exact backward (N, I)",
         lambda: gelu_backward(dz, exact_cache),
         lambda: fast.gelu_backward_fused(dz.copy(), fast_exact_cache)),
        ("bias + residual + layer norm forward (N, H)",
         lambda: layer_norm_forward(x + (a + b_h), gamma, beta, 1e-12),
         lambda: fast.add_layer_norm_forward(x, a, b_h, gamma, beta, 1e-12)),
        ("layer norm backward + bias gradient (N, H)",
         lambda: (layer_norm_backward(dy, ln_cache), dy.sum(axis=0)),
         lambda: fast.column_sum(fast.add_layer_norm_backward(dy, fast_ln_cache)[1])),
        ("attention forward 8x128, 12 heads (bias add included)",
         lambda: attention_forward(q, k, v, mask),
         lambda: fast.attention_forward_fused(qkv.copy(), b_qkv, mask)),
        ("attention backward 8x128, 12 heads",
         lambda: attention_backward(dout, att_cache),
         lambda: fast.attention_backward_fused(dout, fast_att_cache)),
        ("softmax cross-entropy forward (640, 30522)",
         lambda: softmax_cross_entropy_forward(logits, labels),
         lambda: fast.softmax_cross_entropy_forward_fast(logits, labels)),
        ("softmax cross-entropy backward (640, 30522)",
         lambda: softmax_cross_entropy_backward(1.0, ce_cache),
         lambda: fast.softmax_cross_entropy_backward_fast(1.0, fast_ce_cache)),
        ("Adam update of the (30522, H) token table",
         lambda: _adam_step(optimizer, table, table_grad, False),
         lambda: _adam_step(optimizer, table, table_grad, True)),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    print(f"{'op':58s} {'plain ms (median/min)':>22s} {'fast ms (median/min)':>22s}  plain/fast")
    for name, plain, fast_call in cases():
        times = {"plain": [], "fast": []}
        plain()
        fast_call()
        for _ in range(args.repeats):
            for key, call in (("plain", plain), ("fast", fast_call)):
                start = time.perf_counter()
                call()
                times[key].append(1e3 * (time.perf_counter() - start))
        p, f = np.median(times["plain"]), np.median(times["fast"])
        print(f"{name:58s} {p:11.2f} / {min(times['plain']):7.2f}   {f:11.2f} / "
              f"{min(times['fast']):7.2f}  {p / f:9.1f}x")


if __name__ == "__main__":
    main()
