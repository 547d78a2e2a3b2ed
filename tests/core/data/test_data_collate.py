"""Tests for utils/data/_utils/collate.py: default_collate and default_convert."""

import collections

import ml_dtypes
import numpy as np
import pytest

import taimatsu
from taimatsu import Tensor
from taimatsu.utils.data import default_collate, default_convert
from taimatsu.utils.data._utils.collate import collate, default_collate_fn_map

Point = collections.namedtuple("Point", ["x", "y"])


def _vals(t):
    assert isinstance(t, Tensor)
    return t.tolist()


# -- leaves -------------------------------------------------------------------------------------

def test_numbers_become_tensors_with_torchs_dtypes():
    ints = default_collate([1, 2, 3])
    assert ints.dtype is taimatsu.int64 and _vals(ints) == [1, 2, 3]
    floats = default_collate([1.5, 2])
    assert floats.dtype is taimatsu.float64 and _vals(floats) == [1.5, 2.0]
    bools = default_collate([True, False])
    assert bools.dtype is taimatsu.bool and _vals(bools) == [True, False]
    # The first element picks the rule: an int first means torch.tensor's inference.
    assert default_collate([1, 2.5]).dtype is taimatsu.float32


def test_numpy_scalars_keep_their_dtype():
    assert default_collate([np.float32(1), np.float32(2)]).dtype is taimatsu.float32
    assert default_collate([np.int16(1), np.int16(2)]).dtype is taimatsu.int16
    assert default_collate([np.bool_(True)]).dtype is taimatsu.bool


def test_strings_and_bytes_stay_lists():
    assert default_collate(["a", "b"]) == ["a", "b"]
    assert default_collate([b"x", b"y"]) == [b"x", b"y"]


def test_tensors_are_stacked():
    batch = default_collate([taimatsu.ones(2, 3), taimatsu.zeros(2, 3)])
    assert batch.shape == (2, 2, 3) and batch.dtype is taimatsu.float32
    assert _vals(batch[1]) == [[0.0] * 3] * 2
    # Mixed dtypes promote as taimatsu.stack does.
    mixed = default_collate([taimatsu.tensor(1), taimatsu.tensor(2.0)])
    assert mixed.dtype is taimatsu.float32 and _vals(mixed) == [1.0, 2.0]


def test_stacked_tensor_is_a_copy_and_keeps_autograd():
    a = taimatsu.ones(3)
    batch = default_collate([a, a])
    batch[0, 0] = 5.0
    assert a[0].item() == 1.0
    w = taimatsu.ones(2, requires_grad=True)
    out = default_collate([w, w * 2])
    out.sum().backward()
    assert w.grad.tolist() == [3.0, 3.0]


def test_noncontiguous_and_bfloat16_tensors():
    base = taimatsu.arange(12.0).reshape(3, 4)
    batch = default_collate([base.T, base.T])
    assert batch.shape == (2, 4, 3) and _vals(batch[0]) == base.T.tolist()
    bf = default_collate([taimatsu.ones(2, dtype=taimatsu.bfloat16)] * 3)
    assert bf.dtype is taimatsu.bfloat16 and bf.shape == (3, 2)


def test_tensor_size_mismatch_uses_stacks_error():
    with pytest.raises(RuntimeError, match=r"stack expects each tensor to be equal size, but got \[2\] at entry 0 and \[3\] at entry 1"):
        default_collate([taimatsu.zeros(2), taimatsu.zeros(3)])


def test_numpy_arrays_are_stacked_into_tensors():
    batch = default_collate([np.arange(3, dtype=np.uint8), np.arange(3, dtype=np.uint8)])
    assert batch.dtype is taimatsu.uint8 and batch.shape == (2, 3)
    zero_dim = default_collate([np.array(3.0), np.array(4.0)])
    assert zero_dim.dtype is taimatsu.float64 and _vals(zero_dim) == [3.0, 4.0]
    bf = default_collate([np.ones(2, dtype=ml_dtypes.bfloat16)] * 2)
    assert bf.dtype is taimatsu.bfloat16
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        default_collate([np.zeros(2), np.zeros(3)])


