"""Views: shared memory and version counter with the base, and autograd through in-place
writes to views (CopySlices), saved-tensor checks and the leaf-view error."""

import numpy as np
import pytest

import taimatsu as tm

# Each builds a view of a (3, 4) tensor through one or more view ops of ops/shape.py.
VIEWS = {
    "transpose": lambda x: x.transpose(0, 1),
    "t": lambda x: x.t(),
    "T": lambda x: x.T,
    "view": lambda x: x.view(-1),
    "view-2d": lambda x: x.view(2, 6),
    "reshape": lambda x: x.reshape(6, 2),
    "narrow": lambda x: x.narrow(0, 1, 2),
    "select": lambda x: x.select(1, 2),
    "diagonal": lambda x: x.diagonal(),
    "diagonal-offset": lambda x: x.diagonal(1),
    "permute": lambda x: x.unsqueeze(0).permute(2, 0, 1),
    "squeeze": lambda x: x.unsqueeze(1).squeeze(1),
    "split": lambda x: x.split(1)[1],
    "chunk": lambda x: x.chunk(2, 1)[1],
    "unbind": lambda x: x.unbind(1)[3],
    "movedim": lambda x: x.movedim(0, 1),
    "chain": lambda x: x.t().narrow(0, 1, 2).select(1, 0),
    "view-of-narrow": lambda x: x.view(2, 6).narrow(1, 1, 3),
    "flatten": lambda x: x.flatten(),
    "unflatten": lambda x: x.unflatten(1, (2, 2)),
}

WEIGHTS = np.arange(12.0).reshape(3, 4)


def _leaf():
    return tm.tensor(np.arange(1.0, 13.0).reshape(3, 4), requires_grad=True)


def _expected_grad(make_view):
    """Leaf grad of sum(W * x) after x's view was doubled in place, worked out in NumPy."""
    marker = np.zeros((3, 4))
    view = make_view(tm.from_numpy(marker))
    view.add_(1)  # writes 1 where the view reaches
    return WEIGHTS * np.where(marker > 0, 2.0, 1.0)


@pytest.mark.parametrize("name", list(VIEWS))
def test_view_shares_memory_with_base(name):
    base = tm.zeros(3, 4)
    view = VIEWS[name](base)
    assert view._base is base
    base.add_(1)
    assert (view.numpy() == 1).all()
    view.mul_(5)
    touched = base.numpy() == 5
    assert touched.sum() == view.numel()
    assert (base.numpy()[~touched] == 1).all()


@pytest.mark.parametrize("name", list(VIEWS))
def test_version_counter_is_shared(name):
    base = tm.zeros(3, 4)
    view = VIEWS[name](base)
    before = base._version
    view.add_(1)
    assert base._version == view._version == before + 1
    base.sub_(1)
    assert view._version == before + 2


def test_view_of_view_has_the_root_as_base():
    base = tm.zeros(3, 4)
    v = base.t().narrow(0, 1, 2).unsqueeze(0)
    assert v._base is base
    v.add_(1)
    assert base.numpy()[:, 1:3].sum() == 6


@pytest.mark.parametrize("name", list(VIEWS))
def test_inplace_through_view_reaches_base_grad(name):
    leaf = _leaf()
    x = leaf * 1
    v = VIEWS[name](x)
    v.mul_(2)
    assert x.grad_fn.name() == "CopySlices"
    (x * tm.tensor(WEIGHTS)).sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), _expected_grad(VIEWS[name]))


@pytest.mark.parametrize("name", ["transpose", "narrow", "select", "diagonal", "chain"])
def test_gradient_through_view_after_inplace(name):
    leaf = _leaf()
    x = leaf * 1
    v = VIEWS[name](x)
    v.mul_(3)
    v.sum().backward()
    marker = np.zeros((3, 4))
    VIEWS[name](tm.from_numpy(marker)).add_(1)
    np.testing.assert_allclose(leaf.grad.numpy(), 3 * marker)


