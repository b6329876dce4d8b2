"""The bert_base forward's matrix products, in NumPy and in PyTorch.

    python benchmarks/products.py [--repeats 21]

One encoder layer at batch 8 x 128 makes four products with N = 1024 rows: the fused query/key/
value projection (N, 768) @ (768, 2304), the attention output (N, 768) @ (768, 768), and the
feed-forward's two, (N, 768) @ (768, 3072) and (N, 3072) @ (3072, 768). Each is timed (median
of the repeats) as one NumPy call (BLAS's own threads), as minibert's fast path runs it
(``minibert.ops.fast.gemm.matmul``: blocks on the thread pool, one BLAS thread each), and as one
``torch.matmul`` with as many threads as the pool; the last line adds the 12 layers up. This is
the floor of a forward on each library's products: compare it with the model-level times of
``benchmarks/run.py``.
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from minibert.ops.fast import gemm, threads  # noqa: E402

ROWS, LAYERS = 1024, 12
#: Pause before each timing: after a product, BLAS's threads spin for about 0.1 s and would
#: slow the pool blocks timed next (see minibert/ops/fast/gemm.py).
SETTLE_SECONDS = 0.3
SHAPES = (("query/key/value", 768, 2304), ("attention output", 768, 768),
          ("feed-forward in", 768, 3072), ("feed-forward out", 3072, 768))


def _median_seconds(function, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=21)
    args = parser.parse_args()
    import torch
    torch.set_num_threads(threads.num_threads())
    rng = np.random.default_rng(0)
    ways = ("numpy", "numpy, pool blocks", "torch")
    totals = dict.fromkeys(ways, 0.0)
    print(f"{'product':<18} {'shape':<26}" + "".join(f"{w:>20}" for w in ways) + "  (GFLOP/s)")
    for name, inner, outer in SHAPES:
        a = rng.standard_normal((ROWS, inner)).astype(np.float32)
        b = rng.standard_normal((inner, outer)).astype(np.float32)
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        calls = {"numpy": lambda: a @ b, "numpy, pool blocks": lambda: gemm.matmul(np, a, b),
                 "torch": lambda: ta @ tb}
        flops = 2 * ROWS * inner * outer
        line = f"{name:<18} {f'({ROWS}, {inner}) @ ({inner}, {outer})':<26}"
        for way in ways:
            time.sleep(SETTLE_SECONDS)      # the previous way's BLAS threads stop spinning
            calls[way]()
            seconds = _median_seconds(calls[way], args.repeats)
            totals[way] += LAYERS * seconds
            line += f"{flops / seconds / 1e9:20.0f}"
        print(line)
    print(f"{LAYERS} layers' products: " + ", ".join(f"{way} {1e3 * seconds:.0f} ms"
                                                    for way, seconds in totals.items()))


if __name__ == "__main__":
    main()
