"""torch.hub and taimatsu_hub fetch the same URL into the same file, check hashes the same
way and fail with the same message (skipped without torch)."""

import hashlib
import os

import numpy as np
import pytest

import taimatsu
import taimatsu_hub as hub
from taimatsu_hub.testing import LocalHub


@pytest.fixture
def url_of(tmp_path):
    with LocalHub() as server:
        published = {}

        def publish(name: str, data: bytes) -> str:
            published[name] = data
            server.add_repo("files/ckpt", published)
            return f"{server.endpoint}/files/ckpt/resolve/main/{name}"

        yield publish


def test_load_state_dict_from_url_matches_torch_hub(torch, url_of, tmp_path):
    state = {"w": torch.randn(3, 4), "b": torch.arange(3)}
    path = tmp_path / "src.pth"
    torch.save(state, path)
    data = path.read_bytes()
    prefix = hashlib.sha256(data).hexdigest()[:8]
    url = url_of(f"net-{prefix}.pth", data)
    ours = hub.load_state_dict_from_url(url, model_dir=tmp_path / "ours", check_hash=True,
                                        progress=False)
    theirs = torch.hub.load_state_dict_from_url(url, model_dir=str(tmp_path / "theirs"),
                                                check_hash=True, progress=False)
    assert os.listdir(tmp_path / "ours") == os.listdir(tmp_path / "theirs")
    for k in state:
        np.testing.assert_array_equal(ours[k].numpy(), theirs[k].numpy())
    assert ours["b"].dtype == taimatsu.int64


def test_hash_mismatch_message_matches_torch_hub(torch, url_of, tmp_path):
    url = url_of("blob.bin", b"some bytes")
    messages = []
    for fn, folder in ((hub.download_url_to_file, "ours"),
                       (torch.hub.download_url_to_file, "theirs")):
        (tmp_path / folder).mkdir()
        with pytest.raises(RuntimeError) as info:
            fn(url, str(tmp_path / folder / "blob.bin"), hash_prefix="abc", progress=False)
        messages.append(str(info.value))
        assert os.listdir(tmp_path / folder) == []  # no target and no temporary left
    assert messages[0] == messages[1]
