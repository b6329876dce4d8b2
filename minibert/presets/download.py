"""Files of ``hf://owner/name`` presets: plain HTTPS downloads into a cache, and the caches.

How one file is fetched (``hub_file``):

1. Offline (``MINIBERT_OFFLINE=1`` or ``HF_HUB_OFFLINE=1``): look in minibert's cache, then in
   the Hugging Face cache; if neither has it, say which file is missing and where we looked.
2. Online: a ``HEAD`` request on ``{endpoint}/{owner}/{name}/resolve/{revision}/{file}`` gives
   the commit (``X-Repo-Commit``), the size (``X-Linked-Size``, else ``Content-Length``) and the
   ETag (``X-Linked-Etag``, else ``ETag``). The hub answers a large (LFS) file with a redirect
   to its CDN; the ``X-Linked-*`` headers are on that redirect, so the ``HEAD`` follows only
   relative redirects (a renamed repository), never the CDN one.
3. If either cache already holds that commit's file, it is used as is (a commit never
   changes). Otherwise the file is streamed into a temporary file next to the cache, resumed
   with a ``Range`` request after a broken connection, retried with exponential backoff on
   network and server errors, checked against the announced size and hash (an ETag of 64 hex
   digits is the file's sha256; one of 40 is its git blob sha1), and only then renamed into
   place. A failed or interrupted download never leaves a partial file under a real name.

Cache layout (the Hugging Face hub's, so both caches are read by one function)::

    $MINIBERT_HOME/hub/models--owner--name/
        refs/main                      the commit "main" pointed to when last seen
        snapshots/<commit>/<file>      the files of that commit
        meta/<commit>/<file>.json      the ETag and size each download was checked against
        tmp/                           downloads in progress

``MINIBERT_HOME`` defaults to ``~/.cache/minibert``. The Hugging Face cache is
``$HF_HUB_CACHE``, else ``$HF_HOME/hub``, else ``~/.cache/huggingface/hub``; minibert reads it
but never writes to it. ``HF_ENDPOINT`` replaces ``https://huggingface.co`` (tests point it at
a server on 127.0.0.1); ``HF_TOKEN`` is sent, to that endpoint's host only, for private or
gated repositories.
"""
import hashlib
import http.client
import json
import os
import re
import socket
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

from minibert.presets.errors import (ChecksumError, DownloadError, PresetFileNotFoundError,
                                     preset_warning)
from minibert.progress import progress_bar

DEFAULT_ENDPOINT = "https://huggingface.co"
#: Attempts per request after the first one, and the first wait (doubled after each failure).
RETRIES = 5
BACKOFF_SECONDS = 1.0
TIMEOUT_SECONDS = 10.0
CHUNK_BYTES = 1 << 20
MAX_REDIRECTS = 10

_TRUE = ("1", "true", "yes", "on")
_COMMIT_RE = re.compile(r"[0-9a-f]{40}")
_RETRY_STATUS = (408, 429, 500, 502, 503, 504)


# ------------------------------------------------------------------------------ settings
def minibert_home():
    """The root of minibert's cache: ``$MINIBERT_HOME`` or ``~/.cache/minibert``."""
    return os.path.abspath(os.path.expanduser(
        os.environ.get("MINIBERT_HOME") or os.path.join("~", ".cache", "minibert")))


def hub_cache_dir():
    """Where minibert keeps ``hf://`` downloads."""
    return os.path.join(minibert_home(), "hub")


def hf_hub_cache_dir():
    """The Hugging Face hub cache (read only)."""
    if os.environ.get("HF_HUB_CACHE"):
        return os.path.expanduser(os.environ["HF_HUB_CACHE"])
    if os.environ.get("HUGGINGFACE_HUB_CACHE"):
        return os.path.expanduser(os.environ["HUGGINGFACE_HUB_CACHE"])
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache"), "huggingface")
    return os.path.join(os.path.expanduser(home), "hub")


def is_offline():
    """True when ``MINIBERT_OFFLINE`` or ``HF_HUB_OFFLINE`` is set to 1/true/yes/on."""
    return any(os.environ.get(name, "").strip().lower() in _TRUE
               for name in ("MINIBERT_OFFLINE", "HF_HUB_OFFLINE"))


