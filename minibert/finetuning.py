"""Fine-tune a BertTextClassifier from a pretrained preset, and compare it with simple baselines.

    task        ``minibert.datasets.load_python_docs_packages``: which standard-library package
                a documentation paragraph comes from (six balanced classes; the test paragraphs
                come from other source files than the training ones)
    classifier  ``BertTextClassifier.from_preset(preset, num_classes=6)``: the preset's
                backbone and tokenizer with a new head, trained with ``fit`` twice:
                backbone frozen (only the head learns; ``backbone.trainable = False``) and
                backbone unfrozen (every weight learns)
    baselines   the majority class of the training set, and two bag-of-tokens models on the
                same WordPiece tokens the classifier reads: nearest centroid (tf-idf, cosine)
                and multinomial logistic regression (L2, gradient descent), both in NumPy

Run it as ``python -m minibert.finetuning`` or ``minibert finetune`` (``--help`` lists the
settings; docs/pretraining.md has the numbers). Seeded with ``minibert.utils.set_random_seed``.
"""
import dataclasses
import sys
import time
from typing import Optional

import numpy as np

from minibert import utils
from minibert.datasets.python_docs import load_python_docs_packages
from minibert.models.bert.bert_text_classifier import BertTextClassifier
from minibert.models.bert.bert_tokenizer import BertTokenizer
from minibert.models.bert.bert_text_classifier_preprocessor import (
    BertTextClassifierPreprocessor)
from minibert.pretraining import EpochTimer, adamw_with_warmup

DEFAULT_PRESET = "bert_tiny_en_uncased_python_docs"


@dataclasses.dataclass(frozen=True)
class FinetuningConfig:
    """The settings of a fine-tuning run (the defaults give the numbers in the docs).

    Attributes:
        preset: the pretrained preset (a built-in name or a preset directory).
        sequence_length: the classifier preprocessor's packed length.
        batch_size: the ``fit`` batch size.
        frozen_epochs, frozen_learning_rate: training of the head alone.
        epochs, learning_rate: training of the whole model.
        warmup_fraction, weight_decay: of ``adamw_with_warmup`` (the peak rates above).
        seed: ``minibert.utils.set_random_seed`` before each model is built.
        max_examples: use an evenly spaced subset of at most this many examples of each
            split (quick runs).
    """

    preset: str = DEFAULT_PRESET
    sequence_length: int = 128
    batch_size: int = 32
    frozen_epochs: int = 10
    frozen_learning_rate: float = 2e-3
    epochs: int = 5
    learning_rate: float = 3e-4
    warmup_fraction: float = 0.1
    weight_decay: float = 0.01
    seed: int = 0
    max_examples: Optional[int] = None


# ================================================================================ baselines
def bag_of_tokens(tokenizer, texts):
    """Token counts: a (len(texts), vocabulary size) float64 array."""
    size = tokenizer.vocabulary_size()
    return np.stack([np.bincount(np.asarray(ids, dtype=np.int64), minlength=size)
                     for ids in tokenizer(texts)]).astype(np.float64)


def tf_idf(train_counts, counts):
    """``counts`` weighted by the inverse document frequency of ``train_counts``
    (log((1 + n) / (1 + df)) + 1, scikit-learn's smoothing), each row scaled to unit L2
    norm (an empty row stays 0)."""
    documents = len(train_counts)
    idf = np.log((1.0 + documents) / (1.0 + (train_counts > 0).sum(axis=0))) + 1.0
    weighted = counts * idf
    norms = np.linalg.norm(weighted, axis=1, keepdims=True)
    return weighted / np.where(norms > 0, norms, 1.0)


def nearest_centroid(train_features, train_labels, features, num_classes):
    """The class whose mean training vector is the most cosine-similar to each row."""
    centroids = np.stack([train_features[train_labels == c].mean(axis=0)
                          for c in range(num_classes)])
    centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
    return np.argmax(features @ centroids.T, axis=1)


def logistic_regression(train_features, train_labels, num_classes, l2=1e-3, steps=500,
                        learning_rate=2.0):
    """Multinomial logistic regression fitted by full-batch gradient descent on
    mean cross-entropy + ``l2``/2 * ||W||² (the bias is not penalised).

    Returns ``predict(features) -> class indices``.
    """
    n, dimension = train_features.shape
    weights = np.zeros((dimension, num_classes))
    bias = np.zeros(num_classes)
    one_hot = np.eye(num_classes)[train_labels]
    for _ in range(steps):
        logits = train_features @ weights + bias
        probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        d_logits = (probabilities - one_hot) / n                    # d mean CE / d logits
        weights -= learning_rate * (train_features.T @ d_logits + l2 * weights)
        bias -= learning_rate * d_logits.sum(axis=0)
    return lambda features: np.argmax(features @ weights + bias, axis=1)


def baselines(tokenizer, train, test, num_classes):
    """Test accuracy of the majority class and the two bag-of-tokens models.

    ``train`` and ``test`` are ``(texts, labels)`` pairs."""
    (train_texts, train_labels), (test_texts, test_labels) = train, test
    train_counts = bag_of_tokens(tokenizer, train_texts)
    train_features = tf_idf(train_counts, train_counts)
    test_features = tf_idf(train_counts, bag_of_tokens(tokenizer, test_texts))
    majority = np.argmax(np.bincount(train_labels, minlength=num_classes))
    predict = logistic_regression(train_features, train_labels, num_classes)
    return {
        "majority_class": float(np.mean(test_labels == majority)),
        "nearest_centroid": float(np.mean(
            nearest_centroid(train_features, train_labels, test_features, num_classes)
            == test_labels)),
        "logistic_regression": float(np.mean(predict(test_features) == test_labels)),
    }


