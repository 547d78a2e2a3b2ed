"""The zip container of PyTorch checkpoints: stored (uncompressed) records, each record's
data 64-byte aligned, written and read without the `zipfile` module.

The writer reproduces PyTorch's (miniz's) layout: the local header carries no CRC nor sizes
(flag bit 3, a data descriptor follows the data), the alignment padding sits in an extra
field with id ``FB``, and a ZIP64 end record is always written. The reader goes by the
central directory and the local headers' offsets, so it also accepts archives whose CRCs are
0 (``torch.serialization.set_crc32_options(False)``), which `zipfile` refuses.
"""

from __future__ import annotations

import hashlib
import struct
import threading
import zlib

import numpy as np

ALIGNMENT = 64
_MASK = 0xFFFFFFFF  # a 32-bit field with this value means "see the ZIP64 extra field"
_ZIP64_AT = _MASK  # sizes and offsets from here on go to ZIP64 fields (tests lower it)
_FLAGS = 0x0808  # bit 3: sizes in a data descriptor; bit 11: UTF-8 names
_LOCAL = struct.Struct("<4sHHHHHIIIHH")
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
_EOCD = struct.Struct("<4sHHHHIIH")
_EOCD64 = struct.Struct("<4sQHHIIQQQQ")
_LOCATOR = struct.Struct("<4sIQI")
_LOCAL_SIG, _CENTRAL_SIG = b"PK\x03\x04", b"PK\x01\x02"
_EOCD_SIG, _EOCD64_SIG, _LOCATOR_SIG = b"PK\x05\x06", b"PK\x06\x06", b"PK\x06\x07"


class Damaged(Exception):
    """The file is not a well-formed checkpoint; the message says what is wrong."""


class ZipWriter:
    """Writes records sequentially to a binary file object (no seeking needed)."""

    def __init__(self, f, after_data=None):
        self._f = f
        self._after_data = after_data  # called after each big record's data is written
        self._pos = 0
        self._entries: list[tuple[bytes, int, int, int]] = []  # name, crc, size, offset

    def write_record(self, name: str, data) -> None:
        """Appends one stored record; `data` is bytes or a 1-D uint8 buffer."""
        view = memoryview(data).cast("B") if not isinstance(data, bytes) else data
        size = len(view)
        raw_name = name.encode("utf-8")
        big = size >= _ZIP64_AT
        # A big record announces ZIP64 in its local header; the sizes follow in the
        # data descriptor, as with every record here.
        extra = struct.pack("<HHQQ", 1, 16, 0, 0) if big else b""
        start = self._pos + _LOCAL.size + len(raw_name) + len(extra) + 4
        pad = -start % ALIGNMENT
        extra += b"FB" + struct.pack("<H", pad) + b"Z" * pad
        sizes = _MASK if big else 0
        header = _LOCAL.pack(_LOCAL_SIG, 45 if big else 0, _FLAGS, 0, 0, 0, 0, sizes, sizes,
                             len(raw_name), len(extra))
        write = self._f.write
        write(header + raw_name + extra)
        if size:
            crc = _crc_while(lambda: write(view), view)
        else:
            crc = 0
        if big:
            descriptor = struct.pack("<4sIQQ", b"PK\x07\x08", crc, size, size)
        else:
            descriptor = struct.pack("<4sIII", b"PK\x07\x08", crc, size, size)
        write(descriptor)
        if self._after_data is not None and size >= _PARALLEL_CRC_BYTES:
            self._after_data()
        self._entries.append((raw_name, crc, size, self._pos))
        self._pos = start + pad + size + len(descriptor)

    def serialization_id(self) -> str:
        """A content-derived id, 40 digits like PyTorch's, for `.data/serialization_id`."""
        h = hashlib.blake2b(digest_size=16)
        for name, crc, size, _ in self._entries:
            h.update(name + struct.pack("<IQ", crc, size))
        a, b = struct.unpack("<QQ", h.digest())
        return f"{a:020d}{b:020d}"

    def finish(self) -> None:
        """Writes the central directory and the end records."""
        cd_offset = self._pos
        parts = []
        for name, crc, size, offset in self._entries:
            extra = b""
            if size >= _ZIP64_AT:
                extra += struct.pack("<QQ", size, size)
            if offset >= _ZIP64_AT:
                extra += struct.pack("<Q", offset)
            if extra:
                extra = struct.pack("<HH", 1, len(extra)) + extra
            version = 45 if extra else 0
            shown = _MASK if size >= _ZIP64_AT else size
            parts.append(_CENTRAL.pack(_CENTRAL_SIG, version, version, _FLAGS, 0, 0, 0, crc,
                                       shown, shown, len(name), len(extra), 0, 0, 0, 0,
                                       _MASK if offset >= _ZIP64_AT else offset)
                         + name + extra)
        directory = b"".join(parts)
        n, cd_size = len(self._entries), len(directory)
        eocd64_offset = cd_offset + cd_size
        tail = (_EOCD64.pack(_EOCD64_SIG, 44, 0x031E, 45, 0, 0, n, n, cd_size, cd_offset)
                + _LOCATOR.pack(_LOCATOR_SIG, 0, eocd64_offset, 1)
                + _EOCD.pack(_EOCD_SIG, 0, 0, min(n, 0xFFFF), min(n, 0xFFFF),
                             min(cd_size, _MASK), min(cd_offset, _MASK), 0))
        self._f.write(directory + tail)
        self._pos = eocd64_offset + len(tail)


