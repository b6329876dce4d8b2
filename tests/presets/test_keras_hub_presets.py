"""Parity from files with KerasHub: random-weight KerasHub tasks (with their preprocessors)
saved with KerasHub's save_to_preset load in minibert with the same outputs, and minibert's
save_to_preset loads back in KerasHub with the same outputs (max abs error <= 1e-5, float32,
padded batches, three configs)."""
import importlib
import json

import numpy as np
import pytest
from reference_libraries import require

from presets.reference import (CONFIGS, TASKS, keras_hub_model, max_abs_error, padded_batch,
                               to_numpy)

TOLERANCE = 1e-5

_MODULES = {
    "BertMaskedLM": "minibert.models.bert.bert_masked_lm",
    "BertTextClassifier": "minibert.models.bert.bert_text_classifier",
    "DistilBertMaskedLM": "minibert.models.distil_bert.distil_bert_masked_lm",
    "DistilBertTextClassifier": "minibert.models.distil_bert.distil_bert_text_classifier",
}


def minibert_class(name):
    return getattr(importlib.import_module(_MODULES[name]), name)


def _inputs(task, config):
    distil = task.startswith("Distil")
    x = padded_batch(config, distil, seed=len(task))
    backbone_x = {k: v for k, v in x.items() if k != "mask_positions"}
    return (x if task.endswith("MaskedLM") else backbone_x), backbone_x


def _compare(keras_model, minibert_model, task, config):
    """Max abs errors of the backbone outputs and of the task logits."""
    x, backbone_x = _inputs(task, config)
    errors = {}
    expected = to_numpy(keras_model.backbone(backbone_x))
    actual = minibert_model.backbone(backbone_x)
    if isinstance(expected, dict):
        for key in ("sequence_output", "pooled_output"):
            errors[key] = max_abs_error(expected[key], actual[key])
    else:
        errors["sequence_output"] = max_abs_error(expected, actual)
    errors["logits"] = max_abs_error(to_numpy(keras_model(x)), minibert_model(x))
    return errors


@pytest.mark.parametrize("config_index", range(len(CONFIGS)), ids=["c0", "c1", "c2"])
@pytest.mark.parametrize("task", TASKS)
def test_keras_hub_presets_load_and_round_trip(task, config_index, tmp_path):
    keras_hub = require("keras_hub")
    config = CONFIGS[config_index]
    keras_model = keras_hub_model(task, config, preprocessor=True, seed=config_index)
    keras_model.save_to_preset(str(tmp_path / "keras_hub"))

    loaded = minibert_class(task).from_preset(str(tmp_path / "keras_hub"))
    assert type(loaded).__name__ == task
    assert type(loaded.preprocessor).__name__ == type(keras_model.preprocessor).__name__
    errors = _compare(keras_model, loaded, task, config)
    assert max(errors.values()) <= TOLERANCE, errors

    loaded.save_to_preset(str(tmp_path / "minibert"))
    for name in ("config.json", "task.json", "preprocessor.json", "tokenizer.json",
                 "assets/tokenizer/vocabulary.txt"):
        ours, theirs = (tmp_path / "minibert" / name), (tmp_path / "keras_hub" / name)
        if name.endswith(".json"):
            assert json.loads(ours.read_text()) == json.loads(theirs.read_text()), name
        else:
            assert ours.read_text() == theirs.read_text(), name
    reloaded = getattr(keras_hub.models, task).from_preset(str(tmp_path / "minibert"))
    assert type(reloaded.preprocessor).__name__ == type(keras_model.preprocessor).__name__
    errors = _compare(reloaded, loaded, task, config)
    assert max(errors.values()) <= TOLERANCE, errors


def test_the_loaded_preprocessor_keeps_keras_hub_settings_and_vocabulary(tmp_path):
    require("keras_hub")
    keras_model = keras_hub_model("BertTextClassifier", CONFIGS[0], sequence_length=9)
    keras_model.save_to_preset(str(tmp_path / "kh"))
    loaded = minibert_class("BertTextClassifier").from_preset(str(tmp_path / "kh"))
    preprocessor = loaded.preprocessor
    assert preprocessor.get_config()["sequence_length"] == 9
    tokenizer = preprocessor.tokenizer
    assert tokenizer.get_config()["lowercase"] is True
    assert tokenizer.get_vocabulary() == keras_model.preprocessor.tokenizer.get_vocabulary()
    text = ["The quick brown fox.", "A lazy dog sat on the cat"]
    expected = to_numpy(keras_model.preprocessor(text))
    actual = preprocessor(text)
    for key in ("token_ids", "padding_mask", "segment_ids"):
        np.testing.assert_array_equal(np.asarray(actual[key]), expected[key], err_msg=key)


