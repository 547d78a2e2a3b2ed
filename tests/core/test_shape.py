"""Tests for ops/shape.py: generated op cases plus edge cases and torch's error messages."""

import builtins
import warnings

import numpy as np
import pytest
from op_cases.shape import CASES, ERRORS, GRAD_FN_NAMES

import taimatsu as tm
from taimatsu.testing import generate_tests

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
    x = tm.zeros(2, 3, requires_grad=True)
    assert call(tm, x).grad_fn.name() == name


def _arange(*shape):
    return tm.tensor(np.arange(float(np.prod(shape))).reshape(shape))


def test_reshape_is_a_view_when_possible_else_a_copy():
    x = _arange(2, 3)
    assert x.reshape(3, 2)._base is x
    assert x.flatten()._base is x
    copied = x.t().reshape(-1)
    assert copied._base is None
    assert copied.tolist() == [0, 3, 1, 4, 2, 5]


def test_view_accepts_sizes_in_every_spelling():
    x = _arange(2, 3)
    for shape in [(3, 2), [3, 2], tm.Size([3, 2]), (tm.tensor(3), 2)]:
        assert x.view(shape).shape == (3, 2)
    assert x.view(3, -1).shape == (3, 2)
    assert x.view(-1).shape == (6,)
    assert tm.zeros(0, 3).view(-1).shape == (0,)


def test_view_dtype_shares_memory_and_leaves_autograd():
    x = tm.ones(2, 4, requires_grad=True)
    bits = x.view(tm.int32)
    assert bits.dtype is tm.int32 and bits.shape == (2, 4)
    assert bits.tolist()[0][0] == 0x3F800000  # float32 1.0
    half = x.view(tm.float16)
    assert half.shape == (2, 8) and not half.requires_grad
    wide = tm.zeros(2, 4).view(tm.float64)
    assert wide.shape == (2, 2)
    raw = tm.zeros(3)
    raw.view(tm.int32).add_(1)
    assert raw._version == 1 and raw.view(tm.int32).tolist() == [1, 1, 1]


def test_T_warns_outside_matrices():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _arange(2, 3).T.shape == (3, 2)
    with pytest.warns(UserWarning, match="x.T` on tensors of dimension other than 2"):
        assert _arange(2, 3, 4).T.shape == (4, 3, 2)
    with pytest.warns(UserWarning, match="Tensor.T is deprecated on 0-D tensors"):
        assert tm.tensor(1.0).T.shape == ()


def test_adjoint_and_H_conjugate_complex_tensors():
    if not hasattr(tm.Tensor, "conj"):
        pytest.skip("conj is not implemented yet")
    z = tm.tensor(np.array([[1 + 2j, 3j], [4, 5 - 1j]]))
    np.testing.assert_array_equal(z.H.numpy(), np.conj(z.numpy().T))
    np.testing.assert_array_equal(z.mH.numpy(), np.conj(z.numpy().T))
    np.testing.assert_array_equal(z.adjoint().numpy(), np.conj(z.numpy().T))


def test_squeeze_only_removes_size_one_dims():
    x = tm.zeros(1, 3, 1)
    assert x.squeeze().shape == (3,)
    assert x.squeeze(1).shape == (1, 3, 1)
    assert x.squeeze((0, 1)).shape == (3, 1)
    assert tm.zeros(()).squeeze().shape == ()
    assert tm.zeros(()).squeeze(0).shape == ()


def test_expand_keeps_sizes_with_minus_one_and_shares_memory():
    x = tm.tensor([[1.0], [2.0]])
    e = x.expand(3, -1, 4)
    assert e.shape == (3, 2, 4) and e.stride() == (0, 1, 0)
    assert x.expand_as(tm.zeros(2, 5)).shape == (2, 5)
    assert x.expand(tm.Size([2, 2])).shape == (2, 2)


def test_broadcast_shapes_and_tensors():
    assert tm.broadcast_shapes((2, 1), (3,), 1) == tm.Size([2, 3])
    assert isinstance(tm.broadcast_shapes(), tm.Size)
    a, b = tm.broadcast_tensors(tm.zeros(2, 1), tm.zeros(3))
    assert a.shape == b.shape == (2, 3)


