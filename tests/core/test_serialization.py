"""taimatsu.save / taimatsu.load without PyTorch: round trips, sharing, the zip layout,
weights_only, atomic writes and damaged files. (tests/parity checks the same files against
real PyTorch.)"""

import collections
import io
import os
import pathlib
import pickle
import signal
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest

import taimatsu as tm
from taimatsu import nn, optim, serialization
from taimatsu._dtype import ALL_DTYPES
from taimatsu.serialization import _atomic, _zip, load, save
from taimatsu.testing import assert_close


def _values(dtype, shape=(2, 3)):
    n = int(np.prod(shape))
    arr = (np.arange(n) % 7 - 2).reshape(shape)
    if dtype is tm.bool:
        arr = arr > 0
    elif dtype.is_complex:
        arr = arr + 0.5j * arr[::-1]
    return tm.from_numpy(np.asarray(arr).astype(dtype.np))


def _bytes(t: tm.Tensor) -> bytes:
    return np.ascontiguousarray(t.numpy()).tobytes()


def _same(a: tm.Tensor, b: tm.Tensor) -> None:
    """Same class, dtype, shape and bytes (so NaNs and bfloat16 compare exactly)."""
    assert type(a) is type(b)
    assert a.dtype is b.dtype and a.shape == b.shape
    assert _bytes(a) == _bytes(b)


def _roundtrip(obj, **load_kwargs):
    buf = io.BytesIO()
    save(obj, buf)
    buf.seek(0)
    return load(buf, **load_kwargs)


# -- round trips -----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: d.name)
def test_every_dtype_round_trips(dtype, tmp_path):
    t = _values(dtype)
    save(t, tmp_path / "t.pt")
    back = load(tmp_path / "t.pt")
    _same(back, t)
    back2 = load(tmp_path / "t.pt", weights_only=False)
    _same(back2, t)


@pytest.mark.parametrize("make", [
    lambda: tm.tensor(3.5),                                # 0-dim
    lambda: tm.zeros(0, 3),                                # empty
    lambda: tm.arange(12.).reshape(3, 4).t(),              # transposed
    lambda: tm.arange(24.).reshape(4, 6)[1:, ::2],         # offset + step
    lambda: tm.arange(6.).reshape(2, 3).expand(4, 2, 3),   # stride 0
    lambda: tm.from_numpy(np.asfortranarray(np.arange(6.).reshape(2, 3))),
    lambda: tm.from_numpy(np.arange(10.)[::-1]),           # negative stride: saved packed
    lambda: tm.arange(10.)[3:3],                           # empty view with an offset
], ids=["0dim", "empty", "transposed", "offset_step", "expanded", "fortran", "reversed",
        "empty_view"])
def test_layouts_round_trip(make):
    t = make()
    back = _roundtrip(t)
    assert back.shape == t.shape and back.dtype is t.dtype
    np.testing.assert_array_equal(back.numpy(), t.numpy())


def test_views_keep_offset_and_strides():
    base = tm.arange(24.).reshape(4, 6)
    view = base[1:, ::2]
    back = _roundtrip(view)
    assert back.stride() == view.stride() == (6, 2)
    assert back.storage_offset() == view.storage_offset() == 6


def test_views_share_one_storage_and_memory():
    base = tm.arange(12.).reshape(3, 4)
    obj = {"base": base, "row": base[1], "t": base.t(), "again": base}
    buf = io.BytesIO()
    save(obj, buf)
    names = zipfile.ZipFile(io.BytesIO(buf.getvalue())).namelist()
    assert [n for n in names if "/data/" in n] == ["archive/data/0"]
    back = load(io.BytesIO(buf.getvalue()))
    assert back["again"] is back["base"]
    back["base"][1, 2] = 100.0
    assert back["row"][2].item() == 100.0 and back["t"][2, 1].item() == 100.0


def test_distinct_tensors_get_distinct_storages():
    a, b = tm.ones(3), tm.ones(3)
    back = _roundtrip([a, b])
    back[0][0] = 5
    assert back[1][0].item() == 1


def test_view_of_another_dtype_is_saved_separately():
    a = tm.arange(4, dtype=tm.int32)
    f = tm.from_numpy(a.numpy().view(np.float32))
    back = _roundtrip({"i": a, "f": f})
    _same(back["i"], a)
    _same(back["f"], f)


