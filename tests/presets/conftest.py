import pytest

from minibert.presets import download
from presets.hub_server import FakeHub


@pytest.fixture(autouse=True)
def isolated_caches(tmp_path, monkeypatch):
    """Every preset test gets its own empty caches, no offline switch, no real endpoint, and
    fast retries; nothing reads or writes the user's ~/.cache."""
    monkeypatch.setenv("MINIBERT_HOME", str(tmp_path / "minibert_home"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf_hub_cache"))
    monkeypatch.setenv("KAGGLEHUB_CACHE", str(tmp_path / "kagglehub_cache"))
    for name in ("MINIBERT_OFFLINE", "HF_HUB_OFFLINE", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN",
                 "HF_HOME", "HUGGINGFACE_HUB_CACHE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")     # nothing listens there
    monkeypatch.setattr(download, "RETRIES", 3)
    monkeypatch.setattr(download, "BACKOFF_SECONDS", 0.01)
    monkeypatch.setattr(download, "TIMEOUT_SECONDS", 5.0)
    return tmp_path


@pytest.fixture
def hub(monkeypatch):
    """A FakeHub on 127.0.0.1, with HF_ENDPOINT pointing at it."""
    server = FakeHub().start()
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    yield server
    server.stop()
