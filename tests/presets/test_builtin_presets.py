"""The built-in preset names (KerasHub's 13 BERT and DistilBERT presets), ``cls.presets``, and
``kaggle://`` handles through kagglehub (faked: no network in tests)."""
import os
import re
import sys
import types

import numpy as np
import pytest

from minibert.presets import handles, registry
from minibert.presets.errors import PresetError, PresetFileNotFoundError

BERT_NAMES = {"bert_tiny_en_uncased", "bert_small_en_uncased", "bert_medium_en_uncased",
              "bert_base_en_uncased", "bert_base_en", "bert_base_zh", "bert_base_multi",
              "bert_large_en_uncased", "bert_large_en", "bert_tiny_en_uncased_sst2"}
DISTIL_NAMES = {"distil_bert_base_en_uncased", "distil_bert_base_en", "distil_bert_base_multi"}
#: minibert's own, shipped inside the package (tests/test_pretraining.py loads it).
PACKAGED_NAMES = {"bert_tiny_en_uncased_python_docs"}


def _bert_params(c):
    """Hand derivation: embeddings (token, position, segment), embedding LayerNorm, per layer
    q/k/v/out (H*H + H each), two LayerNorms, the two FFN denses; then the pooler."""
    V, H, I, L = c["vocabulary_size"], c["hidden_dim"], c["intermediate_dim"], c["num_layers"]
    P, S = c["max_sequence_length"], c["num_segments"]
    per_layer = 4 * (H * H + H) + 4 * H + (H * I + I) + (I * H + H)
    return V * H + P * H + S * H + 2 * H + L * per_layer + (H * H + H)


def _distil_params(c):
    V, H, I, L = c["vocabulary_size"], c["hidden_dim"], c["intermediate_dim"], c["num_layers"]
    P = c["max_sequence_length"]
    per_layer = 4 * (H * H + H) + 4 * H + (H * I + I) + (I * H + H)
    return V * H + P * H + 2 * H + L * per_layer


def test_every_keras_hub_bert_and_distil_bert_preset_is_listed():
    presets = registry.builtin_presets()
    assert set(presets) == BERT_NAMES | DISTIL_NAMES | PACKAGED_NAMES
    for name, entry in presets.items():
        assert entry["metadata"]["description"]
        assert isinstance(entry["metadata"]["lowercase"], bool)
        assert entry["metadata"]["lowercase"] == ("uncased" in name)
        if name in PACKAGED_NAMES:
            assert "kaggle_handle" not in entry
            assert os.path.isfile(os.path.join(registry.builtin_directory(name), "config.json"))
            continue
        family = "distil_bert" if name in DISTIL_NAMES else "bert"
        assert re.fullmatch(rf"kaggle://keras/{family}/keras/{re.escape(name)}/\d+",
                            entry["kaggle_handle"])


@pytest.mark.parametrize("name", sorted(BERT_NAMES | DISTIL_NAMES | PACKAGED_NAMES))
def test_parameter_counts_follow_from_the_configs(name):
    entry = registry.builtin_presets()[name]
    count = _distil_params if name in DISTIL_NAMES else _bert_params
    assert count(entry["config"]) == entry["metadata"]["params"]


def test_the_tiny_preset_config_builds_a_model_of_the_listed_size():
    from minibert.models.bert.bert_backbone import BertBackbone
    entry = registry.builtin_presets()["bert_tiny_en_uncased"]
    assert BertBackbone(**entry["config"]).count_params() == entry["metadata"]["params"]


def test_classes_list_their_presets_as_keras_hub_does():
    from minibert.models.backbone import Backbone
    from minibert.models.bert.bert_backbone import BertBackbone
    from minibert.models.bert.bert_masked_lm import BertMaskedLM
    from minibert.models.distil_bert.distil_bert_backbone import DistilBertBackbone
    from minibert.models.distil_bert.distil_bert_text_classifier import (
        DistilBertTextClassifier)
    from minibert.models.masked_lm import MaskedLM
    assert set(BertBackbone.presets) == BERT_NAMES | PACKAGED_NAMES
    assert set(DistilBertBackbone.presets) == DISTIL_NAMES
    assert set(BertMaskedLM.presets) == BERT_NAMES | PACKAGED_NAMES
    assert set(DistilBertTextClassifier.presets) == DISTIL_NAMES
    assert set(Backbone.presets) == BERT_NAMES | DISTIL_NAMES | PACKAGED_NAMES
    assert set(MaskedLM.presets) == BERT_NAMES | DISTIL_NAMES | PACKAGED_NAMES
    assert BertBackbone.presets["bert_base_en"]["metadata"]["params"] == 108310272

    class MyBackbone(BertBackbone):
        pass

    assert MyBackbone.presets == {}