def test_nested_containers_and_python_values():
    od = collections.OrderedDict(w=tm.ones(2))
    od._metadata = collections.OrderedDict({"": {"version": 1}})
    obj = {
        "od": od, "list": [1, 2.5, "x", None, True, (tm.zeros(1), b"bytes")],
        "set": {1, 2}, "frozen": frozenset({"a"}), "complex": 1 + 2j, "slice": slice(1, 5, 2),
        "range": range(3), "bytearray": bytearray(b"ab"),
        "dtype": tm.bfloat16, "device": tm.device("cpu"), "size": tm.Size([2, 3]),
        "counter": collections.Counter("aab"), 7: "int key",
    }
    back = _roundtrip(obj)
    assert type(back["od"]) is collections.OrderedDict
    assert back["od"]._metadata == {"": {"version": 1}}
    assert back["list"][:5] == [1, 2.5, "x", None, True]
    assert back["list"][5][1] == b"bytes"
    for key in ("set", "frozen", "complex", "slice", "range", "bytearray", "counter", 7):
        assert back[key] == obj[key] and type(back[key]) is type(obj[key])
    assert back["dtype"] is tm.bfloat16 and back["device"] == tm.device("cpu")
    assert back["size"] == (2, 3) and isinstance(back["size"], tm.Size)


def test_requires_grad_and_user_attributes_are_kept():
    t = tm.ones(2, requires_grad=True)
    t.note = "hello"
    back = _roundtrip({"t": t, "y": (t * 2)})
    assert back["t"].requires_grad and back["t"].is_leaf and back["t"].note == "hello"
    assert back["y"].requires_grad and back["y"].is_leaf  # saved as data, like PyTorch


def test_autograd_state_is_not_saved():
    x = tm.ones(3, requires_grad=True)
    x.sum().backward()
    view = x.detach()[1:]
    back = _roundtrip({"x": x, "v": view})
    assert back["x"].grad is None
    assert not back["v"].__dict__  # no _base / _view_fn carried over


def test_parameters_round_trip():
    p = nn.Parameter(tm.arange(4.).reshape(2, 2))
    frozen = nn.Parameter(tm.ones(2), requires_grad=False)
    p.tag = 3
    back = _roundtrip({"p": p, "frozen": frozen, "alias": p})
    assert type(back["p"]) is nn.Parameter and back["p"].requires_grad
    assert back["p"].tag == 3 and back["alias"] is back["p"]
    assert type(back["frozen"]) is nn.Parameter and not back["frozen"].requires_grad
    assert_close(back["p"], p)