def endpoint():
    """The hub's base URL: ``$HF_ENDPOINT`` or https://huggingface.co."""
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def repo_folder(cache_root, repo_id):
    """``cache_root/models--owner--name`` (the hub's naming)."""
    return os.path.join(cache_root, "models--" + repo_id.replace("/", "--"))


# ------------------------------------------------------------------------------ cache reads
def _read_ref(folder, revision):
    if _COMMIT_RE.fullmatch(revision):
        return revision
    try:
        with open(os.path.join(folder, "refs", *revision.split("/")), encoding="utf-8") as f:
            return f.read().strip() or None
    except OSError:
        return None


def cached_file(cache_root, repo_id, revision, filename):
    """The path of ``filename`` at ``revision`` in one cache, or None."""
    folder = repo_folder(cache_root, repo_id)
    commit = _read_ref(folder, revision)
    for key in filter(None, (commit, revision)):
        path = os.path.join(folder, "snapshots", key, *filename.split("/"))
        if os.path.isfile(path):
            return path
    return None


def _caches():
    return [hub_cache_dir(), hf_hub_cache_dir()]


# ------------------------------------------------------------------------------ HTTP
class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Hand every redirect back to the caller (it decides which to follow, and with what)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


class _Retriable(Exception):
    """A failure worth another attempt (network error, 5xx, short read)."""


def _headers(url, extra=None):
    headers = {"User-Agent": "minibert (python urllib)", "Accept-Encoding": "identity"}
    token = os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN")
    if token and urllib.parse.urlsplit(url).netloc == urllib.parse.urlsplit(endpoint()).netloc:
        headers["Authorization"] = f"Bearer {token}"
    headers.update(extra or {})
    return headers


def _open(url, method, extra_headers=None):
    """One request, redirects not followed. Returns (status, headers, response or None)."""
    request = urllib.request.Request(url, method=method, headers=_headers(url, extra_headers))
    try:
        response = _OPENER.open(request, timeout=TIMEOUT_SECONDS)
        return response.status, response.headers, response
    except urllib.error.HTTPError as error:
        headers = error.headers
        error.close()
        return error.code, headers, None
    except (urllib.error.URLError, http.client.HTTPException, socket.timeout,
            ConnectionError, TimeoutError) as error:
        raise _Retriable(f"{method} {url}: {error}") from error


def _http_failure(status, headers, url, filename, repo_id, revision):
    """The error for a final (non-2xx, non-redirect) status."""
    where = f"hf://{repo_id} (revision {revision})"
    if status == 404:
        code = (headers or {}).get("X-Error-Code", "")
        if code == "RepositoryNotFound":
            return PresetFileNotFoundError(f"repository {where} does not exist (HTTP 404 from "
                                           f"{url}); check the name, or set HF_TOKEN if it is "
                                           "private")
        if code == "RevisionNotFound":
            return PresetFileNotFoundError(f"revision {revision!r} of hf://{repo_id} does not "
                                           f"exist (HTTP 404 from {url})")
        return PresetFileNotFoundError(f"`{filename}` doesn't exist in {where} "
                                       f"(HTTP 404 from {url})")
    if status in (401, 403):
        return PresetFileNotFoundError(
            f"`{filename}` of {where} is not accessible (HTTP {status} from {url}): the "
            "repository is private or gated. Accept its terms on the hub and set HF_TOKEN.")
    if status in _RETRY_STATUS:
        return _Retriable(f"HTTP {status} from {url}")
    return DownloadError(f"`{filename}` of {where}: unexpected HTTP {status} from {url}")


def _with_retries(what, function):
    """Call ``function`` until it does not raise _Retriable, at most 1 + RETRIES times."""
    for attempt in range(RETRIES + 1):
        try:
            return function()
        except _Retriable as error:
            if attempt == RETRIES:
                raise DownloadError(f"{what}: failed after {RETRIES + 1} attempts; last "
                                    f"error: {error}") from error
            time.sleep(BACKOFF_SECONDS * 2 ** attempt)


def _normalize_etag(etag):
    if not etag:
        return None
    etag = etag.strip()
    if etag.startswith("W/"):
        etag = etag[2:]
    return etag.strip('"') or None


def _file_url(repo_id, revision, filename):
    return (f"{endpoint()}/{repo_id}/resolve/{urllib.parse.quote(revision, safe='')}/"
            f"{urllib.parse.quote(filename)}")


