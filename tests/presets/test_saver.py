"""save_to_preset: files added to an existing preset, an interrupted save that leaves the old
preset untouched, sharded backbones (read back by minibert and by KerasHub)."""
import json
import os

import numpy as np
import pytest
from reference_libraries import require

from minibert.models.bert.bert_backbone import BertBackbone
from minibert.models.bert.bert_masked_lm import BertMaskedLM
from minibert.presets import keras_format, saver
from minibert.presets.errors import PresetError
from presets.builders import read_dir

SMALL = dict(vocabulary_size=20, num_layers=2, num_heads=2, hidden_dim=8, intermediate_dim=16,
             max_sequence_length=16)


def _same_weights(a, b):
    assert [v.path for v in a.weights] == [v.path for v in b.weights]
    for x, y in zip(a.weights, b.weights):
        np.testing.assert_array_equal(x.numpy(), y.numpy(), err_msg=x.path)


def test_a_task_preset_has_keras_hub_files(tmp_path):
    model = BertMaskedLM(BertBackbone(**SMALL))
    model.save_to_preset(str(tmp_path / "p"))
    assert sorted(os.listdir(tmp_path / "p")) == ["config.json", "metadata.json",
                                                  "model.weights.h5", "task.json",
                                                  "task.weights.h5"]
    task = json.loads((tmp_path / "p" / "task.json").read_text())
    assert task["registered_name"] == "keras_hub>BertMaskedLM"
    assert task["module"] == "keras_hub.src.models.bert.bert_masked_lm"
    assert task["config"]["preprocessor"] is None
    assert task["config"]["backbone"]["registered_name"] == "keras_hub>BertBackbone"
    metadata = json.loads((tmp_path / "p" / "metadata.json").read_text())
    assert metadata["parameter_count"] == model.backbone.count_params()
    _same_weights(BertMaskedLM.from_preset(str(tmp_path / "p")), model)


def test_saving_adds_to_an_existing_preset_and_replaces_what_it_writes(tmp_path):
    directory = str(tmp_path / "p")
    first = BertBackbone(**SMALL)
    first.save_to_preset(directory)
    (tmp_path / "p" / "README.md").write_text("kept")
    second = BertMaskedLM(BertBackbone(**SMALL))
    second.save_to_preset(directory)
    assert (tmp_path / "p" / "README.md").read_text() == "kept"
    _same_weights(BertMaskedLM.from_preset(directory), second)
    assert [p for p in os.listdir(tmp_path) if p != "p"] == []      # no staging left behind


def test_an_interrupted_save_leaves_the_old_preset_untouched(tmp_path, monkeypatch):
    directory = str(tmp_path / "p")
    BertMaskedLM(BertBackbone(**SMALL)).save_to_preset(directory)
    before = read_dir(directory)

    def fail(*args, **kwargs):
        raise KeyboardInterrupt("simulated interruption while writing weights")

    monkeypatch.setattr(keras_format, "write_weights_file", fail)
    with pytest.raises(KeyboardInterrupt):
        BertMaskedLM(BertBackbone(**SMALL)).save_to_preset(directory)
    assert read_dir(directory) == before
    assert [p for p in os.listdir(tmp_path) if p != "p"] == []


def test_an_interrupted_first_save_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(keras_format, "write_weights_file",
                        lambda *a, **k: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError, match="disk full"):
        BertBackbone(**SMALL).save_to_preset(str(tmp_path / "new"))
    assert os.listdir(tmp_path) == []


def test_saving_onto_a_file_is_refused(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(PresetError, match="it is a file"):
        BertBackbone(**SMALL).save_to_preset(str(tmp_path / "f"))


def test_sharded_backbones_round_trip_and_replace_single_files(tmp_path):
    directory = str(tmp_path / "p")
    model = BertBackbone(**SMALL)
    model.save_to_preset(directory)
    saver.save_backbone(model, directory, max_shard_size=2e-6)      # ~2 kB shards
    files = os.listdir(directory)
    assert "model.weights.h5" not in files and "model.weights.json" in files
    assert len([f for f in files if f.startswith("model_")]) >= 2
    _same_weights(BertBackbone.from_preset(directory), model)
    model.save_to_preset(directory)                                  # back to one file
    assert sorted(os.listdir(directory)) == ["config.json", "metadata.json", "model.weights.h5"]


def test_sharded_backbones_load_in_keras_hub(tmp_path):
    keras_hub = require("keras_hub")
    import keras
    model = BertBackbone(**SMALL)
    saver.save_backbone(model, str(tmp_path / "p"), max_shard_size=2e-6)
    loaded = keras_hub.models.BertBackbone.from_preset(str(tmp_path / "p"))
    ours = {v.path: v.numpy() for v in model.weights}
    for w in loaded.weights:
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(w.value), ours[w.path],
                                      err_msg=w.path)


def test_a_bfloat16_model_round_trips_and_takes_the_global_policy_on_load(tmp_path):
    model = BertBackbone(**SMALL, dtype="bfloat16")
    model.save_to_preset(str(tmp_path / "p"))
    as_saved = BertBackbone.from_preset(str(tmp_path / "p"), dtype="bfloat16")
    _same_weights(as_saved, model)
    default = BertBackbone.from_preset(str(tmp_path / "p"))       # KerasHub's rule
    assert default.weights[0].dtype == np.float32
    for a, b in zip(default.weights, model.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy().astype(np.float32))
    keras_hub = require("keras_hub")
    import keras
    loaded = keras_hub.models.BertBackbone.from_preset(str(tmp_path / "p"))
    for w, ours in zip(loaded.weights, model.weights):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(w.value),
                                      ours.numpy().astype(np.float32), err_msg=w.path)
