"""torch.hub's URL helpers: load_state_dict_from_url, download_url_to_file, get_dir/set_dir.

Served by taimatsu_hub.testing.LocalHub on 127.0.0.1 (any of its file URLs is a plain URL).
"""

import hashlib
import os

import numpy as np
import pytest

import taimatsu
import taimatsu_hub as hub
from taimatsu.safetensors import save as st_save
from taimatsu_hub import _dirs
from taimatsu_hub.testing import LocalHub

STATE = {"weight": taimatsu.arange(6, dtype=taimatsu.float32).reshape(2, 3),
         "bias": taimatsu.tensor([1.0, -1.0])}


def checkpoint_bytes(tmp_path) -> bytes:
    path = tmp_path / "ckpt.pth"
    taimatsu.save(STATE, path)
    return path.read_bytes()


@pytest.fixture
def hub_dir(tmp_path):
    """set_dir to a fresh folder, restored afterwards."""
    saved = _dirs._hub_dir
    hub.set_dir(tmp_path / "hub")
    yield tmp_path / "hub"
    _dirs._hub_dir = saved


@pytest.fixture
def files(tmp_path):
    """A server and a helper that publishes bytes under a name and returns the URL."""
    with LocalHub() as server:
        published = {}

        def publish(name: str, data: bytes) -> str:
            published[name] = data
            server.add_repo("files/ckpt", published)
            return f"{server.endpoint}/files/ckpt/resolve/main/{name}"

        publish.server = server
        yield publish


def assert_state(state):
    assert sorted(state) == ["bias", "weight"]
    for k in STATE:
        np.testing.assert_array_equal(state[k].numpy(), STATE[k].numpy())


def test_get_dir_and_set_dir(monkeypatch, tmp_path):
    monkeypatch.setattr(_dirs, "_hub_dir", None)
    monkeypatch.setenv("TAIMATSU_HOME", str(tmp_path / "home"))
    assert hub.get_dir() == str(tmp_path / "home" / "hub")
    monkeypatch.delenv("TAIMATSU_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert hub.get_dir() == str(tmp_path / "xdg" / "taimatsu" / "hub")
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    hub.set_dir("~/models")
    assert hub.get_dir() == str(tmp_path / "user" / "models")


def test_load_state_dict_from_url_caches_under_the_url_file_name(files, hub_dir, tmp_path,
                                                                capsys):
    data = checkpoint_bytes(tmp_path)
    url = files("tiny.pth", data)
    assert_state(hub.load_state_dict_from_url(url, progress=False))
    cached = hub_dir / "checkpoints" / "tiny.pth"
    assert cached.read_bytes() == data
    assert f'Downloading: "{url}" to {cached}' in capsys.readouterr().err
    # the second call reads the cached file without a request
    files.server.requests.clear()
    assert_state(hub.load_state_dict_from_url(url, progress=False))
    assert files.server.requests == []
    # model_dir and file_name choose where it goes
    hub.load_state_dict_from_url(url, model_dir=tmp_path / "elsewhere", file_name="x.pt",
                                 progress=False)
    assert (tmp_path / "elsewhere" / "x.pt").read_bytes() == data


def test_check_hash_uses_the_prefix_in_the_file_name(files, hub_dir, tmp_path):
    data = checkpoint_bytes(tmp_path)
    digest = hashlib.sha256(data).hexdigest()
    good = files(f"tiny-{digest[:8]}.pth", data)
    assert_state(hub.load_state_dict_from_url(good, check_hash=True, progress=False))
    bad = files("tiny-deadbeef.pth", data)
    with pytest.raises(RuntimeError, match=f'invalid hash value \\(expected "deadbeef", '
                                           f'got "{digest}"\\)'):
        hub.load_state_dict_from_url(bad, check_hash=True, progress=False)
    # nothing is left behind: no target, no temporary
    assert sorted(os.listdir(hub_dir / "checkpoints")) == [f"tiny-{digest[:8]}.pth"]
    # without check_hash the same file is accepted
    assert_state(hub.load_state_dict_from_url(bad, progress=False))


def test_safetensors_url_and_weights_only(files, hub_dir, tmp_path):
    assert_state(hub.load_state_dict_from_url(files("tiny.safetensors", st_save(STATE)),
                                              progress=False))
    # a pickle naming a non-tensor global is refused unless weights_only=False
    path = tmp_path / "odd.pth"
    taimatsu.save({"w": STATE["weight"], "cls": hashlib.sha256}, path)
    url = files("odd.pth", path.read_bytes())
    with pytest.raises(Exception, match="(?i)weights_only|global"):
        hub.load_state_dict_from_url(url, progress=False)
    assert hub.load_state_dict_from_url(url, progress=False, weights_only=False)["cls"] \
        is hashlib.sha256


def test_download_url_to_file(files, tmp_path):
    data = os.urandom(3 << 20)  # several read chunks
    url = files("blob.bin", data)
    dst = tmp_path / "out" / "blob.bin"
    dst.parent.mkdir()
    hub.download_url_to_file(url, dst, progress=False)
    assert dst.read_bytes() == data
    digest = hashlib.sha256(data).hexdigest()
    hub.download_url_to_file(url, str(dst), hash_prefix=digest[:10], progress=True)
    dst.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="invalid hash value"):
        hub.download_url_to_file(url, dst, hash_prefix="0" * 10, progress=False)
    assert dst.read_bytes() == b"old"  # the target is replaced only by a verified download
    assert os.listdir(dst.parent) == ["blob.bin"]
