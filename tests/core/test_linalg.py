"""Tests for ops/linalg.py and taimatsu.linalg: generated op cases plus edge cases."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from op_cases.linalg import CASES

import taimatsu as tm
from taimatsu.testing import assert_close, generate_tests

globals().update(generate_tests(CASES))

RNG = np.random.default_rng(0)
SINGULAR = [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]]


def rand(*shape, dtype=tm.float64, requires_grad=False):
    return tm.tensor(RNG.standard_normal(shape), dtype=dtype, requires_grad=requires_grad)


# -- matmul -------------------------------------------------------------------------------

@pytest.mark.parametrize("a, b, message", [
    ((64, 10), (20, 5), "mat1 and mat2 shapes cannot be multiplied (64x10 and 20x5)"),
    ((3,), (4,), "inconsistent tensor size, expected tensor [3] and src [4] to have the same "
                 "number of elements, but got 3 and 4 elements respectively"),
    ((2, 3), (4,), "size mismatch, got input (2), mat (2x3), vec (4)"),
    ((3,), (4, 5), "mat1 and mat2 shapes cannot be multiplied (1x3 and 4x5)"),
    ((5, 2, 3), (4,), "size mismatch, got input (10), mat (10x3), vec (4)"),
    ((5, 2, 3), (4, 4), "mat1 and mat2 shapes cannot be multiplied (10x3 and 4x4)"),
    ((5, 2, 3), (5, 4, 4), "Expected size for first two dimensions of batch2 tensor to be: "
                           "[5, 3] but got: [5, 4]."),
    ((4,), (5, 3, 4), "Expected size for first two dimensions of batch2 tensor to be: "
                      "[5, 4] but got: [5, 3]."),
    ((2, 2, 3), (3, 4, 4), "The size of tensor a (2) must match the size of tensor b (3) at "
                           "non-singleton dimension 0"),
    ((), (3,), "both arguments to matmul need to be at least 1D, but they are 0D and 1D"),
])
def test_matmul_shape_errors_match_torch(a, b, message):
    with pytest.raises(RuntimeError) as info:
        tm.matmul(tm.zeros(a), tm.zeros(b))
    assert str(info.value) == message


def test_matmul_dtype_errors():
    with pytest.raises(RuntimeError, match=r"expected m1 and m2 to have the same dtype, but "
                                           r"got: float != double"):
        tm.zeros(2, 2) @ tm.zeros(2, 2, dtype=tm.float64)
    with pytest.raises(RuntimeError, match="not implemented for 'Bool'"):
        tm.ones(2, 2, dtype=tm.bool) @ tm.ones(2, 2, dtype=tm.bool)
    with pytest.raises(TypeError):
        tm.ones(2, 2) @ 3


@pytest.mark.parametrize("a, b, a_grad, name", [
    ((3,), (3,), True, "DotBackward0"),
    ((2, 3), (3,), True, "MvBackward0"),
    ((3,), (3, 4), True, "SqueezeBackward4"),
    ((2, 3), (3, 4), True, "MmBackward0"),
    ((5, 2, 3), (3, 4), True, "UnsafeViewBackward0"),
    ((5, 2, 3), (5, 3, 4), True, "UnsafeViewBackward0"),
    ((2, 3), (5, 3, 4), True, "CloneBackward0"),
    ((2, 3), (5, 3, 4), False, "UnsafeViewBackward0"),
])
def test_matmul_node_names_follow_torch(a, b, a_grad, name):
    out = rand(*a, requires_grad=a_grad) @ rand(*b, requires_grad=True)
    assert out.grad_fn.name() == name


def test_matmul_operators_and_numpy_operands():
    a, b = rand(2, 3), rand(3, 4)
    assert_close(a @ b.numpy(), a.numpy() @ b.numpy())
    assert_close(a.numpy() @ b, a.numpy() @ b.numpy())
    assert_close(a.matmul(b), a.numpy() @ b.numpy())
    assert tm.matmul(tm.ones(2, 2, dtype=tm.int64), tm.ones(2, 2, dtype=tm.int64)).dtype \
        is tm.int64


def test_matmul_out_and_no_copy_of_the_result():
    a, b = rand(3, 3), rand(3, 3)
    out = tm.empty(3, 3, dtype=tm.float64)
    assert tm.matmul(a, b, out=out) is out
    assert_close(out, a.numpy() @ b.numpy())


def test_matmul_gradient_reads_only_what_it_needs():
    a = rand(4, 3, requires_grad=True)
    b = rand(3, 2)
    (a @ b).sum().backward()
    assert_close(a.grad, np.ones((4, 2)) @ b.numpy().T)


@given(st.lists(st.integers(1, 3), min_size=0, max_size=2),
       st.lists(st.integers(1, 3), min_size=0, max_size=2),
       st.booleans(), st.booleans())
def test_matmul_broadcasting_matches_numpy(batch_a, batch_b, vec_a, vec_b):
    sa = (3,) if vec_a else tuple(batch_a) + (2, 3)
    sb = (3,) if vec_b else tuple(batch_b) + (3, 4)
    try:
        expected = np.matmul(np.ones(sa), np.ones(sb))
    except ValueError:
        with pytest.raises(RuntimeError):
            tm.ones(sa) @ tm.ones(sb)
        return
    assert tuple((tm.ones(sa) @ tm.ones(sb)).shape) == expected.shape


@pytest.mark.parametrize("fn, args, message", [
    (tm.mm, ((2, 3), (3,)), "mat2 must be a matrix"),
    (tm.mm, ((2, 3), (4, 5)), "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)"),
    (tm.bmm, ((2, 3), (3, 4)), "batch1 must be a 3D tensor"),
    (tm.bmm, ((2, 2, 3), (3, 3, 4)), "Expected size for first two dimensions of batch2 "
                                     "tensor to be: [2, 3] but got: [3, 3]."),
    (tm.mv, ((2, 3), (3, 3)), "vector + matrix @ vector expected, got 1, 2, 2"),
    (tm.dot, ((3, 3), (3,)), "1D tensors expected, but got 2D and 1D tensors"),
    (tm.outer, ((2, 3), (2,)), "outer: Expected 1-D argument self, but got 2-D"),
    (tm.inner, ((2, 3), (2, 4)), "inner() the last dimension must match on both input tensors "
                                 "but got shapes [2, 3] and [2, 4]"),
    (tm.trace, ((2, 2, 2),), "trace: expected a matrix, but got tensor with dim 3"),
])
def test_product_errors_match_torch(fn, args, message):
    with pytest.raises(RuntimeError) as info:
        fn(*[tm.zeros(s) for s in args])
    assert str(info.value) == message


def test_addmm_family_in_place_and_errors():
    c = rand(2, 4)
    a, b = rand(2, 3), rand(3, 4)
    expected = 0.5 * c.numpy() + 2 * a.numpy() @ b.numpy()
    assert c.addmm_(a, b, beta=0.5, alpha=2) is c
    assert_close(c, expected)
    with pytest.raises(RuntimeError, match=r"The expanded size of the tensor \(3\) must match "
                                           r"the existing size \(4\) at non-singleton "
                                           r"dimension 1.  Target sizes: \[2, 3\].  Tensor "
                                           r"sizes: \[4\]"):
        tm.addmm(tm.ones(4), tm.ones(2, 3), tm.ones(3, 3))
    # beta=0 ignores the input entirely, NaNs included (as torch)
    out = tm.addmm(tm.full((2, 2), float("nan")), tm.eye(2), tm.eye(2), beta=0)
    assert_close(out, np.eye(2, dtype=np.float32))
    assert tm.addmm(rand(2, 2, requires_grad=True), rand(2, 2), rand(2, 2)).grad_fn.name() == \
        "AddmmBackward0"


# -- einsum, tensordot, kron, cross ---------------------------------------------------------

@pytest.mark.parametrize("equation, shapes, message", [
    ("ij,jk", [(2, 3), (4, 4)], "einsum(): subscript j has size 4 for operand 1 which does "
                                "not broadcast with previously seen size 3"),
    ("ij", [(2, 3, 4)], "einsum(): the number of subscripts in the equation (2) does not "
                        "match the number of dimensions (3) for operand 0 and no ellipsis was "
                        "given"),
    ("ij,jk", [(2, 3)], "einsum(): fewer operands were provided than specified in the "
                        "equation"),
    ("ij", [(2, 3), (2,)], "einsum(): more operands were provided than specified in the "
                           "equation"),
    ("ij->ii", [(2, 2)], "einsum(): output subscript i appears more than once in the output"),
    ("ij->k", [(2, 2)], "einsum(): output subscript k does not appear in the equation for any "
                        "input operand"),
    ("i.j", [(2, 3)], "einsum(): found '.' for operand 0 that is not part of any ellipsis"),
])
def test_einsum_errors_match_torch(equation, shapes, message):
    with pytest.raises(RuntimeError) as info:
        tm.einsum(equation, *[tm.zeros(s) for s in shapes])
    assert str(info.value) == message


def test_einsum_forms():
    a, b = rand(2, 3), rand(3, 4)
    expected = a.numpy() @ b.numpy()
    assert_close(tm.einsum("ij,jk->ik", a, b), expected)
    assert_close(tm.einsum("ij,jk", [a, b]), expected)
    assert_close(tm.einsum(a, [0, 1], b, [1, 2], [0, 2]), expected)
    assert_close(tm.einsum("Ab,bC", a, b), expected)  # upper-case subscripts
    assert_close(tm.einsum("ii->i", rand(3, 3)).shape, (3,))
    with pytest.raises(RuntimeError, match="expected scalar type Float but found Double"):
        tm.einsum("i,i", tm.ones(2), tm.ones(2, dtype=tm.float64))


def test_einsum_repeated_index_gradient_is_diagonal():
    x = rand(3, 3, requires_grad=True)
    tm.einsum("ii->", x).backward()
    assert_close(x.grad, np.eye(3))


def test_tensordot_errors():
    with pytest.raises(RuntimeError, match="contracted dimensions need to match, but first has "
                                           "size 3 in dim 1 and second has size 4 in dim 0"):
        tm.tensordot(tm.ones(2, 3), tm.ones(4, 2), dims=([1], [0]))
    with pytest.raises(RuntimeError, match="both dimension lists should have same length"):
        tm.tensordot(tm.ones(2, 3), tm.ones(3, 2), dims=([1], [0, 1]))


def test_cross_default_dim_and_errors():
    a, b = rand(3, 2), rand(3, 2)
    assert_close(tm.cross(a, b), np.cross(a.numpy(), b.numpy(), axis=0))
    with pytest.raises(RuntimeError, match="no dimension of size 3 in input"):
        tm.cross(tm.ones(4, 2), tm.ones(4, 2))
    with pytest.raises(RuntimeError, match=r"linalg.cross: inputs dimension -1 must have "
                                           r"length 3. Got 2 and 2"):
        tm.linalg.cross(tm.ones(3, 2), tm.ones(3, 2))
    assert tm.linalg.cross(rand(3, requires_grad=True), rand(3)).grad_fn.name() == \
        "LinalgCrossBackward0"


def test_multi_dot_errors():
    with pytest.raises(RuntimeError, match=r"multi_dot\(\): expected at least 2 tensors but "
                                           r"got 1"):
        tm.linalg.multi_dot([tm.ones(2, 3)])
    with pytest.raises(RuntimeError, match=r"tensors 0 and 1 with shapes \[2, 3\] and \[2, 3\] "
                                           r"cannot be multiplied"):
        tm.linalg.multi_dot([tm.ones(2, 3), tm.ones(2, 3)])
    with pytest.raises(RuntimeError, match="the last tensor must be 1D or 2D but got 3D"):
        tm.linalg.multi_dot([tm.ones(2, 3), tm.ones(3, 2, 2)])


# -- errors of the decompositions --------------------------------------------------------------

def test_linalg_error_is_a_runtime_error():
    assert issubclass(tm.linalg.LinAlgError, RuntimeError)


def test_inv_of_singular_matrix_names_the_zero_pivot():
    with pytest.raises(tm.linalg.LinAlgError) as info:
        tm.linalg.inv(tm.tensor(SINGULAR))
    assert str(info.value) == ("linalg.inv: The diagonal element 3 is zero, the inversion "
                               "could not be completed because the input matrix is singular.")
    batch = tm.stack([tm.eye(3), tm.tensor(SINGULAR)])
    with pytest.raises(tm.linalg.LinAlgError, match=r"linalg.inv: \(Batch element 1\): The "
                                                    r"diagonal element 3 is zero"):
        tm.linalg.inv(batch)
    with pytest.raises(tm.linalg.LinAlgError):
        tm.inverse(tm.tensor(SINGULAR))
    inverse, info = tm.linalg.inv_ex(batch)
    assert info.dtype is tm.int32 and info.tolist() == [0, 3]
    assert_close(inverse[0], np.eye(3, dtype=np.float32))


@pytest.mark.parametrize("fn, arg, message", [
    (tm.linalg.inv, tm.ones(2, 2, dtype=tm.int64),
     "linalg.inv: Expected a floating point or complex tensor as input. Got Long"),
    (tm.linalg.inv, tm.ones(2, 3),
     "linalg.inv: A must be batches of square matrices, but they are 2 by 3 matrices"),
    (tm.linalg.inv, tm.ones(3), "linalg.inv: The input tensor A must have at least 2 "
                                "dimensions."),
    (tm.linalg.det, tm.ones(2, 3),
     "linalg.det: A must be batches of square matrices, but they are 2 by 3 matrices"),
    (tm.linalg.svd, tm.ones(3), "linalg.svd: The input tensor A must have at least 2 "
                                "dimensions."),
    (tm.linalg.eigh, tm.ones(2, 3),
     "linalg.eigh: A must be batches of square matrices, but they are 2 by 3 matrices"),
    (tm.linalg.vector_norm, tm.ones(3, dtype=tm.int64),
     "linalg.vector_norm: Expected a floating point or complex tensor as input. Got Long"),
])
def test_input_checks_match_torch(fn, arg, message):
    with pytest.raises(RuntimeError) as info:
        fn(arg)
    assert str(info.value) == message


def test_cholesky_of_indefinite_matrix_names_the_minor():
    bad = tm.tensor([[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(tm.linalg.LinAlgError) as info:
        tm.linalg.cholesky(bad)
    assert str(info.value) == (
        "linalg.cholesky: The factorization could not be completed because the input is not "
        "positive-definite (the leading minor of order 2 is not positive-definite).")
    with pytest.raises(tm.linalg.LinAlgError, match=r"\(Batch element 1\)"):
        tm.linalg.cholesky(tm.stack([tm.eye(2), bad]))
    result = tm.linalg.cholesky_ex(tm.stack([tm.eye(2), bad]))
    assert result.info.tolist() == [0, 2]
    assert_close(result.L[0], np.eye(2, dtype=np.float32))


def test_solve_errors_and_vector_rule():
    with pytest.raises(tm.linalg.LinAlgError, match="torch.linalg.solve: The solver failed "
                                                    "because the input matrix is singular."):
        tm.linalg.solve(tm.tensor(SINGULAR), tm.ones(3))
    with pytest.raises(RuntimeError, match=r"Incompatible shapes of A and B for the equation "
                                           r"AX = B \(3x3 and 4x1\)"):
        tm.linalg.solve(tm.eye(3), tm.ones(4))
    with pytest.raises(RuntimeError, match="Expected A and B to have the same dtype, but found "
                                           "A of type Float and B of type Double instead"):
        tm.linalg.solve(tm.eye(3), tm.ones(3, dtype=tm.float64))
    a = tm.eye(3).expand(2, 3, 3)
    assert tuple(tm.linalg.solve(a, tm.ones(2, 3)).shape) == (2, 3)      # batch of vectors
    assert tuple(tm.linalg.solve(a, tm.ones(3, 3)).shape) == (2, 3, 3)   # broadcast matrix


def test_qr_modes_and_their_gradients():
    a = rand(4, 3, requires_grad=True)
    q, r = tm.linalg.qr(a, mode="complete")
    assert tuple(q.shape) == (4, 4) and tuple(r.shape) == (4, 3)
    with pytest.raises(RuntimeError, match="not differentiable when mode='complete' and "
                                           "nrows > ncols"):
        q.sum().backward()
    q, r = tm.linalg.qr(a, mode="r")
    assert q.numel() == 0
    with pytest.raises(RuntimeError, match="which is not computed when mode='r'"):
        r.sum().backward()
    with pytest.raises(RuntimeError, match="qr received unrecognized mode 'foo'"):
        tm.linalg.qr(a, mode="foo")


def test_decompositions_reconstruct_and_name_their_fields():
    a = rand(2, 4, 3)
    u, s, vh = tm.linalg.svd(a, full_matrices=False)
    assert_close(tm.matmul(u * s.unsqueeze(-2), vh), a.numpy())
    result = tm.linalg.svd(a)
    assert tuple(result.U.shape) == (2, 4, 4) and tuple(result.Vh.shape) == (2, 3, 3)
    h = a @ a.mT
    w, v = tm.linalg.eigh(h)
    assert_close((v * w.unsqueeze(-2)) @ v.mT, h.numpy())
    assert tm.linalg.eigh(h).eigenvalues.shape == w.shape
    with pytest.raises(RuntimeError, match="Expected UPLO argument to be 'L' or 'U', but got X"):
        tm.linalg.eigh(h, UPLO="X")
    w, v = tm.linalg.eig(rand(3, 3))
    assert w.dtype is tm.complex128 and v.dtype is tm.complex128
    assert tm.linalg.eigvals(tm.eye(2, dtype=tm.float32)).dtype is tm.complex64
    sign, logabsdet = tm.linalg.slogdet(a[0, :3])
    assert_close(sign * logabsdet.exp(), np.linalg.det(a.numpy()[0, :3]))


def test_gradients_at_repeated_values_stay_finite():
    # only S (or the eigenvalues) reach the loss: no division by the zero gaps
    x = tm.eye(3, dtype=tm.float64, requires_grad=True)
    tm.linalg.svdvals(x).sum().backward()
    assert_close(x.grad, np.eye(3))
    x.grad = None
    tm.linalg.eigvalsh(x).sum().backward()
    assert_close(x.grad, np.eye(3))


def test_det_gradient_of_singular_matrix_is_the_adjugate():
    x = tm.tensor(SINGULAR, dtype=tm.float64, requires_grad=True)
    tm.linalg.det(x).backward()
    m = np.array(SINGULAR)
    cofactor = np.array([[(-1) ** (i + j) * np.linalg.det(np.delete(np.delete(m, i, 0), j, 1))
                          for j in range(3)] for i in range(3)])
    assert_close(x.grad, cofactor, atol=1e-12, rtol=1e-9)


def test_lstsq_outputs_follow_the_driver():
    a, b = rand(5, 3), rand(5, 2)
    result = tm.linalg.lstsq(a, b)
    assert_close(result.solution, np.linalg.lstsq(a.numpy(), b.numpy(), rcond=None)[0])
    assert result.residuals.numel() == 0 and result.singular_values.numel() == 0
    assert result.rank.item() == 3
    full = tm.linalg.lstsq(a, b, driver="gelsd")
    assert_close(full.residuals, np.linalg.lstsq(a.numpy(), b.numpy(), rcond=None)[1])
    assert tuple(full.singular_values.shape) == (3,)
    assert tuple(tm.linalg.lstsq(a, b[:, 0]).solution.shape) == (3,)


def test_matrix_rank_pinv_and_powers():
    assert tm.linalg.matrix_rank(tm.tensor(SINGULAR)).item() == 2
    assert tm.linalg.matrix_rank(tm.tensor(SINGULAR), hermitian=True).dtype is tm.int64
    p = tm.linalg.pinv(tm.tensor(SINGULAR, dtype=tm.float64))
    assert_close(p, np.linalg.pinv(np.array(SINGULAR)))
    a = rand(2, 3, 3)
    assert_close(tm.linalg.matrix_power(a, 0), np.broadcast_to(np.eye(3), (2, 3, 3)))
    one = tm.linalg.matrix_power(a, 1)
    assert one is not a and one.data_ptr() != a.data_ptr()
    with pytest.raises(tm.linalg.LinAlgError):
        tm.linalg.matrix_power(tm.tensor(SINGULAR), -1)


def test_norm_dispatch_and_errors():
    a = rand(3, 4)
    assert_close(tm.linalg.norm(a), np.linalg.norm(a.numpy()))
    assert_close(tm.linalg.norm(a, 2), np.linalg.norm(a.numpy(), 2))
    assert_close(tm.linalg.norm(a, dim=1), np.linalg.norm(a.numpy(), axis=1))
    assert_close(tm.linalg.matrix_norm(a, keepdim=True).shape, (1, 1))
    assert tm.linalg.vector_norm(a.to(tm.complex64)).dtype is tm.float32
    with pytest.raises(RuntimeError, match="linalg.matrix_norm: Order 3 not supported."):
        tm.linalg.matrix_norm(a, ord=3)
    with pytest.raises(RuntimeError, match="If dim is not specified but ord is, the input must "
                                           "be 1D or 2D. Got 3D."):
        tm.linalg.norm(tm.ones(3, 3, 3), ord=2)
    with pytest.raises(RuntimeError, match="cannot compute the inf norm on an empty tensor"):
        tm.linalg.vector_norm(tm.ones(0), ord=float("inf"))


@pytest.mark.parametrize("dtype", [tm.float16, tm.bfloat16])
def test_half_precision_products_keep_their_dtype(dtype):
    a = tm.ones(2, 3, dtype=dtype, requires_grad=True)
    b = tm.ones(3, 2, dtype=dtype)
    results = [(a @ b, 3.0), (tm.mm(a, b), 3.0), (tm.einsum("ij,jk", a, b), 3.0),
               (tm.addmm(tm.ones(2, 2, dtype=dtype), a, b), 4.0)]
    for out, value in results:
        assert out.dtype is dtype
        assert_close(out.float(), np.full((2, 2), value, dtype=np.float32))
    (a @ b).sum().backward()
    assert a.grad.dtype is dtype