def file_metadata(repo_id, filename, revision="main"):
    """HEAD the file: {"commit", "etag", "size", "location"} (location: where to GET it)."""
    url = _file_url(repo_id, revision, filename)

    def head():
        current = url
        for _ in range(MAX_REDIRECTS):
            status, headers, response = _open(current, "HEAD")
            if response is not None:
                response.close()
            if status in (301, 302, 303, 307, 308):
                location = headers.get("Location")
                if not location:
                    raise DownloadError(f"HTTP {status} without Location from {current}")
                target = urllib.parse.urljoin(current, location)
                linked = headers.get("X-Linked-Etag") or headers.get("X-Linked-Size")
                if not linked and urllib.parse.urlsplit(location).netloc == "":
                    current = target                     # renamed repository: follow
                    continue
                return _metadata(headers, target, redirected=True)
            if 200 <= status < 300:
                return _metadata(headers, current, redirected=False)
            failure = _http_failure(status, headers, current, filename, repo_id, revision)
            raise failure
        raise DownloadError(f"too many redirects from {url}")

    return _with_retries(f"HEAD {url}", head)


def _metadata(headers, location, redirected):
    size = headers.get("X-Linked-Size") or (None if redirected else headers.get("Content-Length"))
    return {"commit": headers.get("X-Repo-Commit"),
            "etag": _normalize_etag(headers.get("X-Linked-Etag") or headers.get("ETag")),
            "size": int(size) if size is not None and str(size).isdigit() else None,
            "location": location}


def _stream_to(target_file, url, expected_size, label, failure):
    """GET ``url`` into the open binary ``target_file``, resuming after broken connections.
    ``failure(status, headers, url)`` makes the exception for a final HTTP error status."""

    def attempt():
        have = target_file.seek(0, os.SEEK_END)
        extra = {"Range": f"bytes={have}-"} if have else None
        current = url
        for _ in range(MAX_REDIRECTS):
            status, headers, response = _open(current, "GET", extra)
            if status in (301, 302, 303, 307, 308):
                current = urllib.parse.urljoin(current, headers.get("Location", ""))
                continue
            break
        else:
            raise DownloadError(f"too many redirects from {url}")
        if status == 416 and expected_size is not None and have == expected_size:
            return                                        # already complete
        if response is None:
            raise failure(status, headers, current)
        with response:
            if status == 200 and have:
                target_file.seek(0)                       # the server ignored the Range
                target_file.truncate()
            elif status == 206:
                start = re.match(r"bytes (\d+)-", headers.get("Content-Range", ""))
                if not start or int(start.group(1)) != have:
                    target_file.seek(0)
                    target_file.truncate()
                    raise _Retriable(f"bad Content-Range {headers.get('Content-Range')!r}")
            progress = _progress(expected_size, label, target_file.tell())
            try:
                while True:
                    try:
                        chunk = response.read(CHUNK_BYTES)
                    except (http.client.HTTPException, socket.timeout, ConnectionError,
                            TimeoutError) as error:
                        raise _Retriable(f"GET {current}: {error}") from error
                    if not chunk:
                        break
                    target_file.write(chunk)
                    if progress is not None:
                        progress.update(len(chunk))
            finally:
                if progress is not None:
                    progress.close()
        target_file.flush()
        got = target_file.tell()
        if expected_size is not None and got < expected_size:
            raise _Retriable(f"connection closed after {got} of {expected_size} bytes")

    _with_retries(f"GET {url}", attempt)


def _progress(total, label, initial):
    if total is None or total < 10 * CHUNK_BYTES:
        return None
    return progress_bar(total=total, initial=initial, unit="B", unit_scale=True, desc=label,
                        disable=None, leave=False)


def _verify(path, meta, label):
    """Check size and hash against the HEAD metadata; raise ChecksumError on a mismatch."""
    size = os.path.getsize(path)
    if meta["size"] is not None and size != meta["size"]:
        raise ChecksumError(f"{label}: the hub announced {meta['size']} bytes, "
                            f"received {size}")
    etag = (meta["etag"] or "").lower()
    if re.fullmatch(r"[0-9a-f]{64}", etag):
        digest, kind = hashlib.sha256(), "sha256"
    elif re.fullmatch(r"[0-9a-f]{40}", etag):
        digest, kind = hashlib.sha1(), "git blob sha1"
        digest.update(b"blob %d\0" % size)
    else:
        return                                            # no hash we can check
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK_BYTES), b""):
            digest.update(block)
    if digest.hexdigest() != etag:
        raise ChecksumError(f"{label}: {kind} mismatch: the hub announced {etag}, the "
                            f"downloaded file has {digest.hexdigest()}")


