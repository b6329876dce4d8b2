"""The H5 layouts (minibert variable path -> dataset in model.weights.h5 / task.weights.h5)
checked against files KerasHub's own save_to_preset writes, in both directions: minibert
reads KerasHub's files, and KerasHub loads files minibert writes."""
import os
import shutil

import h5py
import numpy as np
import pytest
from reference_libraries import require

from minibert.presets import keras_format as kf
from minibert.presets.errors import PresetFormatError, WeightMismatchError
from presets.reference import CONFIGS, TASKS, keras_hub_model, weights_by_path


def _kinds(task):
    return ("distil_bert" if task.startswith("Distil") else "bert",
            "masked_lm" if task.endswith("MaskedLM") else "text_classifier")


@pytest.mark.parametrize("num_layers", [1, 3])
@pytest.mark.parametrize("task", TASKS)
def test_layouts_read_keras_hub_files_and_keras_hub_reads_ours(task, num_layers, tmp_path):
    require("keras_hub")
    kind, task_kind = _kinds(task)
    config = dict(CONFIGS[0], num_layers=num_layers)
    model = keras_hub_model(task, config, preprocessor=True, seed=num_layers)
    directory = str(tmp_path / "kh")
    model.save_to_preset(directory)
    everything = weights_by_path(model)
    backbone = weights_by_path(model.backbone)
    heads = {p: v for p, v in everything.items() if p not in backbone}

    # KerasHub -> minibert: every variable path finds exactly KerasHub's array.
    layout = kf.backbone_layout(kind, num_layers)
    read = kf.read_weights_file(os.path.join(directory, "model.weights.h5"), layout)
    assert sorted(read) == sorted(backbone)
    for path, value in backbone.items():
        np.testing.assert_array_equal(read[path], value, err_msg=path)
    task_layout = kf.task_layout(task_kind, kind)
    read = kf.read_weights_file(os.path.join(directory, "task.weights.h5"), task_layout)
    assert sorted(read) == sorted(heads)
    for path, value in heads.items():
        np.testing.assert_array_equal(read[path], value, err_msg=path)

    # minibert -> KerasHub: files we write load into KerasHub, every weight in its place.
    rng = np.random.default_rng(7)
    new_backbone = {p: rng.standard_normal(v.shape).astype("float32") for p, v in backbone.items()}
    new_heads = {p: rng.standard_normal(v.shape).astype("float32") for p, v in heads.items()}
    kf.write_weights_file(os.path.join(directory, "model.weights.h5"), layout, new_backbone)
    kf.write_weights_file(os.path.join(directory, "task.weights.h5"), task_layout, new_heads,
                          optimizer=kf.FRESH_OPTIMIZER)
    reloaded = weights_by_path(type(model).from_preset(directory))
    for path, value in {**new_backbone, **new_heads}.items():
        np.testing.assert_array_equal(reloaded[path], value, err_msg=path)


def test_our_files_have_keras_hub_groups_and_layer_names(tmp_path):
    """Same group tree and recorded layer names as KerasHub's file (except the per-instance
    counters Keras appends to dropout/softmax names)."""
    require("keras_hub")
    model = keras_hub_model("BertMaskedLM", CONFIGS[1], preprocessor=False)
    directory = str(tmp_path / "kh")
    model.save_to_preset(directory)
    ours = str(tmp_path / "ours.weights.h5")
    kf.write_weights_file(ours, kf.backbone_layout("bert", CONFIGS[1]["num_layers"],
                                                   name=model.backbone.name),
                          weights_by_path(model.backbone))

    def tree(path):
        found = {}
        with h5py.File(path, "r") as f:
            def visit(name, obj):
                name_attr = obj.attrs.get("name") if not hasattr(obj, "shape") else None
                found[name] = (tuple(obj.shape) if hasattr(obj, "shape") else None,
                               None if name_attr is None or name_attr.startswith(
                                   ("dropout", "softmax")) else name_attr)
            f.visititems(visit)
        return found

    assert tree(ours) == tree(os.path.join(directory, "model.weights.h5"))


