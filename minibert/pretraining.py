"""Pretrain a small BERT from scratch on the standard library's documentation, with minibert alone.

    corpus      ``minibert.datasets.load_python_docs_sources``: docstrings and help topics,
                train / test split by source file; each source's paragraphs are joined into
                passages that fill a sequence (``passages``, counted in tokens)
    vocabulary  ``compute_word_piece_vocabulary`` on the training paragraphs, lowercased,
                reserved tokens [PAD] [UNK] [CLS] [SEP] [MASK]
    model       ``BertMaskedLM`` on a ``BertBackbone``, with a ``BertMaskedLMPreprocessor``
                that draws fresh masks for every batch of every epoch
    fit         ``masked_lm.fit`` on the raw passages: AdamW, linear warmup then linear decay
                (``PolynomialDecay``), global gradient clipping; after each epoch the loss and
                accuracy on one fixed masking of the test passages
    report      masked-token accuracy and loss on the test passages next to unigram baselines
                (``evaluate_masked_lm``)
    save        ``masked_lm.save_to_preset(output)``: a KerasHub preset directory

Run it as ``python -m minibert.pretraining --output DIR`` or ``minibert pretrain --output DIR``
(``--help`` lists the settings; the defaults are those of the built-in preset
``bert_tiny_en_uncased_python_docs``, see docs/pretraining.md). Everything random (weights,
dropout, masks, batch order) comes from ``minibert.utils.set_random_seed(seed)``, so the same
command with the same Python (the corpus is its standard library) and the same minibert gives
the same preset.

The masked-LM loss is averaged over the real masked positions
(``reduction="mean_with_sample_weight"``, Hugging Face's normalisation), so the training loss,
the held-out loss and the unigram baseline are all the mean cross-entropy per masked token, in
nats.
"""
import dataclasses
import math
import platform
import sys
import time
from typing import Optional

import numpy as np

from minibert import utils
from minibert.datasets.python_docs import load_python_docs_sources, passages
from minibert.models.bert.bert_backbone import BertBackbone
from minibert.models.bert.bert_masked_lm import BertMaskedLM
from minibert.models.bert.bert_masked_lm_preprocessor import BertMaskedLMPreprocessor
from minibert.models.bert.bert_tokenizer import BertTokenizer
from minibert.tokenizers.word_piece_tokenizer_trainer import compute_word_piece_vocabulary
from minibert.training import callbacks, losses, metrics, optimizers

#: The reserved tokens, in BERT's order ([PAD] is id 0, the padding value).
RESERVED_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


@dataclasses.dataclass(frozen=True)
class PretrainingConfig:
    """Every setting of a pretraining run; the defaults made the built-in preset.

    Attributes:
        vocabulary_size: the vocabulary size asked of the WordPiece learner (it keeps only
            pieces seen at least 10 times, so a small corpus gives fewer).
        num_layers, num_heads, hidden_dim, intermediate_dim, dropout: the ``BertBackbone``.
        sequence_length: the preprocessor's packed length and the backbone's
            ``max_sequence_length``.
        mask_selection_rate: the share of tokens selected for prediction (80% of them shown
            as [MASK], 10% as a random token, 10% unchanged); ``mask_selection_length``
            follows from it as ceil(rate * (sequence_length - 2)).
        batch_size, epochs: the ``fit`` arguments.
        learning_rate: the peak rate, reached after ``warmup_fraction`` of the steps, then
            decayed linearly to 0.
        weight_decay: AdamW's decoupled decay (biases and layer-norm weights exempt).
        global_clipnorm: the gradients are scaled down together to at most this L2 norm.
        seed: ``minibert.utils.set_random_seed`` at the start.
        max_sources: use only the first this many sources of each split (quick runs).
    """

    vocabulary_size: int = 8192
    num_layers: int = 2
    num_heads: int = 2
    hidden_dim: int = 128
    intermediate_dim: int = 512
    dropout: float = 0.0
    sequence_length: int = 128
    mask_selection_rate: float = 0.15
    batch_size: int = 16
    epochs: int = 12
    learning_rate: float = 1e-3
    warmup_fraction: float = 0.1
    weight_decay: float = 0.01
    global_clipnorm: float = 1.0
    seed: int = 0
    max_sources: Optional[int] = None

    @property
    def mask_selection_length(self):
        return math.ceil(self.mask_selection_rate * (self.sequence_length - 2))


