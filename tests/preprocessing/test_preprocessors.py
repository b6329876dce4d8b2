"""BERT and DistilBERT preprocessors: the same arrays as KerasHub's, on single strings,
batches and pairs; masking made deterministic (select every token, always [MASK])."""
import numpy as np
import pytest
from reference_libraries import require

from data.tokenizer_references import load_corpus
from minibert.models.bert.bert_masked_lm_preprocessor import BertMaskedLMPreprocessor
from minibert.models.bert.bert_text_classifier_preprocessor import (
    BertPreprocessor, BertTextClassifierPreprocessor)
from minibert.models.bert.bert_tokenizer import BertTokenizer
from minibert.models.distil_bert.distil_bert_masked_lm_preprocessor import (
    DistilBertMaskedLMPreprocessor)
from minibert.models.distil_bert.distil_bert_text_classifier_preprocessor import (
    DistilBertPreprocessor, DistilBertTextClassifierPreprocessor)
from minibert.models.distil_bert.distil_bert_tokenizer import DistilBertTokenizer
from minibert.utils import set_random_seed

SEQUENCE_LENGTH = 24
# Every non-special token selected and replaced by [MASK]: no randomness left. The selection
# length covers the whole sequence, so no random subset is taken either.
DETERMINISTIC_MASKING = dict(mask_selection_rate=1.0, mask_token_rate=1.0,
                             random_token_rate=0.0, mask_selection_length=SEQUENCE_LENGTH)
TEXTS = [entry["text"] for entry in load_corpus()
         if entry["category"] in ("prose", "accents", "cjk", "special_tokens")][:60]
INPUTS = {
    "single": TEXTS[0],
    "batch": TEXTS,
    "pair": (TEXTS[:30], TEXTS[30:]),
}
MODELS = {
    "bert": (BertTokenizer, BertTextClassifierPreprocessor, BertMaskedLMPreprocessor,
             "Bert"),
    "distil_bert": (DistilBertTokenizer, DistilBertTextClassifierPreprocessor,
                    DistilBertMaskedLMPreprocessor, "DistilBert"),
}


@pytest.fixture(scope="module")
def keras_hub():
    return require("keras_hub")


def as_numpy(tree):
    """KerasHub returns backend tensors; compare as NumPy."""
    if isinstance(tree, dict):
        return {key: as_numpy(value) for key, value in tree.items()}
    if isinstance(tree, tuple):
        return tuple(as_numpy(value) for value in tree)
    return np.asarray(tree)


