"""PyTorch's pre-1.6 checkpoint format (``_use_new_zipfile_serialization=False``).

Layout: four pickles (a magic number, the protocol version 1001, a sys_info dict, the
object itself, whose storages are persistent ids of six fields), a pickled list of storage
keys, then for each key an int64 element count and the raw bytes. The bytes come after the
object's pickle, so loading reads the pickle twice: first with inert placeholders, to learn
each storage's element size, then for real once every storage is in memory.
"""

from __future__ import annotations

import pickle
import struct
import sys

import numpy as np

from ._unpickler import Loader, StorageType, load_plain, resolve_global, unpickle
from ._zip import Damaged

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001


def save_legacy(obj, f, pickler_cls, protocol: int) -> None:
    """Writes `obj` in the pre-1.6 layout to a binary file object."""
    sys_info = {"protocol_version": PROTOCOL_VERSION,
                "little_endian": sys.byteorder == "little",
                "type_sizes": {"short": 2, "int": 4, "long": 4}}
    for header in (MAGIC_NUMBER, PROTOCOL_VERSION, sys_info):
        pickle.dump(header, f, protocol=protocol)
    pickler = pickler_cls(f, protocol, legacy=True)
    pickler.dump(obj)
    pickle.dump([r.key for r in pickler.records], f, protocol=protocol)
    for record in pickler.records:
        f.write(struct.pack("=q", record.numel))
        f.write(memoryview(record.host_bytes()))


class _Inert:
    """Stands for every object during the first pass: accepts any call or state."""

    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        return _Inert()

    def __setstate__(self, state):
        pass

    def __setitem__(self, key, value):
        pass

    def append(self, item):
        pass

    def extend(self, items):
        pass


class _Survey(pickle.Unpickler):
    """First pass: records each storage's type; resolves no global except storage types."""

    def __init__(self, f, **kwargs):
        super().__init__(f, **kwargs)
        self.storage_types: dict[str, StorageType] = {}

    def find_class(self, module, name):
        try:
            obj = resolve_global(module, name, True, {}, "")
        except pickle.UnpicklingError:
            return _Inert
        return obj if isinstance(obj, StorageType) else _Inert

    def persistent_load(self, pid):
        if isinstance(pid, tuple) and len(pid) >= 3 and pid[0] == "storage" \
                and isinstance(pid[1], StorageType):
            self.storage_types[str(pid[2])] = pid[1]
        return _Inert()


def load_legacy(f, map_location, weights_only: bool, file_name: str, pickle_module,
                **pickle_load_args):
    """Reads a pre-1.6 checkpoint from a seekable binary file at its start."""
    if load_plain(f) != MAGIC_NUMBER:
        raise Damaged("invalid magic number")
    version = load_plain(f)
    if version != PROTOCOL_VERSION:
        raise Damaged(f"unsupported legacy protocol version {version!r}")
    sys_info = load_plain(f)
    little = sys_info.get("little_endian", True) if isinstance(sys_info, dict) else True
    start = f.tell()
    survey = _Survey(f, encoding=pickle_load_args.get("encoding", "utf-8"))
    survey.load()
    keys = load_plain(f)
    if not isinstance(keys, list):
        raise Damaged("the storage key list is malformed")
    count_format = "<q" if little else ">q"
    storages = {}
    for key in keys:
        storage_type = survey.storage_types.get(str(key))
        if storage_type is None:
            raise Damaged(f"storage {key} has data but no record")
        raw = f.read(8)
        if len(raw) != 8:
            raise Damaged(f"storage {key} is cut off")
        (count,) = struct.unpack(count_format, raw)
        storages[str(key)] = _read_exactly(f, count * storage_type.itemsize, key)

    def read_storage(key, storage_type, numel):
        if key not in storages:
            raise Damaged(f"storage {key} has a record but no data")
        return storages[key]

    loader = Loader(read_storage, map_location, weights_only, file_name,
                    swap=little != (sys.byteorder == "little"))
    f.seek(start)
    return unpickle(f, loader, pickle_module, **pickle_load_args)


def _read_exactly(f, n: int, key) -> np.ndarray:
    if n < 0:
        raise Damaged(f"storage {key} has a negative size")
    out = np.empty(n, np.uint8)
    view = memoryview(out)
    got = 0
    while got < n:
        k = f.readinto(view[got:]) if hasattr(f, "readinto") else None
        if k is None:
            chunk = f.read(n - got)
            k = len(chunk)
            view[got:got + k] = chunk
        if not k:
            raise Damaged(f"storage {key} is cut off")
        got += k
    return out