# ==================================================================================== data
def learn_vocabulary(paragraphs, vocabulary_size):
    """The lowercased WordPiece vocabulary of ``paragraphs`` (``RESERVED_TOKENS`` first).

    A vocabulary file holds one token per line and KerasHub strips the end of each line when
    reading it, so a token with whitespace in it could not be saved; such tokens (the learner
    can form one from a character whose NFKC form has a space, as "´" -> " ́") are left out.
    """
    vocabulary = compute_word_piece_vocabulary(paragraphs, vocabulary_size, lowercase=True,
                                               reserved_tokens=list(RESERVED_TOKENS))
    return [token for token in vocabulary if token == "".join(token.split())]


def corpus_passages(sources, tokenizer, max_tokens):
    """The passages of every source in ``sources`` (``(name, paragraphs)`` pairs), each at
    most ``max_tokens`` tokens of ``tokenizer``, in order."""
    def word_length(word):
        return len(tokenizer(word))

    return [text for _, paragraphs in sources
            for text in passages(paragraphs, max_tokens, word_length)]


def token_counts(tokenizer, texts):
    """How often each token id occurs in the tokenized ``texts``: an int64 array of the
    vocabulary's size (special tokens, which the masker never selects, are set to 0)."""
    ids = np.concatenate([np.asarray(row, dtype=np.int64) for row in tokenizer(texts)])
    counts = np.bincount(ids, minlength=tokenizer.vocabulary_size())
    counts[tokenizer.special_token_ids] = 0
    return counts


# ================================================================================ evaluation
def evaluate_masked_lm(masked_lm, batch, counts, batch_size=64):
    """Masked-token accuracy and loss of ``masked_lm`` on a masked batch, with baselines.

    Args:
        masked_lm: a ``MaskedLM``.
        batch: ``(x, y, sample_weight)`` as a masked-LM preprocessor returns it (with the
            masks it drew); positions of weight 0 are padding and do not count.
        counts: token counts of the training text (``token_counts``), for the baselines.

    Returns a dict:
        ``masked_tokens``: how many positions were evaluated, ``mask_shown``: how many of them
        the model saw as [MASK] (the others hold a random or the original token);
        ``accuracy`` / ``loss``: the model's top-1 accuracy and mean cross-entropy (nats) over
        all evaluated positions; ``accuracy_at_mask``: the accuracy where [MASK] was shown;
        ``majority_token`` and ``majority_accuracy`` / ``majority_accuracy_at_mask``: always
        predicting the most frequent training token (the top-1 of the unigram distribution);
        ``unigram_loss``: the cross-entropy of the add-one smoothed unigram distribution.
    """
    x, y, sample_weight = batch
    logits = masked_lm.predict(x, batch_size=batch_size, verbose=0)        # (N, M, V) NumPy
    real = np.asarray(sample_weight) > 0
    labels = np.asarray(y)[real]
    logits = logits[real].astype(np.float64)                               # (K, V)
    log_z = np.log(np.exp(logits - logits.max(-1, keepdims=True)).sum(-1)) + logits.max(-1)
    shown = np.take_along_axis(np.asarray(x["token_ids"]), np.asarray(x["mask_positions"]),
                               axis=1)[real] == masked_lm.preprocessor.tokenizer.mask_token_id
    correct = logits.argmax(-1) == labels
    majority = int(np.argmax(counts))
    unigram = (counts + 1.0) / (counts.sum() + len(counts))
    return {
        "masked_tokens": int(real.sum()),
        "mask_shown": int(shown.sum()),
        "accuracy": float(correct.mean()),
        "accuracy_at_mask": float(correct[shown].mean()),
        "loss": float(np.mean(log_z - logits[np.arange(len(labels)), labels])),
        "majority_token": masked_lm.preprocessor.tokenizer.id_to_token(majority),
        "majority_accuracy": float(np.mean(labels == majority)),
        "majority_accuracy_at_mask": float(np.mean(labels[shown] == majority)),
        "unigram_loss": float(-np.mean(np.log(unigram[labels]))),
    }


