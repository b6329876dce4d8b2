"""Bad presets give clear errors naming the file or weight, what was expected and what was
seen: missing files, truncated or corrupt HDF5 / safetensors / JSON, weights of the wrong
shape, missing or extra weights, an unknown model_type or class, pickle checkpoints."""
import json
import os
import shutil
import warnings

import h5py
import numpy as np
import pytest
from safetensors.numpy import save_file

from minibert.models.backbone import Backbone
from minibert.models.bert.bert_backbone import BertBackbone
from minibert.models.bert.bert_masked_lm import BertMaskedLM
from minibert.presets import save_tokenizer
from minibert.presets.errors import (PresetError, PresetFileNotFoundError, PresetFormatError,
                                     PresetWarning, WeightMismatchError)
from presets.builders import BERT_CONFIG, VOCAB, bert_tensors, write_hf_dir

SMALL = dict(vocabulary_size=20, num_layers=2, num_heads=2, hidden_dim=8, intermediate_dim=16,
             max_sequence_length=16)


@pytest.fixture
def keras_preset(tmp_path):
    directory = str(tmp_path / "preset")
    BertBackbone(**SMALL).save_to_preset(directory)
    return directory


def _edit_json(path, edit):
    with open(path) as f:
        data = json.load(f)
    edit(data)
    with open(path, "w") as f:
        json.dump(data, f)


# ------------------------------------------------------------------------------ KerasHub
def test_missing_files(tmp_path, keras_preset):
    os.makedirs(tmp_path / "empty")
    with pytest.raises(PresetFileNotFoundError, match="no config.json"):
        Backbone.from_preset(str(tmp_path / "empty"))
    os.remove(os.path.join(keras_preset, "model.weights.h5"))
    with pytest.raises(PresetFileNotFoundError, match="no backbone weights.*model.weights.h5"):
        Backbone.from_preset(keras_preset)
    assert Backbone.from_preset(keras_preset, load_weights=False).count_params() > 0


