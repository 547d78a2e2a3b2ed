"""Sparse COO tensors against PyTorch: construction, printing, coalesce, products,
arithmetic, reductions, gradients, node names and error messages."""

import numpy as np
import pytest

import taimatsu
from taimatsu.sparse import _ops
from taimatsu.testing import assert_close

# PyTorch's own warnings: invariant checks skipped; CSR in beta (its sparse @ sparse).
pytestmark = [pytest.mark.filterwarnings("ignore:Sparse invariant checks:UserWarning"),
              pytest.mark.filterwarnings("ignore:Sparse CSR tensor support:UserWarning")]

RNG = np.random.default_rng(0)
IDX = [[0, 1, 1, 0], [2, 0, 2, 2]]  # (0, 2) twice: uncoalesced
VALS = [3.0, 4.0, 5.0, 1.0]


def _np(t):
    t = t.detach()
    if t.is_sparse:
        t = t.to_dense()
    return t.numpy()


def _random_coo(shape, nnz, rng):
    rows = np.stack([rng.integers(0, n, nnz) for n in shape])
    return rows, rng.standard_normal(nnz)


def _same(ours, theirs, **kw):
    assert ours.is_sparse == theirs.is_sparse
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert_close(_np(ours), _np(theirs), **kw)


# -- construction and printing -----------------------------------------------------------------

REPR_CASES = {
    "uncoalesced": lambda lib: lib.sparse_coo_tensor(IDX, VALS, (2, 3)),
    "int64": lambda lib: lib.sparse_coo_tensor(IDX, [1, 2, 3, 4], (2, 3)),
    "float64-leaf": lambda lib: lib.sparse_coo_tensor(IDX, VALS, (2, 3), dtype=lib.float64,
                                                      requires_grad=True),
    "values-grad": lambda lib: lib.sparse_coo_tensor(
        IDX, lib.tensor(VALS, requires_grad=True), (2, 3)),
    "hybrid": lambda lib: lib.sparse_coo_tensor(IDX, lib.arange(8.0).reshape(4, 2)),
    "empty": lambda lib: lib.sparse_coo_tensor((2, 3)),
    "scalar": lambda lib: lib.sparse_coo_tensor(lib.zeros(0, 1, dtype=lib.int64),
                                                lib.tensor([2.0]), ()),
    "wrapped": lambda lib: lib.eye(20).to_sparse(),
    "coalesced": lambda lib: lib.sparse_coo_tensor(IDX, VALS, (2, 3)).coalesce(),
    "rows": lambda lib: lib.tensor([[0.0, 1.5], [0.0, 0.0], [2.0, 3.0]]).to_sparse(1),
    "float16": lambda lib: lib.sparse_coo_tensor(IDX, VALS, (2, 3), dtype=lib.float16),
    "sparse@sparse": lambda lib: lib.sparse.mm(lib.sparse_coo_tensor(IDX, VALS, (2, 3)),
                                               lib.sparse_coo_tensor(IDX, VALS, (2, 3)).t()),
    "sum-dim": lambda lib: lib.sparse.sum(lib.sparse_coo_tensor(IDX, VALS, (2, 3)), 1),
}


@pytest.mark.parametrize("name", list(REPR_CASES))
def test_repr_matches_torch(torch, name):
    ours = repr(REPR_CASES[name](taimatsu))
    theirs = repr(REPR_CASES[name](torch)).replace("torch.", "taimatsu.")
    assert ours == theirs


def test_construction_attributes_match_torch(torch):
    for make in (lambda lib: lib.sparse_coo_tensor(IDX, VALS, (2, 3)),
                 lambda lib: lib.sparse_coo_tensor([[1]], [2.0], (3,)),
                 lambda lib: lib.sparse_coo_tensor(IDX, lib.ones(4, 2)),
                 lambda lib: lib.sparse_coo_tensor([[0, 1], [1, 0]], [1, 2]),
                 lambda lib: lib.sparse_coo_tensor(IDX, VALS, (2, 3), is_coalesced=True)):
        ours, theirs = make(taimatsu), make(torch)
        for query in ("is_coalesced", "_nnz", "sparse_dim", "dense_dim", "numel", "dim"):
            assert getattr(ours, query)() == getattr(theirs, query)(), query
        assert tuple(ours.shape) == tuple(theirs.shape)
        assert ours.stride() == theirs.stride() and len(ours) == len(theirs)


