"""Test helpers: a local stand-in for the Hugging Face Hub, and a hand-built cache.

Tests never reach the internet. `LocalHub` serves repositories from memory on 127.0.0.1
and answers what huggingface_hub's downloads ask for, so passing ``endpoint=hub.endpoint``
runs the real download path (HEAD then GET, commit and ETag headers, the cache layout,
snapshot_download's listing). `make_cache` writes a Hugging Face cache folder directly,
as an earlier download would have left it, for offline tests.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

__all__ = ["LocalHub", "make_cache", "fake_commit"]


def fake_commit(files: dict) -> str:
    """A 40-hex commit id derived from a repository's content."""
    h = hashlib.sha1()
    for path in sorted(files):
        h.update(path.encode() + b"\0" + hashlib.sha1(files[path]).digest())
    return h.hexdigest()


class LocalHub:
    """The Hub's download API over in-memory repositories, on a free port of 127.0.0.1.

    Use as a context manager::

        with LocalHub() as hub:
            hub.add_repo("org/model", {"config.json": b"{}", "model.safetensors": data})
            hf_hub_download("org/model", "config.json", endpoint=hub.endpoint, cache_dir=...)

    Answers ``HEAD/GET /{repo}/resolve/{revision}/{path}`` (X-Repo-Commit, ETag,
    Content-Length), ``GET /api/models/{repo}/revision/{revision}`` and
    ``GET /api/models/{repo}/tree/{revision}`` (what snapshot_download lists). Unknown
    repositories, revisions and files get the Hub's error codes. Every request path is
    recorded in `requests`.
    """

    def __init__(self):
        self.repos: dict[str, dict] = {}
        self.requests: list[tuple[str, str]] = []
        self._server: ThreadingHTTPServer | None = None

    def add_repo(self, repo_id: str, files: dict, revision: str = "main") -> str:
        """Publishes `files` (path -> bytes) as `repo_id` at `revision`; returns the commit."""
        commit = fake_commit(files)
        repo = self.repos.setdefault(repo_id, {})
        repo[revision] = repo[commit] = (commit, dict(files))
        return commit

    @property
    def endpoint(self) -> str:
        if self._server is None:
            raise RuntimeError("LocalHub is not running: use it as a context manager")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> LocalHub:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._server = None

    def _lookup(self, repo_id: str, revision: str):
        """(commit, files) or an error code for the Hub's X-Error-Code header."""
        repo = self.repos.get(repo_id)
        if repo is None:
            return "RepoNotFound"
        return repo.get(revision, "RevisionNotFound")


def _split_repo(parts: list[str], marker: str):
    """Splits `org/name/<marker>/<revision>/rest` at the marker: (repo, revision, rest)."""
    if marker not in parts:
        return None
    i = parts.index(marker)
    if i == 0 or i + 1 >= len(parts):
        return None
    return "/".join(parts[:i]), parts[i + 1], "/".join(parts[i + 2:])


def _handler_for(hub: LocalHub):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output quiet
            pass

        def do_HEAD(self):
            self._answer(body=False)

        def do_GET(self):
            self._answer(body=True)

        def _answer(self, body: bool):
            path = urlsplit(self.path).path
            hub.requests.append((self.command, path))
            parts = [unquote(p) for p in path.strip("/").split("/")]
            if parts[:2] == ["api", "models"]:
                return self._api(parts[2:], body)
            found = _split_repo(parts, "resolve")
            if found is None:
                return self._error(404, "EntryNotFound", body)
            repo_id, revision, filename = found
            state = hub._lookup(repo_id, revision)
            if isinstance(state, str):
                return self._error(404 if state == "RevisionNotFound" else 401, state, body)
            commit, files = state
            if filename not in files:
                return self._error(404, "EntryNotFound", body, commit)
            data = files[filename]
            self.send_response(200)
            self.send_header("X-Repo-Commit", commit)
            self.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Content-Type", "application/octet-stream")
            self.end_headers()
            if body:
                self.wfile.write(data)

        def _api(self, parts: list[str], body: bool):
            for marker in ("revision", "tree"):
                found = _split_repo(parts, marker)
                if found is not None:
                    break
            else:
                return self._error(404, "RepoNotFound", body)
            repo_id, revision, _ = found
            state = hub._lookup(repo_id, revision)
            if isinstance(state, str):
                return self._error(404 if state == "RevisionNotFound" else 401, state, body)
            commit, files = state
            if marker == "revision":
                payload = {"id": repo_id, "sha": commit,
                           "siblings": [{"rfilename": p} for p in sorted(files)]}
            else:
                payload = [{"type": "file", "path": p, "size": len(files[p]),
                            "oid": hashlib.sha1(files[p]).hexdigest()} for p in sorted(files)]
            self._json(payload, body)

        def _json(self, payload, body: bool):
            data = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if body:
                self.wfile.write(data)

        def _error(self, status: int, code: str, body: bool, commit: str | None = None):
            data = json.dumps({"error": code}).encode()
            self.send_response(status)
            self.send_header("X-Error-Code", code)
            if commit is not None:
                self.send_header("X-Repo-Commit", commit)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if body:
                self.wfile.write(data)

    return Handler


def make_cache(cache_dir, repo_id: str, files: dict, revision: str = "main") -> str:
    """Writes `files` (path -> bytes) into a Hugging Face cache as a finished download would.

    Layout: ``models--org--name/{blobs/<sha256>, refs/<revision>, snapshots/<commit>/<path>}``
    (plain copies in snapshots instead of symlinks, which huggingface_hub accepts).
    Returns the snapshot folder.
    """
    commit = fake_commit(files)
    root = os.path.join(os.fspath(cache_dir), "models--" + repo_id.replace("/", "--"))
    snapshot = os.path.join(root, "snapshots", commit)
    for rel, data in files.items():
        blob = os.path.join(root, "blobs", hashlib.sha256(data).hexdigest())
        os.makedirs(os.path.dirname(blob), exist_ok=True)
        with open(blob, "wb") as f:
            f.write(data)
        target = os.path.join(snapshot, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as f:
            f.write(data)
    os.makedirs(os.path.join(root, "refs"), exist_ok=True)
    with open(os.path.join(root, "refs", revision), "w") as f:
        f.write(commit)
    return snapshot
