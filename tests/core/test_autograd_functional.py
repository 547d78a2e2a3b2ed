"""autograd.functional: vjp, jvp, jacobian, hessian, vhp, hvp (values and tuple nesting)."""

import numpy as np
import pytest

import taimatsu as tm
from taimatsu.autograd import functional as F

A = np.array([[1.0, 2.0, 0.5], [-1.0, 0.0, 3.0]])


def t64(values, requires_grad=False):
    return tm.tensor(values, dtype=tm.float64, requires_grad=requires_grad)


def np_of(t):
    return t.detach().numpy()


def linear(x):
    """x (3,) -> A x (2,): the Jacobian is A."""
    return tm.matmul(t64(A), x)


def cubic_sum(x):
    """sum(x**3): gradient 3x**2, Hessian diag(6x)."""
    return (x ** 3).sum()


X = [1.0, -2.0, 0.5]


# -- vjp -----------------------------------------------------------------------------------

def test_vjp_single_input_and_output():
    v = t64([1.0, 2.0])
    out, vjp = F.vjp(linear, t64(X), v)
    np.testing.assert_allclose(np_of(out), A @ X)
    np.testing.assert_allclose(np_of(vjp), np.array([1.0, 2.0]) @ A)
    assert not vjp.requires_grad and not out.requires_grad


def test_vjp_scalar_output_needs_no_v():
    out, vjp = F.vjp(cubic_sum, t64(X))
    np.testing.assert_allclose(np_of(vjp), 3 * np.array(X) ** 2)


def test_vjp_tuple_inputs_and_outputs():
    def f(x, y):
        return x * y, x + y

    x, y = t64([1.0, 2.0]), t64([3.0, 4.0])
    v = (t64([1.0, 1.0]), t64([10.0, 10.0]))
    outs, (gx, gy) = F.vjp(f, (x, y), v)
    assert isinstance(outs, tuple) and len(outs) == 2
    np.testing.assert_allclose(np_of(gx), [3.0 + 10.0, 4.0 + 10.0])
    np.testing.assert_allclose(np_of(gy), [1.0 + 10.0, 2.0 + 10.0])


def test_vjp_unused_input_gives_zeros_or_strict_error():
    def f(x, y):
        return x * 2

    x, y = t64([1.0]), t64([5.0, 6.0])
    _, (gx, gy) = F.vjp(f, (x, y), t64([1.0]))
    np.testing.assert_allclose(np_of(gy), [0.0, 0.0])
    with pytest.raises(RuntimeError, match="The output of the user-provided function is "
                                           "independent of input 1. This is not allowed in "
                                           "strict mode."):
        F.vjp(f, (x, y), t64([1.0]), strict=True)


def test_vjp_v_errors():
    with pytest.raises(RuntimeError, match="The vector v can only be None if the user-provided "
                                           "function returns a single Tensor with a single "
                                           "element."):
        F.vjp(linear, t64(X))
    with pytest.raises(RuntimeError, match=r"v has invalid size: should be .*\[2\].* but got "
                                           r".*\[3\]"):
        F.vjp(linear, t64(X), t64([1.0, 2.0, 3.0]))
    with pytest.raises(RuntimeError, match="v is a tuple of invalid length: should be 2 but "
                                           "got 1."):
        F.vjp(lambda x: (x, x), t64(X), (t64(X),))


def test_vjp_create_graph_keeps_history():
    x = t64(X, requires_grad=True)
    _, g = F.vjp(cubic_sum, x, create_graph=True)
    assert g.requires_grad
    g.sum().backward()  # d/dx sum(3 x**2) = 6x
    np.testing.assert_allclose(np_of(x.grad), 6 * np.array(X))


def test_vjp_leaves_input_grad_untouched():
    x = t64(X, requires_grad=True)
    F.vjp(cubic_sum, x)
    assert x.grad is None


def test_inputs_must_be_tensors():
    with pytest.raises(TypeError, match="The inputs given to vjp must be either a Tensor or a "
                                        "tuple of Tensors but the given inputs has type"):
        F.vjp(cubic_sum, [1.0, 2.0])
    with pytest.raises(TypeError, match="but the value at index 1 has type"):
        F.jacobian(lambda a, b: a, (t64(X), 3.0))
    with pytest.raises(TypeError, match="The outputs of the user-provided function given to "
                                        "jacobian must be either a Tensor or a tuple of "
                                        "Tensors"):
        F.jacobian(lambda x: 3.0, t64(X))


# -- jvp -----------------------------------------------------------------------------------

def test_jvp_matches_jacobian_times_v():
    v = t64([1.0, 0.0, 2.0])
    out, jvp = F.jvp(linear, t64(X), v)
    np.testing.assert_allclose(np_of(out), A @ X)
    np.testing.assert_allclose(np_of(jvp), A @ [1.0, 0.0, 2.0])


def test_jvp_nonlinear_tuple_outputs():
    def f(x):
        return x * x, x * 3

    v = t64([1.0, 1.0, 1.0])
    (sq, tri), (j1, j2) = F.jvp(f, t64(X), v)
    np.testing.assert_allclose(np_of(j1), 2 * np.array(X))
    np.testing.assert_allclose(np_of(j2), [3.0, 3.0, 3.0])


