"""The ``minibert`` command.

    minibert demo        the built-in pretrained BERT fills masks in sentences about Python,
                         then a float64 gradient check of a whole masked-LM loss
    minibert fill-mask   the most probable tokens at each [MASK] of a text
    minibert embed       sentence embeddings (mean or [CLS] pooling) and their cosine
                         similarities (``minibert.embeddings``)
    minibert pretrain    pretrain a BERT from scratch on the standard library's documentation
                         (``minibert.pretraining``, docs/pretraining.md)
    minibert finetune    fine-tune a text classifier from a preset and compare it with
                         baselines (``minibert.finetuning``)
    minibert gradcheck   the float64 gradient check alone, with its per-tensor report
    minibert parity      compare a preset loaded by minibert and by KerasHub or transformers,
                         tensor by tensor; exit status 1 above the tolerance
    minibert presets     the built-in preset names with their sizes
    minibert download    fetch every file of a preset into the cache, to load it offline later
                         (MINIBERT_OFFLINE=1)
"""
import argparse
import dataclasses
import json
import os
import sys

import numpy as np

#: The preset the demo and ``fill-mask`` use: it ships inside the package (no network).
DEFAULT_PRESET = "bert_tiny_en_uncased_python_docs"

DEMO_SENTENCES = (
    "Return a new [MASK] containing the keys of the mapping.",
    "Raise a [MASK] if the file does not exist.",
    "The [MASK] statement is used to leave a loop early.",
    "This module provides regular [MASK] matching operations.",
)


# ============================================================================ gradient check
def _tiny_masked_lm():
    from minibert.models import BertBackbone, BertMaskedLM
    backbone = BertBackbone(vocabulary_size=50, num_layers=2, num_heads=2, hidden_dim=8,
                            intermediate_dim=16, max_sequence_length=16, dropout=0.0,
                            dtype="float64")
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
    model = _tiny_masked_lm()
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


# ================================================================================ fill-mask
def _print_fills(masked_lm, texts, top_k):
    from minibert.fill_mask import fill_mask
    for text, masks in zip(texts, fill_mask(masked_lm, texts, top_k=top_k)):
        print(text)
        for i, candidates in enumerate(masks, 1):
            label = "[MASK]" if len(masks) == 1 else f"[MASK] {i}"
            print(f"  {label}: " + "  ".join(f"{token} {probability:.3f}"
                                            for token, probability in candidates))


def _load_masked_lm(preset):
    from minibert.models import MaskedLM
    return MaskedLM.from_preset(preset)


def demo(args):
    masked_lm = _load_masked_lm(args.preset)
    origin = (", pretrained from scratch by minibert and shipped inside it (no download; "
              "docs/pretraining.md)" if args.preset == DEFAULT_PRESET else "")
    print(f"{args.preset}: a {type(masked_lm).__name__} with {masked_lm.count_params():,} "
          f"parameters ({len(masked_lm.backbone.transformer_layers)} encoder blocks)"
          f"{origin}. Its guesses for the masked words:\n")
    _print_fills(masked_lm, list(DEMO_SENTENCES), args.top_k)
    report = gradient_check_report(args.seed)
    print(f"\nfloat64 gradient check of a whole BertMaskedLM loss (every op's hand-written "
          f"backward), {len(report.errors)} tensors: max relative error "
          f"{report.max_relative_error:.2e}")
    return 0 if report.max_relative_error <= 1e-5 else 1


def fill_mask_command(args):
    _print_fills(_load_masked_lm(args.preset), args.texts, args.top_k)
    return 0


def _read_texts(args):
    """The texts given on the command line, then the non-blank lines of ``--file``; a
    ValueError (before any model is loaded) when there are none."""
    texts = list(args.texts)
    if args.file:
        with open(args.file, encoding="utf-8") as file:
            texts += [line.strip() for line in file if line.strip()]
    if not texts:
        raise ValueError("no text to embed: give TEXT arguments or --file with one text a line")
    return texts