def test_corrupt_json_is_named(keras_preset):
    path = os.path.join(keras_preset, "config.json")
    text = open(path).read()
    with open(path, "w") as f:
        f.write(text[: len(text) // 2])
    with pytest.raises(PresetFormatError, match="config.json: not valid JSON"):
        Backbone.from_preset(keras_preset)
    with open(path, "w") as f:
        json.dump({"something": "else"}, f)
    with pytest.raises(PresetFormatError, match="unrecognised format"):
        Backbone.from_preset(keras_preset)


def test_unknown_class_is_named(keras_preset):
    _edit_json(os.path.join(keras_preset, "config.json"), lambda c: c.update(
        registered_name="keras_hub>RobertaBackbone", class_name="RobertaBackbone"))
    with pytest.raises(PresetError, match="keras_hub>RobertaBackbone"):
        Backbone.from_preset(keras_preset)


def test_truncated_weights_file_is_named(keras_preset):
    path = os.path.join(keras_preset, "model.weights.h5")
    data = open(path, "rb").read()
    with open(path, "wb") as f:
        f.write(data[: len(data) - 100])
    with pytest.raises(PresetFormatError, match="model.weights.h5: not a readable HDF5 file"):
        Backbone.from_preset(keras_preset)


def test_wrong_shape_names_the_weight_expected_and_seen(keras_preset):
    _edit_json(os.path.join(keras_preset, "config.json"),
               lambda c: c["config"].update(vocabulary_size=21))
    with pytest.raises(WeightMismatchError) as info:
        Backbone.from_preset(keras_preset)
    message = str(info.value)
    assert "model.weights.h5" in message
    assert ("token_embedding/embeddings (in file: layers/reversible_embedding/vars/0): "
            "expected (21, 8), seen (20, 8)") in message


def test_missing_and_extra_weights_are_listed(keras_preset):
    path = os.path.join(keras_preset, "model.weights.h5")
    with h5py.File(path, "a") as f:
        del f["layers/dense/vars/1"]
        f["layers/dense/vars/7"] = np.zeros(8, "float32")
    with pytest.raises(WeightMismatchError) as info:
        Backbone.from_preset(keras_preset)
    assert "pooled_dense/bias" in str(info.value) and "layers/dense/vars/7" in str(info.value)


def test_task_weights_of_another_size_are_refused(tmp_path):
    model = BertMaskedLM(BertBackbone(**SMALL))
    model.save_to_preset(str(tmp_path / "mlm"))
    path = str(tmp_path / "mlm" / "task.weights.h5")
    with h5py.File(path, "a") as f:
        del f["layers/masked_lm_head/vars/0"]
        f["layers/masked_lm_head/vars/0"] = np.zeros(19, "float32")
    with pytest.raises(WeightMismatchError, match=r"mlm_head/output_bias .*expected \(20,\), "
                                                  r"seen \(19,\)"):
        BertMaskedLM.from_preset(str(tmp_path / "mlm"))


# ------------------------------------------------------------------------------ HF
def test_unknown_model_type_and_unsupported_settings(tmp_path):
    directory = str(tmp_path / "hf")
    write_hf_dir(directory)
    for change, pattern in [({"model_type": "roberta"}, "model_type 'roberta' is not supported"),
                            ({"hidden_act": "swish"}, "hidden_act 'swish'"),
                            ({"is_decoder": True}, "decoder"),
                            ({"position_embedding_type": "relative_key"}, "relative_key")]:
        write_hf_dir(directory, config={**BERT_CONFIG, **change})
        with pytest.raises(PresetError, match=pattern):
            Backbone.from_preset(directory)


def test_pickle_checkpoints_are_refused_with_conversion_steps(tmp_path):
    directory = tmp_path / "hf"
    write_hf_dir(str(directory))
    os.remove(directory / "model.safetensors")
    (directory / "pytorch_model.bin").write_bytes(b"\x80\x04not loaded")
    with pytest.raises(FileNotFoundError) as info:
        BertBackbone.from_preset(str(directory))
    message = str(info.value)
    assert "pytorch_model.bin" in message and "pickle" in message
    assert "save_pretrained" in message and "model.safetensors" in message
    os.remove(directory / "pytorch_model.bin")
    with pytest.raises(FileNotFoundError, match="neither model.safetensors"):
        BertBackbone.from_preset(str(directory))


def test_truncated_safetensors_is_named(tmp_path):
    directory = tmp_path / "hf"
    write_hf_dir(str(directory))
    data = (directory / "model.safetensors").read_bytes()
    (directory / "model.safetensors").write_bytes(data[:-64])
    with pytest.raises(PresetFormatError, match="model.safetensors: not a readable safetensors"):
        BertBackbone.from_preset(str(directory))


def test_hf_wrong_shape_and_missing_tensors_are_named(tmp_path):
    directory = str(tmp_path / "hf")
    tensors = write_hf_dir(directory)
    bad = dict(tensors)
    bad["bert.encoder.layer.1.intermediate.dense.weight"] = np.zeros((8, 16), "float32")
    del bad["bert.encoder.layer.0.attention.self.key.bias"]
    save_file(bad, os.path.join(directory, "model.safetensors"))
    with pytest.raises(WeightMismatchError) as info:
        BertBackbone.from_preset(directory)
    message = str(info.value)
    assert ("bert.encoder.layer.1.intermediate.dense.weight -> "
            "transformer_layer_1/feedforward_intermediate_dense/kernel: expected HF shape "
            "(16, 8) (for minibert (8, 16)), seen (8, 16)") in message
    assert "bert.encoder.layer.0.attention.self.key.bias" in message


def test_hf_naming_variants_load_to_the_same_weights(tmp_path):
    """No prefix, LayerNorm gamma/beta, sharded index: all give the same model."""
    rng = np.random.default_rng(4)
    tensors = bert_tensors(BERT_CONFIG, rng, prefix="", mlm_head=False)
    write_hf_dir(str(tmp_path / "plain"), tensors=tensors)
    renamed = {k.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias",
                                                                       "LayerNorm.beta"): v
               for k, v in tensors.items()}
    write_hf_dir(str(tmp_path / "gamma"), tensors={"bert." + k: v for k, v in renamed.items()})
    sharded = tmp_path / "sharded"
    write_hf_dir(str(sharded), tensors=tensors)
    os.remove(sharded / "model.safetensors")
    names = sorted(tensors)
    halves = {"model-00001-of-00002.safetensors": names[::2],
              "model-00002-of-00002.safetensors": names[1::2]}
    for filename, keys in halves.items():
        save_file({k: tensors[k] for k in keys}, str(sharded / filename))
    (sharded / "model.safetensors.index.json").write_text(json.dumps(
        {"metadata": {}, "weight_map": {k: f for f, ks in halves.items() for k in ks}}))
    models = [BertBackbone.from_preset(str(tmp_path / d)) for d in ("plain", "gamma", "sharded")]
    for variables in zip(*(m.weights for m in models)):
        for other in variables[1:]:
            np.testing.assert_array_equal(variables[0].numpy(), other.numpy())
    np.testing.assert_array_equal(
        models[0].weights[0].numpy(), tensors["embeddings.word_embeddings.weight"])


def test_an_index_listing_a_tensor_its_shard_lacks_is_named(tmp_path):
    directory = tmp_path / "hf"
    tensors = write_hf_dir(str(directory))
    os.rename(directory / "model.safetensors", directory / "model-00001-of-00001.safetensors")
    weight_map = {k: "model-00001-of-00001.safetensors" for k in tensors}
    weight_map["bert.ghost.weight"] = "model-00001-of-00001.safetensors"
    (directory / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    with pytest.raises(PresetFormatError, match="bert.ghost.weight"):
        BertBackbone.from_preset(str(directory))


def test_an_untied_decoder_matrix_is_reported(tmp_path):
    directory = str(tmp_path / "hf")
    tensors = bert_tensors(BERT_CONFIG, np.random.default_rng(1))
    tensors["cls.predictions.decoder.weight"] = np.ones((20, 8), "float32")
    write_hf_dir(directory, tensors=tensors)
    with pytest.warns(PresetWarning, match="not tied to the token embeddings"):
        BertMaskedLM.from_preset(directory, preprocessor=None)
    tensors["cls.predictions.decoder.weight"] = tensors["bert.embeddings.word_embeddings.weight"]
    write_hf_dir(directory, tensors=tensors)
    with warnings.catch_warnings():
        warnings.simplefilter("error", PresetWarning)
        BertMaskedLM.from_preset(directory, preprocessor=None)


def test_the_vocabulary_can_come_from_tokenizer_json(tmp_path):
    from minibert.presets import hf_format
    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps({"model": {"type": "WordPiece",
                                          "vocab": {t: i for i, t in enumerate(VOCAB)}}}))
    assert hf_format.vocabulary_from_tokenizer_json(str(path), "t") == VOCAB
    path.write_text(json.dumps({"model": {"type": "BPE", "vocab": {"a": 0}}}))
    with pytest.raises(PresetFormatError, match="not WordPiece"):
        hf_format.vocabulary_from_tokenizer_json(str(path), "t")


def test_a_missing_vocabulary_is_named(tmp_path):
    from minibert.models.bert.bert_tokenizer import BertTokenizer
    directory = tmp_path / "hf"
    write_hf_dir(str(directory))
    os.remove(directory / "vocab.txt")
    with pytest.raises(PresetFileNotFoundError, match="no vocabulary.*vocab.txt"):
        BertTokenizer.from_preset(str(directory))
    keras = tmp_path / "keras"
    BertBackbone(**SMALL).save_to_preset(str(keras))
    save_tokenizer(BertTokenizer(vocabulary=VOCAB, lowercase=True), str(keras))
    assert BertTokenizer.from_preset(str(keras)).get_vocabulary() == VOCAB
    shutil.rmtree(keras / "assets")
    with pytest.raises(FileNotFoundError, match="assets/tokenizer/vocabulary.txt"):
        BertTokenizer.from_preset(str(keras))