def test_jvp_v_none_needs_single_element_input():
    out, jvp = F.jvp(lambda x: x * x, t64([3.0]))
    np.testing.assert_allclose(np_of(jvp), [6.0])
    with pytest.raises(RuntimeError, match="The vector v can only be None if the input to the "
                                           "user-provided function is a single Tensor with a "
                                           "single element."):
        F.jvp(linear, t64(X))


def test_jvp_create_graph():
    x = t64([2.0], requires_grad=True)
    _, jvp = F.jvp(lambda t: t ** 3, x, t64([1.0]), create_graph=True)
    assert jvp.requires_grad
    (g,) = tm.autograd.grad(jvp.sum(), x)  # d/dx 3x**2 = 6x
    np.testing.assert_allclose(np_of(g), [12.0])


# -- jacobian ------------------------------------------------------------------------------

def test_jacobian_single_input_single_output():
    jac = F.jacobian(linear, t64(X))
    assert isinstance(jac, tm.Tensor) and jac.shape == (2, 3)
    np.testing.assert_allclose(np_of(jac), A)
    assert not jac.requires_grad


def test_jacobian_nesting_rules():
    x, y = t64([1.0, 2.0]), t64([3.0, 4.0, 5.0])

    def two_in_one_out(a, b):
        return a.sum() * b

    def one_in_two_out(a):
        return a * 2, a.sum()

    def two_in_two_out(a, b):
        return a * 2, b.sum() * a.sum()

    j = F.jacobian(two_in_one_out, (x, y))
    assert isinstance(j, tuple) and [tuple(t.shape) for t in j] == [(3, 2), (3, 3)]
    j = F.jacobian(one_in_two_out, x)
    assert isinstance(j, tuple) and [tuple(t.shape) for t in j] == [(2, 2), (2,)]
    j = F.jacobian(two_in_two_out, (x, y))
    assert [[tuple(t.shape) for t in row] for row in j] == [[(2, 2), (2, 3)], [(2,), (3,)]]
    np.testing.assert_allclose(np_of(j[0][0]), 2 * np.eye(2))
    np.testing.assert_allclose(np_of(j[0][1]), np.zeros((2, 3)))
    np.testing.assert_allclose(np_of(j[1][1]), [3.0, 3.0, 3.0])
    j = F.jacobian(lambda a: (a * 2,), (x,))  # explicit 1-tuples are kept
    assert isinstance(j, tuple) and isinstance(j[0], tuple) and j[0][0].shape == (2, 2)


def test_jacobian_of_matrix_function():
    x = t64([[1.0, 2.0], [3.0, 4.0]])
    jac = F.jacobian(lambda m: m * m, x)
    assert jac.shape == (2, 2, 2, 2)
    expected = np.zeros((2, 2, 2, 2))
    for i in range(2):
        for k in range(2):
            expected[i, k, i, k] = 2 * x.numpy()[i, k]
    np.testing.assert_allclose(np_of(jac), expected)


def test_jacobian_scalar_output():
    jac = F.jacobian(cubic_sum, t64(X))
    np.testing.assert_allclose(np_of(jac), 3 * np.array(X) ** 2)


@pytest.mark.parametrize("kwargs", [{"vectorize": True}, {"strategy": "forward-mode"},
                                    {"strategy": "forward-mode", "vectorize": True}])
def test_jacobian_strategies_agree(kwargs):
    def f(a, b):
        return a * b.sum(), (a ** 2).sum() * b

    x, y = t64([1.0, 2.0]), t64([3.0, -1.0, 0.5])
    ref = F.jacobian(f, (x, y))
    got = F.jacobian(f, (x, y), **kwargs)
    for ref_row, got_row in zip(ref, got):
        for r, g in zip(ref_row, got_row):
            assert r.shape == g.shape
            np.testing.assert_allclose(np_of(g), np_of(r))


def test_jacobian_independent_input():
    x, y = t64([1.0, 2.0]), t64([3.0])
    jx, jy = F.jacobian(lambda a, b: a * 2, (x, y))
    np.testing.assert_allclose(np_of(jy), np.zeros((2, 1)))
    with pytest.raises(RuntimeError, match="Output 0 of the user-provided function is "
                                           "independent of input 1. This is not allowed in "
                                           "strict mode."):
        F.jacobian(lambda a, b: a * 2, (x, y), strict=True)


def test_jacobian_strict_output_without_grad():
    with pytest.raises(RuntimeError, match="Output 0 of the user-provided function does not "
                                           "require gradients"):
        F.jacobian(lambda a: a.detach(), t64(X), strict=True)
    jac = F.jacobian(lambda a: a.detach() * 1, t64(X))  # not strict: zeros
    np.testing.assert_allclose(np_of(jac), np.zeros((3, 3)))