def test_split_family_edge_cases():
    x = _arange(5)
    assert [t.tolist() for t in x.split(2)] == [[0, 1], [2, 3], [4]]
    assert [t.shape[0] for t in tm.zeros(0, 2).split(0)] == [0]
    assert [t.shape for t in tm.zeros(0).chunk(3)] == [(0,)] * 3
    assert [t.shape[0] for t in tm.zeros(6).chunk(4)] == [2, 2, 2]  # fewer chunks, like torch
    assert [t.tolist() for t in x.tensor_split(tm.tensor(2))] == [[0, 1, 2], [3, 4]]
    assert [t.tolist() for t in x.tensor_split([-2])] == [[0, 1, 2], [3, 4]]
    assert [t.tolist() for t in x.tensor_split((3, 1, 7))] == [[0, 1, 2], [], [1, 2, 3, 4], []]
    assert x.unbind()[4].item() == 4
    assert tm.zeros(0, 3).unbind() == ()


def test_split_pieces_are_views():
    x = tm.zeros(4, 3)
    a, b = x.split(2)
    b.add_(1)
    assert x.numpy()[2:].sum() == 6 and a._base is x


def test_diagonal_is_a_writable_view():
    x = tm.zeros(3, 3)
    x.diagonal().add_(1)
    x.diagonal(1).add_(2)
    np.testing.assert_array_equal(x.numpy(), np.eye(3) + 2 * np.eye(3, k=1))


def test_diag_embed_and_diag_shapes():
    assert tm.diag_embed(tm.zeros(2, 3), offset=-1).shape == (2, 4, 4)
    assert tm.diag_embed(tm.zeros(2, 3), 0, 0, 2).shape == (3, 2, 3)
    assert tm.diag(tm.zeros(3), 2).shape == (5, 5)
    assert tm.diag(tm.zeros(2, 5), -3).shape == (0,)


def test_repeat_interleave_forms():
    counts = tm.tensor([2, 0, 1])
    assert tm.repeat_interleave(counts).tolist() == [0, 0, 2]
    x = _arange(2, 2)
    assert x.repeat_interleave(2).tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    assert x.repeat_interleave(tm.tensor([3]), dim=1).shape == (2, 6)
    assert x.repeat_interleave(0, dim=0).shape == (0, 2)


def test_repeat_interleave_gradients_sum_each_run():
    x = tm.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.repeat_interleave(tm.tensor([2, 0, 3]))
    (y * tm.tensor([1.0, 2.0, 3.0, 4.0, 5.0])).sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 12.0]


def test_tril_triu_in_place():
    x = tm.ones(3, 3)
    assert x.tril_(-1) is x
    np.testing.assert_array_equal(x.numpy(), np.tril(np.ones((3, 3)), -1))
    y = tm.ones(2, 3)
    y.triu_(1)
    np.testing.assert_array_equal(y.numpy(), np.triu(np.ones((2, 3)), 1))


def test_meshgrid_warns_without_indexing_and_accepts_a_list():
    with pytest.warns(UserWarning, match="meshgrid: in an upcoming release"):
        a, b = tm.meshgrid(tm.zeros(2), tm.zeros(3))
    assert a.shape == b.shape == (2, 3)
    a, b = tm.meshgrid([tm.zeros(2), tm.zeros(3)], indexing="xy")
    assert a.shape == b.shape == (3, 2)


def test_atleast_returns_tuples_for_several_inputs():
    assert tm.atleast_1d(tm.tensor(1.0)).shape == (1,)
    out = tm.atleast_2d(tm.tensor(1.0), tm.zeros(3))
    assert isinstance(out, tuple) and [t.shape for t in out] == [(1, 1), (1, 3)]
    assert [t.shape for t in tm.atleast_3d([tm.zeros(3)])] == [(1, 3, 1)]
    x = tm.zeros(2, 3, 4)
    assert tm.atleast_3d(x) is x


def test_cartesian_prod_of_one_tensor_is_the_tensor():
    x = tm.zeros(3)
    assert tm.cartesian_prod(x) is x
    assert tm.cartesian_prod(tm.zeros(2), tm.zeros(3), tm.zeros(4)).shape == (24, 3)


def test_inplace_into_expanded_tensor_raises_torch_error():
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        tm.zeros(1, 3).expand(2, 3).add_(1)
