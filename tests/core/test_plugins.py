"""The plugin registry: entry points installed as dist-info folders, loaded lazily."""

import importlib.metadata
import re
import sys
import textwrap
from pathlib import Path

import pytest
import tomllib

import taimatsu
from taimatsu import plugins
from taimatsu.cli import main as cli_main

README = Path(__file__).resolve().parents[2] / "README.md"


def install_plugin(root: Path, dist: str, entry_points: dict, modules: dict) -> None:
    """Writes modules and a `dist-info` with entry points: what pip would leave behind."""
    for rel, code in modules.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(code))
    info = root / f"{dist.replace('-', '_')}-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1.0\n")
    lines = "".join(f"{k} = {v}\n" for k, v in entry_points.items())
    (info / "entry_points.txt").write_text(f"[taimatsu]\n{lines}")


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A fresh folder on sys.path, and a plugin manager that has not scanned yet."""
    monkeypatch.syspath_prepend(str(tmp_path))
    # See only the plugins a test installs, not the domain packages of this checkout.
    only_here = importlib.metadata.distributions
    monkeypatch.setattr(plugins.importlib.metadata, "distributions",
                        lambda: only_here(path=[str(tmp_path)]))
    plugins._reset()
    yield tmp_path
    plugins._reset()
    for name in [m for m in sys.modules if m.startswith("tm_test_plugin")]:
        del sys.modules[name]


PLUGIN_A = """
    from taimatsu.plugins import Weights, hookimpl

    def build(scale=1):
        return ("model-a", scale)

    @hookimpl
    def taimatsu_register_models(registry):
        registry.add("alpha", build, domain="vision", task="classification",
                     weights=[Weights("V1", filename="a.pt", num_params=3)])
        registry.add("beta", build, domain="text")

    @hookimpl
    def taimatsu_register_datasets(registry):
        registry.add("toy", dict, domain="vision")
"""


def test_entry_point_plugin_is_found_lazily(site):
    install_plugin(site, "tm-test-plugin-a", {"a": "tm_test_plugin_a"},
                   {"tm_test_plugin_a.py": PLUGIN_A})
    assert "tm_test_plugin_a" not in sys.modules  # nothing loaded before first use
    assert plugins.list_models() == ["alpha", "beta"]
    assert plugins.list_models(domain="vision") == ["alpha"]
    assert plugins.list_models(include="a*") == ["alpha"]
    assert plugins.list_models(exclude=["a*"]) == ["beta"]
    assert plugins.get_model("alpha", scale=2) == ("model-a", 2)
    assert plugins.get_model_weights("alpha")[0].num_params == 3
    assert plugins.get_dataset("toy", x=1) == {"x": 1}
    assert plugins.loaded_plugins() == {"a": "tm-test-plugin-a 0.1.0"}
    with pytest.raises(ValueError, match="Unknown model 'gamma'"):
        plugins.get_model("gamma")


def test_duplicate_names_are_refused_naming_both_plugins(site):
    install_plugin(site, "tm-test-plugin-a", {"a": "tm_test_plugin_a"},
                   {"tm_test_plugin_a.py": PLUGIN_A})
    install_plugin(site, "tm-test-plugin-b", {"b": "tm_test_plugin_b"}, {
        "tm_test_plugin_b.py": """
            from taimatsu.plugins import hookimpl

            @hookimpl
            def taimatsu_register_models(registry):
                registry.add("unique_b", dict, domain="audio")
                registry.add("alpha", dict, domain="audio")
        """})
    with pytest.warns(RuntimeWarning, match=r"model 'alpha' from plugin '[ab]' is already "
                      r"registered by plugin '[ab]'"):
        names = plugins.list_models()
    # whichever plugin loads second fails and is skipped whole (its other model too)
    assert names in (["alpha", "beta"], ["alpha", "unique_b"])


def test_broken_plugin_is_reported_and_skipped(site):
    install_plugin(site, "tm-test-plugin-broken", {"broken": "tm_test_plugin_broken"},
                   {"tm_test_plugin_broken.py": "raise ImportError('missing dependency')\n"})
    install_plugin(site, "tm-test-plugin-raises", {"raises": "tm_test_plugin_raises"}, {
        "tm_test_plugin_raises.py": """
            from taimatsu.plugins import hookimpl

            @hookimpl
            def taimatsu_register_models(registry):
                registry.add("half_done", dict, domain="x")
                raise RuntimeError("boom")
        """})
    with pytest.warns(RuntimeWarning) as record:
        assert plugins.list_models() == []
    messages = " ".join(str(w.message) for w in record)
    assert "'broken'" in messages and "missing dependency" in messages
    assert "'raises' raised in taimatsu_register_models" in messages and "boom" in messages


def test_direct_registration_and_errors():
    reg = plugins.Registry("model")
    reg.add("m", dict, domain="d")
    with pytest.raises(ValueError, match="already registered"):
        reg.add("m", dict, domain="d")
    with pytest.raises(TypeError, match="expected a callable"):
        reg.add("n", 3, domain="d")


def test_weights_from_local_file_with_hash_check(tmp_path):
    import hashlib
    path = tmp_path / "w.pt"
    path.write_bytes(b"not a checkpoint")
    good = hashlib.sha256(b"not a checkpoint").hexdigest()
    assert plugins.Weights("W", filename=str(path), sha256=good).local_file() == str(path)
    with pytest.raises(RuntimeError, match="invalid hash value"):
        plugins.Weights("W", filename=str(path), sha256="0" * 64).local_file()


def test_key_mapping():
    state = {"bert.a": 1, "b": 2}
    assert plugins.remap_keys(state, {"bert.a": "a"}) == {"a": 1, "b": 2}
    assert plugins.remap_keys(state, lambda k: k.removeprefix("bert.")) == {"a": 1, "b": 2}


def test_cli(site, capsys):
    install_plugin(site, "tm-test-plugin-a", {"a": "tm_test_plugin_a"},
                   {"tm_test_plugin_a.py": PLUGIN_A})
    assert cli_main(["models", "--domain", "vision"]) == 0
    assert capsys.readouterr().out.startswith("alpha\tvision\tclassification\tV1\ta")
    assert cli_main(["datasets"]) == 0
    assert "toy" in capsys.readouterr().out
    assert cli_main(["plugins"]) == 0
    assert "tm-test-plugin-a 0.1.0" in capsys.readouterr().out
    assert cli_main(["info"]) == 0
    out = capsys.readouterr().out
    assert f"taimatsu: {taimatsu.__version__}" in out and "NumPy" in out and "plugins: 1" in out


def test_readme_plugin_example_installs_and_works(site):
    text = README.read_text().split("### Write a plugin", 1)[1]
    toml_src = re.search(r"```toml\n(.*?)```", text, re.S).group(1)
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    meta = tomllib.loads(toml_src)
    name = meta["project"]["name"]
    eps = meta["project"]["entry-points"]["taimatsu"]
    module = next(iter(eps.values())).rsplit(".", 1)[0]
    install_plugin(site, name, eps, {f"{module}/__init__.py": "",
                                     f"{module}/plugin.py": code})
    assert "tiny_mlp" in plugins.list_models(domain="vision")
    model = plugins.get_model("tiny_mlp", num_classes=3)
    out = model(taimatsu.randn(2, 8, 8))
    assert out.shape == (2, 3)
    for name in [m for m in sys.modules if m.startswith(module)]:
        del sys.modules[name]
