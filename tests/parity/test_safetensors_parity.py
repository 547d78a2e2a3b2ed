"""Safetensors files across frameworks: written by safetensors.torch and read by
taimatsu.safetensors, and the other way round."""

import ml_dtypes
import numpy as np
import pytest

import taimatsu as tm
from taimatsu import safetensors as ts
from taimatsu._dtype import ALL_DTYPES

torch = pytest.importorskip("torch")
st_torch = pytest.importorskip("safetensors.torch")

_DTYPES = [d for d in ALL_DTYPES if d is not tm.complex128]  # not in the format


def _torch_sample(dtype):
    t = torch.arange(-4, 8).reshape(3, 4)
    if dtype is tm.bool:
        return t > 0
    if dtype is tm.uint8:
        t = t + 4
    t = t.to(getattr(torch, dtype.name))
    return t / 4 if dtype.is_floating_point or dtype.is_complex else t


def _torch_bytes(t) -> bytes:
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    return t.numpy().tobytes()


def _tm_bytes(t) -> bytes:
    return np.ascontiguousarray(t.numpy()).tobytes()


def _to_torch(t):
    arr = np.ascontiguousarray(t.numpy())
    if arr.dtype == ml_dtypes.bfloat16:
        return torch.from_numpy(arr.view(np.int16).copy()).view(torch.bfloat16)
    return torch.from_numpy(arr.copy())


@pytest.mark.parametrize("dtype", _DTYPES, ids=lambda d: d.name)
def test_files_written_by_torch(tmp_path, dtype):
    t = _torch_sample(dtype)
    tensors = {"t": t, "s": t[1, 1].clone(), "e": t[:0].clone()}
    st_torch.save_file(tensors, tmp_path / "x.safetensors", metadata={"by": "torch"})
    back = ts.load_file(tmp_path / "x.safetensors")
    for k, v in tensors.items():
        assert back[k].dtype is dtype and back[k].shape == tuple(v.shape)
        assert _tm_bytes(back[k]) == _torch_bytes(v)
    with ts.safe_open(tmp_path / "x.safetensors") as f:
        assert f.metadata() == {"by": "torch"}
    from_bytes = ts.load(st_torch.save(tensors))
    assert _tm_bytes(from_bytes["t"]) == _torch_bytes(t)


@pytest.mark.parametrize("dtype", _DTYPES, ids=lambda d: d.name)
def test_torch_reads_our_files(tmp_path, dtype):
    t = tm.from_numpy(_torch_sample(dtype).view(torch.int16).numpy().view(ml_dtypes.bfloat16)
                      if dtype is tm.bfloat16 else _torch_sample(dtype).numpy())
    tensors = {"t": t, "tt": t.t(), "step": t[:, ::2], "s": t[2, 3]}
    ts.save_file(tensors, tmp_path / "ours.safetensors", metadata={"by": "taimatsu"})
    back = st_torch.load_file(tmp_path / "ours.safetensors")
    for k, v in tensors.items():
        assert back[k].dtype == getattr(torch, dtype.name), k
        assert tuple(back[k].shape) == v.shape and _torch_bytes(back[k]) == _tm_bytes(v), k
    back = st_torch.load(ts.save(tensors))
    assert torch.equal(back["tt"], _to_torch(t.t()))


def test_model_weights_move_between_frameworks(tmp_path):
    ref = torch.nn.Linear(4, 3)
    st_torch.save_file(ref.state_dict(), tmp_path / "ref.safetensors")
    ours = tm.nn.Linear(4, 3)
    ours.load_state_dict(ts.load_file(tmp_path / "ref.safetensors"))
    x = np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)
    np.testing.assert_allclose(ours(tm.from_numpy(x)).detach().numpy(),
                               ref(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)  # float32 GEMMs sum in other orders
    ts.save_file(ours.state_dict(), tmp_path / "ours.safetensors")
    again = torch.nn.Linear(4, 3)
    again.load_state_dict(st_torch.load_file(tmp_path / "ours.safetensors"))
    assert torch.equal(again.weight, ref.weight) and torch.equal(again.bias, ref.bias)
