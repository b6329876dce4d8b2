"""``download_preset`` and ``minibert download``: every file the loaders read is fetched from a
local hub on 127.0.0.1 (every shard too), and the preset then loads offline from the cache."""
import json
import os
import warnings

import numpy as np
import pytest
from safetensors.numpy import save_file

from minibert.cli import main
from minibert.models import Backbone, BertBackbone, BertMaskedLM
from minibert.presets import download_preset
from minibert.presets.download import hub_cache_dir
from minibert.presets.errors import PresetFileNotFoundError, PresetWarning
from presets.builders import publish_sharded_keras_preset, read_dir, write_hf_dir

REPO = "someone/tiny-bert"
HANDLE = f"hf://{REPO}"
NOT_READ = {"README.md": b"# a model card nothing loads\n"}


def _hf_repo(tmp_path):
    """{name: bytes} of a tiny HF model directory with sentence_bert_config.json."""
    local = tmp_path / "tiny_hf"
    write_hf_dir(str(local), seed=5)
    (local / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 12}))
    return str(local), read_dir(str(local))


def _sharded_hf_repo(tmp_path):
    """An HF model directory whose weights are two safetensors shards and their index."""
    local = tmp_path / "sharded_hf"
    tensors = write_hf_dir(str(local), seed=6, mlm_head=False)
    os.remove(local / "model.safetensors")
    names = sorted(tensors)
    halves = {"model-00001-of-00002.safetensors": names[:len(names) // 2],
              "model-00002-of-00002.safetensors": names[len(names) // 2:]}
    for shard, keys in halves.items():
        save_file({k: tensors[k] for k in keys}, str(local / shard), metadata={"format": "pt"})
    index = {"metadata": {}, "weight_map": {k: shard for shard, keys in halves.items()
                                            for k in keys}}
    (local / "model.safetensors.index.json").write_text(json.dumps(index))
    return str(local), read_dir(str(local)), sorted(halves)


def _assert_same_weights(a, b):
    assert [v.path for v in a.weights] == [v.path for v in b.weights]
    for x, y in zip(a.weights, b.weights):
        np.testing.assert_array_equal(x.numpy(), y.numpy())


def _load_offline(monkeypatch, cls, preset):
    monkeypatch.setenv("MINIBERT_OFFLINE", "1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PresetWarning)
        return cls.from_preset(preset)


def test_download_preset_fetches_what_the_loader_reads_then_it_loads_offline(
        hub, tmp_path, monkeypatch):
    local, files = _hf_repo(tmp_path)
    hub.add_repo(REPO, {**files, **NOT_READ}, lfs={"model.safetensors"})
    fetched = download_preset(HANDLE)
    assert list(fetched)[0] == "config.json" and set(fetched) == set(files)
    assert hub.gets("README.md") == []
    for name, path in fetched.items():
        assert path.startswith(hub_cache_dir())
        with open(path, "rb") as f:
            assert f.read() == files[name]
    hub.stop()
    masked_lm = _load_offline(monkeypatch, BertMaskedLM, HANDLE)
    _assert_same_weights(masked_lm, BertMaskedLM.from_preset(local))
    assert masked_lm.preprocessor.sequence_length == 12      # sentence_bert_config.json


def test_a_sharded_repository_is_fetched_shard_by_shard(hub, tmp_path, monkeypatch):
    local, files, shards = _sharded_hf_repo(tmp_path)
    hub.add_repo(REPO, files, lfs=set(shards))
    fetched = download_preset(HANDLE)
    assert set(fetched) == set(files)
    assert sorted(r[3] for r in hub.gets() if r[3] in shards) == shards
    hub.stop()
    _assert_same_weights(_load_offline(monkeypatch, BertBackbone, HANDLE),
                         BertBackbone.from_preset(local))


def test_a_keras_hub_preset_on_the_hub_is_fetched_with_its_shards(hub, tmp_path, monkeypatch):
    model, files, _ = publish_sharded_keras_preset(hub, str(tmp_path / "p"))
    fetched = download_preset("hf://keras/tiny")
    assert set(fetched) == set(files) - {"metadata.json"}         # informational, never read
    hub.stop()
    _assert_same_weights(_load_offline(monkeypatch, Backbone, "hf://keras/tiny"), model)


def test_a_local_directory_or_built_in_preset_reports_its_files(tmp_path):
    local, files = _hf_repo(tmp_path)
    assert download_preset(local) == {name: os.path.join(local, name) for name in
                                      ["config.json", "model.safetensors",
                                       "tokenizer_config.json", "vocab.txt",
                                       "sentence_bert_config.json"]}
    assert all(os.path.isfile(path) for path in
               download_preset("bert_tiny_en_uncased_python_docs").values())


def test_a_missing_required_file_is_a_clear_error(hub, tmp_path):
    _, files = _hf_repo(tmp_path)
    del files["model.safetensors"]
    hub.add_repo(REPO, files)
    with pytest.raises(PresetFileNotFoundError, match="model.safetensors"):
        download_preset(HANDLE)


def test_the_download_command_lists_the_files_and_the_cache(hub, tmp_path, capsys,
                                                             monkeypatch):
    _, files = _hf_repo(tmp_path)
    hub.add_repo(REPO, files, lfs={"model.safetensors"})
    assert main(["download", HANDLE]) == 0
    output = capsys.readouterr().out
    for name in files:
        assert name in output
    assert hub_cache_dir() in output and f"{len(files)} files" in output
    hub.stop()
    monkeypatch.setenv("MINIBERT_OFFLINE", "1")
    assert main(["download", HANDLE]) == 0                    # everything is in the cache


@pytest.mark.parametrize("handle, message", [
    ("no_such_preset", "unknown preset"),
    (HANDLE, "offline mode is on"),
])
def test_the_download_command_exits_2_with_the_reason(handle, message, capsys, monkeypatch):
    monkeypatch.setenv("MINIBERT_OFFLINE", "1")
    assert main(["download", handle]) == 2
    error = capsys.readouterr().err
    assert error.startswith("minibert download: error:") and message in error


def test_the_download_command_exits_2_when_a_required_file_is_missing(hub, tmp_path, capsys):
    _, files = _hf_repo(tmp_path)
    del files["model.safetensors"]
    hub.add_repo(REPO, files)
    assert main(["download", HANDLE]) == 2
    assert "model.safetensors" in capsys.readouterr().err
