"""push_to_hub (against a stand-in for huggingface_hub.HfApi), the `taimatsu hub` CLI, and
the core pieces the hub relies on: get_model's recorded config, Weights' hub options, the
CLI hook."""

import hashlib
import json
import sys

import numpy as np
import pytest
from core.test_plugins import install_plugin

import taimatsu
import taimatsu_hub as hub
from taimatsu import nn, plugins
from taimatsu.cli import main as cli_main
from taimatsu.safetensors import load_file
from taimatsu.safetensors import save as st_save
from taimatsu_hub import _pretrained
from taimatsu_hub.testing import LocalHub

PLUGIN = '''
    from taimatsu import nn
    from taimatsu.plugins import Weights, hookimpl

    def tm_cli_net(width=3):
        """A one-layer network for the CLI tests."""
        return nn.Sequential(nn.Linear(2, width))

    @hookimpl
    def taimatsu_register_models(registry):
        registry.add("tm_cli_net", tm_cli_net, domain="tabular",
                     weights=[Weights("W1", repo_id="tm/cli-net", filename="w.safetensors",
                                      sha256=SHA256)])
'''

STATE = {"0.weight": taimatsu.ones(3, 2), "0.bias": taimatsu.zeros(3)}
PUBLISHED = st_save(STATE)


@pytest.fixture
def site(tmp_path, monkeypatch):
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    code = PLUGIN.replace("SHA256", repr(hashlib.sha256(PUBLISHED).hexdigest()))
    install_plugin(root, "tm-cli-test", {"clitest": "tm_cli_test"}, {"tm_cli_test.py": code})
    plugins._reset()
    yield root
    plugins._reset()
    sys.modules.pop("tm_cli_test", None)


class FakeHfApi:
    """Records what push_to_hub asks of huggingface_hub.HfApi."""

    calls: list = []

    def __init__(self, endpoint=None, token=None):
        self.calls.append(("init", endpoint, token))

    def create_repo(self, repo_id, private=None, exist_ok=False):
        self.calls.append(("create_repo", repo_id, private, exist_ok))

    def upload_folder(self, *, repo_id, folder_path, commit_message, revision, create_pr):
        # the folder only exists during the call: read what would be uploaded now
        config = json.loads(open(f"{folder_path}/config.json").read())
        state = load_file(f"{folder_path}/model.safetensors")
        self.calls.append(("upload_folder", repo_id, commit_message, revision, create_pr,
                           config, sorted(state)))
        return "commit-info"


def test_push_to_hub_uploads_a_save_pretrained_folder(site, monkeypatch):
    FakeHfApi.calls = []
    monkeypatch.setattr(_pretrained, "HfApi", FakeHfApi)
    model = plugins.get_model("tm_cli_net", width=4)
    result = hub.push_to_hub(model, "me/net", private=True, token="t0k",
                             commit_message="first", endpoint="http://127.0.0.1:1")
    assert result == "commit-info"
    init, create, upload = FakeHfApi.calls
    assert init == ("init", "http://127.0.0.1:1", "t0k")
    assert create == ("create_repo", "me/net", True, True)
    assert upload[:5] == ("upload_folder", "me/net", "first", None, False)
    assert upload[5]["taimatsu"]["name"] == "tm_cli_net"
    assert upload[5]["taimatsu"]["kwargs"] == {"width": 4}
    assert upload[6] == ["0.bias", "0.weight"]
    with pytest.raises(ValueError, match="cannot tell how to rebuild"):
        hub.push_to_hub(nn.Linear(2, 2), "me/plain")


def test_get_model_records_its_config_outside_state_dict(site):
    model = plugins.get_model("tm_cli_net", width=5)
    assert model._taimatsu_hub_config == {"name": "tm_cli_net", "kwargs": {"width": 5}}
    assert sorted(model.state_dict()) == ["0.bias", "0.weight"]


def test_weights_pass_hub_options_and_delete_a_bad_download(site, tmp_path):
    record = plugins.get_model_weights("tm_cli_net")[0]
    with LocalHub() as server:
        server.add_repo("tm/cli-net", {"w.safetensors": PUBLISHED})
        state = record.get_state_dict(progress=False, cache_dir=tmp_path / "c",
                                      endpoint=server.endpoint)
        np.testing.assert_array_equal(state["0.weight"].numpy(), np.ones((3, 2)))
        server.add_repo("tm/cli-net", {"w.safetensors": PUBLISHED + b" "})
        with pytest.raises(RuntimeError, match="invalid hash value"):
            record.local_file(progress=False, cache_dir=tmp_path / "d",
                              endpoint=server.endpoint)
    assert not list((tmp_path / "d").rglob("w.safetensors"))
    assert not [p for p in (tmp_path / "d").rglob("*") if p.is_file() and
                "blobs" in p.parts]
    # the cached good copy is used with local_files_only, without any server
    path = record.local_file(cache_dir=tmp_path / "c", local_files_only=True)
    assert path.endswith("w.safetensors")


def test_cli_hub_commands(site, tmp_path, capsys):
    assert cli_main(["hub", "list", "--domain", "tabular"]) == 0
    assert capsys.readouterr().out == "tm_cli_net\n"
    assert cli_main(["hub", "help", "tm_cli_net"]) == 0
    out = capsys.readouterr().out
    assert "A one-layer network for the CLI tests." in out and "W1 (DEFAULT)" in out
    with LocalHub() as server:
        server.add_repo("tm/cli-net", {"w.safetensors": PUBLISHED, "config.json": b"{}"})
        common = ["--cache-dir", str(tmp_path / "c"), "--endpoint", server.endpoint,
                  "--no-progress"]
        assert cli_main(["hub", "download", "tm/cli-net", "w.safetensors", *common]) == 0
        path = capsys.readouterr().out.strip()
        assert open(path, "rb").read() == PUBLISHED
        assert cli_main(["hub", "load", "tm_cli_net", *common]) == 0
        out = capsys.readouterr().out
        assert "Linear(in_features=2, out_features=3, bias=True)" in out
        assert out.rstrip().endswith("Sequential: 9 parameters")
        assert cli_main(["hub", "load", "tm_cli_nte", "--no-weights", *common]) == 1
        err = capsys.readouterr().err
        assert err.startswith("taimatsu hub load: error: cannot load 'tm_cli_nte'")
        assert "Did you mean 'tm_cli_net'?" in err


def test_a_plugin_failing_to_add_commands_is_skipped(site, capsys):
    install_plugin(site, "tm-cli-broken", {"clibroken": "tm_cli_broken"}, {
        "tm_cli_broken.py": """
            from taimatsu.plugins import hookimpl

            @hookimpl
            def taimatsu_cli_commands(subparsers):
                subparsers.add_parser("half")
                raise RuntimeError("boom")
        """})
    plugins._reset()
    with pytest.warns(RuntimeWarning, match="'clibroken' raised in taimatsu_cli_commands.*boom"):
        assert cli_main(["hub", "list", "--domain", "tabular"]) == 0
    assert capsys.readouterr().out == "tm_cli_net\n"
    with pytest.warns(RuntimeWarning), pytest.raises(SystemExit):
        cli_main(["half"])  # rolled back: not a command
    sys.modules.pop("tm_cli_broken", None)