def test_coalesce_matches_torch(torch):
    rng = np.random.default_rng(3)
    for shape, nnz in (((6, 5), 30), ((3, 4, 5), 25), ((7,), 12)):
        rows, vals = _random_coo(shape, nnz, rng)
        ours = taimatsu.sparse_coo_tensor(rows, vals, shape).coalesce()
        theirs = torch.sparse_coo_tensor(torch.tensor(rows), torch.tensor(vals),
                                         shape).coalesce()
        assert ours.indices().tolist() == theirs.indices().tolist()
        assert_close(ours.values().numpy(), theirs.values().numpy())


@pytest.mark.parametrize("sparse_dim", [None, 1, 2])
def test_to_sparse_matches_torch(torch, sparse_dim):
    x = RNG.standard_normal((4, 3, 2)) * (RNG.random((4, 3, 2)) < 0.4)
    x[1] = 0.0
    args = () if sparse_dim is None else (sparse_dim,)
    ours = taimatsu.tensor(x).to_sparse(*args)
    theirs = torch.tensor(x).to_sparse(*args)
    assert ours.is_coalesced() == theirs.is_coalesced()
    assert ours.indices().tolist() == theirs.indices().tolist()
    assert_close(ours.values().numpy(), theirs.values().numpy())


# -- products and their gradients --------------------------------------------------------------

PRODUCTS = {
    "sparse.mm": (lambda lib, s, d, m: lib.sparse.mm(s, d), (3, 4)),
    "mm": (lambda lib, s, d, m: lib.mm(s, d), (3, 4)),
    "matmul-op": (lambda lib, s, d, m: s @ d, (3, 4)),
    "matmul-vec": (lambda lib, s, d, m: lib.matmul(s, d), (3,)),
    "vec-matmul": (lambda lib, s, d, m: d @ s, (2,)),
    "spmm": (lambda lib, s, d, m: lib.spmm(s, d), (3, 4)),
    "dense@sparse": (lambda lib, s, d, m: d @ s, (5, 2)),
    "addmm": (lambda lib, s, d, m: lib.addmm(m, s, d, beta=0.5, alpha=-2.0), (3, 4)),
    "sparse.addmm": (lambda lib, s, d, m: lib.sparse.addmm(m, s, d, beta=2.0, alpha=0.5),
                     (3, 4)),
}


@pytest.mark.parametrize("name", list(PRODUCTS))
def test_products_and_gradients_match_torch(torch, name):
    fn, dense_shape = PRODUCTS[name]
    d = RNG.standard_normal(dense_shape)
    m = RNG.standard_normal((2, 4))
    results = []
    for lib in (taimatsu, torch):
        v = lib.tensor(VALS, dtype=lib.float64, requires_grad=True)
        dd = lib.tensor(d, requires_grad=True)
        mm_ = lib.tensor(m, requires_grad=True)
        out = fn(lib, lib.sparse_coo_tensor(lib.tensor(IDX), v, (2, 3)), dd, mm_)
        weights = lib.tensor(np.linspace(-1, 1, out.numel()).reshape(tuple(out.shape)))
        (out * weights).sum().backward()
        results.append((out, v.grad, dd.grad, mm_.grad, out.grad_fn.name()))
    ours, theirs = results
    assert_close(_np(ours[0]), _np(theirs[0]))
    for o, t in zip(ours[1:4], theirs[1:4]):
        assert (o is None) == (t is None)
        if o is not None:
            assert_close(o.numpy(), t.numpy())
    assert ours[4] == theirs[4]


def test_sparse_times_sparse_and_bmm_match_torch(torch):
    rng = np.random.default_rng(5)
    a_rows, a_vals = _random_coo((4, 5), 9, rng)
    b_rows, b_vals = _random_coo((5, 3), 8, rng)
    outs = []
    for lib in (taimatsu, torch):
        av = lib.tensor(a_vals, requires_grad=True)
        bv = lib.tensor(b_vals, requires_grad=True)
        a = lib.sparse_coo_tensor(lib.tensor(a_rows), av, (4, 5))
        b = lib.sparse_coo_tensor(lib.tensor(b_rows), bv, (5, 3))
        out = lib.sparse.mm(a, b)
        (out.to_dense() * lib.arange(12.0, dtype=lib.float64).reshape(4, 3)).sum().backward()
        outs.append((out, av.grad, bv.grad))
    (ours, og1, og2), (theirs, tg1, tg2) = outs
    assert ours.is_coalesced() and theirs.is_coalesced()
    assert ours.indices().tolist() == theirs.indices().tolist()
    assert_close(ours.values().detach().numpy(), theirs.values().detach().numpy())
    assert_close(og1.numpy(), tg1.numpy())
    assert_close(og2.numpy(), tg2.numpy())
    idx = [[0, 1, 1], [0, 1, 0], [1, 0, 1]]
    dense = RNG.standard_normal((2, 2, 3))
    ours = taimatsu.bmm(taimatsu.sparse_coo_tensor(idx, [1.0, 2.0, 3.0], (2, 2, 2)),
                        taimatsu.tensor(dense, dtype=taimatsu.float32))
    theirs = torch.bmm(torch.sparse_coo_tensor(idx, [1.0, 2.0, 3.0], (2, 2, 2)),
                       torch.tensor(dense, dtype=torch.float32))
    _same(ours, theirs)


