"""hf:// downloads against a local hub on 127.0.0.1: caching, redirects, retries after a
broken connection, checksum and size checks, 404s, offline mode and the HF cache layout."""
import hashlib
import os
import warnings

import numpy as np
import pytest

from minibert.presets import download, handles
from minibert.presets.errors import (ChecksumError, DownloadError, PresetError,
                                     PresetFileNotFoundError, PresetWarning)
from presets.builders import publish_sharded_keras_preset, read_dir, write_hf_dir

REPO = "someone/tiny-bert"
BIG = bytes(range(256)) * 4096                 # 1 MiB, served as an LFS file
SMALL = b'{"hello": "world"}\n'


def _snapshot_files(root):
    """Every file under the cache's snapshots/ and tmp/ directories."""
    found = []
    for dirpath, _, names in os.walk(root):
        found += [os.path.join(dirpath, n) for n in names]
    return [f for f in found if f"{os.sep}snapshots{os.sep}" in f or f"{os.sep}tmp{os.sep}" in f]


@pytest.fixture
def repo(hub):
    commit = hub.add_repo(REPO, {"big.bin": BIG, "config.json": SMALL,
                                 "sub/dir/file.txt": b"nested\n"}, lfs={"big.bin"})
    return commit


def test_small_and_lfs_files_are_downloaded_checked_and_cached(hub, repo, isolated_caches):
    path = download.hub_file(REPO, "big.bin")
    assert open(path, "rb").read() == BIG
    expected = os.path.join(str(isolated_caches / "minibert_home"), "hub",
                            "models--someone--tiny-bert", "snapshots", repo, "big.bin")
    assert path == expected
    with open(os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(path))),
                           "refs", "main")) as f:
        assert f.read() == repo
    assert open(download.hub_file(REPO, "config.json"), "rb").read() == SMALL
    assert open(download.hub_file(REPO, "sub/dir/file.txt"), "rb").read() == b"nested\n"
    # The LFS file went through the CDN redirect; HEAD did not follow it.
    assert [r for r in hub.requests if r[0] == "HEAD" and "/cdn/" in r[1]] == []
    assert len(hub.gets("big.bin")) == 1
    # A second request revalidates with HEAD only: no second GET.
    assert download.hub_file(REPO, "big.bin") == path
    assert len(hub.gets("big.bin")) == 1


def test_a_connection_cut_mid_file_is_resumed_with_a_range_request(hub, repo):
    hub.fail("big.bin", "cut", "cut")
    path = download.hub_file(REPO, "big.bin")
    assert open(path, "rb").read() == BIG
    gets = hub.gets("big.bin")
    assert len(gets) == 3
    assert "Range" not in gets[0][2]
    assert gets[1][2]["Range"] == f"bytes={len(BIG) // 2}-"


def test_server_errors_are_retried(hub, repo):
    hub.fail("config.json", "500", "500")
    assert open(download.hub_file(REPO, "config.json"), "rb").read() == SMALL
    assert len(hub.gets("config.json")) == 3


def test_persistent_failure_raises_and_leaves_no_partial_file(hub, repo, isolated_caches):
    hub.fail("big.bin", *["cut"] * (download.RETRIES + 1))
    with pytest.raises(DownloadError, match="after 4 attempts"):
        download.hub_file(REPO, "big.bin")
    assert _snapshot_files(str(isolated_caches / "minibert_home")) == []


@pytest.mark.parametrize("filename", ["big.bin", "config.json"], ids=["sha256", "git_sha1"])
def test_checksum_mismatch_is_an_error_and_nothing_is_cached(hub, repo, filename,
                                                             isolated_caches):
    wrong = hashlib.sha256(b"other").hexdigest()
    hub.announce[filename] = wrong if filename == "big.bin" else wrong[:40]
    with pytest.raises(ChecksumError, match="mismatch") as info:
        download.hub_file(REPO, filename)
    assert filename in str(info.value)
    assert _snapshot_files(str(isolated_caches / "minibert_home")) == []


def test_missing_file_repository_and_revision_are_clear_404s(hub, repo):
    with pytest.raises(PresetFileNotFoundError, match="`nope.json` doesn't exist in "
                                                      "hf://someone/tiny-bert"):
        download.hub_file(REPO, "nope.json")
    with pytest.raises(PresetFileNotFoundError, match="repository hf://other/repo"):
        download.hub_file("other/repo", "config.json")
    with pytest.raises(PresetFileNotFoundError, match="revision 'v9'"):
        download.hub_file(REPO, "config.json", revision="v9")
    assert not download.hub_file_exists(REPO, "nope.json")
    assert download.hub_file_exists(REPO, "config.json")


def test_offline_mode_reads_the_cache_and_names_what_is_missing(hub, repo, monkeypatch):
    path = download.hub_file(REPO, "big.bin")
    hub.stop()
    for switch in ("MINIBERT_OFFLINE", "HF_HUB_OFFLINE"):
        monkeypatch.setenv(switch, "1")
        assert download.hub_file(REPO, "big.bin") == path
        with pytest.raises(PresetFileNotFoundError) as info:
            download.hub_file(REPO, "config.json")
        message = str(info.value)
        assert "`config.json`" in message and "offline" in message
        assert "models--someone--tiny-bert" in message
        monkeypatch.delenv(switch)


def test_unreachable_hub_falls_back_to_the_cache_with_a_warning(hub, repo):
    path = download.hub_file(REPO, "config.json")
    hub.stop()
    with pytest.warns(PresetWarning, match="could not be reached"):
        assert download.hub_file(REPO, "config.json") == path
    with pytest.raises(DownloadError):
        download.hub_file(REPO, "big.bin")


