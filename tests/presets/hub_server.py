"""A local stand-in for the Hugging Face hub, on 127.0.0.1, for the download tests.

It answers ``HEAD`` / ``GET`` on ``/{owner}/{name}/resolve/{revision}/{file}`` the way the
hub does:

- a small ("git") file: 200, ``ETag`` = its git blob sha1, ``Content-Length``,
  ``X-Repo-Commit``;
- a large ("LFS") file: 302 to ``/cdn/<sha256>``, with ``X-Linked-Size``, ``X-Linked-Etag``
  (its sha256) and ``X-Repo-Commit`` on the redirect; the CDN serves the bytes and honours
  ``Range``;
- a missing file, repository or revision: 404 with the hub's ``X-Error-Code``.

Faults can be queued per file: ``"cut"`` (send the headers and half the body, then close the
connection), ``"500"`` (a server error). ``announce`` replaces the hash announced for a file
(a checksum mismatch). Every request is logged in ``requests`` as (method, path, headers).
"""
import hashlib
import http.server
import threading


def git_blob_sha1(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class FakeHub:
    def __init__(self):
        self.repos = {}
        self.requests = []
        self.faults = {}
        self.announce = {}
        self._lock = threading.Lock()
        self._server = None
        self._thread = None

    # ------------------------------------------------------------------ content
    def add_repo(self, repo_id, files, lfs=(), commit=None):
        """``files``: {name: bytes}; names in ``lfs`` are served through the CDN redirect."""
        commit = commit or hashlib.sha1(repo_id.encode() + b"".join(
            sorted(files.values()))).hexdigest()
        self.repos[repo_id] = {"commit": commit, "files": dict(files), "lfs": set(lfs)}
        return commit

    def fail(self, filename, *faults):
        """Queue faults for the next GETs of ``filename`` (one fault per GET)."""
        self.faults.setdefault(filename, []).extend(faults)

    def gets(self, filename=None):
        return [r for r in self.requests if r[0] == "GET"
                and (filename is None or r[1].endswith("/" + filename) or r[3] == filename)]

    # ------------------------------------------------------------------ server
    @property
    def url(self):
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self):
        hub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_HEAD(self):
                hub._handle(self, head=True)

            def do_GET(self):
                hub._handle(self, head=False)

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # ------------------------------------------------------------------ handling
    def _lookup_cdn(self, sha):
        for repo in self.repos.values():
            for name, data in repo["files"].items():
                if hashlib.sha256(data).hexdigest() == sha:
                    return name, data
        return None, None

    def _send(self, handler, status, headers=(), body=b"", head=False, cut=False):
        handler.send_response(status)
        for key, value in headers:
            handler.send_header(key, value)
        if not any(k.lower() == "content-length" for k, _ in headers):
            handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if head:
            return
        if cut:
            handler.wfile.write(body[: len(body) // 2])
            handler.wfile.flush()
            handler.close_connection = True
            return
        handler.wfile.write(body)

    def _handle(self, handler, head):
        method = "HEAD" if head else "GET"
        path = handler.path
        parts = path.lstrip("/").split("/")
        filename = None
        if len(parts) >= 2 and parts[0] == "cdn":
            filename, data = self._lookup_cdn(parts[1])
        with self._lock:
            self.requests.append((method, path, dict(handler.headers), filename))
        if parts[0] == "cdn":
            if data is None:
                return self._send(handler, 404, head=head)
            return self._serve_bytes(handler, filename, data, head)
        if len(parts) < 5 or parts[2] != "resolve":
            return self._send(handler, 404, [("X-Error-Code", "EntryNotFound")], head=head)
        repo_id, revision, name = "/".join(parts[:2]), parts[3], "/".join(parts[4:])
        repo = self.repos.get(repo_id)
        if repo is None:
            return self._send(handler, 404, [("X-Error-Code", "RepositoryNotFound")], head=head)
        if revision not in ("main", repo["commit"]):
            return self._send(handler, 404, [("X-Error-Code", "RevisionNotFound")], head=head)
        if name not in repo["files"]:
            return self._send(handler, 404, [("X-Error-Code", "EntryNotFound"),
                                             ("X-Repo-Commit", repo["commit"])], head=head)
        data = repo["files"][name]
        commit = ("X-Repo-Commit", repo["commit"])
        if name in repo["lfs"]:
            sha = hashlib.sha256(data).hexdigest()
            announced = self.announce.get(name, sha)
            return self._send(handler, 302, [
                ("Location", f"{self.url}/cdn/{sha}"), commit,
                ("X-Linked-Size", str(len(data))), ("X-Linked-Etag", f'"{announced}"'),
                ("ETag", '"0123456789abcdef0123456789abcdef01234567"')], head=head)
        etag = self.announce.get(name, git_blob_sha1(data))
        if head:
            return self._send(handler, 200, [commit, ("ETag", f'"{etag}"'),
                                             ("Content-Length", str(len(data)))], head=True)
        return self._serve_bytes(handler, name, data, head, [commit, ("ETag", f'"{etag}"')])

    def _serve_bytes(self, handler, name, data, head, extra=()):
        fault = None
        if not head:
            with self._lock:
                queue = self.faults.get(name)
                if queue:
                    fault = queue.pop(0)
        if fault == "500":
            return self._send(handler, 500, head=head)
        start = 0
        range_header = handler.headers.get("Range")
        if range_header and range_header.startswith("bytes=") and range_header.endswith("-"):
            start = int(range_header[len("bytes="):-1])
        if start:
            body = data[start:]
            content_range = f"bytes {start}-{len(data) - 1}/{len(data)}"
            headers = list(extra) + [("Content-Range", content_range),
                                     ("Content-Length", str(len(body)))]
            return self._send(handler, 206, headers, body, head, cut=fault == "cut")
        headers = list(extra) + [("Content-Length", str(len(data)))]
        return self._send(handler, 200, headers, data, head, cut=fault == "cut")