def test_a_built_in_name_resolves_to_its_kaggle_handle():
    source = handles.resolve("distil_bert_base_multi")
    assert isinstance(source, handles.KaggleSource)
    assert source.handle == "keras/distil_bert/keras/distil_bert_base_multi/3"


def test_a_packaged_name_resolves_to_its_directory_in_the_package():
    source = handles.resolve("bert_tiny_en_uncased_python_docs")
    assert isinstance(source, handles.LocalSource)
    assert source.directory == registry.builtin_directory("bert_tiny_en_uncased_python_docs")
    assert source.description == "bert_tiny_en_uncased_python_docs (built in)"
    with pytest.raises(PresetFileNotFoundError, match="`vocab.txt` doesn't exist in preset "
                                                      "directory `bert_tiny_en_uncased_python"):
        source.get_file("vocab.txt")


def test_kaggle_without_kagglehub_names_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "kagglehub", None)          # import fails
    with pytest.raises(ImportError, match="kagglehub"):
        handles.resolve("kaggle://keras/bert/keras/bert_tiny_en_uncased/3").get_file(
            "config.json")


@pytest.fixture
def fake_kagglehub(monkeypatch, tmp_path):
    """A kagglehub whose model_download serves files of a local directory and records calls."""
    served = tmp_path / "served"
    calls = []

    def model_download(handle, path=None):
        calls.append((handle, path))
        full = served / path
        if not full.exists():
            raise ValueError(f"'{path}' is not present in the model files")
        return str(full)

    module = types.ModuleType("kagglehub")
    module.model_download = model_download
    monkeypatch.setitem(sys.modules, "kagglehub", module)
    return served, calls


def test_a_built_in_name_loads_through_kagglehub(fake_kagglehub):
    from minibert.models.backbone import Backbone
    from minibert.models.bert.bert_backbone import BertBackbone
    served, calls = fake_kagglehub
    model = BertBackbone(vocabulary_size=20, num_layers=1, num_heads=2, hidden_dim=8,
                         intermediate_dim=16, max_sequence_length=16)
    model.save_to_preset(str(served))
    loaded = Backbone.from_preset("bert_tiny_en_uncased")
    assert calls[0] == ("keras/bert/keras/bert_tiny_en_uncased/3", "config.json")
    assert ("keras/bert/keras/bert_tiny_en_uncased/3", "model.weights.h5") in calls
    for a, b in zip(loaded.weights, model.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    with pytest.raises(PresetFileNotFoundError, match="`vocab.txt` doesn't exist in preset "
                                                      "bert_tiny_en_uncased"):
        handles.resolve("bert_tiny_en_uncased").get_file("vocab.txt")


def test_kaggle_offline_reads_the_kagglehub_cache(monkeypatch, isolated_caches):
    monkeypatch.setenv("MINIBERT_OFFLINE", "1")
    monkeypatch.setitem(sys.modules, "kagglehub", None)          # never used offline
    base = isolated_caches / "kagglehub_cache" / "models" / "keras" / "bert" / "keras" / "v"
    for version, text in (("2", "old"), ("10", "new")):
        os.makedirs(base / version)
        (base / version / "config.json").write_text(text)
    source = handles.resolve("kaggle://keras/bert/keras/v")
    assert open(source.get_file("config.json")).read() == "new"      # highest version
    assert open(handles.resolve("kaggle://keras/bert/keras/v/2").get_file(
        "config.json")).read() == "old"
    with pytest.raises(PresetFileNotFoundError, match="offline"):
        source.get_file("model.weights.h5")


def test_unknown_names_suggest_close_built_ins():
    with pytest.raises(PresetError, match="Did you mean 'bert_base_en_uncased'"):
        handles.resolve("bert_base_en_uncase")
    with pytest.raises(PresetError, match="unknown scheme 'gs://'"):
        handles.resolve("gs://bucket/preset")
    with pytest.raises(PresetFileNotFoundError, match="does not exist"):
        handles.resolve("./no/such/dir")
