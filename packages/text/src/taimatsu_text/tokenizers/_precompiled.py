"""SentencePiece's precompiled normalization rules (the `precompiled_charsmap` of a
tokenizer.json `Precompiled` normalizer).

The blob is a 4-byte little-endian size, a Darts double-array trie of that many bytes (uint32
units) keyed by UTF-8 strings, then the replacement strings, each ended by a NUL byte; a key's
value is the byte offset of its replacement.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CharsMap"]


class CharsMap:
    """Looks up the replacement of a string as the Rust library's spm_precompiled does."""

    __slots__ = ("units", "blob", "_cache")

    def __init__(self, data: bytes):
        if len(data) < 4:
            raise ValueError("precompiled_charsmap is too short to hold its trie size")
        size = int.from_bytes(data[:4], "little")
        n = size // 4
        if 4 + 4 * n > len(data):
            raise ValueError(f"precompiled_charsmap claims a {size}-byte trie but holds "
                             f"{len(data) - 4} bytes")
        self.units = np.frombuffer(data, dtype="<u4", count=n, offset=4).tolist()
        self.blob = bytes(data[4 + 4 * n:])
        self._cache: dict[str, str | None] = {}

    def transform(self, chunk: str) -> str | None:
        """The replacement of `chunk`, or None when the trie has no key that is a prefix of
        it. Like the library, the *shortest* such key decides and its replacement stands for
        the whole chunk."""
        hit = self._cache.get(chunk, self)
        if hit is not self:
            return hit
        value = self._first_value(chunk.encode("utf-8"))
        if value is None:
            out = None
        else:
            end = self.blob.find(b"\0", value)
            out = self.blob[value:end if end >= 0 else len(self.blob)].decode("utf-8")
        if len(self._cache) >= 1 << 16:
            self._cache.clear()
        self._cache[chunk] = out
        return out

    def _first_value(self, key: bytes) -> int | None:
        units = self.units
        n = len(units)
        if not n:
            return None
        # unit fields: bit 8 has_leaf, bits 0-7 (and 31) the label, bits 10+ the offset
        # (shifted left by 8 when bit 9 is set), bits 0-30 a leaf's value
        unit = units[0]
        pos = (unit >> 10) << ((unit & 0x200) >> 6)
        for b in key:
            if b == 0:
                break
            pos ^= b
            if pos >= n:
                return None
            unit = units[pos]
            if unit & 0x800000FF != b:
                return None
            pos ^= (unit >> 10) << ((unit & 0x200) >> 6)
            if unit & 0x100:
                return units[pos] & 0x7FFFFFFF if pos < n else None
        return None