def _atomic_write_text(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        _remove(tmp)
        raise


def _remove(path):
    try:
        os.remove(path)
    except OSError:
        pass


def _download(repo_id, revision, filename, meta):
    """Fetch into minibert's cache; return the final path."""
    folder = repo_folder(hub_cache_dir(), repo_id)
    key = meta["commit"] or revision
    final = os.path.join(folder, "snapshots", key, *filename.split("/"))
    tmp_dir = os.path.join(folder, "tmp")
    os.makedirs(tmp_dir, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=tmp_dir, suffix=".incomplete")
    label = f"hf://{repo_id}/{filename}"
    try:
        with os.fdopen(fd, "w+b") as f:
            _stream_to(f, meta["location"], meta["size"], label,
                       lambda status, headers, url: _http_failure(
                           status, headers, url, filename, repo_id, revision))
        _verify(tmp, meta, label)
        os.makedirs(os.path.dirname(final), exist_ok=True)
        os.replace(tmp, final)
    except BaseException:
        _remove(tmp)
        raise
    _atomic_write_text(os.path.join(folder, "meta", key, *filename.split("/")) + ".json",
                       json.dumps({"etag": meta["etag"], "size": meta["size"]}))
    return final


def _etag_matches(cache_root, repo_id, key, filename, etag):
    path = os.path.join(repo_folder(cache_root, repo_id), "meta", key,
                        *filename.split("/")) + ".json"
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f).get("etag") == etag
    except (OSError, ValueError):
        return False


def _remember_ref(repo_id, revision, commit):
    if commit and revision != commit:
        _atomic_write_text(os.path.join(repo_folder(hub_cache_dir(), repo_id), "refs",
                                        *revision.split("/")), commit)


def _offline_error(repo_id, revision, filename, why):
    places = [os.path.join(repo_folder(c, repo_id), "snapshots") for c in _caches()]
    return PresetFileNotFoundError(
        f"`{filename}` of hf://{repo_id} (revision {revision}) is not in the caches and "
        f"{why}. Looked in: {'; '.join(places)}. Download it once with network access "
        "(unset MINIBERT_OFFLINE / HF_HUB_OFFLINE), or copy the files there.")


def hub_file(repo_id, filename, revision="main"):
    """The local path of ``filename`` of ``hf://repo_id`` at ``revision``, downloading it
    into minibert's cache if needed. Raises PresetFileNotFoundError if the hub does not have
    it (or, offline, if no cache has it), DownloadError / ChecksumError if fetching fails."""
    if is_offline():
        for cache in _caches():
            path = cached_file(cache, repo_id, revision, filename)
            if path:
                return path
        raise _offline_error(repo_id, revision, filename, "offline mode is on "
                             "(MINIBERT_OFFLINE or HF_HUB_OFFLINE)")
    try:
        meta = file_metadata(repo_id, filename, revision)
    except DownloadError as error:
        for cache in _caches():
            path = cached_file(cache, repo_id, revision, filename)
            if path:
                preset_warning(f"hf://{repo_id}: the hub could not be reached ({error}); using "
                              f"the cached {path}")
                return path
        raise
    key = meta["commit"] or revision
    for cache in _caches():
        path = os.path.join(repo_folder(cache, repo_id), "snapshots", key, *filename.split("/"))
        if os.path.isfile(path) and (meta["commit"] or _etag_matches(
                cache, repo_id, key, filename, meta["etag"])):
            _remember_ref(repo_id, revision, meta["commit"])
            return path
    path = _download(repo_id, revision, filename, meta)
    _remember_ref(repo_id, revision, meta["commit"])
    return path


def hub_file_exists(repo_id, filename, revision="main"):
    """Whether the repository has ``filename`` (offline: whether a cache has it); a file that
    exists is downloaded on the way, since it is about to be read."""
    if is_offline():
        return any(cached_file(c, repo_id, revision, filename) for c in _caches())
    try:
        hub_file(repo_id, filename, revision)
        return True
    except PresetFileNotFoundError:
        return False
