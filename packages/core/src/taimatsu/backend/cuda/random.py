"""The CUDA generator state (Philox4x32-10 seed and offset, one per device) and the
dropout kernels that draw from it (kernels/dropout.cu).

As torch's CUDA generator, a state is a 64-bit seed (the Philox key) and an offset into the
counter space; each draw reserves a range of counters and moves the offset past it, so
consecutive calls differ and re-seeding replays them. NumPy arrays under the CPU emulator
draw from a state of their own, seeded together with the GPUs'.
"""

from __future__ import annotations

import secrets

import numpy as np

from ... import backend
from ._module import Module, dtype_suffix, grid_1d

_MODULE = Module("dropout.cu")
_U64 = (1 << 64) - 1
_EMULATED = "emulated"  # the state key of NumPy arrays run through the emulator


class PhiloxState:
    """(seed, offset) of one device's Philox4x32-10 stream."""

    __slots__ = ("seed", "offset")

    def __init__(self, seed: int):
        self.manual_seed(seed)

    def manual_seed(self, seed: int) -> None:
        self.seed = int(seed) & _U64
        self.offset = 0

    def take(self, groups: int) -> tuple[np.uint64, np.uint64]:
        """The (seed, offset) kernel arguments for a draw of `groups` 4-word groups, moving
        the offset past them."""
        offset = self.offset
        self.offset = (offset + groups) & _U64
        return np.uint64(self.seed), np.uint64(offset)

    def get_state(self) -> np.ndarray:
        """16 bytes, seed then offset (little-endian uint64s), as torch's CUDA state."""
        return np.array([self.seed, self.offset], dtype="<u8").view(np.uint8)

    def set_state(self, state) -> None:
        raw = np.ascontiguousarray(backend.to_numpy(state), dtype=np.uint8).reshape(-1)
        if raw.size != 16:
            raise RuntimeError(f"Expected a CUDA generator state of size 16 but found the "
                               f"input RNG state size to be {raw.size}")
        self.seed, self.offset = (int(w) for w in raw.view("<u8"))


_states: dict = {}
_manual_seed: list = [None]  # the seed that states made from now on start from, once set


def state(key) -> PhiloxState:
    """The state of a device index (or of the emulator), made on first use: from the last
    manual seed, else from OS entropy (as cupy.random seeds itself)."""
    st = _states.get(key)
    if st is None:
        seed = _manual_seed[0]
        st = _states[key] = PhiloxState(secrets.randbits(64) if seed is None else seed)
    return st


def state_of(array) -> PhiloxState:
    """The state of the device that holds `array`."""
    return state(array.device.id if backend.is_cuda_array(array) else _EMULATED)


def manual_seed_all(seed: int) -> None:
    """Seeds every device's state (and the emulator's), now and for states made later."""
    seed = int(seed) & _U64
    _manual_seed[0] = seed
    for st in _states.values():
        st.manual_seed(seed)


# -- kernels ----------------------------------------------------------------------------------

def philox_raw(xp, groups: int, seed: int, offset: int, first_group: int = 0,
               threads: int = 256):
    """Raw Philox4x32-10 output, (groups, 4) uint32: row g is the block for counter
    (first_group + g, offset) under key `seed`. For tests against known answers."""
    out = xp.empty((groups, 4), dtype=np.uint32)
    _MODULE["philox4x32_10_raw"](grid_1d(groups, threads), threads,
                                 (out, np.int64(groups), np.uint64(seed),
                                  np.uint64(first_group), np.uint64(offset)))
    return out


def _groups(n: int) -> int:
    return -(-n // 4)


def _scalar(suffix: str):
    return np.float64 if suffix == "f64" else np.float32


def _aligned(array, alignment: int) -> bool:
    pointer = array.data.ptr if backend.is_cuda_array(array) else array.ctypes.data
    return pointer % alignment == 0


def dropout(x, p: float, threads: int = 256):
    """Fused dropout forward on a float array: (out, mask) with mask ~ Bernoulli(1 - p) (bool,
    x's shape) and out = x * mask / (1 - p). 0 <= p < 1."""
    suffix = dtype_suffix(x.dtype)
    xp = backend.of(x)
    x = xp.ascontiguousarray(x)
    out = xp.empty_like(x)
    mask = xp.empty(x.shape, dtype=np.bool_)
    n = x.size
    seed, offset = state_of(x).take(_groups(n))
    vec = _aligned(x, 4 * x.itemsize) and _aligned(out, 4 * x.itemsize) and _aligned(mask, 4)
    name = f"dropout_fwd_vec_{suffix}" if vec else f"dropout_fwd_{suffix}"
    _MODULE[name](grid_1d(_groups(n), threads), threads,
                  (x, out, mask, np.int64(n), seed, offset, np.float32(1.0 - p),
                   _scalar(suffix)(1.0 / (1.0 - p))))
    return out, mask


def bernoulli_mask(like, shape, keep: float, threads: int = 256):
    """A bool array of `shape` on `like`'s device, True with probability `keep`."""
    xp = backend.of(like)
    mask = xp.empty(shape, dtype=np.bool_)
    n = mask.size
    seed, offset = state_of(like).take(_groups(n))
    _MODULE["dropout_mask"](grid_1d(_groups(n), threads), threads,
                            (mask, np.int64(n), seed, offset, np.float32(keep)))
    return mask


def masked_scale(x, mask, scale: float, shift_keep: float | None = None,
                 shift_drop: float = 0.0, threads: int = 256):
    """x * mask * scale (+ shift_keep where kept, shift_drop where dropped, when shift_keep
    is given), computed in float (double for float64). mask broadcasts over trailing
    dimensions: its shape is x's leading dimensions followed by ones, or x's shape."""
    suffix = dtype_suffix(x.dtype)
    xp = backend.of(x)
    x = xp.ascontiguousarray(x)
    mask = xp.ascontiguousarray(mask)
    out = xp.empty_like(x)
    n = x.size
    inner = n // mask.size if mask.size else 1
    cast = _scalar(suffix)
    _MODULE[f"dropout_apply_{suffix}"](
        grid_1d(n, threads), threads,
        (x, mask, out, np.int64(n), np.int64(inner), cast(scale),
         cast(0.0 if shift_keep is None else shift_keep), cast(shift_drop),
         np.int32(shift_keep is not None)))
    return out
