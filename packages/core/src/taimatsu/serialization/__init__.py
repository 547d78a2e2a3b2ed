"""save / load in PyTorch's checkpoint format, and the weights_only allow-list.

`save` writes the zip layout of ``torch.save`` (a pickle whose tensors are persistent
storage records, one 64-byte aligned record per storage), so ``torch.load`` reads it;
`load` reads checkpoints written by taimatsu or by PyTorch (the zip layout and the pre-1.6
one) without torch installed. Saving to a path is atomic.
"""

from __future__ import annotations

import io
import mmap as _mmap
import os
import pickle
import pickletools
import sys

from ._atomic import atomic_write, start_writeback
from ._legacy import load_legacy, save_legacy
from ._pickler import pickler_class
from ._unpickler import (
    Loader,
    Refused,
    add_safe_globals,
    clear_safe_globals,
    get_safe_globals,
    is_allowed,
    safe_globals,
    unpickle,
    user_globals,
)
from ._zip import Damaged, ZipReader, ZipWriter

__all__ = ["save", "load", "add_safe_globals", "clear_safe_globals", "get_safe_globals",
           "safe_globals", "get_unsafe_globals_in_checkpoint", "DEFAULT_PROTOCOL"]

DEFAULT_PROTOCOL = 2
_ZIP_MAGIC = b"PK\x03\x04"


def _is_path(f) -> bool:
    return isinstance(f, (str, bytes, os.PathLike))


def save(obj, f, pickle_module=pickle, pickle_protocol: int = DEFAULT_PROTOCOL,
         _use_new_zipfile_serialization: bool = True) -> None:
    """Saves `obj` to a path or a binary file object, in PyTorch's checkpoint format.

    Tensors anywhere in `obj` (in containers or in the attributes of your own objects) are
    written as storage records; tensors that view one array share one record and come
    back sharing memory. A path is replaced atomically: the data goes to a temporary file
    beside it, is fsync'ed, and is renamed over the target, so an interrupted save leaves
    the previous file intact. A file object is written from its current position.

    Args:
        obj: what to save (e.g. a state_dict)
        f: a path (str / os.PathLike) or a writable binary file object
        pickle_module: the module whose (pure-Python) Pickler writes the pickle
        pickle_protocol: pickle protocol (PyTorch's default, 2)
        _use_new_zipfile_serialization: False writes the pre-1.6 format instead of zip
    """
    pickler_cls = pickler_class(pickle_module)
    if _is_path(f):
        prefix = os.path.splitext(os.path.basename(os.fsdecode(f)))[0]
        with atomic_write(f) as out:
            _write(obj, out, prefix, pickler_cls, pickle_protocol,
                   _use_new_zipfile_serialization, lambda: start_writeback(out))
    else:
        if not hasattr(f, "write"):
            raise AttributeError(f"expected 'f' to be string, path, or a file-like object "
                                 f"with a 'write' attribute, got {type(f).__name__}")
        _write(obj, f, "archive", pickler_cls, pickle_protocol,
               _use_new_zipfile_serialization)
        if hasattr(f, "flush"):
            f.flush()


def _write(obj, f, prefix: str, pickler_cls, protocol: int, zip_format: bool,
           after_data=None) -> None:
    if not zip_format:
        save_legacy(obj, f, pickler_cls, protocol)
        return
    buffer = io.BytesIO()
    pickler = pickler_cls(buffer, protocol)
    pickler.dump(obj)
    writer = ZipWriter(f, after_data)
    p = f"{prefix}/"
    writer.write_record(p + "data.pkl", buffer.getbuffer())
    writer.write_record(p + ".format_version", b"1")
    writer.write_record(p + ".storage_alignment", b"64")
    writer.write_record(p + "byteorder", sys.byteorder.encode())
    for record in pickler.records:
        writer.write_record(f"{p}data/{record.key}", record.host_bytes())
    writer.write_record(p + "version", b"3\n")
    writer.write_record(p + ".data/serialization_id", writer.serialization_id().encode())
    writer.finish()


def load(f, map_location=None, pickle_module=None, *, weights_only: bool | None = True,
         mmap: bool | None = False, **pickle_load_args):
    """Loads what `save` or ``torch.save`` wrote (zip or pre-1.6 format).

    Args:
        f: a path (str / os.PathLike) or a readable binary file object
        map_location: where tensors go: None (where they were saved), a device or string
            (everything there), a dict mapping saved locations to new ones ({"cuda:1":
            "cuda:0"}), or a callable ``(storage, location) -> Tensor or None``
        pickle_module: the module whose Unpickler reads the pickle (weights_only=False)
        weights_only: only allow tensors, containers, dtypes, devices and what
            `add_safe_globals` adds; any other global raises ``pickle.UnpicklingError``
            and nothing from the file runs. False unpickles anything: trusted files only.
        mmap: map storages from the file (copy-on-write) instead of reading them
        pickle_load_args: passed to the Unpickler (e.g. ``encoding="latin1"``)

    Raises:
        RuntimeError: the file is truncated or damaged (the message names it)
        pickle.UnpicklingError: weights_only refused a global
    """
    weights_only = True if weights_only is None else bool(weights_only)
    if weights_only and pickle_module is not None:
        raise RuntimeError("Can not safely load weights when explicit pickle_module is "
                           "specified")
    if _is_path(f):
        name = os.fsdecode(os.fspath(f))
        with open(name, "rb") as file:
            return _load(file, name, map_location, pickle_module, weights_only,
                         bool(mmap), pickle_load_args)
    if not hasattr(f, "read"):
        raise AttributeError(f"expected 'f' to be string, path, or a file-like object with a "
                             f"'read' attribute, got {type(f).__name__}")
    name = getattr(f, "name", None)
    name = name if isinstance(name, str) else f"<{type(f).__name__}>"
    if not _seekable(f):
        f = io.BytesIO(f.read())
    return _load(f, name, map_location, pickle_module, weights_only, bool(mmap),
                 pickle_load_args)