def test_view_grad_fn_follows_base_modified_in_place():
    leaf = _leaf()
    x = leaf * 1
    v = x.narrow(0, 0, 1)
    x.mul_(2)  # the view now reads doubled values
    v.sum().backward()
    expected = np.zeros((3, 4))
    expected[0] = 2
    np.testing.assert_allclose(leaf.grad.numpy(), expected)


def test_inplace_with_grad_requiring_operand_into_view_of_plain_tensor():
    w = tm.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    x = tm.zeros(3, 4)
    x.select(0, 1).add_(w)
    assert x.requires_grad and x.grad_fn.name() == "CopySlices"
    (x * tm.tensor(WEIGHTS)).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), WEIGHTS[1])


def test_inplace_on_view_overwrites_gradient_of_replaced_values():
    a = tm.tensor(np.ones((2, 3)), requires_grad=True)
    b = tm.tensor(np.full(3, 5.0), requires_grad=True)
    x = a * 1
    x.select(0, 0).mul_(0).add_(b)  # row 0 now depends on b only
    x.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [[0, 0, 0], [1, 1, 1]])
    np.testing.assert_allclose(b.grad.numpy(), [1, 1, 1])


@pytest.mark.parametrize("name", ["narrow", "transpose", "view", "diagonal"])
def test_saved_tensor_modified_through_view_raises(name):
    leaf = _leaf()
    x = leaf * 1
    y = x * x  # saves x
    VIEWS[name](x).add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_saved_view_modified_through_base_raises():
    leaf = _leaf()
    v = (leaf * 1).view(-1)
    y = v * v  # saves the view
    v._base.add_(1)
    with pytest.raises(RuntimeError, match="is at version 1; expected version 0"):
        y.sum().backward()


@pytest.mark.parametrize("name", ["narrow", "select", "transpose", "view", "diagonal"])
def test_inplace_on_view_of_leaf_requiring_grad_raises(name):
    leaf = _leaf()
    with pytest.raises(RuntimeError, match="^a view of a leaf Variable that requires grad is "
                                           "being used in an in-place operation.$"):
        VIEWS[name](leaf).mul_(2)


def test_inplace_on_view_of_leaf_allowed_under_no_grad():
    leaf = _leaf()
    with tm.no_grad():
        leaf.narrow(0, 0, 1).mul_(0)
    assert leaf.is_leaf and leaf.requires_grad
    assert leaf.numpy(force=True)[0].sum() == 0


def test_double_backward_through_views():
    leaf = tm.tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    y = (leaf.t().reshape(-1).narrow(0, 1, 2) ** 3).sum()
    (g,) = tm.autograd.grad(y, leaf, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), [[0, 12], [27, 0]])
    g.sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), [[0, 12], [18, 0]])


def test_expand_is_a_view_of_its_input():
    x = tm.zeros(3, 1)
    e = x.expand(3, 4)
    assert e._base is x
    x.add_(2)
    assert (e.numpy() == 2).all() and e._version == 1


def test_copying_ops_do_not_alias_their_input():
    x = tm.zeros(2, 3)
    outs = [x.flip(0), x.roll(1, 1), x.rot90(), x.repeat(1, 1), x.tile((1,)), x.tril(),
            tm.diag(x), tm.cat([x]), tm.stack([x]).select(0, 0), x.t().reshape(-1)]
    x.add_(1)
    for out in outs:
        assert out._base is not x
        assert (out.numpy() == 0).all()


def test_inplace_through_view_with_non_contiguous_incoming_gradient():
    leaf = _leaf()
    x = leaf * 1
    x.view(-1).mul_(2)
    x.t().expand(2, 4, 3).sum().backward()  # x's gradient arrives transposed
    np.testing.assert_allclose(leaf.grad.numpy(), np.full((3, 4), 4.0))


def test_inplace_through_view_of_transposed_base():
    leaf = _leaf()
    x = leaf.t() * 1  # keeps the transposed layout, so x.t() is contiguous
    x.t().view(-1).mul_(2)
    x.sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), np.full((3, 4), 2.0))