def test_module_state_dict_round_trips_in_both_formats(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    sd = model.state_dict()
    for zip_format in (True, False):
        path = tmp_path / f"m{zip_format}.pt"
        save(sd, path, _use_new_zipfile_serialization=zip_format)
        back = load(path)
        assert list(back) == list(sd) and back._metadata == sd._metadata
        fresh = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
        fresh.load_state_dict(back)
        x = tm.randn(5, 3)
        assert_close(fresh(x), model(x))


def test_optimizer_state_dict_round_trips():
    model = nn.Linear(3, 2)
    opt = optim.Adam(model.parameters(), lr=0.01)
    model(tm.randn(4, 3)).sum().backward()
    opt.step()
    sd = opt.state_dict()
    back = _roundtrip(sd)
    assert back["param_groups"] == sd["param_groups"]
    for i, state in sd["state"].items():
        for k, v in state.items():
            _same(back["state"][i][k], v)
    opt2 = optim.Adam(nn.Linear(3, 2).parameters(), lr=0.5)
    opt2.load_state_dict(back)
    assert opt2.param_groups[0]["lr"] == 0.01


def test_whole_module_with_weights_only_false():
    model = nn.Linear(2, 2)
    back = _roundtrip(model, weights_only=False)
    assert type(back) is nn.Linear
    assert_close(back.weight, model.weight)
    with pytest.raises(pickle.UnpicklingError, match="taimatsu.nn.modules.linear.Linear"):
        _roundtrip(model)


def test_tensors_inside_user_objects_go_through_storages():
    holder = _Holder(tm.arange(3.))
    buf = io.BytesIO()
    save({"h": holder, "same": holder.t}, buf)
    pkl = zipfile.ZipFile(io.BytesIO(buf.getvalue())).read("archive/data.pkl")
    assert b"_rebuild_tensor_v2" in pkl and b"numpy" not in pkl
    back = load(io.BytesIO(buf.getvalue()), weights_only=False)
    assert back["h"].t is back["same"]


class _Holder:
    def __init__(self, t):
        self.t = t


# -- the file layout -------------------------------------------------------------------------
def test_zip_layout_matches_pytorch(tmp_path):
    path = tmp_path / "my.model.pt"
    save({"a": tm.ones(3), "b": tm.zeros(2, dtype=tm.int64)}, path)
    z = zipfile.ZipFile(path)
    assert z.namelist() == [
        "my.model/data.pkl", "my.model/.format_version", "my.model/.storage_alignment",
        "my.model/byteorder", "my.model/data/0", "my.model/data/1", "my.model/version",
        "my.model/.data/serialization_id"]
    assert z.testzip() is None
    assert z.read("my.model/.format_version") == b"1"
    assert z.read("my.model/.storage_alignment") == b"64"
    assert z.read("my.model/byteorder") == sys.byteorder.encode()
    assert z.read("my.model/version") == b"3\n"
    assert len(z.read("my.model/.data/serialization_id")) == 40
    assert all(i.compress_type == zipfile.ZIP_STORED for i in z.infolist())
    with open(path, "rb") as f:
        reader = _zip.ZipReader(f)
        assert all(reader.data_offset(n) % 64 == 0 for n in reader.entries)
    pkl = z.read("my.model/data.pkl")
    assert pkl[:2] == b"\x80\x02"  # protocol 2
    assert b"ctorch._utils\n_rebuild_tensor_v2\n" in pkl
    assert b"ctorch\nFloatStorage\n" in pkl and b"ctorch\nLongStorage\n" in pkl


def test_file_object_writes_at_its_position():
    buf = io.BytesIO()
    buf.write(b"header")
    save({"x": tm.arange(3)}, buf)
    buf.seek(6)
    assert "archive/data.pkl" in zipfile.ZipFile(io.BytesIO(buf.getvalue()[6:])).namelist()
    assert load(buf)["x"].tolist() == [0, 1, 2]


def test_paths_pathlikes_and_open_files(tmp_path):
    t = tm.arange(4.)
    save(t, str(tmp_path / "a.pt"))
    save(t, pathlib.Path(tmp_path / "b.pt"))
    with open(tmp_path / "c.pt", "wb") as f:
        save(t, f)
    for name in ("a.pt", "b.pt", "c.pt"):
        assert load(str(tmp_path / name)).tolist() == [0, 1, 2, 3]
        with open(tmp_path / name, "rb") as f:
            assert load(f).tolist() == [0, 1, 2, 3]


def test_unseekable_stream_is_read():
    buf = io.BytesIO()
    save([tm.ones(2)], buf)

    class Stream(io.RawIOBase):
        def __init__(self, data):
            self._data = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, b):
            return self._data.readinto(b)

    assert load(Stream(buf.getvalue()))[0].tolist() == [1, 1]


def test_protocol_4_and_legacy_format_round_trip():
    base = tm.arange(6.)
    obj = {"a": base, "v": base[2:], "dt": tm.float16}
    buf = io.BytesIO()
    save(obj, buf, pickle_protocol=4)
    assert zipfile.ZipFile(io.BytesIO(buf.getvalue())).read("archive/data.pkl")[:2] == b"\x80\x04"
    back = load(io.BytesIO(buf.getvalue()))
    assert back["v"].tolist() == [2, 3, 4, 5] and back["dt"] is tm.float16
    legacy = io.BytesIO()
    save(obj, legacy, _use_new_zipfile_serialization=False)
    assert legacy.getvalue()[:2] == b"\x80\x02" and not zipfile.is_zipfile(legacy)
    legacy.seek(0)
    back = load(legacy)
    back["a"][3] = 30.0
    assert back["v"].tolist() == [2, 30, 4, 5]


def test_crc_zero_archives_are_read(tmp_path, monkeypatch):
    # torch.serialization.set_crc32_options(False) writes CRC 0, which zipfile refuses.
    monkeypatch.setattr(_zip.zlib, "crc32", lambda data: 0)
    save({"x": tm.arange(5)}, tmp_path / "c.pt")
    monkeypatch.undo()
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(tmp_path / "c.pt").read("c/data/0")
    assert load(tmp_path / "c.pt")["x"].tolist() == [0, 1, 2, 3, 4]


def test_zip64_records(tmp_path, monkeypatch):
    # Files past 4 GiB use ZIP64 fields; force them for every record of a small file.
    monkeypatch.setattr(_zip, "_ZIP64_AT", 16)
    save({"x": tm.arange(10.), "v": tm.arange(10.)[2:]}, tmp_path / "z.pt")
    monkeypatch.undo()
    assert zipfile.ZipFile(tmp_path / "z.pt").testzip() is None
    back = load(tmp_path / "z.pt")
    assert back["v"].tolist() == list(range(2, 10))