def _seekable(f) -> bool:
    try:
        return f.seekable() if hasattr(f, "seekable") else hasattr(f, "seek")
    except (OSError, ValueError):
        return False


def _load(f, name, map_location, pickle_module, weights_only, use_mmap, pickle_load_args):
    try:
        start = f.tell()
        head = f.read(4)
        f.seek(start)
        if not head:
            raise Damaged("the file is empty")
        if head == _ZIP_MAGIC:
            return _load_zip(f, start, name, map_location, pickle_module, weights_only,
                             use_mmap, pickle_load_args)
        if use_mmap:
            raise RuntimeError("mmap can only be used with files saved with "
                               "`taimatsu.save(_use_new_zipfile_serialization=True)`, please "
                               "save your checkpoint with this option in order to use mmap.")
        return load_legacy(f, map_location, weights_only, name, pickle_module,
                           **pickle_load_args)
    except Refused as exc:
        raise pickle.UnpicklingError(str(exc)) from None
    except (Damaged, EOFError, pickle.UnpicklingError) as exc:
        raise RuntimeError(
            f"{name} is not a valid checkpoint: it looks truncated or damaged ({exc}). If it "
            "is being written or was copied, wait for or redo the save or the transfer."
        ) from None


def _find_prefix(reader: ZipReader) -> str:
    # PyTorch's records sit in one top-level folder (named after the file): <p>/data.pkl
    candidates = [n[:-len("data.pkl")] for n in reader.entries
                  if (n == "data.pkl" or n.endswith("/data.pkl")) and n.count("/") <= 1]
    if candidates:
        return min(candidates, key=len)
    if any(n.endswith("constants.pkl") for n in reader.entries):
        raise RuntimeError("this is a TorchScript archive (torch.jit.save); taimatsu loads "
                           "checkpoints of torch.save, not TorchScript programs")
    raise Damaged("the archive has no data.pkl record")


def _load_zip(f, start, name, map_location, pickle_module, weights_only, use_mmap,
              pickle_load_args):
    reader = ZipReader(f, start)
    prefix = _find_prefix(reader)
    order = sys.byteorder
    if prefix + "byteorder" in reader.entries:
        order = reader.read(prefix + "byteorder").decode("ascii", "replace").strip()
        if order not in ("little", "big"):
            raise Damaged(f"unknown byte order {order!r}")
    mapping = _map_file(f) if use_mmap else None

    def read_storage(key, storage_type, numel):
        record = f"{prefix}data/{key}"
        if record not in reader.entries:
            raise Damaged(f"record {record!r} is missing")
        if mapping is not None:
            return reader.map_array(record, mapping)
        return reader.read_array(record)

    loader = Loader(read_storage, map_location, weights_only, name, swap=order != sys.byteorder)
    data = reader.read(prefix + "data.pkl")
    return unpickle(io.BytesIO(data), loader, pickle_module, **pickle_load_args)


def _map_file(f):
    try:
        fileno = f.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):
        raise ValueError("f must be a file path (or a real file) in order to use the mmap "
                         "argument") from None
    # ACCESS_COPY: tensors are writable, and writes never reach the file.
    return _mmap.mmap(fileno, 0, access=_mmap.ACCESS_COPY)


def get_unsafe_globals_in_checkpoint(f) -> list[str]:
    """The globals ("module.qualname") in a checkpoint that ``weights_only=True`` refuses.

    Reads the pickle's opcodes without running them, so it is safe on untrusted files;
    pass the names' objects to `add_safe_globals` once you trust them. Only the zip format
    is read (as PyTorch).
    """
    if _is_path(f):
        with open(os.fsdecode(os.fspath(f)), "rb") as file:
            return get_unsafe_globals_in_checkpoint(file)
    if not _seekable(f):
        f = io.BytesIO(f.read())
    start = f.tell()
    head = f.read(4)
    f.seek(start)
    if head != _ZIP_MAGIC:
        raise ValueError("Expected input to be a checkpoint returned by taimatsu.save")
    reader = ZipReader(f, start)
    if any(n.endswith("constants.pkl") for n in reader.entries):
        raise ValueError("Expected input to be a checkpoint returned by taimatsu.save but "
                         "got a torchscript checkpoint")
    data = reader.read(_find_prefix(reader) + "data.pkl")
    user = user_globals()
    return sorted(g for g in _globals_in_pickle(data) if not is_allowed(g, user))


def _globals_in_pickle(data: bytes) -> set[str]:
    """Every global a pickle names, by GLOBAL or by STACK_GLOBAL (protocol 4+)."""
    found = set()
    pushed: list = []  # what each op left on the stack: a string, or None for anything else
    memo: dict = {}
    for op, arg, _ in pickletools.genops(data):
        name = op.name
        if name == "GLOBAL":
            module, _, qualname = arg.partition(" ")
            found.add(f"{module}.{qualname}")
            pushed.append(None)
        elif name == "STACK_GLOBAL":
            if len(pushed) >= 2 and None not in pushed[-2:]:
                found.add(f"{pushed[-2]}.{pushed[-1]}")
            pushed.append(None)
        elif name in ("SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE"):
            pushed.append(arg)
        elif name in ("BINGET", "LONG_BINGET", "GET"):
            pushed.append(memo.get(arg))
        elif name in ("BINPUT", "LONG_BINPUT", "PUT", "MEMOIZE"):
            memo[len(memo) if name == "MEMOIZE" else arg] = pushed[-1] if pushed else None
        elif name != "FRAME":
            pushed.append(None)
    return found
