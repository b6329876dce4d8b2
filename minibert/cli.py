"""The ``minibert`` command.

    minibert demo        a tour of the engine: a BertMaskedLM's forward, loss, backward, a few
                         optimizer steps, and a float64 gradient check of the whole loss
    minibert gradcheck   the float64 gradient check alone, with its per-tensor report
"""
import argparse
import sys
import time

import numpy as np


def _tiny_masked_lm(dtype="float32", dropout=0.0):
    from minibert.models import BertBackbone, BertMaskedLM
    backbone = BertBackbone(vocabulary_size=50, num_layers=2, num_heads=2, hidden_dim=8,
                            intermediate_dim=16, max_sequence_length=16, dropout=dropout,
                            dtype=dtype)
    return BertMaskedLM(backbone)


def _example_batch():
    ids = np.array([[2, 17, 33, 9, 41, 3, 0, 0], [2, 8, 15, 16, 23, 42, 4, 3]], dtype="int32")
    x = {"token_ids": ids, "segment_ids": np.zeros_like(ids),
         "padding_mask": (ids > 0).astype("int32"),
         "mask_positions": np.array([[1, 3], [2, 5]], dtype="int32")}
    return x, np.array([[17, 9], [15, 42]])


def gradient_check_report(seed=0):
    """Float64 gradient check of a tiny BertMaskedLM's loss against central differences, for
    every weight on the loss's path. Returns the GradientCheckReport."""
    from minibert import utils
    from minibert.ops import softmax_cross_entropy_backward, softmax_cross_entropy_forward
    from minibert.testing.gradient_check import check_gradients
    utils.set_random_seed(seed)
    model = _tiny_masked_lm(dtype="float64")
    rng = np.random.default_rng(seed)
    for variable in model.weights:       # weights of order 0.3: gradients well above rounding
        variable.assign((1.0 if variable.name == "gamma" else 0.0)
                        + 0.3 * rng.standard_normal(variable.shape))
    x, labels = _example_batch()
    loss, cache = softmax_cross_entropy_forward(model(x), labels)
    model.zero_grad()
    model.backward(softmax_cross_entropy_backward(1.0, cache))
    checked = [v for v in model.weights if v.grad is not None and not v.path.endswith("key/bias")]
    return check_gradients(lambda: float(softmax_cross_entropy_forward(model(x), labels)[0]),
                           {v.path: v.value for v in checked}, {v.path: v.grad for v in checked})


def demo(args):
    from minibert import utils
    from minibert.ops import softmax_cross_entropy_backward, softmax_cross_entropy_forward
    from minibert.training.optimizers import Adam
    utils.set_random_seed(args.seed)
    model = _tiny_masked_lm()
    x, labels = _example_batch()
    print(f"BertMaskedLM with {model.count_params():,} parameters "
          f"({len(model.backbone.transformer_layers)} encoder blocks)")
    optimizer = Adam(1e-2)
    for step in range(1, args.steps + 1):
        start = time.perf_counter()
        logits = model(x, training=True)                              # (B, M, V)
        loss, cache = softmax_cross_entropy_forward(logits, labels)
        model.zero_grad()
        model.backward(softmax_cross_entropy_backward(1.0, cache))
        trainable = [v for v in model.trainable_weights if v.grad is not None]
        optimizer.apply([v.grad for v in trainable], trainable)
        elapsed = (time.perf_counter() - start) * 1e3
        print(f"step {step:2d}  loss {float(loss):.4f}  ({elapsed:.1f} ms)")
    predicted = np.argmax(model(x), axis=-1)
    print(f"masked tokens {labels.tolist()} -> predicted {predicted.tolist()}")
    report = gradient_check_report(args.seed)
    print(f"float64 gradient check of the whole loss, {len(report.errors)} tensors: "
          f"max relative error {report.max_relative_error:.2e}")
    return 0 if report.max_relative_error <= 1e-5 else 1


def gradcheck(args):
    report = gradient_check_report(args.seed)
    print(report)
    print(f"max relative error {report.max_relative_error:.2e} (tolerance {args.tolerance:g})")
    return 0 if report.max_relative_error <= args.tolerance else 1


def build_parser():
    parser = argparse.ArgumentParser(prog="minibert", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    demo_parser = commands.add_parser("demo", help="a tour of the engine")
    demo_parser.add_argument("--steps", type=int, default=20, help="optimizer steps")
    demo_parser.add_argument("--seed", type=int, default=0)
    demo_parser.set_defaults(run=demo)
    check_parser = commands.add_parser("gradcheck", help="float64 gradient check of the loss")
    check_parser.add_argument("--seed", type=int, default=0)
    check_parser.add_argument("--tolerance", type=float, default=1e-5)
    check_parser.set_defaults(run=gradcheck)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
