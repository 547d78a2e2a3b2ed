"""Whole pickled Modules through save/load (weights_only=False, map_location), and the
weights_only allow-list: add_safe_globals / safe_globals for a script's own classes and for
NumPy arrays, dtypes and scalars; get_unsafe_globals_in_checkpoint."""

import io
import os
import pickle
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest

import taimatsu as tm
from taimatsu import nn, optim, serialization
from taimatsu.serialization import _zip

MODEL_SOURCE = textwrap.dedent('''
    import taimatsu as tm
    from taimatsu import nn


    class Block(nn.Module):
        def __init__(self, width):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(width, width), nn.ReLU())
            self.norm = nn.LayerNorm(width)
            self.register_buffer("scale", tm.full((width,), 2.0))
            self.register_buffer("cache", tm.zeros(1), persistent=False)

        def forward(self, x):
            return self.norm(self.body(x)) * self.scale


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([Block(4), Block(4)])
            self.head = nn.Linear(4, 2)
            self.gain = nn.Parameter(tm.ones(2))
            self.name = "net"

        def forward(self, x):
            for block in self.blocks:
                x = block(x)
            return self.head(x) * self.gain
''')


@pytest.fixture(autouse=True)
def _no_leftover_safe_globals():
    serialization.clear_safe_globals()
    yield
    serialization.clear_safe_globals()


@pytest.fixture
def models(tmp_path, monkeypatch):
    """An importable module `user_models` (a script's own classes) on sys.path."""
    (tmp_path / "user_models.py").write_text(MODEL_SOURCE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "user_models", raising=False)
    import user_models
    return user_models


def _bytes(obj, **kwargs) -> bytes:
    buf = io.BytesIO()
    tm.save(obj, buf, **kwargs)
    return buf.getvalue()


def _pickle_of(data: bytes) -> bytes:
    z = zipfile.ZipFile(io.BytesIO(data))
    return z.read(next(n for n in z.namelist() if n.endswith("data.pkl")))


def _archive(pickle_bytes: bytes) -> io.BytesIO:
    buf = io.BytesIO()
    writer = _zip.ZipWriter(buf)
    writer.write_record("archive/data.pkl", pickle_bytes)
    writer.finish()
    buf.seek(0)
    return buf


def _trained(models):
    tm.manual_seed(0)
    net = models.Net()
    opt = optim.Adam(net.parameters(), lr=0.1)
    net(tm.randn(3, 4)).sum().backward()
    opt.step()
    return net, opt


# -- whole modules, weights_only=False -------------------------------------------------------
def test_whole_module_roundtrip(models, tmp_path):
    net, opt = _trained(models)
    path = tmp_path / "whole.pt"
    tm.save({"model": net, "optim": opt.state_dict(), "epoch": 3}, path)
    back = tm.load(path, weights_only=False)
    model = back["model"]
    assert type(model) is models.Net and type(model.blocks[1]) is models.Block
    assert model.name == "net" and back["epoch"] == 3
    x = tm.randn(5, 4)
    assert tm.equal(model(x), net(x))
    assert isinstance(model.gain, nn.Parameter) and model.gain.requires_grad
    assert model.blocks[0].scale.tolist() == [2.0] * 4
    assert "blocks.0.cache" not in model.state_dict()  # still non-persistent
    assert list(model.state_dict()) == list(net.state_dict())
    # the loaded model trains, and the optimizer state drives a new optimizer
    opt2 = optim.Adam(model.parameters(), lr=0.1)
    opt2.load_state_dict(back["optim"])
    model(x).sum().backward()
    opt2.step()
    assert opt2.state[model.gain]["step"].item() == 2


def test_shared_submodules_and_parameters_stay_shared(models):
    shared = nn.Linear(4, 4)
    seq = nn.Sequential(shared, nn.Tanh(), shared)
    back = tm.load(io.BytesIO(_bytes(seq)), weights_only=False)
    assert back[0] is back[2] and back[0].weight is back[2].weight
    assert len(list(back.parameters())) == 2


def test_multihead_attention_pickles_under_torchs_path():
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    data = _bytes(layer)
    assert b"taimatsu.nn.modules.activation\nMultiheadAttention" in _pickle_of(data)
    back = tm.load(io.BytesIO(data), weights_only=False)
    x = tm.randn(2, 3, 8)
    layer.eval()
    back.eval()
    assert tm.allclose(back(x), layer(x))


@pytest.mark.parametrize("map_location", [
    "cpu", tm.device("cpu"), {"cpu": "cpu"}, lambda storage, location: storage,
    lambda storage, location: None,
], ids=["str", "device", "dict", "callable", "callable-none"])
def test_whole_module_map_location(models, map_location):
    net, _ = _trained(models)
    back = tm.load(io.BytesIO(_bytes(net)), map_location=map_location, weights_only=False)
    x = tm.randn(2, 4)
    assert tm.equal(back(x), net(x)) and back.head.weight.device == tm.device("cpu")