class ZipReader:
    """Random access to the records of a zip archive in a seekable binary file.

    Offsets are relative to `base`, the file position where the archive starts.
    """

    def __init__(self, f, base: int = 0):
        self._f = f
        self._base = base
        f.seek(0, 2)
        self._size = f.tell() - base
        # name -> (local header offset, compressed size, size, crc, method)
        self.entries: dict[str, tuple[int, int, int, int, int]] = {}
        self._read_directory()

    def _read_at(self, offset: int, n: int) -> bytes:
        self._f.seek(self._base + offset)
        data = self._f.read(n)
        if len(data) != n:
            raise Damaged(f"unexpected end of file at byte {offset + len(data)}")
        return data

    def _read_directory(self) -> None:
        tail_len = min(self._size, _EOCD.size + 0xFFFF + _LOCATOR.size)
        tail = self._read_at(self._size - tail_len, tail_len)
        at = tail.rfind(_EOCD_SIG)
        if at < 0 or at + _EOCD.size > len(tail):
            raise Damaged("the zip end-of-archive record is missing")
        _, _, _, _, n, cd_size, cd_offset, _ = _EOCD.unpack_from(tail, at)
        loc = at - _LOCATOR.size
        if loc >= 0 and tail[loc:loc + 4] == _LOCATOR_SIG:
            _, _, eocd64_offset, _ = _LOCATOR.unpack_from(tail, loc)
            rec = self._read_at(eocd64_offset, _EOCD64.size)
            if rec[:4] != _EOCD64_SIG:
                raise Damaged("the ZIP64 end-of-archive record is damaged")
            _, _, _, _, _, _, _, n, cd_size, cd_offset = _EOCD64.unpack(rec)
        if cd_offset + cd_size > self._size:
            raise Damaged("the zip central directory lies beyond the end of the file")
        directory = self._read_at(cd_offset, cd_size)
        pos = 0
        for _ in range(n):
            if directory[pos:pos + 4] != _CENTRAL_SIG:
                raise Damaged("the zip central directory is damaged")
            (_, _, _, flags, method, _, _, crc, csize, size, nlen, xlen, clen, _, _, _,
             offset) = _CENTRAL.unpack_from(directory, pos)
            pos += _CENTRAL.size
            raw_name = directory[pos:pos + nlen]
            extra = directory[pos + nlen:pos + nlen + xlen]
            pos += nlen + xlen + clen
            if _MASK in (size, csize, offset):
                size, csize, offset = _zip64_values(extra, size, csize, offset)
            name = raw_name.decode("utf-8" if flags & 0x800 else "cp437")
            self.entries[name] = (offset, csize, size, crc, method)

    def data_offset(self, name: str) -> int:
        """Absolute file position of a record's data, checked against the file size."""
        offset, csize, _, _, _ = self.entries[name]
        header = self._read_at(offset, _LOCAL.size)
        if header[:4] != _LOCAL_SIG:
            raise Damaged(f"the local header of {name!r} is damaged")
        nlen, xlen = struct.unpack_from("<HH", header, 26)
        start = offset + _LOCAL.size + nlen + xlen
        if start + csize > self._size:
            raise Damaged(f"record {name!r} is cut off")
        return self._base + start

    def read(self, name: str, check_crc: bool = True) -> bytes:
        """A (small) record's bytes, CRC-checked unless the archive stores CRC 0."""
        offset, csize, size, crc, method = self.entries[name]
        self._f.seek(self.data_offset(name))
        data = self._f.read(csize)
        if len(data) != csize:
            raise Damaged(f"record {name!r} is cut off")
        data = _decompress(data, method, size, name)
        if check_crc and crc and zlib.crc32(data) != crc:
            raise Damaged(f"record {name!r} fails its CRC check")
        return data

    def read_array(self, name: str) -> np.ndarray:
        """A record's bytes read into a new writable uint8 array (one copy from disk)."""
        _, csize, size, _, method = self.entries[name]
        if method != 0:
            return np.frombuffer(bytearray(self.read(name, check_crc=False)), np.uint8)
        out = np.empty(size, np.uint8)
        self._f.seek(self.data_offset(name))
        view = memoryview(out)
        got = 0
        while got < size:
            n = self._f.readinto(view[got:])
            if not n:
                raise Damaged(f"record {name!r} is cut off")
            got += n
        return out

    def map_array(self, name: str, mapping) -> np.ndarray:
        """A record's bytes as a uint8 array over a memory map of the file (no read)."""
        _, _, size, _, method = self.entries[name]
        if method != 0:
            raise Damaged(f"record {name!r} is compressed and cannot be memory-mapped")
        return np.frombuffer(mapping, np.uint8, count=size, offset=self.data_offset(name))


