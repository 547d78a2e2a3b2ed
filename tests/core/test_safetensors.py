"""taimatsu.safetensors: round trips, metadata, bfloat16, strided tensors, lazy reads,
atomic writes and damaged files."""

import json
import struct

import numpy as np
import pytest
import safetensors.numpy

import taimatsu as tm
from taimatsu import nn
from taimatsu import safetensors as ts
from taimatsu._dtype import ALL_DTYPES
from taimatsu.serialization import _atomic

# safetensors has no complex128
_DTYPES = [d for d in ALL_DTYPES if d is not tm.complex128]


def _sample(dtype, shape=(3, 4)):
    arr = (np.arange(int(np.prod(shape))) % 5 - 2).reshape(shape)
    if dtype is tm.bool:
        arr = arr > 0
    elif dtype.is_complex:
        arr = arr + 1j
    return tm.from_numpy(arr.astype(dtype.np))


def _bytes(t) -> bytes:
    return np.ascontiguousarray(t.numpy()).tobytes()


@pytest.mark.parametrize("dtype", _DTYPES, ids=lambda d: d.name)
def test_every_dtype_round_trips(tmp_path, dtype):
    t = _sample(dtype)
    ts.save_file({"t": t, "scalar": t[1, 1], "empty": t[:0]}, tmp_path / "x.safetensors")
    back = ts.load_file(tmp_path / "x.safetensors")
    for k, v in {"t": t, "scalar": t[1, 1], "empty": t[:0]}.items():
        assert type(back[k]) is tm.Tensor and back[k].dtype is dtype
        assert back[k].shape == v.shape and _bytes(back[k]) == _bytes(v)
    from_bytes = ts.load(ts.save({"t": t}))
    assert from_bytes["t"].dtype is dtype and _bytes(from_bytes["t"]) == _bytes(t)


def test_strided_tensors_are_saved_by_value(tmp_path):
    base = tm.arange(24.).reshape(4, 6)
    tensors = {"t": base.t(), "step": base[:, ::2], "offset": base[2:, 3:], "rev":
               tm.from_numpy(np.arange(5.0)[::-1]), "expanded": base[0].expand(2, 6)}
    ts.save_file(tensors, tmp_path / "x.safetensors")
    back = ts.load_file(tmp_path / "x.safetensors")
    for k, v in tensors.items():
        assert back[k].tolist() == v.tolist(), k
        assert back[k].is_contiguous()
    # The raw package, given the strided array itself, writes other bytes: why we pack.
    safetensors.numpy.save_file({"t": base.t().numpy()}, tmp_path / "raw.safetensors")
    raw = safetensors.numpy.load_file(tmp_path / "raw.safetensors")["t"]
    assert raw.tolist() != base.t().tolist()


def test_metadata_keys_and_lazy_reads(tmp_path):
    path = tmp_path / "m.safetensors"
    w = tm.arange(12.).reshape(3, 4).to(tm.bfloat16)
    ts.save_file({"w": w, "b": tm.ones(4)}, path, metadata={"format": "pt", "note": "x"})
    with ts.safe_open(path, framework="pt") as f:
        assert f.keys() == ["b", "w"]
        assert f.metadata() == {"format": "pt", "note": "x"}
        assert f.get_tensor("w").dtype is tm.bfloat16
        part = f.get_slice("w")
        assert part.get_shape() == [3, 4] and part.get_dtype() == "BF16"
        piece = part[1:, ::2]
        assert type(piece) is tm.Tensor and piece.float().tolist() == [[4, 6], [8, 10]]
        with pytest.raises(KeyError):
            f.get_tensor("missing")
    with pytest.raises(RuntimeError, match="closed"):
        f.keys()
    with ts.safe_open(path, framework="numpy") as f:
        arr = f.get_tensor("b")
        assert type(arr) is np.ndarray and arr.tolist() == [1, 1, 1, 1]
    with pytest.raises(ValueError, match="framework"):
        ts.safe_open(path, framework="tf")


def test_loaded_tensors_are_writable_and_independent(tmp_path):
    path = tmp_path / "w.safetensors"
    ts.save_file({"a": tm.zeros(3)}, path)
    first = ts.load_file(path)["a"]
    first.add_(1)
    assert ts.load_file(path)["a"].tolist() == [0, 0, 0]
    from_bytes = ts.load(path.read_bytes())["a"]
    from_bytes.add_(2)
    assert from_bytes.tolist() == [2, 2, 2]


def test_module_state_dict_round_trips(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    ts.save_file(model.state_dict(), tmp_path / "model.safetensors")
    fresh = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    fresh.load_state_dict(ts.load_file(tmp_path / "model.safetensors"))
    x = tm.randn(2, 3)
    assert fresh(x).tolist() == model(x).tolist()


def test_header_is_the_safetensors_format(tmp_path):
    path = tmp_path / "h.safetensors"
    ts.save_file({"x": tm.ones(2, dtype=tm.float16)}, path, metadata={"k": "v"})
    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    assert header["x"] == {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]}
    assert header["__metadata__"] == {"k": "v"}


def test_errors(tmp_path):
    with pytest.raises(Exception, match="complex128"):
        ts.save_file({"c": tm.ones(2, dtype=tm.complex128)}, tmp_path / "c.safetensors")
    with pytest.raises(TypeError, match="expected taimatsu.Tensor"):
        ts.save_file({"c": [1, 2]}, tmp_path / "c.safetensors")
    assert list(tmp_path.iterdir()) == []  # failed saves leave nothing behind
    safetensors.numpy.save_file({"u": np.ones(2, np.uint16)}, tmp_path / "u.safetensors")
    with pytest.raises(TypeError, match="uint16, which taimatsu does not have"):
        ts.load_file(tmp_path / "u.safetensors")


def test_damaged_files_say_so(tmp_path):
    path = tmp_path / "ok.safetensors"
    ts.save_file({"w": tm.arange(100.)}, path)
    data = path.read_bytes()
    for cut in (0, 5, 20, len(data) - 1):
        bad = tmp_path / f"cut{cut}.safetensors"
        bad.write_bytes(data[:cut])
        with pytest.raises(RuntimeError, match=f"{bad} is not a valid safetensors file: it "
                           "looks truncated or damaged"):
            ts.load_file(bad)
    with pytest.raises(RuntimeError, match="not a valid safetensors"):
        ts.load(data[:-1])


def test_failed_save_keeps_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "x.safetensors"
    ts.save_file({"a": tm.ones(2)}, path)
    before = path.read_bytes()

    def failing(arrays, filename, metadata=None):
        with open(filename, "wb") as f:
            f.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(ts._st_numpy, "save_file", failing)
    with pytest.raises(OSError, match="disk full"):
        ts.save_file({"a": tm.zeros(1000)}, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["x.safetensors"]


def test_save_replaces_atomically_and_keeps_permissions(tmp_path, monkeypatch):
    path = tmp_path / "x.safetensors"
    ts.save_file({"a": tm.ones(2)}, path)
    path.chmod(0o600)
    synced = []
    real_fsync = _atomic.os.fsync
    monkeypatch.setattr(_atomic.os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    ts.save_file({"a": tm.zeros(3)}, path)
    assert len(synced) >= 2  # the file, then its folder
    assert path.stat().st_mode & 0o777 == 0o600
    assert ts.load_file(path)["a"].tolist() == [0, 0, 0]