def test_jacobian_argument_errors():
    with pytest.raises(ValueError, match="Expected strategy to be either \"forward-mode\" or "
                                         "\"reverse-mode\""):
        F.jacobian(linear, t64(X), strategy="sideways")
    with pytest.raises(RuntimeError, match="`strict=True` and `vectorized=True` are not "
                                           "supported together"):
        F.jacobian(linear, t64(X), strict=True, vectorize=True)


def test_jacobian_create_graph():
    x = t64(X, requires_grad=True)
    jac = F.jacobian(lambda a: a ** 2, x, create_graph=True)
    assert jac.requires_grad
    jac.sum().backward()  # sum of diag(2x) -> gradient 2
    np.testing.assert_allclose(np_of(x.grad), [2.0, 2.0, 2.0])


def test_jacobian_leaves_input_untouched():
    x = t64(X, requires_grad=True)
    F.jacobian(linear, x)
    assert x.grad is None and x.is_leaf


# -- hessian, vhp, hvp ---------------------------------------------------------------------

def test_hessian_single_input():
    h = F.hessian(cubic_sum, t64(X))
    assert h.shape == (3, 3)
    np.testing.assert_allclose(np_of(h), np.diag(6 * np.array(X)))


def test_hessian_tuple_inputs():
    def f(x, y):
        return (x * x * y).sum()  # H = [[2y, 2x], [2x, 0]] per element

    x, y = t64([1.0, 2.0]), t64([3.0, 4.0])
    (hxx, hxy), (hyx, hyy) = F.hessian(f, (x, y))
    np.testing.assert_allclose(np_of(hxx), np.diag([6.0, 8.0]))
    np.testing.assert_allclose(np_of(hxy), np.diag([2.0, 4.0]))
    np.testing.assert_allclose(np_of(hyx), np.diag([2.0, 4.0]))
    np.testing.assert_allclose(np_of(hyy), np.zeros((2, 2)))


def test_hessian_forward_mode_outer_strategy_agrees():
    def f(x):
        return (x ** 3).sum() + (x * x).sum() * x.sum()

    x = t64(X)
    ref = F.hessian(f, x)
    got = F.hessian(f, x, outer_jacobian_strategy="forward-mode", vectorize=True)
    np.testing.assert_allclose(np_of(got), np_of(ref))


def test_hessian_needs_single_element_output():
    with pytest.raises(RuntimeError, match="The Tensor returned by the function given to "
                                           "hessian should contain a single element"):
        F.hessian(lambda x: x * x, t64(X))
    with pytest.raises(RuntimeError, match="The function given to hessian should return a "
                                           "single Tensor"):
        F.hessian(lambda x: (x.sum(),), t64(X))


def test_hessian_strict_linear_function():
    with pytest.raises(RuntimeError, match="jacobian of the user-provided function with "
                                           "respect to input 0 is independent of the input"):
        F.hessian(lambda x: (x * 2).sum(), t64(X), strict=True)
    np.testing.assert_allclose(np_of(F.hessian(lambda x: (x * 2).sum(), t64(X))),
                               np.zeros((3, 3)))


@pytest.mark.parametrize("product", [F.vhp, F.hvp], ids=["vhp", "hvp"])
def test_hessian_vector_products(product):
    def f(x, y):
        return (x * x * y).sum() + (y ** 3).sum()

    x, y = t64([1.0, 2.0]), t64([3.0, 4.0])
    v = (t64([1.0, -1.0]), t64([0.5, 2.0]))
    out, (px, py) = product(f, (x, y), v)
    np.testing.assert_allclose(np_of(out), 1 * 3 + 4 * 4 + 27 + 64)
    (hxx, hxy), (hyx, hyy) = F.hessian(f, (x, y))
    vx, vy = np_of(v[0]), np_of(v[1])
    np.testing.assert_allclose(np_of(px), np_of(hxx) @ vx + np_of(hxy) @ vy)
    np.testing.assert_allclose(np_of(py), np_of(hyx) @ vx + np_of(hyy) @ vy)


@pytest.mark.parametrize("product", [F.vhp, F.hvp], ids=["vhp", "hvp"])
def test_hessian_vector_product_single_input_and_errors(product):
    out, p = product(cubic_sum, t64(X), t64([1.0, 1.0, 1.0]))
    assert isinstance(p, tm.Tensor)
    np.testing.assert_allclose(np_of(p), 6 * np.array(X))
    name = product.__name__
    with pytest.raises(RuntimeError, match=f"The function given to {name} should return a "
                                           "single Tensor"):
        product(lambda x: (x.sum(), x.sum()), t64(X), t64(X))
    with pytest.raises(RuntimeError, match=f"The Tensor returned by the function given to "
                                           f"{name} should contain a single element"):
        product(lambda x: x * 2, t64(X), t64(X))


def test_hvp_create_graph():
    x = t64([2.0], requires_grad=True)
    _, p = F.hvp(lambda t: (t ** 4).sum(), x, t64([1.0]), create_graph=True)
    np.testing.assert_allclose(np_of(p), [12 * 4.0])  # 12 x**2
    (g,) = tm.autograd.grad(p.sum(), x)
    np.testing.assert_allclose(np_of(g), [24 * 2.0])  # 24 x