_PARALLEL_CRC_BYTES = 1 << 22


def _crc_while(write, view) -> int:
    """CRC-32 of `view`, computed in a second thread while `write()` runs for big records:
    both release the GIL, so the checksum costs no extra time."""
    if len(view) < _PARALLEL_CRC_BYTES:
        write()
        return zlib.crc32(view)
    result = []
    worker = threading.Thread(target=lambda: result.append(zlib.crc32(view)), daemon=True)
    worker.start()
    try:
        write()
    finally:
        worker.join()
    return result[0]


def _zip64_values(extra: bytes, size: int, csize: int, offset: int):
    pos = 0
    while pos + 4 <= len(extra):
        tag, length = struct.unpack_from("<HH", extra, pos)
        if tag == 1:
            values = iter(struct.unpack_from(f"<{length // 8}Q", extra, pos + 4))
            try:
                if size == _MASK:
                    size = next(values)
                if csize == _MASK:
                    csize = next(values)
                if offset == _MASK:
                    offset = next(values)
            except StopIteration:
                raise Damaged("a ZIP64 extra field is too short") from None
            return size, csize, offset
        pos += 4 + length
    raise Damaged("a ZIP64 extra field is missing")


def _decompress(data: bytes, method: int, size: int, name: str) -> bytes:
    if method == 0:
        return data
    if method == 8:  # deflate: a checkpoint someone re-zipped with compression
        try:
            out = zlib.decompress(data, -15)
        except zlib.error as exc:
            raise Damaged(f"record {name!r} does not decompress ({exc})") from None
        if len(out) != size:
            raise Damaged(f"record {name!r} has the wrong size")
        return out
    raise Damaged(f"record {name!r} uses unsupported zip compression method {method}")
