"""Random-weight parity with KerasHub (torch backend): the same weights, copied in memory, give
the same outputs within 1e-5 (max abs, float32), on padded batches, for two configs."""
import numpy as np
import pytest
from reference_libraries import require

from minibert import backend
from reference_models import (CONFIGS, MINIBERT_CLASSES, copy_weights, max_abs_error,
                              padded_batch, randomize)

TOLERANCE = 1e-5


def _keras_to_numpy(value):
    import keras
    return keras.ops.convert_to_numpy(value)


def _build_pair(kind, config, **task_kwargs):
    """The same random model in KerasHub and in minibert."""
    keras_hub = require("keras_hub")
    distil = kind.startswith("Distil")
    backbone_name = "DistilBertBackbone" if distil else "BertBackbone"
    keras_backbone = getattr(keras_hub.models, backbone_name)(**config)
    minibert_backbone = MINIBERT_CLASSES[backbone_name](**config)
    if kind.endswith("Backbone"):
        keras_model, minibert_model = keras_backbone, minibert_backbone
    else:
        keras_model = getattr(keras_hub.models, kind)(keras_backbone, **task_kwargs)
        minibert_model = MINIBERT_CLASSES[kind](minibert_backbone, **task_kwargs)
    randomize(keras_model)
    copy_weights(keras_model, minibert_model)
    return keras_model, minibert_model


@pytest.mark.parametrize("config", CONFIGS, ids=["even_heads", "odd_heads"])
@pytest.mark.parametrize("kind", ["BertBackbone", "DistilBertBackbone"])
def test_backbone_outputs_match(kind, config):
    keras_model, minibert_model = _build_pair(kind, config)
    x = padded_batch(config, segments=kind == "BertBackbone")
    x.pop("mask_positions")
    expected, actual = keras_model(x), minibert_model(x)
    if not isinstance(expected, dict):
        expected, actual = {"sequence_output": expected}, {"sequence_output": actual}
    for name in expected:
        error, message = max_abs_error(name, _keras_to_numpy(expected[name]),
                                       backend.to_numpy(actual[name]))
        assert error <= TOLERANCE, message


@pytest.mark.parametrize("config", CONFIGS, ids=["even_heads", "odd_heads"])
@pytest.mark.parametrize("kind, task_kwargs", [
    ("BertMaskedLM", {}), ("DistilBertMaskedLM", {}),
    ("BertTextClassifier", {"num_classes": 3}),
    ("BertTextClassifier", {"num_classes": 4, "activation": "softmax"}),
    ("DistilBertTextClassifier", {"num_classes": 3}),
    ("DistilBertTextClassifier", {"num_classes": 2, "hidden_dim": 10}),
])
def test_task_outputs_match(kind, task_kwargs, config):
    keras_model, minibert_model = _build_pair(kind, config, **task_kwargs)
    x = padded_batch(config, segments=not kind.startswith("Distil"))
    if not kind.endswith("MaskedLM"):
        x.pop("mask_positions")
    error, message = max_abs_error(f"{kind} logits", _keras_to_numpy(keras_model(x)),
                                   backend.to_numpy(minibert_model(x)))
    assert error <= TOLERANCE, message


@pytest.mark.parametrize("kind", ["BertBackbone", "DistilBertBackbone", "BertMaskedLM",
                                  "DistilBertMaskedLM"])
def test_weights_paths_shapes_and_count_match(kind):
    keras_model, minibert_model = _build_pair(kind, CONFIGS[1])
    assert [(w.path, tuple(w.shape)) for w in minibert_model.weights] == \
        [(w.path, tuple(w.shape)) for w in keras_model.weights]
    assert minibert_model.count_params() == keras_model.count_params()


def test_bert_tiny_parameter_count():
    """The bert_tiny_en_uncased config has 4,385,920 parameters (KerasHub's preset table)."""
    model = MINIBERT_CLASSES["BertBackbone"](vocabulary_size=30522, num_layers=2, num_heads=2,
                                             hidden_dim=128, intermediate_dim=512)
    assert model.count_params() == 4_385_920
