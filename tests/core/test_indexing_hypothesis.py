"""Property tests for tensor[...]: random shapes and index expressions against NumPy.

The reference follows torch's rule, which differs from NumPy's only in where advanced
dims land when ints are mixed in: torch applies the ints first (plain selects), then
indexes the result. So the reference is a[ints only][everything else] in NumPy.
"""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import taimatsu as tm

SETTINGS = settings(max_examples=80, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def _entry(draw, shape, dim, adv_shape):
    """One index entry for dims starting at `dim`; returns (entry, dims it uses)."""
    size = shape[dim]
    kinds = ["int", "slice", "array", "mask"]
    if dim + 1 < len(shape):
        kinds.append("mask2")
    kind = draw(st.sampled_from(kinds))
    if kind == "int":
        return draw(st.integers(-size, size - 1)), 1
    if kind == "slice":
        bound = st.none() | st.integers(-size - 2, size + 2)
        return slice(draw(bound), draw(bound), draw(st.none() | st.integers(1, 3))), 1
    if kind == "array":
        # sizes of 1 broadcast against the common shape the other arrays use
        arr_shape = tuple(draw(st.sampled_from([n, 1])) for n in adv_shape)
        values = draw(st.lists(st.integers(-size, size - 1), min_size=int(np.prod(arr_shape)),
                               max_size=int(np.prod(arr_shape))))
        return np.array(values, dtype=np.int64).reshape(arr_shape), 1
    k = 1 if kind == "mask" else 2
    mask_shape = shape[dim:dim + k]
    bits = draw(st.lists(st.booleans(), min_size=int(np.prod(mask_shape)),
                         max_size=int(np.prod(mask_shape))))
    return np.array(bits, dtype=bool).reshape(mask_shape), k


@st.composite
def _entries_over(draw, shape, start, stop, adv_shape):
    """Entries using dims [start, stop) in order, with Nones sprinkled in."""
    out, dim = [], start
    while dim < stop and draw(st.booleans()):
        if draw(st.integers(0, 4)) == 0:
            out.append(None)
        entry, used = draw(_entry(shape[:stop], dim, adv_shape))
        out.append(entry)
        dim += used
    return out, dim


@st.composite
def indexed(draw):
    """(array, index) with an index of ints, slices, None, Ellipsis, int arrays, masks."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
    adv_shape = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    front, used = draw(_entries_over(shape, 0, len(shape), adv_shape))
    index = front
    if draw(st.booleans()):
        back_start = draw(st.integers(used, len(shape)))
        back, _ = draw(_entries_over(shape, back_start, len(shape), adv_shape))
        # the Ellipsis covers what front and back leave: back must end at the last dim
        if back and _dims_used(back) == len(shape) - back_start:
            index = front + [Ellipsis] + back
        else:
            index = front + [Ellipsis]
    if draw(st.booleans()):
        index.insert(draw(st.integers(0, len(index))), None)
    data = np.arange(np.prod(shape), dtype=np.float64).reshape(shape) - 7.0
    as_tensors = draw(st.booleans())
    return data, tuple(index), as_tensors


def _dims_used(entries):
    return sum(0 if e is None else (e.ndim if isinstance(e, np.ndarray) and e.dtype == bool
                                    else 1) for e in entries)


def _ours(index, as_tensors):
    """The same index with arrays as taimatsu tensors (or lists) instead of NumPy arrays."""
    def convert(e):
        if isinstance(e, np.ndarray):
            return tm.tensor(e) if as_tensors else e.tolist() if e.ndim == 1 else e
        return e
    return tuple(convert(e) for e in index)


def _torch_rule(index, ndim):
    """(ints-only index, rest): NumPy's a[first][second] is torch's a[index].

    The Ellipsis is spelled out: an empty one separates advanced indices in NumPy only.
    """
    fill = [slice(None)] * (ndim - _dims_used(e for e in index if e is not Ellipsis))
    first, second = [], []
    for e in index:
        if isinstance(e, int) or isinstance(e, np.ndarray) and e.ndim == 0:
            first.append(int(e))  # torch reads a 0-dim index array as an int
        elif e is Ellipsis:
            first += fill
            second += fill
        else:
            second.append(e)
            if e is not None:
                uses = e.ndim if isinstance(e, np.ndarray) and e.dtype == bool else 1
                first.extend([slice(None)] * uses)
    return tuple(first), tuple(second)


def _reference(data, index):
    first, second = _torch_rule(index, data.ndim)
    return _view(data, first)[second]


def _view(data, basic):
    """data[basic] as a view even when it selects a single element."""
    return data[basic + (Ellipsis,)]


def _positions(data, index):
    """Flat positions (in data) of the elements that data[index] reads, in its shape."""
    return _reference(np.arange(data.size).reshape(data.shape), index)


@SETTINGS
@given(indexed())
def test_getitem_matches_numpy(case):
    data, index, as_tensors = case
    try:
        expected = _reference(data, index)
    except IndexError:
        with pytest.raises(IndexError):
            tm.tensor(data)[_ours(index, as_tensors)]
        return
    got = tm.tensor(data)[_ours(index, as_tensors)]
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got.numpy(), expected)


@SETTINGS
@given(indexed(), st.data())
def test_setitem_matches_numpy(case, draws):
    data, index, as_tensors = case
    try:
        target_shape = _reference(data, index).shape
    except IndexError:
        return
    # a value broadcasting to the target: a suffix of its shape with some sizes set to 1
    n = draws.draw(st.integers(0, len(target_shape)))
    value_shape = tuple(draws.draw(st.sampled_from([s, 1])) for s in target_shape[len(
        target_shape) - n:])
    value = np.linspace(100.0, 200.0, int(np.prod(value_shape))).reshape(value_shape)
    expected = data.copy()
    first, second = _torch_rule(index, data.ndim)
    _view(expected, first)[second] = value
    ours = tm.tensor(data)
    ours[_ours(index, as_tensors)] = tm.tensor(value) if n or draws.draw(st.booleans()) \
        else float(value)
    np.testing.assert_array_equal(ours.numpy(), expected)


@SETTINGS
@given(indexed())
def test_getitem_gradient_counts_uses(case):
    data, index, as_tensors = case
    try:
        positions = _positions(data, index)
    except IndexError:
        return
    x = tm.tensor(data, requires_grad=True)
    weights = np.arange(positions.size, dtype=np.float64).reshape(positions.shape) % 5 + 1
    (x[_ours(index, as_tensors)] * tm.tensor(weights)).sum().backward()
    expected = np.zeros(data.size)
    np.add.at(expected, positions.reshape(-1), weights.reshape(-1))
    np.testing.assert_array_equal(x.grad.numpy(), expected.reshape(data.shape))
    counts = np.zeros(data.size)
    np.add.at(counts, positions.reshape(-1), 1.0)
    x.grad = None
    x[_ours(index, as_tensors)].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), counts.reshape(data.shape))


@SETTINGS
@given(indexed())
def test_setitem_gradient(case):
    """Overwritten places get no gradient; the value gets the gradient of every write."""
    data, index, as_tensors = case
    try:
        positions = _positions(data, index)
    except IndexError:
        return
    x = tm.tensor(data, requires_grad=True)
    value = tm.tensor(np.ones(positions.shape[-1:]), requires_grad=True)
    weights = (np.arange(data.size, dtype=np.float64) % 7 + 1).reshape(data.shape)
    y = x * 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y[_ours(index, as_tensors)] = value
    (y * tm.tensor(weights)).sum().backward()
    written = np.zeros(data.size, dtype=bool)
    written[positions.reshape(-1)] = True
    np.testing.assert_array_equal(x.grad.numpy(),
                                  np.where(written.reshape(data.shape), 0.0, weights))
    per_write = weights.reshape(-1)[positions]
    expected_v = per_write.sum(axis=tuple(range(per_write.ndim - value.ndim)))
    np.testing.assert_array_equal(value.grad.numpy(), expected_v)