def embed(args):
    from minibert.embeddings import (cosine_similarity, load_sentence_encoder,
                                     sentence_embeddings)
    texts = _read_texts(args)
    backbone, preprocessor = load_sentence_encoder(args.preset, args.sequence_length)
    embeddings = sentence_embeddings(backbone, preprocessor, texts, pooling=args.pooling,
                                     normalize=args.normalize)              # (N, H)
    print(f"{args.preset}: {len(texts)} text(s), {embeddings.shape[1]}-dimensional "
          f"embeddings ({args.pooling} pooling{', L2-normalised' if args.normalize else ''})\n")
    for i, (text, vector) in enumerate(zip(texts, embeddings), 1):
        print(f"[{i}] {text}\n    " + " ".join(f"{value:+.4f}" for value in vector[:6])
              + (" ..." if len(vector) > 6 else ""))
    if len(texts) > 1:
        similarities = cosine_similarity(embeddings, embeddings)           # (N, N)
        labels = [f"[{i}]" for i in range(1, len(texts) + 1)]
        print("\ncosine similarity:\n" + " " * 7 + "".join(f"{label:>8}" for label in labels))
        for label, row in zip(labels, similarities):
            print(f"{label:>7}" + "".join(f"{value:8.3f}" for value in row))
    if args.output:
        np.save(args.output, embeddings)
        print(f"\nsaved the {embeddings.shape} float32 array to {args.output}")
    return 0


def gradcheck(args):
    report = gradient_check_report(args.seed)
    print(report)
    print(f"max relative error {report.max_relative_error:.2e} (tolerance {args.tolerance:g})")
    return 0 if report.max_relative_error <= args.tolerance else 1


# ==================================================================== pretrain and finetune
def _add_config_arguments(parser, config_cls):
    """``--report``, ``--quiet`` and one option per field of the ``config_cls`` dataclass
    (``--field-name``, typed by its default; None defaults take ints)."""
    parser.add_argument("--report", help="also write the report to this file (JSON)")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bar or per-epoch lines")
    for field in dataclasses.fields(config_cls):
        kind = int if field.default is None else type(field.default)
        parser.add_argument("--" + field.name.replace("_", "-"), type=kind,
                            default=field.default, metavar=kind.__name__.upper(),
                            help=f"(default: {field.default})")


def _config_from(args, config_cls):
    return config_cls(**{field.name: getattr(args, field.name)
                         for field in dataclasses.fields(config_cls)})


def _fit_verbosity(args):
    """``fit``'s verbose: a progress bar per epoch on a terminal, one line per epoch when the
    output goes to a file or a pipe (a log), nothing with --quiet."""
    if args.quiet:
        return 0
    return 1 if sys.stdout.isatty() else 2


def _finish(args, report, text):
    print(text)
    if args.report:
        with open(args.report, "w", encoding="utf-8") as file:
            json.dump(report, file, indent=1)
            file.write("\n")
    return 0


def pretrain(args):
    from minibert import pretraining
    config = _config_from(args, pretraining.PretrainingConfig)
    _, report = pretraining.pretrain(config, output=args.output, verbose=_fit_verbosity(args))
    return _finish(args, report, pretraining.format_report(report))


def finetune(args):
    from minibert import finetuning
    config = _config_from(args, finetuning.FinetuningConfig)
    report = finetuning.finetune(config, verbose=_fit_verbosity(args))
    return _finish(args, report, finetuning.format_report(report))


# ============================================================================ parity, presets
def parity(args):
    from minibert.testing.parity import compare_preset
    report = compare_preset(args.preset, args.against, tolerance=args.tolerance,
                            batch_size=args.batch_size, sequence_length=args.sequence_length)
    print(report)
    return 0 if report.ok else 1


def presets(args):
    from minibert.presets import builtin_presets
    for name, entry in sorted(builtin_presets().items()):
        where = entry.get("kaggle_handle", "ships with minibert")
        print(f"{name:<36} {entry['metadata']['params']:>13,} parameters  {where}")
    return 0


def _file_size(size):
    """A byte count for people: "664 B", "3.4 MB" (powers of 1000)."""
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000


def download(args):
    from minibert.presets import download_preset
    files = download_preset(args.preset)
    sizes = {name: os.path.getsize(path) for name, path in files.items()}
    for name, size in sizes.items():
        print(f"{name:<40} {_file_size(size):>10}")
    where = os.path.commonpath([os.path.dirname(path) for path in files.values()])
    print(f"\n{len(files)} files, {_file_size(sum(sizes.values()))}, in {where}")
    return 0