def test_sharded_weights_both_ways(tmp_path):
    require("keras_hub")
    model = keras_hub_model("BertBackbone", CONFIGS[0])
    directory = str(tmp_path / "kh")
    model.save_to_preset(directory, max_shard_size=0.00002)   # ~21 kB shards
    assert os.path.exists(os.path.join(directory, "model.weights.json"))
    files = kf.sharded_filenames(os.path.join(directory, "model.weights.json"), "index")
    assert len(files) > 1
    layout = kf.backbone_layout("bert", CONFIGS[0]["num_layers"])
    expected = weights_by_path(model)
    with kf._H5Files([(os.path.join(directory, f), f) for f in files]) as h5files:
        read = kf.read_layout(h5files, layout, "sharded")
    assert sorted(read) == sorted(expected)
    for path, value in expected.items():
        np.testing.assert_array_equal(read[path], value, err_msg=path)

    ours = str(tmp_path / "ours")
    os.makedirs(ours)
    shutil.copy(os.path.join(directory, "config.json"), ours)
    doubled = {p: 2 * v for p, v in expected.items()}
    written = kf.write_sharded_weights(ours, layout, doubled, 0.00002)
    assert len(written) > 2
    reloaded = weights_by_path(type(model).from_preset(ours))
    for path, value in doubled.items():
        np.testing.assert_array_equal(reloaded[path], value, err_msg=path)


# ------------------------------------------------------------------------ older files, errors
def _write_ours(path, kind="bert", num_layers=2, hidden=8, seed=0):
    layout = kf.backbone_layout(kind, num_layers)
    rng = np.random.default_rng(seed)
    shapes = _shapes(kind, hidden)
    arrays = {p: rng.standard_normal(shapes(p)).astype("float32")
              for layer in layout for p in layer.variables}
    kf.write_weights_file(path, layout, arrays)
    return layout, arrays