# ------------------------------------------------------------------------ class inference
@pytest.fixture(scope="module")
def keras_hub_presets(tmp_path_factory):
    """A KerasHub BertMaskedLM preset and a DistilBertTextClassifier preset (no
    preprocessors: these tests are about classes and weights)."""
    require("keras_hub")
    root = tmp_path_factory.mktemp("kh_presets")
    bert = keras_hub_model("BertMaskedLM", CONFIGS[0], preprocessor=False, seed=1)
    bert.save_to_preset(str(root / "bert_mlm"))
    distil = keras_hub_model("DistilBertTextClassifier", CONFIGS[1], preprocessor=False,
                             seed=2)
    distil.save_to_preset(str(root / "distil_clf"))
    return {"bert_mlm": (str(root / "bert_mlm"), bert),
            "distil_clf": (str(root / "distil_clf"), distil)}


def test_base_classes_resolve_to_the_preset_subclass(keras_hub_presets):
    from minibert.models.backbone import Backbone
    from minibert.models.masked_lm import MaskedLM
    from minibert.models.text_classifier import TextClassifier
    bert_dir, _ = keras_hub_presets["bert_mlm"]
    distil_dir, distil = keras_hub_presets["distil_clf"]
    assert type(Backbone.from_preset(bert_dir)).__name__ == "BertBackbone"
    assert type(Backbone.from_preset(distil_dir)).__name__ == "DistilBertBackbone"
    assert type(MaskedLM.from_preset(bert_dir)).__name__ == "BertMaskedLM"
    classifier = TextClassifier.from_preset(distil_dir)
    assert type(classifier).__name__ == "DistilBertTextClassifier"
    assert classifier.num_classes == 3
    errors = _compare(distil, classifier, "DistilBertTextClassifier", CONFIGS[1])
    assert max(errors.values()) <= TOLERANCE, errors


def test_a_preset_of_the_wrong_class_is_a_clear_error(keras_hub_presets):
    from minibert.models.bert.bert_backbone import BertBackbone
    from minibert.models.task import Task
    from minibert.presets.errors import PresetError
    bert_dir, _ = keras_hub_presets["bert_mlm"]
    distil_dir, _ = keras_hub_presets["distil_clf"]
    with pytest.raises(PresetError, match="holds a DistilBertBackbone, which is not a "
                                          "BertBackbone"):
        BertBackbone.from_preset(distil_dir)
    with pytest.raises(PresetError, match="no subclass of BertMaskedLM works with it"):
        minibert_class("BertMaskedLM").from_preset(distil_dir)
    with pytest.raises(PresetError, match="ambiguous"):
        Task.from_preset(bert_dir)
    with pytest.raises(PresetError, match="num_classes must be passed"):
        minibert_class("BertTextClassifier").from_preset(bert_dir)


def test_num_classes_gives_a_fresh_head_on_the_pretrained_backbone(keras_hub_presets):
    from minibert.presets.registry import backbone_of
    distil_dir, distil = keras_hub_presets["distil_clf"]
    cls = minibert_class("DistilBertTextClassifier")
    same = cls.from_preset(distil_dir, num_classes=3)
    saved = {w.path: to_numpy(w.value) for w in distil.weights}
    fresh = {w.path: w.numpy() for w in same.weights}
    assert not np.allclose(fresh["logits/kernel"], saved["logits/kernel"])
    assert not np.allclose(fresh["pooled_dense/kernel"], saved["pooled_dense/kernel"])
    for w in same.backbone.weights:
        np.testing.assert_array_equal(w.numpy(), saved[w.path], err_msg=w.path)
    five = cls.from_preset(distil_dir, num_classes=5)
    assert five.num_classes == 5 and five.weights[-1].shape == (5,)
    assert backbone_of(cls).__name__ == "DistilBertBackbone"