def test_map_location_callable_sees_every_storage(models):
    net, _ = _trained(models)
    seen = []

    def where(storage, location):
        seen.append((location, storage.numel()))
        return storage

    tm.load(io.BytesIO(_bytes(net)), map_location=where, weights_only=False)
    persistent = [t for t in list(net.parameters()) + list(net.buffers())]
    assert len(seen) == len(persistent) and {loc for loc, _ in seen} == {"cpu"}


def test_map_location_to_a_missing_gpu_is_clear(models):
    if tm.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match="taimatsu.cuda.is_available\\(\\) is False"):
        tm.load(io.BytesIO(_bytes(nn.Linear(2, 2))), map_location="cuda", weights_only=False)


def _run(script: str, cwd) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    return subprocess.run([sys.executable, "-c", script], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


MAIN_CLASS = textwrap.dedent('''
    import taimatsu as tm
    from taimatsu import nn

    class Tiny(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 2)
            self.register_buffer("offset", tm.arange(2.0))

        def forward(self, x):
            return self.fc(x) + self.offset
''')


def test_module_defined_in_main_of_a_script(tmp_path):
    save = MAIN_CLASS + textwrap.dedent('''
        tm.manual_seed(1)
        model = Tiny()
        tm.save(model, "tiny.pt")
        tm.save(model(tm.ones(1, 3)), "expected.pt")
    ''')
    load = MAIN_CLASS + textwrap.dedent('''
        import pickle
        try:
            tm.load("tiny.pt")
        except pickle.UnpicklingError as exc:
            assert "__main__.Tiny" in str(exc), exc
        model = tm.load("tiny.pt", weights_only=False)
        assert type(model) is Tiny
        assert tm.equal(model(tm.ones(1, 3)), tm.load("expected.pt"))
        with tm.serialization.safe_globals([Tiny, nn.Linear]):
            again = tm.load("tiny.pt")
        assert tm.equal(again.fc.weight, model.fc.weight)
        print("ok")
    ''')
    first = _run(save, tmp_path)
    assert first.returncode == 0, first.stderr
    second = _run(load, tmp_path)
    assert second.returncode == 0 and second.stdout.strip() == "ok", second.stderr


# -- weights_only=True and the allow-list ------------------------------------------------------
def test_own_classes_need_to_be_allowed(models):
    net, _ = _trained(models)
    data = _bytes(net)
    with pytest.raises(pickle.UnpicklingError) as info:
        tm.load(io.BytesIO(data))
    message = str(info.value)
    assert "GLOBAL user_models.Net was not an allowed global" in message
    assert "add_safe_globals([Net])" in message and "weights_only=False" in message
    needed = [models.Net, models.Block, nn.ModuleList, nn.Sequential, nn.Linear, nn.ReLU,
              nn.LayerNorm]
    with pytest.raises(pickle.UnpicklingError, match="taimatsu.nn.modules.container.ModuleList"):
        with serialization.safe_globals([models.Net]):
            tm.load(io.BytesIO(data))
    with serialization.safe_globals(needed):
        back = tm.load(io.BytesIO(data))
    x = tm.randn(2, 4)
    assert tm.equal(back(x), net(x))


def test_add_safe_globals_accumulates_and_dedupes(models):
    serialization.add_safe_globals([models.Net, models.Block])
    serialization.add_safe_globals([models.Net])
    assert serialization.get_safe_globals() == [models.Net, models.Block]
    with serialization.safe_globals([nn.Linear, models.Net]):
        assert set(serialization.get_safe_globals()) == {models.Net, models.Block, nn.Linear}
    # leaving the block removes what it named, as PyTorch's context manager does
    assert serialization.get_safe_globals() == [models.Block]
    serialization.clear_safe_globals()
    assert serialization.get_safe_globals() == []


def test_add_safe_globals_validates_items():
    with pytest.raises(ValueError, match="Expected tuple of length 2"):
        serialization.add_safe_globals([(nn.Linear,)])
    with pytest.raises(TypeError, match="Expected second item in tuple to be str"):
        serialization.add_safe_globals([(nn.Linear, 3)])
    with pytest.raises(ValueError, match="Expected a class or function"):
        serialization.add_safe_globals([3])


def test_renamed_global_with_a_tuple(models):
    data = _pickle_of(_bytes({"m": nn.Identity()})).replace(
        b"taimatsu.nn.modules.linear\nIdentity", b"legacy.layers\nNoOp")
    with pytest.raises(pickle.UnpicklingError, match="GLOBAL legacy.layers.NoOp"):
        tm.load(_archive(data))
    serialization.add_safe_globals([(nn.Identity, "legacy.layers.NoOp")])
    assert type(tm.load(_archive(data))["m"]) is nn.Identity


NUMPY_DATA = {"array": np.arange(6.0).reshape(2, 3), "ints": np.array([1, 2], np.int32),
              "scalar": np.float32(2.5), "dtype": np.dtype("int64")}
ARRAY_GLOBALS = [np._core.multiarray._reconstruct, np.ndarray, np.dtype]
SCALAR_GLOBALS = [np._core.multiarray.scalar, np.dtype]


def test_numpy_values_need_to_be_allowed():
    data = _bytes(NUMPY_DATA)
    with pytest.raises(pickle.UnpicklingError,
                       match="GLOBAL numpy._core.multiarray._reconstruct was not an allowed"):
        tm.load(io.BytesIO(data))
    with serialization.safe_globals(ARRAY_GLOBALS):
        with pytest.raises(pickle.UnpicklingError, match="numpy._core.multiarray.scalar"):
            tm.load(io.BytesIO(data))
    with serialization.safe_globals(ARRAY_GLOBALS + SCALAR_GLOBALS):
        back = tm.load(io.BytesIO(data))
    np.testing.assert_array_equal(back["array"], NUMPY_DATA["array"])
    assert back["ints"].dtype == np.int32 and back["scalar"] == np.float32(2.5)
    assert type(back["scalar"]) is np.float32 and back["dtype"] == np.dtype("int64")
    assert tm.load(io.BytesIO(data), weights_only=False)["array"].shape == (2, 3)


def test_numpy_1_names_match_allowed_numpy_2_globals():
    # A file written under NumPy 1 names numpy.core.multiarray; NumPy 2's objects allow it.
    pkl = _pickle_of(_bytes({"a": np.arange(3)})).replace(b"numpy._core.multiarray",
                                                          b"numpy.core.multiarray")
    assert b"numpy.core.multiarray\n_reconstruct" in pkl
    with pytest.raises(pickle.UnpicklingError, match="numpy.core.multiarray._reconstruct"):
        tm.load(_archive(pkl))
    with serialization.safe_globals(ARRAY_GLOBALS):
        assert tm.load(_archive(pkl))["a"].tolist() == [0, 1, 2]


def test_blocked_modules_stay_refused_when_allowed(tmp_path):
    target = tmp_path / "created"
    command = f"touch {target}"
    payload = (b"\x80\x02cposix\nsystem\nX" + len(command).to_bytes(4, "little")
               + command.encode() + b"\x85R.")
    serialization.add_safe_globals([(os.system, "posix.system")])
    with pytest.raises(pickle.UnpicklingError, match="Trying to load unsupported GLOBAL "
                                                     "posix.system whose module posix is "
                                                     "blocked"):
        tm.load(_archive(payload))
    assert not target.exists()


def test_builtins_are_named_without_their_module():
    payload = b"\x80\x02cbuiltins\ngetattr\n)R."
    with pytest.raises(pickle.UnpicklingError, match=r"(?s)GLOBAL getattr was not an allowed "
                                                     r"global.*add_safe_globals\(\[getattr\]\)"):
        tm.load(_archive(payload))


@pytest.mark.parametrize("protocol", [2, 4])
def test_get_unsafe_globals_in_checkpoint(models, tmp_path, protocol):
    net, _ = _trained(models)
    path = tmp_path / "mixed.pt"
    tm.save({"net": net, "a": np.arange(2), "w": tm.ones(2), "od": {"k": (1, 2.0)}}, path,
            pickle_protocol=protocol)
    expected = {"user_models.Net", "user_models.Block",
                "taimatsu.nn.modules.container.ModuleList",
                "taimatsu.nn.modules.container.Sequential",
                "taimatsu.nn.modules.linear.Linear", "taimatsu.nn.modules.activation.ReLU",
                "taimatsu.nn.modules.normalization.LayerNorm",
                "numpy._core.multiarray._reconstruct", "numpy.ndarray", "numpy.dtype"}
    assert set(serialization.get_unsafe_globals_in_checkpoint(path)) == expected
    serialization.add_safe_globals([models.Net, np.ndarray])
    with open(path, "rb") as f:
        left = serialization.get_unsafe_globals_in_checkpoint(f)
    assert set(left) == expected - {"user_models.Net", "numpy.ndarray"}
    plain = io.BytesIO(_bytes({"w": tm.ones(2), "n": 3}))
    assert serialization.get_unsafe_globals_in_checkpoint(plain) == []


def test_get_unsafe_globals_needs_a_zip_checkpoint():
    buf = io.BytesIO()
    tm.save({"w": tm.ones(1)}, buf, _use_new_zipfile_serialization=False)
    buf.seek(0)
    with pytest.raises(ValueError, match="Expected input to be a checkpoint returned by "
                                         "taimatsu.save"):
        serialization.get_unsafe_globals_in_checkpoint(buf)