def assert_same(ours, expected):
    """Same structure (dict keys in the same order, tuples), same values and dtypes."""
    ours, expected = as_numpy(ours), as_numpy(expected)
    if isinstance(expected, dict):
        assert list(ours) == list(expected)
        for key in expected:
            assert_same(ours[key], expected[key])
    elif isinstance(expected, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(expected)
        for mine, theirs in zip(ours, expected):
            assert_same(mine, theirs)
    else:
        np.testing.assert_array_equal(ours, expected)
        assert ours.dtype == expected.dtype


def build(keras_hub, model, kind, vocabulary, **arguments):
    tokenizer_cls, classifier_cls, masked_lm_cls, prefix = MODELS[model]
    ours_cls = classifier_cls if kind == "classifier" else masked_lm_cls
    suffix = "TextClassifierPreprocessor" if kind == "classifier" else "MaskedLMPreprocessor"
    reference_cls = getattr(keras_hub.models, prefix + suffix)
    reference_tokenizer = getattr(keras_hub.models, prefix + "Tokenizer")
    ours = ours_cls(tokenizer_cls(vocabulary, lowercase=True), **arguments)
    expected = reference_cls(reference_tokenizer(vocabulary=vocabulary, lowercase=True),
                             **arguments)
    return ours, expected


@pytest.mark.parametrize("model", list(MODELS))
@pytest.mark.parametrize("inputs", list(INPUTS))
@pytest.mark.parametrize("truncate", ["round_robin", "waterfall"])
def test_classifier_preprocessor_matches_keras_hub(keras_hub, uncased_vocabulary, model,
                                                   inputs, truncate):
    ours, expected = build(keras_hub, model, "classifier", uncased_vocabulary,
                           sequence_length=SEQUENCE_LENGTH, truncate=truncate)
    x = INPUTS[inputs]
    assert_same(ours(x=x), expected(x=x))
    labels = np.arange(len(TEXTS)) if inputs == "batch" else np.array(1)
    assert_same(ours(x=x, y=labels), expected(x=x, y=labels))


@pytest.mark.parametrize("model", list(MODELS))
@pytest.mark.parametrize("inputs", list(INPUTS))
def test_masked_lm_preprocessor_matches_keras_hub(keras_hub, uncased_vocabulary, model,
                                                  inputs):
    ours, expected = build(keras_hub, model, "masked_lm", uncased_vocabulary,
                           sequence_length=SEQUENCE_LENGTH, **DETERMINISTIC_MASKING)
    x = INPUTS[inputs]
    assert_same(ours(x=x), expected(x=x))


def test_padding_mask_comes_from_the_unmasked_ids(uncased_vocabulary):
    tokenizer = BertTokenizer(uncased_vocabulary, lowercase=True)
    # Every selected token becomes a random id; some of those are 0 ([PAD]).
    masked_lm = BertMaskedLMPreprocessor(tokenizer, sequence_length=64, mask_selection_rate=1.0,
                                         mask_token_rate=0.0, random_token_rate=1.0,
                                         mask_selection_length=64)
    classifier = BertTextClassifierPreprocessor(tokenizer, sequence_length=64)
    x, y, sample_weight = masked_lm(TEXTS)
    np.testing.assert_array_equal(x["padding_mask"], classifier(TEXTS)["padding_mask"])
    assert y.shape == sample_weight.shape == (len(TEXTS), 64)


def test_masks_are_drawn_afresh_and_seeded(uncased_vocabulary):
    preprocessor = BertMaskedLMPreprocessor(BertTokenizer(uncased_vocabulary, lowercase=True),
                                            sequence_length=64)
    set_random_seed(3)
    first = preprocessor(TEXTS)[0]["mask_positions"]
    second = preprocessor(TEXTS)[0]["mask_positions"]
    assert not np.array_equal(first, second)
    set_random_seed(3)
    np.testing.assert_array_equal(preprocessor(TEXTS)[0]["mask_positions"], first)


def test_call_conventions(uncased_vocabulary):
    preprocessor = BertPreprocessor(BertTokenizer(uncased_vocabulary, lowercase=True),
                                    sequence_length=8)
    assert BertPreprocessor is BertTextClassifierPreprocessor
    assert DistilBertPreprocessor is DistilBertTextClassifierPreprocessor
    x = preprocessor("The fox.")
    assert set(x) == {"token_ids", "padding_mask", "segment_ids"}
    x, y = preprocessor(("The fox.", 1))                   # a lone tuple is (x, y)
    assert y == 1 and x["token_ids"].shape == (8,)
    x, y, weight = preprocessor(["a", "b"], [0, 1], [1.0, 0.5])
    assert x["token_ids"].shape == (2, 8) and y == [0, 1] and weight == [1.0, 0.5]
    preprocessor.sequence_length = 5
    assert preprocessor("The quick brown fox.")["token_ids"].shape == (5,)


def test_configs_have_keras_hub_keys(keras_hub, uncased_vocabulary):
    for model in MODELS:
        for kind in ("classifier", "masked_lm"):
            ours, expected = build(keras_hub, model, kind, uncased_vocabulary)
            expected_config = expected.get_config()
            expected_config.pop("tokenizer")          # nested by the preset saver for us
            config = ours.get_config()
            assert config.keys() == expected_config.keys()
            for key in config:
                if key not in ("name", "dtype"):
                    assert config[key] == expected_config[key], key


def test_sequence_length_too_small_for_the_delimiters(uncased_vocabulary):
    preprocessor = BertTextClassifierPreprocessor(
        BertTokenizer(uncased_vocabulary, lowercase=True), sequence_length=2)
    with pytest.raises(ValueError, match="sequence_length=2 is too small"):
        preprocessor(x=(["a"], ["b"]))


def test_non_string_input_is_a_clear_error(uncased_vocabulary):
    preprocessor = BertTextClassifierPreprocessor(
        BertTokenizer(uncased_vocabulary, lowercase=True), sequence_length=8)
    with pytest.raises(ValueError, match="inputs\\[1\\]: expected a string"):
        preprocessor(["fine", 3.5])
