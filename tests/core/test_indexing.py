"""Tests for ops/indexing.py: generated op cases plus views, in-place autograd, edge cases
and torch's error messages."""

import builtins

import numpy as np
import pytest
from op_cases.indexing import CASES, ERRORS, GRAD_FN_NAMES

import taimatsu as tm
from taimatsu.autograd import gradcheck, gradgradcheck
from taimatsu.testing import assert_close, generate_tests

globals().update(generate_tests(CASES))


@pytest.mark.parametrize("call, exc, message", [e[1:] for e in ERRORS],
                         ids=[e[0] for e in ERRORS])
def test_error_messages(call, exc, message):
    with pytest.raises(getattr(builtins, exc)) as info:
        call(tm)
    assert str(info.value) == message


@pytest.mark.parametrize("call, name", [n[1:] for n in GRAD_FN_NAMES],
                         ids=[n[0] for n in GRAD_FN_NAMES])
def test_grad_fn_names(call, name):
    x = tm.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -3.0]], requires_grad=True)
    assert call(tm, x).grad_fn.name() == name


def _arange(*shape):
    return tm.arange(float(np.prod(shape))).reshape(shape)


# -- __getitem__ ------------------------------------------------------------------------------

def test_basic_index_is_a_view(device):
    x = _arange(3, 4).to(device).clone()
    for view in (x[1], x[:, 1:3], x[None, ..., 2], x[::2, ::3], x[...]):
        assert view._base is x
        assert np.shares_memory(tm.testing.to_numpy(view), tm.testing.to_numpy(x)) or \
            device != "cpu"
    x[1][2] = -5.0
    assert x[1, 2].item() == -5.0
    assert x._version == 1


def test_scalar_select_is_a_0dim_view():
    x = _arange(4).clone()
    v = x[2]
    assert v.shape == () and v._base is x
    v.fill_(9.0)
    assert x.tolist() == [0.0, 1.0, 9.0, 3.0]


def test_advanced_index_is_a_copy():
    x = _arange(3, 4)
    y = x[[0, 2]]
    y[0, 0] = 100.0
    assert x[0, 0].item() == 0.0
    assert y._base is None


def test_list_of_slices_is_a_tuple():
    x = _arange(2, 3, 4)
    with pytest.warns(UserWarning, match="non-tuple sequence"):
        out = x[[0, slice(None), 1]]
    assert_close(out, x[0, :, 1])


def test_index_types():
    x = _arange(3, 4)
    assert_close(x[np.int64(1)], x[1])
    assert_close(x[np.array(2)], x[2])
    assert_close(x[tm.tensor(-1)], x[2])
    assert_close(x[np.array([0, 2])], x[[0, 2]])
    assert_close(x[tm.tensor([0, 2], dtype=tm.int32)], x[[0, 2]])
    assert_close(x[[0.0, 2.7]], x[[0, 2]])  # torch truncates float lists
    assert_close(x[1:tm.tensor(3)], x[1:3])
    assert x[[]].shape == (0, 4)
    assert x[False].shape == (0, 3, 4)
    assert x[tm.tensor(True)].shape == (1, 3, 4)
    with pytest.warns(UserWarning, match="uint8"):
        assert_close(x[tm.tensor([1, 0, 1], dtype=tm.uint8)], x[[0, 2]])


def test_repeated_ellipsis_follows_torch():
    x = _arange(2, 3, 4)
    assert_close(x[..., 0, ...], x[:, :, 0])


def test_empty_and_0dim():
    z = tm.zeros(())
    assert z[None].shape == (1,)
    assert z[...].shape == ()
    assert z[True].shape == (1,)
    e = tm.zeros(0, 3)
    assert e[[]].shape == (0, 3)
    assert e[:, 1].shape == (0,)


def test_gradient_of_duplicates_accumulates():
    x = tm.zeros(4, requires_grad=True)
    x[[1, 1, 3, 1]].sum().backward()
    assert x.grad.tolist() == [0.0, 3.0, 0.0, 1.0]


def test_gradient_of_mask():
    x = tm.tensor([1.0, -2.0, 3.0], requires_grad=True)
    (x[x > 0] * tm.tensor([2.0, 5.0])).sum().backward()
    assert x.grad.tolist() == [2.0, 0.0, 5.0]


def test_gradient_through_chained_views():
    x = _arange(4, 5).requires_grad_()
    gradcheck(lambda t: t[1:, None][::2, :, 1:4][..., -1], [x.double().detach()
                                                              .requires_grad_()])
    y = x[1:][::2, 2]
    y.sum().backward()
    expected = np.zeros((4, 5))
    expected[1::2, 2] = 1
    assert_close(x.grad, tm.tensor(expected, dtype=tm.float32))