def test_unsupported_types_raise_torchs_error():
    with pytest.raises(TypeError, match="default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found <class 'object'>"):
        default_collate([object(), object()])
    with pytest.raises(TypeError, match="found <U1"):
        default_collate([np.array(["a"]), np.array(["b"])])
    with pytest.raises(TypeError, match="found object"):
        default_collate([np.array([None]), np.array([None])])


# -- containers ---------------------------------------------------------------------------------

def test_dicts_collate_per_key_and_keep_their_type():
    out = default_collate([{"a": 1, "b": "x"}, {"a": 2, "b": "y"}])
    assert _vals(out["a"]) == [1, 2] and out["b"] == ["x", "y"]
    od = default_collate([collections.OrderedDict(z=1.0, a=2.0)] * 2)
    assert type(od) is collections.OrderedDict and list(od) == ["z", "a"]

    class Frozen(collections.abc.Mapping):  # immutable and not constructible from a dict
        def __init__(self, **kw):
            self._d = kw

        def __getitem__(self, k):
            return self._d[k]

        def __iter__(self):
            return iter(self._d)

        def __len__(self):
            return len(self._d)

    plain = default_collate([Frozen(a=1)] * 2)
    assert type(plain) is dict and _vals(plain["a"]) == [1, 1]


def test_namedtuples_stay_namedtuples():
    out = default_collate([Point(1, 2.0), Point(3, 4.0)])
    assert type(out) is Point and _vals(out.x) == [1, 3] and _vals(out.y) == [2.0, 4.0]


def test_tuples_and_lists_are_transposed():
    out = default_collate([(1, "a"), (2, "b")])
    assert type(out) is list and _vals(out[0]) == [1, 2] and out[1] == ("a", "b")
    # Columns arrive at the leaf functions as tuples: every leaf type copes.
    row = (1.5, np.float32(1), True, np.zeros(2), taimatsu.ones(1))
    cols = default_collate([row, row])
    assert [c.dtype for c in cols] == [taimatsu.float64, taimatsu.float32, taimatsu.bool,
                                       taimatsu.float64, taimatsu.float32]
    assert [c.shape for c in cols] == [(2,), (2,), (2,), (2, 2), (2, 1)]
    nested = default_collate([[np.zeros(2), [1, 2]], [np.ones(2), [3, 4]]])
    assert nested[0].shape == (2, 2) and [_vals(t) for t in nested[1]] == [[1, 3], [2, 4]]


def test_sequences_must_have_equal_length():
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([[1, 2], [1]])


def test_collate_fn_map_is_extensible():
    class Box:
        def __init__(self, v):
            self.v = v

    def collate_box(batch, *, collate_fn_map=None):
        return sum(b.v for b in batch)

    assert collate([Box(1), Box(2)], collate_fn_map={**default_collate_fn_map, Box: collate_box}) == 3
    # Subclasses are found through isinstance.
    class Sub(Box):
        pass

    assert collate([Sub(1), Sub(5)], collate_fn_map={Box: collate_box}) == 6


# -- default_convert ----------------------------------------------------------------------------

def test_default_convert():
    arr = np.array([0, 1])
    t = default_convert(arr)
    assert isinstance(t, Tensor) and _vals(t) == [0, 1]
    t[0] = 7
    assert arr[0] == 7  # shares memory, as torch.as_tensor
    assert default_convert(0) == 0 and default_convert("s") == "s"
    assert _vals(default_convert(np.float64(3))) == 3.0
    assert default_convert((np.array(1), 2))[1] == 2  # tuples become lists
    p = default_convert(Point(np.array(0), np.array(1)))
    assert type(p) is Point and isinstance(p.x, Tensor)
    d = default_convert({"a": np.zeros(1), "b": [np.ones(1)]})
    assert isinstance(d["a"], Tensor) and isinstance(d["b"][0], Tensor)
    strings = np.array(["a"])
    assert default_convert(strings) is strings
    tensor = taimatsu.ones(1)
    assert default_convert(tensor) is tensor
