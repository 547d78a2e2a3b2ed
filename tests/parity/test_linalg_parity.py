"""Linear algebra against PyTorch: values, dtypes, gradients and node names."""

import numpy as np
import pytest
from op_cases.linalg import BSQ, CASES, SPD, TALL, WIDE

import taimatsu
from taimatsu.testing import assert_close, generate_parity_tests

globals().update(generate_parity_tests(CASES))

pytestmark = pytest.mark.filterwarnings("ignore:torch\\.\\w+ is deprecated:UserWarning")

RNG = np.random.default_rng(0)


def _pair(torch, array):
    return (taimatsu.tensor(array, requires_grad=True),
            torch.tensor(array, requires_grad=True))


def _arg(spec):
    return spec.make(np.random.default_rng(1), taimatsu.float64)


@pytest.mark.parametrize("name, fn, shapes", [
    ("linalg.slogdet", lambda lib, a: lib.linalg.slogdet(a), [BSQ]),
    ("linalg.qr", lambda lib, a: lib.linalg.qr(a), [TALL]),
    ("linalg.qr[wide]", lambda lib, a: lib.linalg.qr(a), [WIDE]),
    ("linalg.cholesky_ex", lambda lib, a: lib.linalg.cholesky_ex(a + a.mT).L, [SPD]),
    ("linalg.inv_ex", lambda lib, a: lib.linalg.inv_ex(a).inverse, [BSQ]),
])
def test_multi_output_gradients(torch, name, fn, shapes):
    """All outputs of one node reach the loss together (a weighted sum of them)."""
    arrays = [_arg(s) for s in shapes]
    ours, theirs = zip(*[_pair(torch, a) for a in arrays])
    out_ours, out_theirs = fn(taimatsu, *ours), fn(torch, *theirs)
    if not isinstance(out_theirs, tuple):
        out_ours, out_theirs = (out_ours,), (out_theirs,)
    seeds = [RNG.standard_normal(tuple(o.shape)) for o in out_theirs]
    loss_ours = sum((o * taimatsu.tensor(s)).sum() for o, s in zip(out_ours, seeds))
    loss_theirs = sum((o * torch.tensor(s)).sum() for o, s in zip(out_theirs, seeds))
    grads_ours = taimatsu.autograd.grad(loss_ours, list(ours))
    grads_theirs = torch.autograd.grad(loss_theirs, list(theirs))
    for a, b in zip(grads_ours, grads_theirs):
        assert_close(a, b, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("fn", [
    lambda lib, a, b: lib.matmul(a, b),
    lambda lib, a, b: lib.mm(a, b),
    lambda lib, a, b: lib.matmul(a[0], b),
    lambda lib, a, b: lib.addmm(a, a, b),
    lambda lib, a, b: lib.linalg.inv(a),
    lambda lib, a, b: lib.inverse(a),
    lambda lib, a, b: lib.linalg.solve(a, b),
    lambda lib, a, b: lib.linalg.det(a),
    lambda lib, a, b: lib.linalg.slogdet(a)[1],
    lambda lib, a, b: lib.linalg.cholesky(a @ a.mT + 3 * lib.eye(3, dtype=a.dtype)),
    lambda lib, a, b: lib.linalg.qr(a)[0],
    lambda lib, a, b: lib.linalg.svd(a)[1],
    lambda lib, a, b: lib.linalg.svdvals(a),
    lambda lib, a, b: lib.linalg.eigh(a)[0],
    lambda lib, a, b: lib.linalg.eigvalsh(a),
    lambda lib, a, b: lib.linalg.eig(a)[0],
    lambda lib, a, b: lib.linalg.pinv(a),
    lambda lib, a, b: lib.linalg.matrix_exp(a),
    lambda lib, a, b: lib.linalg.vector_norm(a),
    lambda lib, a, b: lib.linalg.cross(a, b),
    lambda lib, a, b: lib.trace(a),
    lambda lib, a, b: lib.vdot(a[0], b[0]),
])
def test_node_names_match_torch(torch, fn):
    arrays = [RNG.standard_normal((3, 3)) + 3 * np.eye(3), RNG.standard_normal((3, 3))]
    ours = [taimatsu.tensor(x, requires_grad=True) for x in arrays]
    theirs = [torch.tensor(x, requires_grad=True) for x in arrays]
    assert fn(taimatsu, *ours).grad_fn.name() == fn(torch, *theirs).grad_fn.name()


@pytest.mark.parametrize("equation, shapes", [
    ("ii->i", [(3, 3)]),
    ("iij->j", [(3, 3, 2)]),
    ("ij,ij->", [(2, 3), (2, 3)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 2)]),
    ("...ij,...jk->...ik", [(1, 3, 4), (2, 4, 2)]),
    ("i,i,i->", [(4,), (4,), (4,)]),
    ("ijk,kj->i", [(2, 3, 4), (4, 3)]),
    ("ab,cd->abcd", [(2, 3), (1, 2)]),
])
def test_einsum_gradients_match_torch(torch, equation, shapes):
    arrays = [RNG.standard_normal(s) for s in shapes]
    ours, theirs = zip(*[_pair(torch, a) for a in arrays])
    out_ours = taimatsu.einsum(equation, *ours)
    out_theirs = torch.einsum(equation, *theirs)
    assert_close(out_ours, out_theirs)
    seed = RNG.standard_normal(tuple(out_theirs.shape))
    g_ours = taimatsu.autograd.grad((out_ours * taimatsu.tensor(seed)).sum(), list(ours))
    g_theirs = torch.autograd.grad((out_theirs * torch.tensor(seed)).sum(), list(theirs))
    for a, b in zip(g_ours, g_theirs):
        assert_close(a, b)


def test_linalg_errors_match_torch(torch):
    singular = [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]]
    for name in ("inv", "cholesky"):
        with pytest.raises(torch.linalg.LinAlgError) as theirs:
            getattr(torch.linalg, name)(torch.tensor(singular))
        with pytest.raises(taimatsu.linalg.LinAlgError) as ours:
            getattr(taimatsu.linalg, name)(taimatsu.tensor(singular))
        assert str(ours.value) == str(theirs.value)