def test_big_endian_files_are_byteswapped():
    t = {"f": tm.tensor([1.5, -2.0]), "c": tm.tensor([1 + 2j]), "i": tm.tensor([258]),
         "b": tm.tensor([1.0, 3.0], dtype=tm.bfloat16), "u": tm.tensor([7], dtype=tm.uint8)}
    buf = io.BytesIO()
    save(t, buf)
    z = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    writer = _zip.ZipWriter(out)
    big = {"0": ">f4", "1": ">f4", "2": ">i8", "3": ">u2", "4": "u1"}  # per storage key
    for name in z.namelist():
        data = z.read(name)
        if name.endswith("byteorder"):
            data = b"big"
        elif "/data/" in name:
            key = name.rsplit("/", 1)[1]
            native = big[key].replace(">", "<")
            data = np.frombuffer(data, native).astype(big[key]).tobytes()
        if not name.endswith("serialization_id"):
            writer.write_record(name, data)
    writer.finish()
    out.seek(0)
    back = load(out)
    for k in t:
        _same(back[k], t[k])


# -- map_location and mmap -----------------------------------------------------------------
@pytest.mark.parametrize("map_location", [
    None, "cpu", tm.device("cpu"), {"cpu": "cpu"}, lambda storage, loc: None,
    lambda storage, loc: storage], ids=["none", "str", "device", "dict", "fn_none", "fn_same"])
def test_map_location_to_cpu(map_location):
    t = tm.arange(6.).reshape(2, 3)
    back = _roundtrip({"t": t, "v": t[1]}, map_location=map_location)
    assert back["t"].device == tm.device("cpu")
    assert_close(back["t"], t)
    back["t"][1, 0] = -1
    assert back["v"][0].item() == -1


def test_map_location_callable_sees_storage_and_location():
    seen = []

    def fn(storage, location):
        seen.append((storage.dtype, storage.shape, location))
        return storage * 2

    back = _roundtrip(tm.arange(3.), map_location=fn)
    assert seen == [(tm.float32, (3,), "cpu")]
    assert back.tolist() == [0, 2, 4]


def test_unknown_location_and_bad_map_location():
    with pytest.raises(RuntimeError, match="don't know how to restore data location 'mps'"):
        _roundtrip(tm.ones(1), map_location="mps")
    with pytest.raises(TypeError, match="map_location"):
        _roundtrip(tm.ones(1), map_location=3.5)


@pytest.mark.skipif(tm.cuda.is_available(), reason="checks the message without CUDA")
def test_cuda_location_without_cuda():
    with pytest.raises(RuntimeError, match="deserialize object on a CUDA device but "
                       r"taimatsu.cuda.is_available\(\) is False"):
        _roundtrip(tm.ones(1), map_location="cuda:0")


def test_save_and_load_on_device(device):
    t = tm.arange(6., device=device).reshape(2, 3)
    buf = io.BytesIO()
    save({"t": t, "v": t[:, 1]}, buf)
    for target in (None, "cpu", device):
        buf.seek(0)
        back = load(buf, map_location=target)
        want = tm.device(device if target is None else target)
        assert back["t"].device.type == want.type
        assert back["v"].cpu().tolist() == [1, 4]
        back["t"][0, 1] = 9
        assert back["v"].cpu().tolist() == [9, 4]  # still shares memory on the device


def test_mmap_maps_storages_copy_on_write(tmp_path):
    path = tmp_path / "m.pt"
    t = tm.arange(1000.)
    save({"t": t, "v": t[10:20]}, path)
    before = path.read_bytes()
    back = load(path, mmap=True)
    assert_close(back["t"], t)
    root = back["t"].numpy()
    while isinstance(root.base, np.ndarray):
        root = root.base
    assert type(root.base).__name__ in ("mmap", "memoryview")
    back["t"][15] = -1.0
    assert back["v"][5].item() == -1.0
    assert path.read_bytes() == before  # copy-on-write: the file is untouched
    with pytest.raises(ValueError, match="mmap"):
        load(io.BytesIO(before), mmap=True)
    legacy = tmp_path / "legacy.pt"
    save(t, legacy, _use_new_zipfile_serialization=False)
    with pytest.raises(RuntimeError, match="mmap can only be used"):
        load(legacy, mmap=True)