def test_a_masked_lm_from_a_backbone_preset_warns_that_its_head_is_new(tmp_path):
    require("keras_hub")
    from minibert.presets.errors import PresetWarning
    keras_hub_model("BertBackbone", CONFIGS[0]).save_to_preset(str(tmp_path / "bb"))
    with pytest.warns(PresetWarning, match="mlm_head is randomly initialised"):
        model = minibert_class("BertMaskedLM").from_preset(str(tmp_path / "bb"),
                                                             preprocessor=None)
    assert model.preprocessor is None
    with pytest.warns(PresetWarning) as record:
        model = minibert_class("BertMaskedLM").from_preset(str(tmp_path / "bb"))
    assert model.preprocessor is None
    messages = [str(w.message) for w in record]
    assert any("no tokenizer" in m and "takes dicts of token ids" in m for m in messages)
    assert any("mlm_head is randomly initialised" in m for m in messages)


def test_load_weights_false_and_config_overrides(keras_hub_presets):
    from minibert.models.bert.bert_backbone import BertBackbone
    bert_dir, bert = keras_hub_presets["bert_mlm"]
    saved = {w.path: to_numpy(w.value) for w in bert.backbone.weights}
    fresh = BertBackbone.from_preset(bert_dir, load_weights=False)
    assert fresh.get_config()["num_layers"] == CONFIGS[0]["num_layers"]
    assert not np.allclose(fresh.weights[0].numpy(), saved[fresh.weights[0].path])
    overridden = BertBackbone.from_preset(bert_dir, dropout=0.0, name="renamed")
    assert overridden.get_config()["dropout"] == 0.0 and overridden.name == "renamed"
    for w in overridden.weights:
        np.testing.assert_array_equal(w.numpy(), saved[w.path], err_msg=w.path)
    with pytest.raises(Exception, match="pooled_dense|shape"):
        BertBackbone.from_preset(bert_dir, hidden_dim=32, num_heads=2)


def test_settings_keras_hub_cannot_represent_are_kept_with_a_warning(tmp_path):
    from minibert.models.bert.bert_backbone import BertBackbone
    from minibert.presets import keras_format as kf
    from minibert.presets.errors import PresetWarning
    backbone = BertBackbone(**CONFIGS[0], activation="gelu", layer_norm_epsilon=1e-6)
    with pytest.warns(PresetWarning, match="KerasHub cannot represent.*activation='gelu'"):
        backbone.save_to_preset(str(tmp_path / "exact"))
    config = kf.read_json(str(tmp_path / "exact" / "config.json"), "config")["config"]
    assert config["activation"] == "gelu" and config["layer_norm_epsilon"] == 1e-6
    assert "attention_mask_value" not in config
    restored = BertBackbone.from_preset(str(tmp_path / "exact"))
    assert restored.get_config()["activation"] == "gelu"
    assert restored.get_config()["layer_norm_epsilon"] == 1e-6
    # At KerasHub's values nothing extra is written and nothing is said.
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error", PresetWarning)
        BertBackbone(**CONFIGS[0]).save_to_preset(str(tmp_path / "plain"))
    config = kf.read_json(str(tmp_path / "plain" / "config.json"), "config")["config"]
    assert sorted(config) == sorted(kf.KERAS_HUB_KEYS["BertBackbone"])


@pytest.mark.parametrize("prefix", ["Bert", "DistilBert"])
def test_tokenizers_round_trip_with_keras_hub(prefix, tmp_path):
    keras_hub = require("keras_hub")
    from minibert.presets import save_tokenizer
    from minibert.tokenizers.tokenizer import Tokenizer
    from presets.builders import VOCAB
    directory = str(tmp_path / "kh")
    keras_hub_model(f"{prefix}Backbone", CONFIGS[0]).save_to_preset(directory)
    keras_tokenizer = getattr(keras_hub.models, f"{prefix}Tokenizer")(vocabulary=VOCAB,
                                                                     lowercase=True)
    keras_tokenizer.save_to_preset(directory)
    tokenizer = Tokenizer.from_preset(directory)
    assert type(tokenizer).__name__ == f"{prefix}Tokenizer"
    assert tokenizer.get_vocabulary() == VOCAB
    text = ["The quick brown fox jumps over the lazy dog.", "A CAT sat, on the mat"]
    expected = [np.asarray(to_numpy(keras_tokenizer(t))).tolist() for t in text]
    assert [list(ids) for ids in tokenizer(text)] == expected

    save_tokenizer(tokenizer, directory)
    reloaded = getattr(keras_hub.models, f"{prefix}Tokenizer").from_preset(directory)
    assert reloaded.get_vocabulary() == VOCAB
    assert reloaded.get_config()["lowercase"] is True