def _fill_hf_cache(root, repo_id, commit, files):
    folder = os.path.join(root, "models--" + repo_id.replace("/", "--"))
    os.makedirs(os.path.join(folder, "refs"), exist_ok=True)
    with open(os.path.join(folder, "refs", "main"), "w") as f:
        f.write(commit)
    for name, data in files.items():
        path = os.path.join(folder, "snapshots", commit, *name.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    return folder


def test_the_hugging_face_cache_is_read(hub, isolated_caches, monkeypatch):
    commit = hub.add_repo(REPO, {"big.bin": BIG}, lfs={"big.bin"})
    folder = _fill_hf_cache(str(isolated_caches / "hf_hub_cache"), REPO, commit,
                            {"big.bin": BIG})
    expected = os.path.join(folder, "snapshots", commit, "big.bin")
    assert download.hub_file(REPO, "big.bin") == expected      # online: same commit, no GET
    assert hub.gets() == []
    hub.stop()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert download.hub_file(REPO, "big.bin") == expected
    assert download.hub_file(REPO, "big.bin", revision=commit) == expected


def test_hf_home_and_xdg_locate_the_hugging_face_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("HF_HUB_CACHE")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hfhome"))
    assert download.hf_hub_cache_dir() == str(tmp_path / "hfhome" / "hub")
    monkeypatch.delenv("HF_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert download.hf_hub_cache_dir() == str(tmp_path / "xdg" / "huggingface" / "hub")


def test_a_new_commit_on_main_is_downloaded_again(hub):
    first = hub.add_repo(REPO, {"config.json": b"one\n"})
    assert open(download.hub_file(REPO, "config.json"), "rb").read() == b"one\n"
    second = hub.add_repo(REPO, {"config.json": b"two\n"})
    assert first != second
    assert open(download.hub_file(REPO, "config.json"), "rb").read() == b"two\n"


@pytest.mark.parametrize("handle", [
    "hf://../etc", "hf://owner/..", "hf://a/b/c", "hf://owner/na me", "hf://owner/name@../x",
    "hf://owner/name@..", "hf:///abs", "hf://ow--ner/name", "kaggle://a/../b/c/d",
    "kaggle://keras/bert/keras/v/notanumber"])
def test_handles_that_could_escape_the_cache_are_refused(handle):
    with pytest.raises(PresetError):
        handles.resolve(handle)


@pytest.mark.parametrize("name", ["../x.json", "/etc/passwd", "a/../../b", "a\\b", "C:x",
                                  "a//b", "./a", "a/.hidden/../b", ""])
def test_file_names_that_escape_the_preset_are_refused(name):
    with pytest.raises(PresetError):
        handles.check_relative_path(name)


def test_an_index_naming_a_shard_outside_the_repository_is_refused(hub, tmp_path):
    hub.add_repo(REPO, {"config.json": b'{"model_type": "bert"}',
                        "model.safetensors.index.json":
                            b'{"weight_map": {"x": "../../evil.safetensors"}}'})
    from minibert.presets import hf_format
    with pytest.raises(PresetError, match="not a plain relative path"):
        hf_format.SafetensorsCheckpoint(handles.resolve(f"hf://{REPO}"))


# ------------------------------------------------------------------------------ end to end
def test_from_preset_over_hf_downloads_the_model_and_matches_the_local_directory(
        hub, tmp_path, monkeypatch):
    from minibert.models.backbone import Backbone
    local = tmp_path / "tiny_hf"
    write_hf_dir(str(local), seed=3)
    hub.add_repo(REPO, read_dir(str(local)), lfs={"model.safetensors"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PresetWarning)
        remote = Backbone.from_preset(f"hf://{REPO}")
        reference = Backbone.from_preset(str(local))
    assert type(remote).__name__ == "BertBackbone"
    for a, b in zip(remote.weights, reference.weights):
        assert a.path == b.path and np.array_equal(a.numpy(), b.numpy())
    # Offline, from the cache alone.
    hub.stop()
    monkeypatch.setenv("MINIBERT_OFFLINE", "1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PresetWarning)
        cached = Backbone.from_preset(f"hf://{REPO}")
    for a, b in zip(cached.weights, reference.weights):
        assert np.array_equal(a.numpy(), b.numpy())


def test_from_preset_over_hf_names_a_missing_weights_file(hub, tmp_path):
    from minibert.models.bert.bert_backbone import BertBackbone
    local = tmp_path / "tiny_hf"
    write_hf_dir(str(local))
    files = read_dir(str(local))
    del files["model.safetensors"]
    hub.add_repo(REPO, files)
    with pytest.raises(FileNotFoundError, match="model.safetensors"):
        BertBackbone.from_preset(f"hf://{REPO}")


def test_a_keras_hub_preset_on_the_hub_loads_sharded(hub, tmp_path):
    """KerasHub presets are also published on the HF hub; the shard names come from the
    downloaded model.weights.json and are fetched one by one."""
    from minibert.models.bert.bert_backbone import BertBackbone
    model, _, shards = publish_sharded_keras_preset(hub, str(tmp_path / "p"))
    loaded = BertBackbone.from_preset("hf://keras/tiny")
    for a, b in zip(loaded.weights, model.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert sorted({r[3] for r in hub.gets() if r[3] in shards}) == sorted(shards)
    assert len(hub.gets("config.json")) == 1              # asked once per load