# -- weights_only --------------------------------------------------------------------------
class _Payload:
    """Unpickling this creates a file: a stand-in for an attacker's __reduce__."""

    def __init__(self, target):
        self.target = str(target)

    def __reduce__(self):
        return (open, (self.target, "w"))


@pytest.mark.parametrize("zip_format", [True, False], ids=["zip", "legacy"])
def test_malicious_pickle_is_refused_and_never_runs(tmp_path, zip_format):
    target = tmp_path / "pwned"
    ckpt = tmp_path / "evil.pt"
    save({"w": tm.ones(2), "x": _Payload(target)}, ckpt,
         _use_new_zipfile_serialization=zip_format)
    with pytest.raises(pickle.UnpicklingError) as info:
        load(ckpt)
    message = str(info.value)
    assert "io.open" in message and "weights_only=False" in message
    assert "add_safe_globals" in message and str(ckpt) in message
    assert not target.exists()
    with pytest.raises(pickle.UnpicklingError):
        load(ckpt, weights_only=True)
    assert not target.exists()
    # The refusal is what stops it: a trusting load does run the payload.
    load(ckpt, weights_only=False)
    assert target.exists()


def test_os_system_in_a_handmade_pickle_is_refused(tmp_path):
    target = tmp_path / "created"
    payload = (b"\x80\x02cposix\nsystem\nX" + len(f"touch {target}").to_bytes(4, "little")
               + f"touch {target}".encode() + b"\x85R.")
    buf = io.BytesIO()
    writer = _zip.ZipWriter(buf)
    writer.write_record("archive/data.pkl", payload)
    writer.finish()
    buf.seek(0)
    with pytest.raises(pickle.UnpicklingError, match="GLOBAL posix.system was not an allowed"):
        load(buf)
    assert not target.exists()


def test_explicit_pickle_module_needs_weights_only_false():
    buf = io.BytesIO()
    save(tm.ones(1), buf)
    with pytest.raises(RuntimeError, match="Can not safely load weights when explicit "
                       "pickle_module is specified"):
        load(buf, pickle_module=pickle)
    buf.seek(0)
    assert load(buf, pickle_module=pickle, weights_only=False).tolist() == [1]


class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y


def test_add_safe_globals_and_context_manager():
    data = {"p": Point(1, tm.ones(2))}
    buf = io.BytesIO()
    save(data, buf)
    serialization.clear_safe_globals()
    with pytest.raises(pickle.UnpicklingError, match=r"Point"):
        load(io.BytesIO(buf.getvalue()))
    with serialization.safe_globals([Point]):
        assert serialization.get_safe_globals() == [Point]
        back = load(io.BytesIO(buf.getvalue()))
        assert back["p"].x == 1 and back["p"].y.tolist() == [1, 1]
    assert serialization.get_safe_globals() == []
    with pytest.raises(pickle.UnpicklingError):
        load(io.BytesIO(buf.getvalue()))
    try:
        serialization.add_safe_globals([(Point, f"{Point.__module__}.Point")])
        assert load(io.BytesIO(buf.getvalue()))["p"].x == 1
    finally:
        serialization.clear_safe_globals()
    assert serialization.get_safe_globals() == []
    with pytest.raises(ValueError):
        serialization.add_safe_globals([(Point,)])


def test_codecs_encode_only_makes_bytes():
    pkl = b"\x80\x02c_codecs\nencode\nX\x02\x00\x00\x00abX\x08\x00\x00\x00rot_13_x\x86R."
    buf = io.BytesIO()
    writer = _zip.ZipWriter(buf)
    writer.write_record("archive/data.pkl", pkl)
    writer.finish()
    buf.seek(0)
    with pytest.raises(pickle.UnpicklingError, match="_codecs.encode"):
        load(buf)


# -- atomic writes ---------------------------------------------------------------------------
def _litter(folder):
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("unnamed", [True, False], ids=["O_TMPFILE", "named_temp"])
@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()],
                         ids=["error", "interrupt"])
def test_failed_save_keeps_previous_file(tmp_path, monkeypatch, unnamed, error):
    if unnamed and not _atomic._CAN_LINK_UNNAMED:
        pytest.skip("no O_TMPFILE here")
    monkeypatch.setattr(_atomic, "_CAN_LINK_UNNAMED", unnamed)
    path = tmp_path / "ckpt.pt"
    save({"v": tm.tensor([1.0])}, path)
    before = path.read_bytes()
    real = _zip.ZipWriter.write_record

    def failing(self, name, data):
        real(self, name, data)
        if name.endswith("data/0"):
            raise error

    monkeypatch.setattr(_zip.ZipWriter, "write_record", failing)
    with pytest.raises(type(error)):
        save({"v": tm.zeros(100_000)}, path)
    assert path.read_bytes() == before
    assert _litter(tmp_path) == ["ckpt.pt"]