def test_double_backward_of_advanced_index():
    x = tm.tensor([0.3, -1.2, 2.0], dtype=tm.float64, requires_grad=True)
    assert gradgradcheck(lambda t: (t[[0, 0, 2]] ** 3), [x])
    assert gradgradcheck(lambda t: (t[1:] ** 2), [x])


# -- __setitem__ ------------------------------------------------------------------------------

def test_setitem_values(device):
    x = tm.zeros(3, 4, device=device)
    x[0] = 1.0
    x[1, ::2] = tm.tensor([2.0, 3.0], device=device)
    x[2, [1, 3]] = tm.tensor(4.0, device=device)
    x[x == 0] = -1.0
    expected = np.array([[1, 1, 1, 1], [2, -1, 3, -1], [-1, 4, -1, 4.0]])
    assert_close(x, tm.tensor(expected, dtype=tm.float32, device=device))


def test_setitem_casts_basic_values():
    x = tm.zeros(3, dtype=tm.int64)
    x[0] = 2.7
    x[1:] = tm.tensor([1.5, -2.5])
    assert x.tolist() == [2, 1, -2]
    b = tm.zeros(2, dtype=tm.bool)
    b[0] = 2
    assert b.tolist() == [True, False]


def test_setitem_bumps_version_and_sees_overlap():
    x = _arange(5)
    v0 = x._version
    x[1:] = x[:-1]
    assert x.tolist() == [0.0, 0.0, 1.0, 2.0, 3.0]
    assert x._version == v0 + 1


def test_setitem_gradients_both_sides():
    a = tm.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    v = tm.tensor([10.0, 20.0], requires_grad=True)
    out = a * 1
    out[[1, 1]] = v * 2  # duplicates: the value still gets the gradient of each write
    (out * tm.tensor([[1.0, 2.0], [3.0, 5.0]])).sum().backward()
    assert a.grad.tolist() == [[1.0, 2.0], [0.0, 0.0]]
    assert v.grad.tolist() == [12.0, 20.0]


def test_setitem_into_tensor_without_grad_records_value():
    v = tm.tensor(3.0, requires_grad=True)
    x = tm.zeros(2, 2)
    x[0, 1] = v
    assert x.requires_grad and x.grad_fn.name() == "CopySlices"
    (x * 2).sum().backward()
    assert v.grad.item() == 2.0


def test_setitem_whole_tensor_is_not_a_view_write():
    x = tm.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    y[:] = 5.0
    assert y.grad_fn.name() == "FillBackward2"
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]


def test_advanced_setitem_through_a_view():
    x = tm.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    y = x * 1
    y[1][[0, 2]] = tm.tensor([-1.0, -2.0])
    assert y.grad_fn.name() == "CopySlices"
    assert y.tolist() == [[1.0, 2.0, 3.0], [-1.0, 5.0, -2.0]]
    y.sum().backward()
    assert x.grad.tolist() == [[1.0, 1.0, 1.0], [0.0, 1.0, 0.0]]


def test_setitem_under_no_grad_writes_directly():
    x = tm.ones(3, requires_grad=True)
    with tm.no_grad():
        x[1] = 0.0
        x[[0]] = tm.tensor([5.0])
    assert x.tolist() == [5.0, 0.0, 1.0]
    assert x.grad_fn is None


def test_setitem_numpy_scalar_value():
    x = tm.zeros(2)
    x[0] = np.float64(2.5)
    assert x.tolist() == [2.5, 0.0]


# -- ops --------------------------------------------------------------------------------------

def test_scatter_reduce_values():
    x = tm.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]])
    index = tm.tensor([[0, 0, 1]])
    src = tm.tensor([[5.0, -1.0, 2.0]])
    assert tm.scatter_reduce(x, 0, index, src, "amax", include_self=False).tolist() == \
        [[5.0, -1.0, 2.0], [3.0, 4.0, 2.0]]
    assert tm.scatter_reduce(x, 0, index, src, "mean").tolist() == \
        [[2.5, 0.0, 2.0], [3.0, 4.0, 3.5]]
    ints = tm.tensor([[-3, -2, -1], [0, 1, 2]])
    out = tm.scatter_reduce(ints, 0, index, tm.tensor([[4, -2, 2]]), "mean")
    assert out.tolist() == [[0, -2, -1], [0, 1, 2]]  # floor division for integers