def _shapes(kind, hidden, heads=2, vocab=20, positions=16, intermediate=16):
    def shape(path):
        leaf = path.split("/")
        if "embeddings" == leaf[-1]:
            return ((positions if "position" in path else 2 if "segment" in path else vocab),
                    hidden)
        if leaf[-2] in ("query", "key", "value"):
            return (hidden, heads, hidden // heads) if leaf[-1] == "kernel" else (
                heads, hidden // heads)
        if leaf[-2] == "attention_output":
            return (heads, hidden // heads, hidden) if leaf[-1] == "kernel" else (hidden,)
        if leaf[-2] == "feedforward_intermediate_dense":
            return (hidden, intermediate) if leaf[-1] == "kernel" else (intermediate,)
        if leaf[-2] == "feedforward_output_dense":
            return (intermediate, hidden) if leaf[-1] == "kernel" else (hidden,)
        if leaf[-1] == "kernel":
            return (hidden, hidden)
        return (hidden,)
    return shape


def test_older_spellings_are_read(tmp_path):
    """MultiHeadAttention's private sublayer names and Keras 2.13's top group."""
    path = str(tmp_path / "old.weights.h5")
    layout, arrays = _write_ours(path)
    with h5py.File(path, "a") as f:
        for group in ("transformer_encoder", "transformer_encoder_1"):
            attention = f[f"layers/{group}/_self_attention_layer"]
            for name in ("query_dense", "key_dense", "value_dense", "output_dense"):
                attention.move(name, "_" + name)
            del attention["_query_dense/vars"].attrs["name"]
        f.move("layers", "_layer_checkpoint_dependencies")
    read = kf.read_weights_file(path, layout)
    assert sorted(read) == sorted(arrays)
    for p, value in arrays.items():
        np.testing.assert_array_equal(read[p], value, err_msg=p)


def test_bfloat16_datasets_round_trip(tmp_path):
    import ml_dtypes
    path = str(tmp_path / "bf16.weights.h5")
    layout = kf.task_layout("text_classifier", "bert")
    arrays = {"logits/kernel": np.arange(6, dtype="float32").reshape(2, 3).astype(
        ml_dtypes.bfloat16), "logits/bias": np.ones(3, ml_dtypes.bfloat16)}
    kf.write_weights_file(path, layout, arrays)
    read = kf.read_weights_file(path, layout)
    assert read["logits/kernel"].dtype == ml_dtypes.bfloat16
    np.testing.assert_array_equal(read["logits/kernel"].astype("float32"),
                                  np.arange(6, dtype="float32").reshape(2, 3))


def test_truncated_file_is_a_format_error_naming_the_file(tmp_path):
    path = str(tmp_path / "model.weights.h5")
    layout, _ = _write_ours(path)
    data = open(path, "rb").read()
    with open(path, "wb") as f:
        f.write(data[: len(data) // 2])
    with pytest.raises(PresetFormatError, match="model.weights.h5.*truncated or corrupt"):
        kf.read_weights_file(path, layout)
    with open(path, "wb") as f:
        f.write(b"not an hdf5 file at all")
    with pytest.raises(PresetFormatError, match="not a readable HDF5 file"):
        kf.read_weights_file(path, layout)


def test_missing_and_extra_datasets_are_listed_by_name(tmp_path):
    path = str(tmp_path / "model.weights.h5")
    layout, _ = _write_ours(path)
    with h5py.File(path, "a") as f:
        del f["layers/transformer_encoder_1/_feedforward_output_dense/vars/1"]
        f["layers/dense/vars/2"] = np.zeros(3, "float32")
        f["layers/mystery/vars/0"] = np.zeros(3, "float32")
    with pytest.raises(WeightMismatchError) as info:
        kf.read_weights_file(path, layout)
    message = str(info.value)
    assert "transformer_layer_1/feedforward_output_dense/bias" in message
    assert "layers/dense/vars/2" in message and "layers/mystery/vars/0" in message


def test_a_file_of_another_structure_fails_on_the_recorded_layer_names(tmp_path):
    """A 2-layer file read as 3 layers is missing weights; a file whose groups hold other
    layers (by their recorded names) is refused rather than loaded into the wrong places."""
    path = str(tmp_path / "model.weights.h5")
    _write_ours(path, num_layers=2)
    with pytest.raises(WeightMismatchError, match="transformer_layer_2"):
        kf.read_weights_file(path, kf.backbone_layout("bert", 3))
    with h5py.File(path, "a") as f:
        f["layers/dense/vars"].attrs["name"] = "logits"
    with pytest.raises(PresetFormatError, match="holds layer 'logits', expected 'pooled_dense'"):
        kf.read_weights_file(path, kf.backbone_layout("bert", 2))


def test_writing_refuses_weights_the_layout_has_no_place_for(tmp_path):
    layout = kf.task_layout("text_classifier", "bert")
    with pytest.raises(WeightMismatchError, match="no place for:\n  logits/extra"):
        kf.write_weights_file(str(tmp_path / "x.h5"), layout,
                              {"logits/kernel": np.zeros((2, 2)), "logits/bias": np.zeros(2),
                               "logits/extra": np.zeros(2)})


def test_weight_map_spells_out_the_counter_names():
    mapping = kf.weight_map(kf.backbone_layout("bert", 12))
    assert mapping["token_embedding/embeddings"] == "layers/reversible_embedding/vars/0"
    assert mapping["segment_embedding/embeddings"] == "layers/embedding/vars/0"
    assert mapping["pooled_dense/kernel"] == "layers/dense/vars/0"
    assert mapping["transformer_layer_0/self_attention_layer/query/kernel"] == (
        "layers/transformer_encoder/_self_attention_layer/query_dense/vars/0")
    assert mapping["transformer_layer_11/feedforward_layer_norm/beta"] == (
        "layers/transformer_encoder_11/_feedforward_layer_norm/vars/1")
    distil = kf.weight_map(kf.task_layout("text_classifier", "distil_bert"))
    assert distil == {"pooled_dense/kernel": "layers/dense/vars/0",
                      "pooled_dense/bias": "layers/dense/vars/1",
                      "logits/kernel": "layers/dense_1/vars/0",
                      "logits/bias": "layers/dense_1/vars/1"}
