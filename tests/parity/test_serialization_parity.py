"""Checkpoints across frameworks: files written by torch.save read by taimatsu.load, and
files written by taimatsu.save read by torch.load(weights_only=True)."""

import collections
import io
import pickle
import zipfile

import ml_dtypes
import numpy as np
import pytest

import taimatsu as tm
from taimatsu import nn, optim
from taimatsu._dtype import ALL_DTYPES
from taimatsu.serialization import _zip, load, save
from taimatsu.testing import assert_close

torch = pytest.importorskip("torch")


def _tm_to_torch(t: tm.Tensor):
    arr = np.ascontiguousarray(t.numpy())
    if arr.dtype == ml_dtypes.bfloat16:
        return torch.from_numpy(arr.view(np.int16).copy()).view(torch.bfloat16)
    return torch.from_numpy(arr.copy())


def _torch_bytes(t) -> bytes:
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    return t.numpy().tobytes()


def _tm_bytes(t: tm.Tensor) -> bytes:
    return np.ascontiguousarray(t.numpy()).tobytes()


def _torch_dtype(dtype):
    return getattr(torch, dtype.name)


def _sample(dtype, shape=(3, 4)):
    n = int(np.prod(shape))
    arr = (np.arange(n) % 9 - 4).reshape(shape)
    if dtype is tm.bool:
        arr = arr > 0
    elif dtype.is_complex:
        arr = arr - 0.25j * arr
    return tm.from_numpy(arr.astype(dtype.np))


def _torch_roundtrip_bytes(obj, **kwargs) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf, **kwargs)
    return buf.getvalue()


def _ours_from_torch(obj, **kwargs):
    return load(io.BytesIO(_torch_roundtrip_bytes(obj, **kwargs)))


def _torch_from_ours(obj, weights_only=True, **kwargs):
    buf = io.BytesIO()
    save(obj, buf, **kwargs)
    buf.seek(0)
    return torch.load(buf, weights_only=weights_only)


# -- files written by PyTorch ----------------------------------------------------------------
@pytest.mark.parametrize("zip_format", [True, False], ids=["zip", "legacy"])
@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: d.name)
def test_torch_files_every_dtype(dtype, zip_format):
    t = _tm_to_torch(_sample(dtype))
    back = _ours_from_torch({"t": t, "s": t[1, 2].clone()},
                            _use_new_zipfile_serialization=zip_format)
    assert back["t"].dtype is dtype and back["t"].shape == (3, 4)
    assert _tm_bytes(back["t"]) == _torch_bytes(t)
    assert back["s"].shape == () and _tm_bytes(back["s"]) == _torch_bytes(t[1, 2])


@pytest.mark.parametrize("zip_format", [True, False], ids=["zip", "legacy"])
def test_torch_views_share_memory_after_load(zip_format):
    base = torch.arange(24.0).reshape(4, 6)
    obj = {"base": base, "rows": base[1:], "cols": base[:, ::2], "t": base.t(),
           "expanded": base[0].expand(3, 6), "scalar": base[2, 3], "empty": base[4:],
           "again": base, "other": torch.zeros(0, 2)}
    back = _ours_from_torch(obj, _use_new_zipfile_serialization=zip_format)
    for k, v in obj.items():
        assert back[k].shape == tuple(v.shape), k
        assert back[k].stride() == v.stride() or v.numel() == 0, k
        assert back[k].tolist() == v.tolist(), k
    assert back["cols"].storage_offset() == 0 and back["rows"].storage_offset() == 6
    assert back["again"] is back["base"]
    back["base"][2, 4] = -7.0
    assert back["rows"][1, 4].item() == -7.0 and back["cols"][2, 2].item() == -7.0
    assert back["t"][4, 2].item() == -7.0


def test_torch_parameters_and_grad_flags():
    obj = {"p": torch.nn.Parameter(torch.ones(2, 2)),
           "frozen": torch.nn.Parameter(torch.zeros(3), requires_grad=False),
           "leaf": torch.ones(2, requires_grad=True), "plain": torch.ones(2)}
    back = _ours_from_torch(obj)
    assert type(back["p"]) is nn.Parameter and back["p"].requires_grad
    assert type(back["frozen"]) is nn.Parameter and not back["frozen"].requires_grad
    assert type(back["leaf"]) is tm.Tensor and back["leaf"].requires_grad
    assert not back["plain"].requires_grad


