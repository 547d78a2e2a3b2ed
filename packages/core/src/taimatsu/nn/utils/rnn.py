"""Variable-length sequences: PackedSequence and the pack / pad helpers, as torch's.

A PackedSequence holds its sequences time-major and flat: time step t contributes the
rows of the batch_sizes[t] sequences still running at t (sequences sorted by decreasing
length). Packing and unpacking are one differentiable row gather each, so gradients flow
back to the padded (or packed) tensor.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ... import _dtype as D
from ..._tensor import Tensor

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence",
           "pad_packed_sequence", "pad_sequence", "unpad_sequence", "pack_sequence",
           "unpack_sequence"]

_PackedSequenceBase = namedtuple("PackedSequence_",
                                 ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])


def _long(values) -> Tensor:
    return Tensor._make(np.asarray(values, dtype=np.int64))


class PackedSequence(_PackedSequenceBase):
    """Packed variable-length sequences (data, batch_sizes, sorted/unsorted indices).

    Built by pack_padded_sequence / pack_sequence rather than by hand; batch_sizes is an
    int64 CPU tensor; unsorted_indices defaults to the inverse of sorted_indices.
    """

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            # legacy form: PackedSequence((data, batch_sizes))
            if not isinstance(data, (list, tuple)) or len(data) != 2:
                raise AssertionError("Expected data to be a list or tuple of length 2")
            data, batch_sizes = data
        if not isinstance(batch_sizes, Tensor):
            batch_sizes = _long(batch_sizes)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs) -> PackedSequence:
        """Moves/casts `data` (as Tensor.to); indices follow data's device."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        dev = data.device
        sorted_indices = None if self.sorted_indices is None else \
            self.sorted_indices.to(dev)
        unsorted_indices = None if self.unsorted_indices is None else \
            self.unsorted_indices.to(dev)
        return type(self)(data, self.batch_sizes, sorted_indices, unsorted_indices)

    def cuda(self, *args, **kwargs) -> PackedSequence:
        return self.to(*args, device="cuda", **kwargs)

    def cpu(self, *args, **kwargs) -> PackedSequence:
        return self.to(*args, device="cpu", **kwargs)

    def double(self) -> PackedSequence:
        return self.to(dtype=D.float64)

    def float(self) -> PackedSequence:
        return self.to(dtype=D.float32)

    def half(self) -> PackedSequence:
        return self.to(dtype=D.float16)

    def bfloat16(self) -> PackedSequence:
        return self.to(dtype=D.bfloat16)

    def long(self) -> PackedSequence:
        return self.to(dtype=D.int64)

    def int(self) -> PackedSequence:
        return self.to(dtype=D.int32)

    def short(self) -> PackedSequence:
        return self.to(dtype=D.int16)

    def char(self) -> PackedSequence:
        return self.to(dtype=D.int8)

    def byte(self) -> PackedSequence:
        return self.to(dtype=D.uint8)

    @property
    def is_cuda(self) -> bool:
        return self.data.is_cuda

    def is_pinned(self) -> bool:
        return False


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The permutation that undoes `permutation` (None stays None)."""
    if permutation is None:
        return None
    perm = np.asarray(permutation._data if isinstance(permutation, Tensor) else permutation)
    out = np.empty_like(perm)
    out[perm] = np.arange(perm.size, dtype=perm.dtype)
    result = _long(out)
    return result.to(permutation.device) if isinstance(permutation, Tensor) else result


def _lengths_array(lengths) -> np.ndarray:
    if isinstance(lengths, Tensor):
        if lengths.dtype._kind > 1:
            # torch truncates float lengths after a warning; keep the values as integers
            return np.asarray(lengths.tolist(), dtype=np.int64)
        return np.asarray(lengths._data.tolist() if lengths.is_cuda else lengths._data,
                          dtype=np.int64).reshape(-1)
    return np.asarray(lengths, dtype=np.int64).reshape(-1)


def _batch_sizes(lengths: np.ndarray) -> np.ndarray:
    """How many sequences (sorted by decreasing length) are still running at each step."""
    steps = np.arange(int(lengths[0]))
    return (lengths[None, :] > steps[:, None]).sum(axis=1)


def _gather_rows(x: Tensor, rows: np.ndarray) -> Tensor:
    """x[rows] along dim 0 (differentiable)."""
    from ...ops.indexing import index_select
    index = Tensor._make(rows.astype(np.int64))
    if x.is_cuda:
        index = index.to(x.device)
    return index_select(x, 0, index)


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Packs a padded (T, B, *) batch (or (B, T, *) with batch_first) of sequences."""
    lengths = _lengths_array(lengths)
    sorted_indices = None
    if enforce_sorted:
        if lengths.size > 1 and bool(np.any(lengths[:-1] < lengths[1:])):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                "pack_sequence to sidestep this requirement if you do not need ONNX "
                "exportability.")
        order = None
    else:
        order = np.argsort(-lengths, kind="stable")
        lengths = lengths[order]
        sorted_indices = _long(order)
        if input.is_cuda:
            sorted_indices = sorted_indices.to(input.device)
    T, B = (input.shape[1], input.shape[0]) if batch_first else input.shape[:2]
    if lengths.size != B:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{lengths.size} (batch_size={B})")
    if lengths.size and int(lengths.min()) <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    if lengths.size and int(lengths[0]) > T:
        raise RuntimeError(f"Length of a sample ({int(lengths[0])}) exceeds the padded "
                           f"sequence length {T}")
    batch_sizes = _batch_sizes(lengths)
    # Row (t, sorted slot j) of the packed data is the padded tensor's (t, order[j]).
    cols = np.arange(B) if order is None else order
    if batch_first:
        rows = np.concatenate([cols[:b] * T + t for t, b in enumerate(batch_sizes)])
    else:
        rows = np.concatenate([t * B + cols[:b] for t, b in enumerate(batch_sizes)])
    flat = input.reshape((T * B,) + tuple(input.shape[2:]))
    data = _gather_rows(flat, rows)
    return PackedSequence(data, _long(batch_sizes), sorted_indices, None)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:
    """Unpacks to a padded (T, B, *) tensor (or (B, T, *)) and the lengths (int64)."""
    from ...ops.creation import full
    from ...ops.join import cat
    data = sequence.data
    batch_sizes = np.asarray(sequence.batch_sizes._data, dtype=np.int64)
    T = batch_sizes.size
    if total_length is not None:
        if total_length < T:
            raise ValueError("Expected total_length to be at least the length of the "
                             f"longest sequence in input, but got total_length={total_length}"
                             f" and max sequence length being {T}")
        T = total_length
    B = int(batch_sizes[0]) if batch_sizes.size else 0
    lengths = (batch_sizes[None, :] > np.arange(B)[:, None]).sum(axis=1)  # sorted slots
    unsorted = None if sequence.unsorted_indices is None else \
        np.asarray(sequence.unsorted_indices.tolist(), dtype=np.int64)
    slots = np.arange(B) if unsorted is None else unsorted  # slot of each output column
    offsets = np.concatenate([[0], np.cumsum(batch_sizes)[:-1]]).astype(np.int64)
    pad_row = data.shape[0]
    # index[t, col]: the packed row holding (t, col), or the extra padding row
    t = np.arange(T)[:, None]
    slot = slots[None, :]
    valid = t < lengths[slot]
    index = np.where(valid, offsets[np.minimum(t, batch_sizes.size - 1)] + slot, pad_row)
    if batch_first:
        index = index.T
    pad = full((1,) + tuple(data.shape[1:]), padding_value, dtype=data.dtype,
               device=data.device)
    padded = _gather_rows(cat([data, pad]), index.reshape(-1))
    padded = padded.reshape(index.shape + tuple(data.shape[1:]))
    return padded, _long(lengths[slots])


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stacks variable-length (L_i, *) tensors into (T, B, *) (or (B, T, *)), padded."""
    from ...ops.creation import full
    from ...ops.join import cat
    if isinstance(sequences, Tensor):
        sequences = list(sequences.unbind(0))
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise RuntimeError("Expected padding_side to be one of left or right, but got "
                           f"{padding_side}.")
    lengths = np.array([s.shape[0] for s in sequences], dtype=np.int64)
    T = int(lengths.max())
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    flat = cat(sequences + [full((1,) + tuple(sequences[0].shape[1:]), padding_value,
                                 dtype=sequences[0].dtype, device=sequences[0].device)])
    pad_row = int(lengths.sum())
    t = np.arange(T)[:, None]
    if padding_side == "left":
        t = t - (T - lengths[None, :])
    valid = (t >= 0) & (t < lengths[None, :])
    index = np.where(valid, offsets[None, :] + t, pad_row)  # (T, B)
    if batch_first:
        index = index.T
    out = _gather_rows(flat, index.reshape(-1))
    return out.reshape(index.shape + tuple(flat.shape[1:]))


def unpad_sequence(padded_sequences: Tensor, lengths: Tensor,
                   batch_first: bool = False) -> list[Tensor]:
    """The inverse of pad_sequence: a list of (L_i, *) tensors."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [padded_sequences[i, :int(n)] for i, n in enumerate(_lengths_array(lengths))]


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Packs a list of variable-length (L_i, *) tensors."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths,
                                enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The inverse of pack_sequence: a list of (L_i, *) tensors."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