def test_killed_save_keeps_previous_file(tmp_path):
    path = tmp_path / "ckpt.pt"
    save({"v": tm.tensor([1.0, 2.0])}, path)
    before = path.read_bytes()
    script = textwrap.dedent("""
        import sys, time
        import taimatsu as tm
        from taimatsu.serialization import _zip, save
        real = _zip.ZipWriter.write_record
        def slow(self, name, data):
            real(self, name, data)
            if "/data/" in name:  # the first tensor is written, the second not yet
                print("writing", flush=True)
                time.sleep(60)
        _zip.ZipWriter.write_record = slow
        save({"a": tm.zeros(4_000_000), "b": tm.zeros(4_000_000)}, sys.argv[1])
    """)
    proc = subprocess.Popen([sys.executable, "-c", script, str(path)], stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout.readline().strip() == "writing"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    assert path.read_bytes() == before
    if _atomic._CAN_LINK_UNNAMED:  # a named temporary would outlive a SIGKILL
        assert _litter(tmp_path) == ["ckpt.pt"]
    assert load(path)["v"].tolist() == [1.0, 2.0]


def test_save_keeps_permissions_and_writes_through_symlinks(tmp_path):
    real = tmp_path / "real.pt"
    save(tm.ones(1), real)
    os.chmod(real, 0o640)
    link = tmp_path / "link.pt"
    link.symlink_to(real)
    save(tm.zeros(2), link)
    assert link.is_symlink() and load(real).tolist() == [0, 0]
    assert os.stat(real).st_mode & 0o777 == 0o640
    assert _litter(tmp_path) == ["link.pt", "real.pt"]


def test_save_to_missing_folder(tmp_path):
    with pytest.raises(RuntimeError, match="Parent directory .*nope does not exist"):
        save(tm.ones(1), tmp_path / "nope" / "x.pt")


# -- damaged files ---------------------------------------------------------------------------
def _damaged(path):
    return pytest.raises(RuntimeError,
                         match=f"{path}.* is not a valid checkpoint: it looks truncated or "
                               "damaged")


@pytest.mark.parametrize("zip_format", [True, False], ids=["zip", "legacy"])
def test_truncated_files_say_so(tmp_path, zip_format):
    full = tmp_path / "full.pt"
    save({"w": tm.arange(100.), "b": tm.ones(3)}, full, _use_new_zipfile_serialization=zip_format)
    data = full.read_bytes()
    for cut in (0, 3, 40, len(data) // 2, len(data) - 30, len(data) - 1):
        path = tmp_path / f"cut{cut}.pt"
        path.write_bytes(data[:cut])
        with _damaged(path):
            load(path)


def test_corrupt_files_say_so(tmp_path):
    path = tmp_path / "x.pt"
    save({"w": tm.arange(10.)}, path)
    data = bytearray(path.read_bytes())
    flipped = bytearray(data)
    flipped[80] ^= 0xFF  # inside data.pkl: its CRC no longer matches
    bad = tmp_path / "flipped.pt"
    bad.write_bytes(flipped)
    with _damaged(bad):
        load(bad)
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"this is not a checkpoint at all")
    with _damaged(garbage):
        load(garbage)
    directory = data.rfind(b"PK\x01\x02")
    data[directory:directory + 4] = b"XXXX"
    broken = tmp_path / "broken.pt"
    broken.write_bytes(data)
    with _damaged(broken):
        load(broken)
    with pytest.raises(RuntimeError, match=r"<BytesIO> is not a valid checkpoint"):
        load(io.BytesIO(b"PK\x03\x04 and then nothing"))


def test_unsupported_objects_raise_clearly(tmp_path):
    with pytest.raises(TypeError, match="pickle_module"):
        save(tm.ones(1), io.BytesIO(), pickle_module=type("M", (), {"Pickler": object}))
    with pytest.raises(AttributeError, match="file-like object"):
        save(tm.ones(1), 3)
    with pytest.raises(AttributeError, match="file-like object"):
        load(3)
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.pt")


def test_public_names():
    assert tm.save is save and tm.load is load
    for name in ("add_safe_globals", "safe_globals", "get_safe_globals", "clear_safe_globals"):
        assert callable(getattr(serialization, name))
