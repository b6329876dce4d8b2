"""From a preset handle to files on disk.

A preset is one of (the forms KerasHub accepts, minus ModelScope and gs://):

    "bert_base_en_uncased"               a built-in name -> its kaggle:// handle, or the
                                         directory inside the package of a preset minibert
                                         ships ("bert_tiny_en_uncased_python_docs")
    "kaggle://keras/bert/keras/bert_base_en_uncased/3"
                                         through the ``kagglehub`` package (and its cache)
    "hf://owner/name"  or "hf://owner/name@revision"
                                         plain HTTPS downloads into minibert's cache
                                         (see ``download.py``)
    "./path/to/dir"                      a local directory (a KerasHub preset or an HF model)

``resolve(preset)`` returns a ``PresetSource`` with ``get_file(path)`` (a local path, fetched
if needed; PresetFileNotFoundError if the preset has no such file) and ``exists(path)``.

Every file name asked of a source, including names read from index files inside the preset
(``model.weights.json``, ``model.safetensors.index.json``), must be a plain relative path:
no ``..``, no absolute path, no backslash, only letters, digits and ``._-`` in each part. So
nothing a remote repository says can make minibert read or write outside its directory.
"""
import difflib
import os
import re

from minibert.presets import download
from minibert.presets.errors import PresetError, PresetFileNotFoundError

_PART = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")
_HF_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}")
_REVISION = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*)*")
_KAGGLE_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def check_relative_path(path, what="file name"):
    """Refuse anything but a plain relative path (``a/b.json``); return it unchanged."""
    if not isinstance(path, str) or not path:
        raise PresetError(f"{what}: expected a relative path, got {path!r}")
    parts = path.split("/")
    if (path.startswith("/") or "\\" in path or ":" in path
            or any(part in ("", ".", "..") or not _PART.fullmatch(part) for part in parts)):
        raise PresetError(f"{what}: {path!r} is not a plain relative path (parts of letters, "
                          "digits and ._- only; no '..', no absolute path)")
    return path


def check_hf_repo_id(repo_id):
    """``owner/name`` (or a bare legacy ``name``) with the hub's character rules."""
    parts = repo_id.split("/")
    if (len(parts) not in (1, 2) or any(not _HF_PART.fullmatch(p) for p in parts)
            or "--" in repo_id or ".." in repo_id
            or any(p.endswith((".", "-")) for p in parts)):
        raise PresetError(
            f"hf:// handle: {repo_id!r} is not a valid repository id. Expected "
            "'hf://owner/name' (letters, digits and ._- ; no '..' or '--'), for example "
            "'hf://google-bert/bert-base-uncased'.")
    return repo_id


def check_revision(revision):
    if not _REVISION.fullmatch(revision) or ".." in revision:
        raise PresetError(f"hf:// handle: revision {revision!r} is not a valid branch, tag or "
                          "commit (letters, digits and ._-/ ; no '..')")
    return revision


class PresetSource:
    """Where a preset's files come from."""

    #: A short description for messages ("hf://owner/name", "./dir", ...).
    description = ""

    def get_file(self, path):
        raise NotImplementedError

    def exists(self, path):
        try:
            self.get_file(path)
            return True
        except FileNotFoundError:
            return False


class _RemoteSource(PresetSource):
    """A source whose files are fetched: each answer (a path, or "not there") is remembered
    for the life of the source, so one load asks the network once per file."""

    def __init__(self):
        self._answers = {}

    def _fetch(self, path):
        raise NotImplementedError

    def get_file(self, path):
        check_relative_path(path)
        if path not in self._answers:
            try:
                self._answers[path] = self._fetch(path)
            except FileNotFoundError as error:
                self._answers[path] = error
        answer = self._answers[path]
        if isinstance(answer, FileNotFoundError):
            raise answer
        return answer

    def __repr__(self):
        return f"<{type(self).__name__} {self.description}>"


class LocalSource(PresetSource):
    def __init__(self, directory, description=None):
        self.directory = os.path.abspath(os.path.expanduser(directory))
        self.description = description or str(directory)

    def get_file(self, path):
        check_relative_path(path)
        full = os.path.join(self.directory, *path.split("/"))
        if not os.path.isfile(full):
            raise PresetFileNotFoundError(f"`{path}` doesn't exist in preset directory "
                                          f"`{self.description}`")
        return full

    def exists(self, path):
        check_relative_path(path)
        return os.path.isfile(os.path.join(self.directory, *path.split("/")))