def test_scatter_reduce_prod_gradient_with_zeros():
    x = tm.tensor([0.0, 2.0, 0.0, 3.0], dtype=tm.float64, requires_grad=True)
    index = tm.tensor([0, 1, 2, 2, 3])

    def prod(a, s):
        return tm.scatter_reduce(a, 0, index, s, "prod")
    one_zero = tm.tensor([0.0, 5.0, 0.0, 2.0, 4.0], dtype=tm.float64, requires_grad=True)
    assert gradcheck(prod, [x, one_zero])
    assert gradgradcheck(prod, [x, one_zero])
    two_zeros = tm.tensor([0.0, 5.0, 0.0, 0.0, 4.0], dtype=tm.float64, requires_grad=True)
    assert gradcheck(prod, [x, two_zeros])
    (g,) = tm.autograd.grad(prod(x, two_zeros).sum(), [two_zeros])
    assert g.tolist() == [0.0, 2.0, 0.0, 0.0, 3.0]
    with pytest.raises(RuntimeError, match="Double backward is unsupported"):
        tm.autograd.grad(prod(x, two_zeros).sum(), [two_zeros], create_graph=True)


def test_scatter_gradient_with_src_bigger_than_index():
    x = tm.zeros(3, 4, dtype=tm.float64, requires_grad=True)
    src = tm.tensor(np.linspace(-1, 1, 15).reshape(3, 5), requires_grad=True)
    index = tm.tensor([[3, 0, 1], [1, 2, 0]])
    assert gradcheck(lambda a, s: tm.scatter(a, 1, index, s), [x, src])
    assert gradgradcheck(lambda a, s: tm.scatter(a, 1, index, s), [x, src])


def test_scatter_into_0dim():
    x = tm.tensor(1.0)
    assert tm.scatter(x, 0, tm.tensor(0), tm.tensor(5.0)).item() == 5.0
    assert tm.gather(tm.tensor(7.0), 0, tm.tensor(0)).item() == 7.0


def test_index_put_accumulate_in_place():
    x = tm.zeros(3)
    x.index_put_((tm.tensor([0, 0, 2]),), tm.tensor([1.0, 2.0, 3.0]), accumulate=True)
    assert x.tolist() == [3.0, 0.0, 3.0]


def test_masked_fill_inplace_broadcasts_mask():
    x = tm.zeros(2, 3)
    x.masked_fill_(tm.tensor([True, False, True]), 4.0)
    assert x.tolist() == [[4.0, 0.0, 4.0], [4.0, 0.0, 4.0]]
    assert tm.masked_fill(tm.zeros(2, dtype=tm.int64), tm.tensor([True, False]), 1.9).tolist() \
        == [1, 0]


def test_nonzero_shapes():
    assert tm.nonzero(tm.tensor(3.0)).shape == (1, 0)
    assert tm.nonzero(tm.zeros(2, 0)).shape == (0, 2)
    (only,) = tm.nonzero(tm.tensor(0.0), as_tuple=True)
    assert only.shape == (0,) and only.dtype is tm.int64
    assert tm.argwhere(tm.tensor([0, 3, 0, 1])).tolist() == [[1], [3]]


def test_searchsorted_and_bucketize():
    seq = tm.tensor([1.0, 2.0, 2.0, 3.0])
    values = tm.tensor([2.0, 0.0, 5.0])
    assert tm.searchsorted(seq, values).tolist() == [1, 0, 4]
    assert tm.searchsorted(seq, values, side="right").tolist() == [3, 0, 4]
    assert tm.bucketize(tm.tensor(2.0), seq).shape == ()
    assert tm.bucketize(values, seq, right=True, out_int32=True).dtype is tm.int32


def test_fill_diagonal_wrap_matches_numpy():
    x = tm.zeros(7, 3)
    x.fill_diagonal_(1.0, wrap=True)
    expected = np.zeros((7, 3))
    np.fill_diagonal(expected, 1.0, wrap=True)
    assert_close(x, tm.tensor(expected, dtype=tm.float32))


def test_fill_diagonal_on_transposed_view():
    base = tm.zeros(3, 4)
    base.t().fill_diagonal_(2.0)
    assert base.diagonal().tolist() == [2.0, 2.0, 2.0]


def test_copy_between_dtypes_keeps_gradient():
    src = tm.tensor([1.5, 2.5], dtype=tm.float64, requires_grad=True)
    dst = tm.zeros(2)
    dst.copy_(src)
    assert dst.dtype is tm.float32 and dst.requires_grad
    (dst * 3).sum().backward()
    assert src.grad.tolist() == [3.0, 3.0] and src.grad.dtype is tm.float64


def test_fill_and_zero_in_place_on_views():
    x = tm.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    y[1:].zero_()
    y[0].fill_(x[2])
    y.sum().backward()
    assert y.tolist() == [3.0, 0.0, 0.0]
    assert x.grad.tolist() == [0.0, 0.0, 1.0]


def test_inplace_on_leaf_is_refused():
    x = tm.zeros(3, requires_grad=True)
    for call in (lambda: x.fill_(1.0), lambda: x.zero_(), lambda: x.copy_(tm.ones(3)),
                 lambda: x.index_fill_(0, tm.tensor([0]), 1.0)):
        with pytest.raises(RuntimeError, match="leaf Variable"):
            call()
