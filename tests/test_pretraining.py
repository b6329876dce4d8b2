"""The built-in pretrained preset, the pretraining and fine-tuning routines, fill-mask and the
``minibert`` command."""
import os
import sys
import warnings

import numpy as np
import pytest

import minibert
from minibert import cli, finetuning, pretraining
from minibert.datasets import python_docs
from minibert.fill_mask import fill_mask, masked_token_ids
from minibert.models import Backbone, BertBackbone, BertMaskedLM, MaskedLM
from minibert.models.bert.bert_masked_lm_preprocessor import BertMaskedLMPreprocessor
from minibert.models.bert.bert_tokenizer import BertTokenizer
from minibert.presets import registry
from minibert.presets.errors import PresetWarning

NAME = "bert_tiny_en_uncased_python_docs"


@pytest.fixture
def offline(monkeypatch):
    monkeypatch.setenv("MINIBERT_OFFLINE", "1")
    monkeypatch.setitem(sys.modules, "kagglehub", None)     # never imported


@pytest.fixture(scope="module")
def masked_lm():
    return BertMaskedLM.from_preset(NAME)


# ================================================================================ the preset
def test_the_built_in_preset_loads_offline_through_every_class(offline):
    with warnings.catch_warnings():
        warnings.simplefilter("error", PresetWarning)           # the head is loaded too
        model = BertMaskedLM.from_preset(NAME)
        base = MaskedLM.from_preset(NAME)
    assert type(base) is BertMaskedLM
    for a, b in zip(model.weights, base.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    backbone = BertBackbone.from_preset(NAME)
    assert type(Backbone.from_preset(NAME)) is BertBackbone
    for a, b in zip(backbone.weights, model.backbone.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    tokenizer = BertTokenizer.from_preset(NAME)
    preprocessor = BertMaskedLMPreprocessor.from_preset(NAME)
    assert tokenizer.get_vocabulary() == preprocessor.tokenizer.get_vocabulary() \
        == model.preprocessor.tokenizer.get_vocabulary()
    assert tokenizer.get_vocabulary()[:5] == list(pretraining.RESERVED_TOKENS)
    assert preprocessor.sequence_length == backbone.max_sequence_length


def test_the_registry_entry_describes_the_files():
    entry = registry.get_builtin(NAME)
    assert "kaggle_handle" not in entry
    assert NAME in BertBackbone.presets and NAME in BertMaskedLM.presets
    assert NAME in Backbone.presets and NAME in MaskedLM.presets
    backbone = BertBackbone.from_preset(NAME)
    config = backbone.get_config()
    assert {key: config[key] for key in entry["config"]} == entry["config"]
    assert backbone.count_params() == entry["metadata"]["params"]
    assert entry["metadata"]["lowercase"] is True
    directory = registry.builtin_directory(NAME)
    files = {os.path.relpath(os.path.join(root, f), directory).replace(os.sep, "/")
             for root, _, names in os.walk(directory) for f in names}
    assert files == {"config.json", "metadata.json", "model.weights.h5", "task.json",
                     "task.weights.h5", "tokenizer.json", "preprocessor.json",
                     "assets/tokenizer/vocabulary.txt"}
    size = sum(os.path.getsize(os.path.join(directory, f)) for f in files)
    assert size <= 10 * 1024 * 1024


def test_the_built_in_model_beats_the_unigram_baseline_on_held_out_text(masked_lm):
    """On held-out modules, the model's top-1 at the masked tokens is right more often than
    always guessing the most frequent training token, and its cross-entropy is lower than
    that of the unigram distribution of the training text."""
    tokenizer = masked_lm.preprocessor.tokenizer
    train = [p for _, paragraphs in python_docs.load_python_docs_sources("train")
             for p in paragraphs]
    counts = np.bincount(np.concatenate([np.asarray(ids, dtype=np.int64)
                                         for ids in tokenizer(train)]),
                         minlength=tokenizer.vocabulary_size()).astype(np.float64)
    counts[tokenizer.special_token_ids] = 0
    sample = python_docs.load_python_docs("test", passage_length=126)[:48]
    minibert.utils.set_random_seed(0)
    x, y, weights = masked_lm.preprocessor(sample)
    logits = masked_lm.predict(x, verbose=0).astype(np.float64)
    real = weights > 0
    labels, logits = y[real], logits[real]
    assert len(labels) > 500
    model_accuracy = np.mean(np.argmax(logits, -1) == labels)
    baseline_accuracy = np.mean(labels == np.argmax(counts))
    assert model_accuracy > 2 * baseline_accuracy
    log_probabilities = logits - logits.max(-1, keepdims=True)
    log_probabilities -= np.log(np.exp(log_probabilities).sum(-1, keepdims=True))
    model_loss = -np.mean(log_probabilities[np.arange(len(labels)), labels])
    unigram = (counts + 1) / (counts.sum() + len(counts))
    assert model_loss < -np.mean(np.log(unigram[labels])) - 0.5
    # evaluate_masked_lm reports the same numbers.
    result = pretraining.evaluate_masked_lm(masked_lm, (x, y, weights),
                                            pretraining.token_counts(tokenizer, train))
    assert result["masked_tokens"] == len(labels)
    assert result["accuracy"] == pytest.approx(model_accuracy)
    assert result["majority_accuracy"] == pytest.approx(baseline_accuracy)
    assert result["loss"] == pytest.approx(model_loss, rel=1e-6)


# ================================================================================ fill-mask
def test_masks_are_placed_as_a_tokenizer_that_reads_special_tokens_would(masked_lm):
    vocabulary = masked_lm.preprocessor.tokenizer.get_vocabulary()
    plain = BertTokenizer(vocabulary=vocabulary, lowercase=True)
    reading = BertTokenizer(vocabulary=vocabulary, lowercase=True,
                            special_tokens_in_strings=True)
    for text in ("Return the [MASK] of x.", "[MASK] starts, len([MASK]) ends [MASK]",
                 "no space[MASK]between"):
        assert masked_token_ids(plain, text) == reading(text)
    assert plain.mask_token_id not in plain("Return the [MASK] of x.")   # split as text
    with pytest.raises(ValueError, match="MASK"):
        masked_token_ids(plain, "nothing to fill")


def test_fill_mask_ranks_the_softmax_of_the_logits_at_each_mask(masked_lm):
    texts = ["Return the [MASK] of the [MASK].", "Raise a [MASK] error."]
    results = fill_mask(masked_lm, texts, top_k=4)
    assert [len(r) for r in results] == [2, 1]
    tokenizer = masked_lm.preprocessor.tokenizer
    ids = masked_token_ids(tokenizer, texts[0])
    positions = [i + 1 for i, t in enumerate(ids) if t == tokenizer.mask_token_id]  # [CLS] first
    x = {"token_ids": np.array([[tokenizer.cls_token_id] + ids + [tokenizer.sep_token_id]]),
         "mask_positions": np.array([positions])}
    x["segment_ids"] = np.zeros_like(x["token_ids"])
    x["padding_mask"] = np.ones_like(x["token_ids"])
    logits = masked_lm.predict(x, verbose=0)[0].astype(np.float64)          # unpadded input
    for j, candidates in enumerate(results[0]):
        probabilities = np.exp(logits[j] - logits[j].max())
        probabilities /= probabilities.sum()
        best = np.argsort(-probabilities)[:4]
        assert [token for token, _ in candidates] == [tokenizer.id_to_token(int(k))
                                                      for k in best]
        np.testing.assert_allclose([p for _, p in candidates], probabilities[best], rtol=1e-4)
    with pytest.raises(ValueError, match="cut off"):
        fill_mask(masked_lm, "word " * 200 + "[MASK]")


# ================================================================================ commands
def test_demo_and_fill_mask_commands_run(capsys, offline):
    assert cli.main(["demo", "--top-k", "3"]) == 0
    out = capsys.readouterr().out
    for sentence in cli.DEMO_SENTENCES:
        assert sentence in out
    assert "gradient check" in out and "max relative error" in out
    assert cli.main(["fill-mask", "The [MASK] statement leaves a loop.", "--top-k", "2",
                     "--preset", NAME]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "The [MASK] statement leaves a loop."
    assert lines[1].startswith("  [MASK]: ") and len(lines[1].split()) == 1 + 2 * 2


# ================================================================================ routines
TINY = pretraining.PretrainingConfig(
    vocabulary_size=300, num_layers=1, num_heads=2, hidden_dim=16, intermediate_dim=32,
    sequence_length=32, batch_size=16, epochs=2, learning_rate=3e-3, max_sources=6)


def test_a_tiny_pretraining_run_writes_a_preset_that_reloads(tmp_path):
    output = tmp_path / "preset"
    model, report = pretraining.pretrain(TINY, output=str(output), verbose=0)
    assert [e["loss"] for e in report["history"]][1] < report["history"][0]["loss"]
    assert report["corpus"]["train"]["sources"] == 6
    assert report["vocabulary_size"] == model.backbone.vocabulary_size <= 300
    assert report["steps"] == 2 * -(-report["corpus"]["train"]["passages"] // 16)
    assert 0.0 <= report["test"]["accuracy"] <= 1.0
    loaded = BertMaskedLM.from_preset(str(output))
    assert loaded.preprocessor.tokenizer.get_vocabulary() == \
        model.preprocessor.tokenizer.get_vocabulary()
    assert loaded.preprocessor.mask_selection_length == TINY.mask_selection_length == 5
    for a, b in zip(loaded.weights, model.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    again, _ = pretraining.pretrain(TINY, verbose=0)                  # the seed fixes all
    for a, b in zip(again.weights, model.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_passages_keep_every_word_in_order_within_the_budget():
    paragraphs = ["one two three", "four five", "six seven eight nine ten eleven", "x"]
    result = python_docs.passages(paragraphs, 4)
    assert " ".join(result).split() == " ".join(paragraphs).split()
    assert all(len(p.split()) <= 4 for p in result)
    assert result == ["one two three four", "five six seven eight", "nine ten eleven x"]
    by_length = python_docs.passages(["aaaa b cc"], 5, word_length=len)
    assert by_length == ["aaaa b", "cc"]
    assert python_docs.passages(["toolongword a"], 3, word_length=len) == ["toolongword",
                                                                          "a"]


def test_the_package_task_is_balanced_and_held_out_by_file():
    splits = {split: python_docs.load_python_docs_packages(split) for split in ("train", "test")}
    for texts, labels, classes in splits.values():
        assert classes == list(python_docs.PACKAGES)
        counts = np.bincount(labels, minlength=len(classes))
        assert counts.min() == counts.max() > 30
        assert len(texts) == len(labels)
    files = {split: python_docs.package_files(split) for split in ("train", "test")}
    for package in python_docs.PACKAGES:
        train = {name for name, _ in files["train"][package]}
        test = {name for name, _ in files["test"][package]}
        assert train and test and not train & test
        assert all(name.startswith(package + "/") for name in train | test)
        held_out = sum(len(p) for _, p in files["test"][package])
        assert held_out >= 0.25 * (held_out + sum(len(p) for _, p in files["train"][package]))
    test_texts = set(splits["test"][0])
    assert test_texts <= {p for fs in files["test"].values() for _, ps in fs for p in ps}


def test_bag_of_tokens_baselines_separate_separable_classes():
    rng = np.random.default_rng(0)
    centers = np.eye(3)[:, :] * 5
    features = np.concatenate([c + rng.standard_normal((40, 3)) for c in centers])
    labels = np.repeat(np.arange(3), 40)
    assert np.mean(finetuning.nearest_centroid(features, labels, features, 3) == labels) > 0.95
    predict = finetuning.logistic_regression(features / 10, labels, 3)
    assert np.mean(predict(features / 10) == labels) > 0.95
    counts = np.array([[1.0, 0, 2], [0, 0, 0], [3, 1, 0]])
    weighted = finetuning.tf_idf(counts, counts)
    np.testing.assert_allclose(np.linalg.norm(weighted, axis=1), [1, 0, 1])
    # scikit-learn's smooth idf: log((1 + n) / (1 + df)) + 1, here n = 3, df = (2, 1, 1).
    idf = np.log(4 / np.array([3.0, 2, 2])) + 1
    expected = counts[0] * idf
    np.testing.assert_allclose(weighted[0], expected / np.linalg.norm(expected))


def test_fine_tuning_trains_the_head_alone_when_frozen():
    config = finetuning.FinetuningConfig(sequence_length=32, frozen_epochs=1, epochs=1,
                                         batch_size=16)
    texts, labels, classes = python_docs.load_python_docs_packages("train")
    train = finetuning._subset(texts, labels, 32)
    before = BertBackbone.from_preset(NAME)
    frozen, result = finetuning.finetune_classifier(config, train, train, len(classes), True)
    hidden = before.hidden_dim
    assert result["trainable_parameters"] == hidden * len(classes) + len(classes)
    for a, b in zip(frozen.backbone.weights, before.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    tuned, result = finetuning.finetune_classifier(config, train, train, len(classes), False)
    assert result["trainable_parameters"] == before.count_params() + hidden * len(classes) \
        + len(classes)
    changed = [not np.array_equal(a.numpy(), b.numpy())
               for a, b in zip(tuned.backbone.weights, before.weights)]
    assert all(changed)
    assert len(result["history"]) == 1 and 0.0 <= result["accuracy"] <= 1.0