def test_sparse_leaf_gradient_matches_torch(torch):
    d = RNG.standard_normal((3, 2))
    grads = []
    for lib in (taimatsu, torch):
        s = lib.sparse_coo_tensor(IDX, VALS, (2, 3), dtype=lib.float64).coalesce()
        s.requires_grad_()
        lib.sparse.mm(s, lib.tensor(d)).sum().backward()
        lib.sparse.mm(s, lib.tensor(d)).sum().backward()  # accumulates
        grads.append(s.grad)
    ours, theirs = grads
    assert ours.is_sparse and theirs.is_sparse
    assert ours._indices().tolist() == theirs._indices().tolist()
    assert_close(ours._values().numpy(), theirs._values().numpy())


# -- arithmetic --------------------------------------------------------------------------------

ARITHMETIC = {
    "dense+sparse": lambda lib, s, t, d: d + s,
    "dense-sparse": lambda lib, s, t, d: d - s,
    "sparse+sparse": lambda lib, s, t, d: s + t,
    "coalesced+coalesced": lambda lib, s, t, d: s.coalesce() + t.coalesce(),
    "sparse-sparse": lambda lib, s, t, d: s - t,
    "sparse*scalar": lambda lib, s, t, d: s * 2.5,
    "scalar*sparse": lambda lib, s, t, d: 3 * s,
    "sparse*dense": lambda lib, s, t, d: s * d,
    "dense*sparse": lambda lib, s, t, d: d * s,
    "sparse*row": lambda lib, s, t, d: s * d[0],
    "sparse*sparse": lambda lib, s, t, d: s * t,
    "sparse/scalar": lambda lib, s, t, d: s / 4,
    "sparse/0d": lambda lib, s, t, d: s / lib.tensor(2.0, dtype=lib.float64),
    "neg": lambda lib, s, t, d: -s,
    "pow": lambda lib, s, t, d: s ** 2,
    "sin": lambda lib, s, t, d: s.sin(),
    "abs": lambda lib, s, t, d: s.abs(),
    "t": lambda lib, s, t, d: s.t(),
    "transpose": lambda lib, s, t, d: s.transpose(0, 1),
    "select": lambda lib, s, t, d: s[1],
    "to-float32": lambda lib, s, t, d: s.float(),
    "clone": lambda lib, s, t, d: s.clone(),
    "sum-method-keepdim": lambda lib, s, t, d: s.sum(0, keepdim=True),
    "sum-method": lambda lib, s, t, d: s.sum(1),
}


@pytest.mark.parametrize("name", list(ARITHMETIC))
def test_arithmetic_matches_torch(torch, name):
    fn = ARITHMETIC[name]
    d = RNG.standard_normal((2, 3))
    other = ([[1, 0, 1], [1, 2, 2]], [7.0, 8.0, -2.0])
    results = []
    for lib in (taimatsu, torch):
        s = lib.sparse_coo_tensor(IDX, VALS, (2, 3), dtype=lib.float64)
        t = lib.sparse_coo_tensor(other[0], other[1], (2, 3), dtype=lib.float64)
        results.append(fn(lib, s, t, lib.tensor(d)))
    ours, theirs = results
    _same(ours, theirs)
    if ours.is_sparse and theirs.is_coalesced():
        assert ours.is_coalesced()
        assert ours.indices().tolist() == theirs.indices().tolist()


@pytest.mark.parametrize("name", _ops._LINEAR_UNARY + _ops._NONLINEAR_UNARY)
def test_zero_preserving_functions_match_torch(torch, name):
    values = [0.25, -0.5, 0.75, float("nan"), 2.0]
    indices = [[0, 1, 1, 0, 2], [2, 0, 2, 2, 1]]
    ours = getattr(taimatsu.sparse_coo_tensor(indices, values, (3, 3)), name)()
    theirs = getattr(torch.sparse_coo_tensor(indices, values, (3, 3)), name)()
    assert ours.is_coalesced() == theirs.is_coalesced()
    _same(ours, theirs, equal_nan=True)