def test_torch_module_state_dict_drives_our_module():
    torch.manual_seed(0)
    ref = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.BatchNorm1d(5),
                              torch.nn.Linear(5, 2))
    ref.train()
    ref(torch.randn(8, 4))  # moves the BatchNorm running statistics
    ref.eval()
    for zip_format in (True, False):
        sd = _ours_from_torch(ref.state_dict(), _use_new_zipfile_serialization=zip_format)
        assert type(sd) is collections.OrderedDict and list(sd) == list(ref.state_dict())
        assert sd._metadata == ref.state_dict()._metadata
        ours = nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5), nn.Linear(5, 2))
        ours.load_state_dict(sd)
        ours.eval()
        x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
        assert_close(ours(tm.from_numpy(x)).detach().numpy(),
                     ref(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_torch_optimizer_state_dict():
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(model.parameters(), lr=0.02, betas=(0.8, 0.9))
    model(torch.randn(4, 3)).sum().backward()
    opt.step()
    sd = opt.state_dict()
    back = _ours_from_torch(sd)
    assert back["param_groups"] == sd["param_groups"]
    for i, state in sd["state"].items():
        for k, v in state.items():
            assert _tm_bytes(back["state"][i][k]) == _torch_bytes(v)
    ours = optim.Adam(nn.Linear(3, 2).parameters())
    ours.load_state_dict(back)
    assert ours.param_groups[0]["betas"] == (0.8, 0.9)


def test_torch_nested_containers_and_values():
    obj = {"list": [torch.ones(1), (torch.zeros(2), {"deep": torch.arange(3)})],
           "dtype": torch.bfloat16, "device": torch.device("cpu"), "size": torch.Size([2, 5]),
           "set": {1, 2}, "bytes": b"raw", "complex": 2j, "none": None}
    back = _ours_from_torch(obj)
    assert back["list"][1][1]["deep"].tolist() == [0, 1, 2]
    assert back["dtype"] is tm.bfloat16 and back["device"] == tm.device("cpu")
    assert back["size"] == (2, 5) and isinstance(back["size"], tm.Size)
    assert back["set"] == {1, 2} and back["bytes"] == b"raw" and back["complex"] == 2j


def test_torch_crc_zero_files():
    torch.serialization.set_crc32_options(False)
    try:
        data = _torch_roundtrip_bytes({"x": torch.arange(6).reshape(2, 3)})
    finally:
        torch.serialization.set_crc32_options(True)
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(io.BytesIO(data)).read("archive/data/0")
    assert load(io.BytesIO(data))["x"].tolist() == [[0, 1, 2], [3, 4, 5]]


def test_torch_conj_views_attributes_and_mmap(tmp_path):
    c = torch.tensor([1 + 2j, 3 - 1j])
    t = torch.ones(2)
    t.note = "kept"
    path = tmp_path / "x.pt"
    torch.save({"conj": c.conj(), "t": t, "big": torch.arange(1000.0)}, path)
    for mmap in (False, True):
        back = load(path, mmap=mmap)
        assert back["conj"].tolist() == [1 - 2j, 3 + 1j]
        assert back["t"].note == "kept"
        assert back["big"].tolist() == list(range(1000))


def test_torch_dtypes_we_lack_are_refused_clearly():
    data = _torch_roundtrip_bytes(torch.ones(2, dtype=torch.uint16))
    with pytest.raises(RuntimeError, match="dtype torch.uint16, which taimatsu does not have"):
        load(io.BytesIO(data))


def test_rebuild_tensor_v3_over_untyped_storage():
    # PyTorch writes _rebuild_tensor_v3 (an UntypedStorage plus a dtype) for dtypes without
    # a legacy storage class; renaming uint16 to int16 in such a file exercises it.
    z = zipfile.ZipFile(io.BytesIO(_torch_roundtrip_bytes(
        {"t": torch.tensor([1, 2, 65535], dtype=torch.uint16)[1:]})))
    pkl = z.read("archive/data.pkl")
    assert b"_rebuild_tensor_v3" in pkl and b"UntypedStorage" in pkl
    out = io.BytesIO()
    writer = _zip.ZipWriter(out)
    for name in z.namelist():
        data = z.read(name)
        writer.write_record(name, data.replace(b"torch\nuint16\n", b"torch\nint16\n"))
    writer.finish()
    out.seek(0)
    back = load(out)["t"]
    assert back.dtype is tm.int16 and back.tolist() == [2, -1] and back.storage_offset() == 1


def test_torch_whole_module_needs_weights_only_false():
    data = _torch_roundtrip_bytes(torch.nn.Linear(2, 3))
    with pytest.raises(pickle.UnpicklingError,
                       match="GLOBAL torch.nn.modules.linear.Linear was not an allowed"):
        load(io.BytesIO(data))
    module = load(io.BytesIO(data), weights_only=False)
    assert type(module) is nn.Linear and module.weight.shape == (3, 2)


class _Payload:
    def __init__(self, target):
        self.target = str(target)

    def __reduce__(self):
        return (open, (self.target, "w"))


@pytest.mark.parametrize("zip_format", [True, False], ids=["zip", "legacy"])
def test_malicious_torch_checkpoint_is_refused(tmp_path, zip_format):
    target = tmp_path / "created-by-the-pickle"
    ckpt = tmp_path / "evil.pt"
    torch.save({"w": torch.ones(2), "x": _Payload(target)}, ckpt,
               _use_new_zipfile_serialization=zip_format)
    with pytest.raises(pickle.UnpicklingError, match="weights_only=False"):
        load(ckpt)
    assert not target.exists()


# -- files written by taimatsu ---------------------------------------------------------------
@pytest.mark.parametrize("zip_format", [True, False], ids=["zip", "legacy"])
@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: d.name)
def test_torch_reads_every_dtype(dtype, zip_format):
    t = _sample(dtype)
    back = _torch_from_ours({"t": t, "s": t[2, 1]}, _use_new_zipfile_serialization=zip_format)
    assert back["t"].dtype == _torch_dtype(dtype) and tuple(back["t"].shape) == (3, 4)
    assert _torch_bytes(back["t"]) == _tm_bytes(t)
    assert back["s"].dim() == 0 and _torch_bytes(back["s"]) == _tm_bytes(t[2, 1])


@pytest.mark.parametrize("zip_format", [True, False], ids=["zip", "legacy"])
def test_torch_reads_our_views_as_shared(zip_format):
    base = tm.arange(24.).reshape(4, 6)
    obj = {"base": base, "rows": base[1:], "cols": base[:, ::2], "t": base.t(),
           "expanded": base[0].expand(3, 6), "scalar": base[2, 3], "empty": base[4:],
           "alone": tm.zeros(0, 2)}
    back = _torch_from_ours(obj, _use_new_zipfile_serialization=zip_format)
    for k, v in obj.items():
        assert tuple(back[k].shape) == v.shape, k
        assert back[k].tolist() == v.tolist(), k
        assert back[k].stride() == v.stride() or v.numel() == 0, k
    ptr = back["base"].untyped_storage().data_ptr()
    for k in ("rows", "cols", "t", "expanded", "scalar"):
        assert back[k].untyped_storage().data_ptr() == ptr, k
    assert back["rows"].storage_offset() == 6
    back["base"][2, 4] = -7.0
    assert back["cols"][2, 2].item() == -7.0


def test_torch_reads_parameters_containers_and_objects():
    p = nn.Parameter(tm.ones(2, 2))
    p.tag = "w"
    t = tm.arange(3.)
    t.note = 1
    od = collections.OrderedDict(a=tm.ones(1))
    od._metadata = collections.OrderedDict({"": {"version": 1}})
    obj = {"p": p, "frozen": nn.Parameter(tm.ones(1), requires_grad=False), "t": t,
           "grad": tm.ones(2, requires_grad=True), "od": od, "dtype": tm.float16,
           "device": tm.device("cpu"), "size": tm.Size([3]),
           "nested": [(1, "a", {2.5: None}), {b"k": tm.zeros(1)}], "set": {3}}
    back = _torch_from_ours(obj)
    assert type(back["p"]) is torch.nn.Parameter and back["p"].requires_grad
    assert back["p"].tag == "w" and back["t"].note == 1
    assert type(back["frozen"]) is torch.nn.Parameter and not back["frozen"].requires_grad
    assert back["grad"].requires_grad and back["grad"].is_leaf
    assert type(back["od"]) is collections.OrderedDict and back["od"]._metadata == od._metadata
    assert back["dtype"] is torch.float16 and back["device"] == torch.device("cpu")
    assert back["size"] == torch.Size([3]) and type(back["size"]) is torch.Size
    assert back["nested"][0] == (1, "a", {2.5: None}) and back["set"] == {3}
    assert back["nested"][1][b"k"].tolist() == [0.0]


def test_torch_module_loads_our_state_dict():
    ours = nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5), nn.Linear(5, 2))
    ours(tm.randn(8, 4))
    ours.eval()
    for zip_format in (True, False):
        sd = _torch_from_ours(ours.state_dict(), _use_new_zipfile_serialization=zip_format)
        ref = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.BatchNorm1d(5),
                                  torch.nn.Linear(5, 2))
        ref.load_state_dict(sd)
        ref.eval()
        x = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
        assert_close(ref(torch.from_numpy(x)).detach().numpy(),
                     ours(tm.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_torch_optimizer_loads_our_state_dict():
    model = nn.Linear(3, 2)
    opt = optim.Adam(model.parameters(), lr=0.03)
    model(tm.randn(4, 3)).sum().backward()
    opt.step()
    sd = _torch_from_ours(opt.state_dict())
    ref = torch.optim.Adam(torch.nn.Linear(3, 2).parameters())
    ref.load_state_dict(sd)
    assert ref.param_groups[0]["lr"] == 0.03
    assert torch.equal(ref.state_dict()["state"][0]["exp_avg"],
                       _tm_to_torch(opt.state_dict()["state"][0]["exp_avg"]))


def test_our_archive_is_byte_identical_to_torchs(tmp_path):
    def build(lib):
        a = lib.arange(12.0).reshape(3, 4)
        sd = collections.OrderedDict(w=a, v=a[:, 1::2], i=lib.ones(2, dtype=lib.int64),
                                     h=lib.ones(3, dtype=lib.bfloat16), s=lib.tensor(3.0),
                                     dev=lib.device("cpu"), size=lib.Size([1, 2]),
                                     dt=lib.float16, n={"x": [1, 2.5, (3, "a")], "b": b"xy"})
        sd._metadata = collections.OrderedDict({"": {"version": 1}})
        return sd

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    torch.save(build(torch), tmp_path / "a" / "m.pt")
    save(build(tm), tmp_path / "b" / "m.pt")
    theirs = (tmp_path / "a" / "m.pt").read_bytes()
    ours = (tmp_path / "b" / "m.pt").read_bytes()
    assert len(theirs) == len(ours)
    # Everything but the id record's content (and its CRC) matches byte for byte.
    z = zipfile.ZipFile(io.BytesIO(theirs))
    for info in z.infolist():
        if not info.filename.endswith("serialization_id"):
            assert zipfile.ZipFile(io.BytesIO(ours)).read(info.filename) == z.read(info), \
                info.filename
    differing = [i for i in range(len(ours)) if ours[i] != theirs[i]]
    id_info = z.getinfo("m/.data/serialization_id")
    assert all(i > id_info.header_offset for i in differing)


def test_torch_reads_protocol_4_zip64_and_mmap(tmp_path, monkeypatch):
    obj = {"a": tm.arange(10.), "dt": tm.float32}
    obj["v"] = obj["a"][3:]
    back = _torch_from_ours(obj, weights_only=False, pickle_protocol=4)
    assert back["v"].tolist() == list(range(3, 10)) and back["dt"] is torch.float32
    monkeypatch.setattr(_zip, "_ZIP64_AT", 16)
    save(obj, tmp_path / "z.pt")
    monkeypatch.undo()
    assert torch.load(tmp_path / "z.pt")["v"].tolist() == list(range(3, 10))
    save(obj, tmp_path / "m.pt")
    mapped = torch.load(tmp_path / "m.pt", mmap=True)
    assert mapped["a"].tolist() == list(range(10))
