"""nn.utils.rnn: PackedSequence, pack/pad helpers, their gradients and errors."""

import numpy as np
import pytest

import taimatsu as tm
from taimatsu.autograd import gradcheck
from taimatsu.nn.utils.rnn import (
    PackedSequence,
    invert_permutation,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
    unpack_sequence,
    unpad_sequence,
)
from taimatsu.testing import assert_close

RNG = np.random.default_rng(0)
LENGTHS = (2, 5, 3, 5)


def _seqs(lengths=LENGTHS, feat=3, requires_grad=False):
    return [tm.tensor(RNG.standard_normal((n, feat)), requires_grad=requires_grad)
            for n in lengths]


def _padded_reference(arrays, batch_first, value, side):
    T = max(len(a) for a in arrays)
    out = np.full((len(arrays), T) + arrays[0].shape[1:], value)
    for i, a in enumerate(arrays):
        if side == "right":
            out[i, :len(a)] = a
        else:
            out[i, T - len(a):] = a
    return out if batch_first else np.swapaxes(out, 0, 1)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence(batch_first, side):
    seqs = _seqs()
    out = pad_sequence(seqs, batch_first=batch_first, padding_value=-1.0, padding_side=side)
    expected = _padded_reference([s.numpy() for s in seqs], batch_first, -1.0, side)
    assert_close(out, expected)


def test_pad_sequence_gradient():
    seqs = _seqs(requires_grad=True)
    assert gradcheck(lambda *s: pad_sequence(list(s), padding_value=2.0), seqs)


def test_pack_sequence_layout():
    seqs = _seqs((3, 2, 2))
    packed = pack_sequence(seqs)
    assert packed.batch_sizes.tolist() == [3, 3, 1]
    assert packed.batch_sizes.dtype is tm.int64
    assert packed.sorted_indices is None and packed.unsorted_indices is None
    rows = [seqs[0][0], seqs[1][0], seqs[2][0], seqs[0][1], seqs[1][1], seqs[2][1],
            seqs[0][2]]
    assert_close(packed.data, tm.stack(rows))


@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_unsorted_roundtrip(batch_first):
    seqs = _seqs()
    padded = pad_sequence(seqs, batch_first=batch_first)
    packed = pack_padded_sequence(padded, list(LENGTHS), batch_first=batch_first,
                                  enforce_sorted=False)
    assert packed.batch_sizes.tolist() == [4, 4, 3, 2, 2]
    assert packed.sorted_indices.tolist() == [1, 3, 2, 0]
    assert packed.unsorted_indices.tolist() == [3, 0, 2, 1]
    back, lengths = pad_packed_sequence(packed, batch_first=batch_first)
    assert lengths.tolist() == list(LENGTHS)
    assert_close(back, padded)
    for a, b in zip(unpack_sequence(packed), seqs):
        assert_close(a, b)


def test_pad_packed_total_length_and_value():
    packed = pack_sequence(_seqs((3, 1)))
    out, lengths = pad_packed_sequence(packed, batch_first=True, padding_value=7.0,
                                       total_length=5)
    assert out.shape == (2, 5, 3)
    assert np.all(out.numpy()[1, 1:] == 7.0) and np.all(out.numpy()[0, 3:] == 7.0)
    with pytest.raises(ValueError, match="Expected total_length to be at least the length of "
                                         "the longest sequence in input, but got "
                                         "total_length=2 and max sequence length being 3"):
        pad_packed_sequence(packed, total_length=2)


def test_pack_pad_gradient():
    x = tm.tensor(RNG.standard_normal((5, 4, 2)), requires_grad=True)

    def roundtrip(x):
        packed = pack_padded_sequence(x, [2, 5, 3, 1], enforce_sorted=False)
        return pad_packed_sequence(packed, padding_value=1.0)[0]

    assert gradcheck(roundtrip, [x])
    # positions beyond each length get no gradient
    roundtrip(x).sum().backward()
    assert np.all(x.grad.numpy()[2:, 0] == 0) and np.all(x.grad.numpy()[:2, 0] == 1)


def test_unpad_sequence():
    seqs = _seqs()
    for batch_first in (False, True):
        padded = pad_sequence(seqs, batch_first=batch_first)
        parts = unpad_sequence(padded, tm.tensor(list(LENGTHS)), batch_first=batch_first)
        for a, b in zip(parts, seqs):
            assert_close(a, b)


def test_packed_sequence_to_and_namedtuple():
    packed = pack_sequence(_seqs(), enforce_sorted=False)
    data, batch_sizes, sorted_indices, unsorted_indices = packed
    assert data is packed.data
    f32 = packed.to(tm.float32)
    assert f32.data.dtype is tm.float32 and f32.batch_sizes is packed.batch_sizes
    assert f32.sorted_indices.tolist() == sorted_indices.tolist()
    assert packed.to(tm.float64) is packed
    assert packed.float().data.dtype is tm.float32 and not packed.is_cuda
    rebuilt = PackedSequence(data, batch_sizes, sorted_indices)
    assert rebuilt.unsorted_indices.tolist() == unsorted_indices.tolist()


def test_invert_permutation():
    perm = tm.tensor([2, 0, 3, 1])
    assert invert_permutation(perm).tolist() == [1, 3, 0, 2]
    assert invert_permutation(None) is None


def test_errors():
    x = tm.randn(4, 3, 2)
    with pytest.raises(RuntimeError, match="`lengths` array must be sorted in decreasing "
                                           "order when `enforce_sorted` is True"):
        pack_padded_sequence(x, [2, 4, 1])
    with pytest.raises(RuntimeError, match=r"Expected `len\(lengths\)` to be equal to "
                                           r"batch_size, but got 2 \(batch_size=3\)"):
        pack_padded_sequence(x, [4, 2])
    with pytest.raises(RuntimeError, match="Length of all samples has to be greater than 0"):
        pack_padded_sequence(x, [4, 2, 0])
    with pytest.raises(RuntimeError, match="received an empty list of sequences"):
        pad_sequence([])
    with pytest.raises(RuntimeError, match="Expected padding_side to be one of left or right, "
                                           "but got middle."):
        pad_sequence(_seqs(), padding_side="middle")