# ================================================================================ classifier
def finetune_classifier(config, train, test, num_classes, frozen, verbose=0):
    """Train a ``BertTextClassifier`` from ``config.preset`` on ``train`` and measure it on
    ``test`` (``(texts, labels)`` pairs).

    ``frozen``: train the head alone (``config.frozen_epochs`` at
    ``config.frozen_learning_rate``), or every weight (``config.epochs`` at
    ``config.learning_rate``). The test split is evaluated after every epoch, for the curve
    only: nothing is chosen by it.

    Returns ``(classifier, result)``; ``result`` holds ``accuracy`` (after the last epoch),
    ``history`` (per epoch: ``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``,
    ``seconds``) and ``trainable_parameters``.
    """
    utils.set_random_seed(config.seed)
    preprocessor = BertTextClassifierPreprocessor.from_preset(
        config.preset, sequence_length=config.sequence_length)
    classifier = BertTextClassifier.from_preset(config.preset, num_classes=num_classes,
                                                preprocessor=preprocessor)
    classifier.backbone.trainable = not frozen
    epochs = config.frozen_epochs if frozen else config.epochs
    steps = epochs * -(-len(train[0]) // config.batch_size)
    classifier.compile(optimizer=adamw_with_warmup(
        config.frozen_learning_rate if frozen else config.learning_rate, steps,
        config.warmup_fraction, config.weight_decay))
    history = classifier.fit(list(train[0]), np.asarray(train[1]), batch_size=config.batch_size,
                             epochs=epochs, validation_data=(list(test[0]), np.asarray(test[1])),
                             callbacks=[EpochTimer()], verbose=verbose)
    curve = [{key: float(values[epoch]) for key, values in history.history.items()}
             for epoch in range(len(history.epoch))]
    trainable = sum(int(np.prod(v.shape)) for v in classifier.trainable_weights)
    return classifier, {"accuracy": curve[-1]["val_sparse_categorical_accuracy"],
                        "history": curve, "trainable_parameters": trainable}


def _subset(texts, labels, limit):
    """At most ``limit`` evenly spaced examples (all of them when ``limit`` is None)."""
    if limit is None or limit >= len(texts):
        return list(texts), np.asarray(labels)
    picked = np.linspace(0, len(texts) - 1, limit).round().astype(int)
    return [texts[i] for i in picked], np.asarray(labels)[picked]


def finetune(config=FinetuningConfig(), verbose=0):
    """The whole comparison (module docstring). Returns the report, a JSON-ready dict:
    ``config``, ``classes``, ``examples`` (per split), ``baselines``, ``frozen`` and
    ``fine_tuned`` (``finetune_classifier`` results) and ``seconds``."""
    start = time.perf_counter()
    train_texts, train_labels, classes = load_python_docs_packages("train")
    test_texts, test_labels, _ = load_python_docs_packages("test")
    train = _subset(train_texts, train_labels, config.max_examples)
    test = _subset(test_texts, test_labels, config.max_examples)
    tokenizer = BertTokenizer.from_preset(config.preset)
    report = {"config": dataclasses.asdict(config), "classes": classes,
              "examples": {"train": len(train[0]), "test": len(test[0])},
              "baselines": baselines(tokenizer, train, test, len(classes))}
    for key, frozen in (("frozen", True), ("fine_tuned", False)):
        _, report[key] = finetune_classifier(config, train, test, len(classes), frozen,
                                             verbose)
    report["seconds"] = time.perf_counter() - start
    return report


def format_report(report):
    """The comparison as a Markdown table."""
    baseline = report["baselines"]
    rows = [("majority class", baseline["majority_class"]),
            ("bag of tokens, nearest centroid (tf-idf, cosine)", baseline["nearest_centroid"]),
            ("bag of tokens, logistic regression", baseline["logistic_regression"]),
            (f"BertTextClassifier, backbone frozen "
             f"({report['frozen']['trainable_parameters']:,} weights trained)",
             report["frozen"]["accuracy"]),
            (f"BertTextClassifier, fine-tuned "
             f"({report['fine_tuned']['trainable_parameters']:,} weights trained)",
             report["fine_tuned"]["accuracy"])]
    lines = [f"{len(report['classes'])} classes ({', '.join(report['classes'])}); "
             f"{report['examples']['train']} training and {report['examples']['test']} test "
             "paragraphs.", "", "| model | test accuracy |", "|---|---|"]
    lines += [f"| {name} | {accuracy:.3f} |" for name, accuracy in rows]
    lines += ["", f"{report['seconds'] / 60:.1f} minutes."]
    return "\n".join(lines)


# ==================================================================================== command
def main(argv=None):
    """``python -m minibert.finetuning``: the same as ``minibert finetune``."""
    from minibert.cli import main as cli_main
    return cli_main(["finetune"] + list(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    sys.exit(main())