@pytest.mark.parametrize("name, fn", [
    ("sum", lambda lib, s: lib.sparse.sum(s)),
    ("sum-dtype", lambda lib, s: lib.sparse.sum(s, dtype=lib.float64)),
    ("sum-0", lambda lib, s: lib.sparse.sum(s, 0)),
    ("sum-2", lambda lib, s: lib.sparse.sum(s, 2)),
    ("sum-01", lambda lib, s: lib.sparse.sum(s, (0, 1))),
    ("sum-all", lambda lib, s: lib.sparse.sum(s, (0, 1, 2))),
    ("softmax-0", lambda lib, s: lib.sparse.softmax(s, 0)),
    ("softmax-1", lambda lib, s: lib.sparse.softmax(s, 1)),
    ("softmax-dense-dim", lambda lib, s: lib.sparse.softmax(s, 2)),
    # (not dim=-2: torch's backward mishandles negative dims there; the gradient of
    # dim=0, which -2 stands for, is checked against torch's dim=0 above)
    ("log_softmax-0", lambda lib, s: lib.sparse.log_softmax(s, 0)),
    ("log_softmax-1", lambda lib, s: lib.sparse.log_softmax(s, 1)),
])
def test_reductions_and_softmax_match_torch(torch, name, fn):
    rng = np.random.default_rng(7)
    rows, _ = _random_coo((4, 5), 9, rng)
    vals = rng.standard_normal((9, 2))
    results = []
    for lib in (taimatsu, torch):
        v = lib.tensor(vals, requires_grad=True)
        out = fn(lib, lib.sparse_coo_tensor(lib.tensor(rows), v, (4, 5, 2)))
        dense = out.to_dense() if out.is_sparse else out
        (dense * lib.arange(dense.numel(), dtype=dense.dtype).reshape(dense.shape)).sum() \
            .backward()
        results.append((out, v.grad, out.grad_fn.name()))
    (ours, og, oname), (theirs, tg, tname) = results
    _same(ours, theirs)
    assert_close(og.numpy(), tg.numpy())
    assert oname == tname


# -- node names --------------------------------------------------------------------------------

@pytest.mark.parametrize("fn", [
    lambda lib, s: s.to_dense(), lambda lib, s: s.coalesce(),
    lambda lib, s: s.coalesce().values(), lambda lib, s: s.t(), lambda lib, s: s * 2,
    lambda lib, s: -s, lambda lib, s: s + s, lambda lib, s: s.float(),
    lambda lib, s: s.clone(), lambda lib, s: s.sin(), lambda lib, s: s.abs(),
    lambda lib, s: lib.sparse.softmax(s, 1), lambda lib, s: lib.sparse.log_softmax(s, 1),
    lambda lib, s: lib.sparse.sum(s, 0), lambda lib, s: s[0],
    lambda lib, s: s @ lib.ones(3, 2, dtype=lib.float64),
    lambda lib, s: lib.sparse.mm(s, lib.ones(3, 2, dtype=lib.float64)),
    lambda lib, s: lib.ones(2, 3, dtype=lib.float64) + s,
    lambda lib, s: lib.sparse_coo_tensor(IDX, lib.tensor(VALS, requires_grad=True), (2, 3)),
    lambda lib, s: lib.ones(2, 2, requires_grad=True).to_sparse(),
    lambda lib, s: lib.ones(2, 2, requires_grad=True).to_sparse(1),
])
def test_node_names_match_torch(torch, fn):
    names = []
    for lib in (taimatsu, torch):
        s = lib.sparse_coo_tensor(IDX, lib.tensor(VALS, dtype=lib.float64,
                                                  requires_grad=True), (2, 3))
        names.append(fn(lib, s).grad_fn.name())
    assert names[0] == names[1]


# -- errors ------------------------------------------------------------------------------------

def _s(lib):
    return lib.sparse_coo_tensor(IDX, VALS, (2, 3))