class EpochTimer(callbacks.Callback):
    """Adds ``seconds``, the wall time of the epoch (validation included), to the epoch
    logs, so the History records it."""

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["seconds"] = time.perf_counter() - self._start


# ================================================================================ the run
def build_masked_lm(vocabulary, config):
    """A fresh ``BertMaskedLM`` with its tokenizer and preprocessor, sized by ``config``."""
    tokenizer = BertTokenizer(vocabulary=vocabulary, lowercase=True)
    preprocessor = BertMaskedLMPreprocessor(
        tokenizer, sequence_length=config.sequence_length,
        mask_selection_rate=config.mask_selection_rate,
        mask_selection_length=config.mask_selection_length)
    backbone = BertBackbone(
        vocabulary_size=len(vocabulary), num_layers=config.num_layers,
        num_heads=config.num_heads, hidden_dim=config.hidden_dim,
        intermediate_dim=config.intermediate_dim, dropout=config.dropout,
        max_sequence_length=config.sequence_length)
    return BertMaskedLM(backbone, preprocessor=preprocessor)


def adamw_with_warmup(peak_learning_rate, steps, warmup_fraction=0.1, weight_decay=0.01,
                      global_clipnorm=1.0):
    """AdamW for ``steps`` optimizer steps: the rate rises linearly from 0 to
    ``peak_learning_rate`` over the first ``warmup_fraction`` of the steps, then falls
    linearly to 0 at the last step (BERT's schedule); biases and layer-norm weights are not
    decayed; the gradients are clipped together to ``global_clipnorm``."""
    warmup = round(warmup_fraction * steps)
    schedule = optimizers.schedules.PolynomialDecay(
        0.0, decay_steps=max(steps - warmup, 1), end_learning_rate=0.0,
        warmup_target=peak_learning_rate, warmup_steps=warmup)
    optimizer = optimizers.AdamW(schedule, weight_decay=weight_decay,
                                 global_clipnorm=global_clipnorm)
    optimizer.exclude_from_weight_decay(var_names=["bias", "gamma", "beta"])
    return optimizer


def compile_for_pretraining(masked_lm, config, steps):
    """``adamw_with_warmup`` over ``steps`` steps; the loss is the mean cross-entropy per
    masked token, the metric the accuracy at the masked tokens."""
    masked_lm.compile(
        optimizer=adamw_with_warmup(config.learning_rate, steps, config.warmup_fraction,
                                    config.weight_decay, config.global_clipnorm),
        loss=losses.SparseCategoricalCrossentropy(from_logits=True,
                                                  reduction="mean_with_sample_weight"),
        weighted_metrics=[metrics.SparseCategoricalAccuracy(name="accuracy")])