# ================================================================================== parser
def build_parser():
    from minibert.embeddings import POOLINGS
    from minibert.finetuning import FinetuningConfig
    from minibert.pretraining import PretrainingConfig
    parser = argparse.ArgumentParser(prog="minibert", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    demo_parser = commands.add_parser("demo", help="the pretrained model fills masks; then a "
                                                   "gradient check")
    demo_parser.add_argument("--preset", default=DEFAULT_PRESET)
    demo_parser.add_argument("--top-k", type=int, default=5)
    demo_parser.add_argument("--seed", type=int, default=0, help="of the gradient check")
    demo_parser.set_defaults(run=demo)

    fill_parser = commands.add_parser(
        "fill-mask", help="the most probable tokens at each [MASK] of a text",
        description="Print the most probable tokens at each [MASK] of each text.")
    fill_parser.add_argument("texts", nargs="+", metavar="TEXT",
                             help='a text with one or more "[MASK]"')
    fill_parser.add_argument("--top-k", type=int, default=5)
    fill_parser.add_argument("--preset", default=DEFAULT_PRESET,
                             help="a masked-LM preset: a built-in name or a directory")
    fill_parser.set_defaults(run=fill_mask_command)

    embed_parser = commands.add_parser(
        "embed", help="sentence embeddings and their cosine similarities",
        description="Embed each text with a preset's backbone (mean pooling over the real "
                    "tokens, as sentence-transformers, or the [CLS] token), print the start "
                    "of each embedding and, for two texts or more, their cosine similarities.")
    embed_parser.add_argument("texts", nargs="*", metavar="TEXT", help="a text to embed")
    embed_parser.add_argument("--file", help="also embed each non-blank line of this file")
    embed_parser.add_argument("--preset", default=DEFAULT_PRESET,
                              help="a built-in name, a KerasHub preset or HF model directory, "
                                   "kaggle:// or hf:// (default: %(default)s)")
    embed_parser.add_argument("--pooling", choices=POOLINGS, default="mean")
    embed_parser.add_argument("--normalize", action="store_true",
                              help="divide each embedding by its L2 norm")
    embed_parser.add_argument("--sequence-length", type=int,
                              help="pack (and truncate) texts to this many tokens (default: "
                                   "the preset's, at most the backbone's maximum)")
    embed_parser.add_argument("--output", metavar="FILE.npy",
                              help="save the (texts, hidden) float32 array with numpy.save")
    embed_parser.set_defaults(run=embed)

    pretrain_parser = commands.add_parser(
        "pretrain", help="pretrain a BERT on the standard library's documentation",
        description="Pretrain a BertMaskedLM from scratch on the documentation of CPython's "
                    "standard library (minibert.pretraining).")
    pretrain_parser.add_argument("--output", help="directory to save the preset to")
    _add_config_arguments(pretrain_parser, PretrainingConfig)
    pretrain_parser.set_defaults(run=pretrain)

    finetune_parser = commands.add_parser(
        "finetune", help="fine-tune a text classifier from a preset, against baselines",
        description="Fine-tune a BertTextClassifier on which standard-library package a "
                    "paragraph comes from (minibert.finetuning).")
    _add_config_arguments(finetune_parser, FinetuningConfig)
    finetune_parser.set_defaults(run=finetune)

    parity_parser = commands.add_parser(
        "parity", help="per-tensor errors against KerasHub or transformers",
        description="Load PRESET with minibert and with a reference library, run one padded "
                    "batch through both and print the max abs and relative error of the "
                    "embeddings, every encoder block, the pooler and the logits.")
    parity_parser.add_argument("preset", help="a KerasHub preset or HF model directory, or a "
                                              "built-in name")
    parity_parser.add_argument("--against", choices=["keras-hub", "transformers"],
                               default="keras-hub")
    parity_parser.add_argument("--tolerance", type=float, default=1e-5)
    parity_parser.add_argument("--batch-size", type=int, default=2)
    parity_parser.add_argument("--sequence-length", type=int, default=16)
    parity_parser.set_defaults(run=parity)

    presets_parser = commands.add_parser("presets", help="list the built-in presets")
    presets_parser.set_defaults(run=presets)

    download_parser = commands.add_parser(
        "download", help="fetch a preset's files into the cache, to load it offline later",
        description="Fetch every file from_preset reads for PRESET (config, weights and "
                    "every shard, task, preprocessor and tokenizer files) and print each "
                    "with its size. Afterwards the preset loads with MINIBERT_OFFLINE=1. "
                    "hf:// files go to $MINIBERT_HOME/hub (default ~/.cache/minibert/hub), "
                    "kaggle:// ones to kagglehub's cache; for a directory or a preset that "
                    "ships with minibert the files present are listed.")
    download_parser.add_argument("preset", help="a built-in name, kaggle://... or "
                                                "hf://owner/name[@revision]")
    download_parser.set_defaults(run=download)

    check_parser = commands.add_parser("gradcheck", help="float64 gradient check of the loss")
    check_parser.add_argument("--seed", type=int, default=0)
    check_parser.add_argument("--tolerance", type=float, default=1e-5)
    check_parser.set_defaults(run=gradcheck)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, OSError, ImportError) as error:   # bad input, missing files/libraries
        print(f"minibert {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