ERRORS = {
    "nnz": lambda lib: lib.sparse_coo_tensor([[0, 1]], [1.0], (3,)),
    "indices-3d": lambda lib: lib.sparse_coo_tensor(lib.zeros(2, 2, 2, dtype=lib.int64),
                                                    lib.ones(2), (2, 3)),
    "size-dims": lambda lib: lib.sparse_coo_tensor(IDX, VALS, (2,)),
    "values-size": lambda lib: lib.sparse_coo_tensor(IDX, lib.ones(4, 2), (2, 3, 4)),
    "out-of-range": lambda lib: lib.sparse_coo_tensor(IDX, VALS, (2, 2), check_invariants=True),
    "negative": lambda lib: lib.sparse_coo_tensor([[0, -1]], [1.0, 2.0], (3,),
                                                  check_invariants=True),
    "is_coalesced": lambda lib: lib.sparse_coo_tensor(IDX, VALS, (2, 3), is_coalesced=True,
                                                      check_invariants=True),
    "int-requires-grad": lambda lib: lib.sparse_coo_tensor(IDX, [1, 2, 3, 4], (2, 3),
                                                           requires_grad=True),
    "indices()": lambda lib: _s(lib).indices(),
    "values()": lambda lib: _s(lib).values(),
    "dense.indices": lambda lib: lib.ones(2).indices(),
    "dense.coalesce": lambda lib: lib.ones(2).coalesce(),
    "dense.is_coalesced": lambda lib: lib.ones(2).is_coalesced(),
    "sparse+dense": lambda lib: _s(lib) + lib.ones(2, 3),
    "sparse+number": lambda lib: _s(lib) + 1,
    "sparse-dense": lambda lib: _s(lib) - lib.ones(2, 3),
    "broadcast": lambda lib: lib.ones(3) + _s(lib),
    "sizes": lambda lib: _s(lib) + lib.sparse_coo_tensor(IDX, VALS, (3, 3)),
    "div-dense": lambda lib: _s(lib) / lib.ones(2, 3),
    "mul-shape": lambda lib: lib.ones(3, 3) * _s(lib),
    "mul-sparse-shape": lambda lib: _s(lib) * lib.sparse_coo_tensor(IDX, VALS, (3, 3)),
    "mm-size": lambda lib: lib.mm(_s(lib), lib.ones(2, 2)),
    "mm-dtype": lambda lib: lib.mm(_s(lib), lib.ones(3, 2, dtype=lib.float64)),
    "mm-sparse-sparse": lambda lib: lib.mm(_s(lib), _s(lib)),
    "mm-3d": lambda lib: lib.mm(lib.sparse_coo_tensor(lib.zeros(3, 1, dtype=lib.int64),
                                                      lib.ones(1), (1, 1, 1)), lib.ones(1, 2)),
    "mm-vector": lambda lib: lib.mm(_s(lib), lib.ones(3)),
    "matmul-3d": lambda lib: lib.matmul(_s(lib), lib.ones(2, 3, 2)),
    "t-3d": lambda lib: lib.sparse_coo_tensor(lib.zeros(3, 1, dtype=lib.int64), lib.ones(1),
                                              (1, 1, 1)).t(),
    "transpose-dense-dim": lambda lib: lib.sparse_coo_tensor(IDX, lib.ones(4, 2)).transpose(0, 2),
    "to_sparse-dim": lambda lib: lib.ones(2, 2).to_sparse(3),
    "to_sparse-sparse": lambda lib: lib.eye(2).to_sparse().to_sparse(1),
    "sum-dim": lambda lib: lib.sparse.sum(_s(lib), 3),
    "sum-repeat": lambda lib: lib.sparse.sum(_s(lib), [0, 0]),
    "sum-dense": lambda lib: lib.sparse.sum(lib.ones(2)),
    "numpy": lambda lib: _s(lib).numpy(),
    "reshape": lambda lib: _s(lib).reshape(6),
    "data_ptr": lambda lib: _s(lib).data_ptr(),
    "nbytes": lambda lib: _s(lib).nbytes,
    "item": lambda lib: _s(lib).item(),
    "len-0d": lambda lib: len(lib.sparse_coo_tensor(lib.zeros(0, 1, dtype=lib.int64),
                                                    lib.tensor([2.0]), ())),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_match_torch(torch, name):
    caught = []
    for lib in (taimatsu, torch):
        with pytest.raises(Exception) as info:
            ERRORS[name](lib)
        caught.append(info.value)
    ours, theirs = caught
    assert type(ours) is type(theirs)
    assert str(ours) == str(theirs)


@pytest.mark.parametrize("name, fn", [
    ("exp", lambda lib, s: s.exp()), ("exp", lambda lib, s: lib.exp(s)),
    ("mean", lambda lib, s: s.mean()), ("view", lambda lib, s: s.view(6)),
])
def test_missing_sparse_kernels_raise_like_torch(torch, name, fn):
    messages = []
    for lib in (taimatsu, torch):
        with pytest.raises(NotImplementedError) as info:
            fn(lib, _s(lib))
        messages.append(str(info.value).split(" This could be")[0])
    assert messages[0].startswith(f"Could not run 'aten::{name}")
    assert messages[0].replace(f"'aten::{name}'", "") == \
        messages[1].replace(f"'aten::{name}.dim'", "").replace(f"'aten::{name}'", "")