def pretrain(config=PretrainingConfig(), output=None, verbose=2):
    """Run the whole pipeline (module docstring) and return ``(masked_lm, report)``.

    Args:
        config: a ``PretrainingConfig``.
        output: a directory to save the preset to, or None.
        verbose: ``fit``'s verbosity (2: one line per epoch).

    The report is a JSON-ready dict: ``config``, ``environment`` (Python, NumPy, platform),
    ``corpus`` (sources, paragraphs, passages and tokens per split), ``vocabulary_size``,
    ``parameters``, ``steps``, ``history`` (per epoch: ``loss``, ``accuracy``,
    ``val_loss``, ``val_accuracy``, ``seconds``), ``test`` (``evaluate_masked_lm`` on the
    held-out passages) and ``seconds`` (the wall time of the run, saving included).
    """
    start = time.perf_counter()
    utils.set_random_seed(config.seed)
    splits = {split: load_python_docs_sources(split)[:config.max_sources]
              for split in ("train", "test")}
    vocabulary = learn_vocabulary([p for _, paragraphs in splits["train"] for p in paragraphs],
                                  config.vocabulary_size)
    masked_lm = build_masked_lm(vocabulary, config)
    preprocessor = masked_lm.preprocessor
    tokenizer = preprocessor.tokenizer
    texts = {split: corpus_passages(sources, tokenizer, config.sequence_length - 2)
             for split, sources in splits.items()}
    # One fixed masking of the test split (drawn after the weights: it depends on the size).
    held_out = preprocessor(texts["test"])
    counts = token_counts(tokenizer, texts["train"])

    steps = config.epochs * math.ceil(len(texts["train"]) / config.batch_size)
    compile_for_pretraining(masked_lm, config, steps)
    pooler = masked_lm.backbone.pooled_dense            # not on the masked-LM loss's path
    pooler.trainable = False
    history = masked_lm.fit(texts["train"], batch_size=config.batch_size, epochs=config.epochs,
                            validation_data=held_out, callbacks=[EpochTimer()],
                            verbose=verbose)
    pooler.trainable = True
    report = {
        "config": dataclasses.asdict(config),
        "environment": {"python": platform.python_version(), "numpy": np.__version__,
                        "platform": platform.platform()},
        "corpus": {split: {"sources": len(splits[split]),
                           "paragraphs": sum(len(p) for _, p in splits[split]),
                           "passages": len(texts[split]),
                           "tokens": int(sum(len(row) for row in tokenizer(texts[split])))}
                   for split in splits},
        "vocabulary_size": len(vocabulary),
        "parameters": {"backbone": masked_lm.backbone.count_params(),
                       "masked_lm": masked_lm.count_params()},
        "steps": steps,
        "history": [{key: float(values[epoch]) for key, values in history.history.items()}
                    for epoch in range(len(history.epoch))],
        "test": evaluate_masked_lm(masked_lm, held_out, counts),
    }
    if output is not None:
        masked_lm.save_to_preset(output)
    report["seconds"] = time.perf_counter() - start
    return masked_lm, report


def format_report(report):
    """The report as Markdown: the loss curve table and the held-out comparison."""
    test = report["test"]
    lines = ["| epoch | train loss | train accuracy | held-out loss | held-out accuracy "
             "| seconds |", "|---|---|---|---|---|---|"]
    for epoch, logs in enumerate(report["history"], 1):
        lines.append(f"| {epoch} | {logs['loss']:.3f} | {logs['accuracy']:.3f} | "
                     f"{logs['val_loss']:.3f} | {logs['val_accuracy']:.3f} | "
                     f"{logs['seconds']:.0f} |")
    lines += [
        "",
        f"Held-out split: {test['masked_tokens']} masked tokens "
        f"({test['mask_shown']} shown as [MASK]).",
        "",
        "| predictor | accuracy (all masked) | accuracy (at [MASK]) | loss (nats) |",
        "|---|---|---|---|",
        f"| this model | {test['accuracy']:.3f} | {test['accuracy_at_mask']:.3f} | "
        f"{test['loss']:.3f} |",
        f"| unigram: always the most frequent training token (`{test['majority_token']}`); "
        f"loss of the add-one smoothed unigram distribution | "
        f"{test['majority_accuracy']:.3f} | {test['majority_accuracy_at_mask']:.3f} | "
        f"{test['unigram_loss']:.3f} |",
        "",
        f"{report['parameters']['masked_lm']:,} parameters, vocabulary of "
        f"{report['vocabulary_size']} tokens, {report['steps']} steps, "
        f"{report['seconds'] / 60:.1f} minutes (Python {report['environment']['python']}).",
    ]
    return "\n".join(lines)


# ==================================================================================== command
def main(argv=None):
    """``python -m minibert.pretraining``: the same as ``minibert pretrain``."""
    from minibert.cli import main as cli_main
    return cli_main(["pretrain"] + list(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    sys.exit(main())