class HFSource(_RemoteSource):
    def __init__(self, repo_id, revision="main"):
        super().__init__()
        self.repo_id = check_hf_repo_id(repo_id)
        self.revision = check_revision(revision)
        self.description = f"hf://{repo_id}" + ("" if revision == "main" else f"@{revision}")

    def _fetch(self, path):
        return download.hub_file(self.repo_id, path, self.revision)


class KaggleSource(_RemoteSource):
    """Files of a Kaggle Models handle, through ``kagglehub`` (its own cache and credentials).

    Offline, kagglehub's cache (``$KAGGLEHUB_CACHE`` or ``~/.cache/kagglehub``) is read
    directly; without a version in the handle the highest cached version is used.
    """

    def __init__(self, handle, description=None):
        super().__init__()
        parts = handle.split("/")
        if len(parts) not in (4, 5) or not all(_KAGGLE_PART.fullmatch(p) for p in parts) or (
                len(parts) == 5 and not parts[4].isdigit()):
            raise PresetError(
                "kaggle:// handle: expected kaggle://owner/model/framework/variation"
                f"[/version] (version a number), got {'kaggle://' + handle!r}")
        self.handle = handle
        self.description = description or f"kaggle://{handle}"

    def _offline_path(self, path):
        root = os.environ.get("KAGGLEHUB_CACHE") or os.path.join(
            os.path.expanduser("~"), ".cache", "kagglehub")
        parts = self.handle.split("/")
        base = os.path.join(root, "models", *parts[:4])
        versions = [parts[4]] if len(parts) == 5 else sorted(
            (v for v in (os.listdir(base) if os.path.isdir(base) else []) if v.isdigit()),
            key=int, reverse=True)
        for version in versions:
            full = os.path.join(base, version, *path.split("/"))
            if os.path.isfile(full):
                return full
        raise PresetFileNotFoundError(
            f"`{path}` of {self.description} is not in kagglehub's cache ({base}) and offline "
            "mode is on (MINIBERT_OFFLINE). Download it once with network access.")

    def _fetch(self, path):
        if download.is_offline():
            return self._offline_path(path)
        try:
            import kagglehub
        except ImportError as error:
            raise ImportError(
                f"loading {self.description} needs the `kagglehub` package "
                "(pip install kagglehub); or download the preset directory yourself and "
                "pass its path") from error
        try:
            return kagglehub.model_download(self.handle, path)
        except FileNotFoundError:
            raise
        except Exception as error:                        # kagglehub's HTTP errors
            message = str(error)
            if "404" in message or "is not present in the model files" in message:
                raise PresetFileNotFoundError(
                    f"`{path}` doesn't exist in preset {self.description}") from error
            if "403" in message:
                raise PresetFileNotFoundError(
                    f"`{path}` of {self.description} is not accessible (HTTP 403); if the "
                    "model is gated, accept its terms on kaggle.com and retry") from error
            raise


def resolve(preset):
    """The PresetSource of a preset handle (see the module docstring for the forms)."""
    if not isinstance(preset, (str, os.PathLike)):
        raise PresetError(f"preset: expected a name, a handle or a directory, got "
                          f"{type(preset).__name__} {preset!r}")
    preset = os.fspath(preset)
    from minibert.presets import registry
    entry = registry.get_builtin(preset)
    if entry is not None and "kaggle_handle" in entry:
        handle = entry["kaggle_handle"]
        return KaggleSource(handle[len("kaggle://"):], f"{preset} ({handle})")
    if entry is not None:
        return LocalSource(registry.builtin_directory(preset), f"{preset} (built in)")
    scheme, sep, rest = preset.partition("://")
    if sep:
        scheme = scheme.lower()
        if scheme == "kaggle":
            return KaggleSource(rest)
        if scheme == "hf":
            repo_id, _, revision = rest.partition("@")
            return HFSource(repo_id, revision or "main")
        raise PresetError(f"preset {preset!r}: unknown scheme {scheme + '://'!r}; minibert "
                          "reads kaggle://, hf:// and local directories")
    if os.path.isdir(preset):
        return LocalSource(preset)
    if os.path.exists(preset):
        raise PresetError(f"preset {preset!r} is a file; a preset is a directory (holding "
                          "config.json and the weights)")
    if os.sep in preset or "/" in preset or preset.startswith("."):
        raise PresetFileNotFoundError(f"preset directory {preset!r} does not exist")
    close = difflib.get_close_matches(preset, list(registry.builtin_presets()), n=3)
    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
    raise PresetError(
        f"unknown preset {preset!r}: not a built-in name, not a kaggle:// or hf:// handle, "
        f"and no such directory.{hint} Built-in names: "
        f"{', '.join(sorted(registry.builtin_presets()))}.")
