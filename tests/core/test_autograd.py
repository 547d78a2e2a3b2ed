"""The backward engine: gradients, graph lifetime, grad modes, hooks, versions, anomaly mode.

Expected values and messages follow PyTorch 2.x (tests/parity checks them side by side).
"""

import time
import warnings

import numpy as np
import pytest

import taimatsu as tm
from taimatsu import autograd
from taimatsu.autograd import Function


def leaf(values, dtype=tm.float64):
    return tm.tensor(values, dtype=dtype, requires_grad=True)


def np_of(t):
    return t.detach().numpy()


# -- backward --------------------------------------------------------------------------------

def test_tutorial_gradient_is_4_5():
    x = tm.ones(2, 2, requires_grad=True)
    out = (3 * (x + 2) ** 2).mean()
    out.backward()
    np.testing.assert_allclose(np_of(x.grad), np.full((2, 2), 4.5))
    assert x.grad.dtype is tm.float32


def test_backward_with_gradient_argument():
    x = leaf([1.0, 2.0, 3.0])
    y = x * x
    v = tm.tensor([0.1, 1.0, 10.0], dtype=tm.float64)
    y.backward(v)
    np.testing.assert_allclose(np_of(x.grad), 2 * np.array([1.0, 2.0, 3.0]) * [0.1, 1.0, 10.0])


def test_backward_needs_gradient_for_non_scalar():
    y = leaf([1.0, 2.0]) * 2
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar"):
        y.backward()


def test_backward_gradient_shape_mismatch():
    y = leaf([1.0, 2.0]) * 2
    with pytest.raises(RuntimeError, match=r"Mismatch in shape: grad_output\[0\] has a shape "
                                           r"of .*\[3\].* and output\[0\] has a shape of "
                                           r".*\[2\]"):
        y.backward(tm.ones(3, dtype=tm.float64))


def test_backward_on_tensor_without_grad():
    with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad and "
                                           "does not have a grad_fn"):
        tm.ones(2).sum().backward()


def test_grads_accumulate_across_backward_calls():
    x = leaf([1.0, 2.0])
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(np_of(x.grad), [3 + 2, 3 + 4])
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(np_of(x.grad), [3, 3])


def test_grad_is_none_before_backward_and_for_unused_leaves():
    x, unused = leaf([1.0]), leaf([2.0])
    assert x.grad is None
    (x * 2).sum().backward()
    assert unused.grad is None


def test_shared_subexpression_gets_both_paths():
    x = leaf([2.0])
    y = x * x
    z = y * y + y  # dz/dx = (2y + 1) * 2x
    z.sum().backward()
    np.testing.assert_allclose(np_of(x.grad), [(2 * 4 + 1) * 4])


# -- graph lifetime: retain_graph, freed buffers --------------------------------------------

_SECOND_TIME = "Trying to backward through the graph a second time"


def test_second_backward_without_retain_graph_raises():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=_SECOND_TIME):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(np_of(x.grad), [4.0, 8.0])


def test_saved_arrays_are_freed_after_backward():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    y = a * b
    node = y.grad_fn
    assert node._saved  # Mul keeps its operands ...
    y.sum().backward()
    assert node._saved is None  # ... until backward has used them
    with pytest.raises(RuntimeError, match=_SECOND_TIME):
        _ = node.saved_arrays


def test_retained_graph_keeps_saved_arrays():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    y = a * b
    y.sum().backward(retain_graph=True)
    assert y.grad_fn._saved


def test_grads_of_different_leaves_do_not_alias():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    c = a + b  # Add hands the same gradient array to both inputs
    c.backward(tm.ones(2, dtype=tm.float64))
    a.grad.mul_(2)
    np.testing.assert_allclose(np_of(b.grad), [1.0, 1.0])
    np.testing.assert_allclose(np_of(a.grad), [2.0, 2.0])


def test_leaf_grad_does_not_alias_the_given_gradient():
    a = leaf([1.0, 2.0])
    v = tm.ones(2, dtype=tm.float64)
    (a + 0).backward(v)
    a.grad.mul_(5)
    np.testing.assert_allclose(np_of(v), [1.0, 1.0])


def test_create_graph_grads_do_not_alias():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    v = tm.ones(2, dtype=tm.float64)
    (a + b).backward(v, create_graph=True)
    assert a.grad is not b.grad and a.grad is not v
    a.grad.mul_(2)
    np.testing.assert_allclose(np_of(b.grad), [1.0, 1.0])
    np.testing.assert_allclose(np_of(v), [1.0, 1.0])


# -- higher order ----------------------------------------------------------------------------

def test_create_graph_second_and_third_derivative_of_cube():
    x = leaf([1.0, 2.0, -3.0])
    (g,) = autograd.grad((x ** 3).sum(), x, create_graph=True)
    np.testing.assert_allclose(np_of(g), 3 * np.array([1.0, 4.0, 9.0]))
    assert g.requires_grad
    (g2,) = autograd.grad(g.sum(), x, create_graph=True)
    np.testing.assert_allclose(np_of(g2), 6 * np.array([1.0, 2.0, -3.0]))
    (g3,) = autograd.grad(g2.sum(), x)
    np.testing.assert_allclose(np_of(g3), [6.0, 6.0, 6.0])
    assert not g3.requires_grad


def test_backward_create_graph_leaves_differentiable_grad():
    x = leaf([2.0])
    (x ** 3).sum().backward(create_graph=True)
    grad = x.grad
    assert grad.requires_grad
    x.grad = None
    grad.sum().backward()
    np.testing.assert_allclose(np_of(x.grad), [12.0])


def test_without_create_graph_grad_has_no_history():
    x = leaf([2.0])
    (g,) = autograd.grad((x ** 3).sum(), x)
    assert not g.requires_grad and g.grad_fn is None


def test_mixed_partial_derivative():
    x, y = leaf([2.0]), leaf([3.0])
    f = (x * x * y).sum()
    (gx,) = autograd.grad(f, x, create_graph=True)  # 2xy
    (gxy,) = autograd.grad(gx.sum(), y)  # 2x
    np.testing.assert_allclose(np_of(gxy), [4.0])


# -- grad modes ------------------------------------------------------------------------------

def test_no_grad_context_and_nesting():
    x = leaf([1.0])
    with tm.no_grad():
        y = x * 2
        assert not tm.is_grad_enabled()
        with tm.enable_grad():
            z = x * 2
            assert tm.is_grad_enabled()
        assert not tm.is_grad_enabled()
    assert tm.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad


@pytest.mark.parametrize("decorate", [tm.no_grad, tm.no_grad()], ids=["bare", "called"])
def test_no_grad_decorator(decorate):
    @decorate
    def double(t):
        return t * 2

    assert not double(leaf([1.0])).requires_grad
    assert double.__name__ == "double"
    assert tm.is_grad_enabled()


@pytest.mark.parametrize("decorate", [tm.enable_grad, tm.enable_grad()], ids=["bare", "called"])
def test_enable_grad_decorator_inside_no_grad(decorate):
    @decorate
    def double(t):
        return t * 2

    with tm.no_grad():
        assert double(leaf([1.0])).requires_grad
        assert not tm.is_grad_enabled()


def test_set_grad_enabled_as_function_context_and_decorator():
    x = leaf([1.0])
    tm.set_grad_enabled(False)
    try:
        assert not (x * 2).requires_grad
    finally:
        tm.set_grad_enabled(True)
    with tm.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert tm.is_grad_enabled()

    @tm.set_grad_enabled(False)
    def f(t):
        return t * 2

    assert tm.is_grad_enabled()  # building the decorator does not switch the mode
    assert not f(x).requires_grad
    assert tm.is_grad_enabled()


def test_grad_mode_is_restored_after_exception():
    with pytest.raises(ValueError), tm.no_grad():
        raise ValueError
    assert tm.is_grad_enabled()


def test_inference_mode():
    x = leaf([1.0])
    with tm.inference_mode():
        assert tm.is_inference_mode_enabled() and not tm.is_grad_enabled()
        y = x * 2
    assert not y.requires_grad
    assert not tm.is_inference_mode_enabled() and tm.is_grad_enabled()
    with tm.inference_mode(False):
        assert tm.is_grad_enabled()
        assert (x * 2).requires_grad


@pytest.mark.parametrize("decorate", [tm.inference_mode, tm.inference_mode()],
                         ids=["bare", "called"])
def test_inference_mode_decorator(decorate):
    @decorate
    def f(t):
        assert tm.is_inference_mode_enabled()
        return t * 2

    assert not f(leaf([1.0])).requires_grad
    assert not tm.is_inference_mode_enabled()


def test_backward_restores_grad_mode():
    x = leaf([1.0])
    with tm.no_grad():
        pass
    (x * x).sum().backward(create_graph=True)
    assert tm.is_grad_enabled()
    with tm.no_grad():
        y = x * 3
    assert not y.requires_grad


# -- detach / requires_grad ------------------------------------------------------------------

def test_detach_shares_memory_and_version_but_not_history():
    x = leaf([1.0, 2.0])
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    d.add_(1)  # writes through to y
    np.testing.assert_allclose(np_of(y), [3.0, 5.0])
    assert y._version == d._version == 1


def test_detach_in_place():
    x = leaf([1.0])
    y = x * 2
    assert y.detach_() is y
    assert not y.requires_grad and y.grad_fn is None


def test_requires_grad_and_its_errors():
    t = tm.ones(2)
    assert t.requires_grad_() is t and t.requires_grad and t.is_leaf
    t.requires_grad_(False)
    assert not t.requires_grad
    y = leaf([1.0]) * 2
    with pytest.raises(RuntimeError, match="you can only change requires_grad flags of leaf "
                                           "variables"):
        y.requires_grad_(False)
    with pytest.raises(RuntimeError, match="only Tensors of floating point and complex dtype "
                                           "can require gradients"):
        tm.tensor([1, 2]).requires_grad_()


def test_results_require_grad_only_when_an_input_does():
    x, c = leaf([1.0]), tm.tensor([2.0], dtype=tm.float64)
    assert (x * c).requires_grad and not (c * c).requires_grad
    assert (x * c).grad_fn is not None and (c * c).grad_fn is None
    assert x.is_leaf and not (x * c).is_leaf


# -- retain_grad -----------------------------------------------------------------------------

def test_retain_grad_on_non_leaf():
    x = leaf([1.0, 2.0])
    y = x * 3
    y.retain_grad()
    assert y.retains_grad
    (y * y).sum().backward()
    np.testing.assert_allclose(np_of(y.grad), 2 * np.array([3.0, 6.0]))


def test_non_leaf_grad_access_warns():
    y = leaf([1.0]) * 2
    with pytest.warns(UserWarning, match="is not a leaf Tensor is being accessed"):
        assert y.grad is None


def test_retain_grad_errors_and_leaf_noop():
    with pytest.raises(RuntimeError, match="can't retain_grad on Tensor that has "
                                           "requires_grad=False"):
        tm.ones(1).retain_grad()
    x = leaf([1.0])
    x.retain_grad()  # a leaf keeps its grad anyway
    assert not x.retains_grad


# -- hooks -----------------------------------------------------------------------------------

def test_hook_on_leaf_modifies_accumulated_grad():
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: g * 10)
    (x * 2).sum().backward()
    np.testing.assert_allclose(np_of(x.grad), [20.0, 20.0])


def test_hook_on_non_leaf_changes_downstream_grad():
    x = leaf([1.0, 2.0])
    y = x * 2
    seen = []
    y.register_hook(lambda g: seen.append(np_of(g).copy()))
    y.register_hook(lambda g: g + 1)
    (y * 3).sum().backward()
    np.testing.assert_allclose(seen[0], [3.0, 3.0])
    np.testing.assert_allclose(np_of(x.grad), [8.0, 8.0])  # (3 + 1) * 2


def test_hook_handle_remove_and_context_manager():
    x = leaf([1.0])
    handle = x.register_hook(lambda g: g * 100)
    handle.remove()
    (x * 1).sum().backward()
    np.testing.assert_allclose(np_of(x.grad), [1.0])
    x.grad = None
    with x.register_hook(lambda g: g * 7):
        (x * 1).sum().backward()
    np.testing.assert_allclose(np_of(x.grad), [7.0])
    x.grad = None
    (x * 1).sum().backward()
    np.testing.assert_allclose(np_of(x.grad), [1.0])


def test_hook_sees_the_total_gradient_once():
    x = leaf([1.0])
    calls = []
    x.register_hook(lambda g: calls.append(float(g.sum())))
    (x * 2 + x * 3).sum().backward()
    assert calls == [5.0]


def test_hook_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't "
                                           "require gradient"):
        tm.ones(1).register_hook(lambda g: g)


def test_hook_also_applies_to_autograd_grad():
    x = leaf([1.0])
    y = x * 2
    y.register_hook(lambda g: g * 5)
    (gx,) = autograd.grad(y.sum(), x)
    np.testing.assert_allclose(np_of(gx), [10.0])


def test_node_hooks():
    x = leaf([1.0, 2.0])
    y = x * 3
    log = []
    y.grad_fn.register_prehook(lambda grads: log.append(("pre", np_of(grads[0]).tolist())))
    y.grad_fn.register_hook(lambda gin, gout: log.append(("post", np_of(gin[0]).tolist())))
    y.sum().backward()
    assert log == [("pre", [1.0, 1.0]), ("post", [3.0, 3.0])]


# -- autograd.grad / autograd.backward ------------------------------------------------------

def test_grad_returns_without_accumulating():
    x = leaf([1.0, 2.0])
    (g,) = autograd.grad((x * x).sum(), x)
    np.testing.assert_allclose(np_of(g), [2.0, 4.0])
    assert x.grad is None


def test_grad_single_tensor_and_sequence_inputs():
    x, y = leaf([1.0]), leaf([2.0])
    gx, gy = autograd.grad((x * y).sum(), [x, y])
    np.testing.assert_allclose([np_of(gx)[0], np_of(gy)[0]], [2.0, 1.0])
    out = autograd.grad((x * y).sum(), x)
    assert isinstance(out, tuple) and len(out) == 1


def test_grad_with_grad_outputs():
    x = leaf([1.0, 2.0])
    (g,) = autograd.grad(x * x, x, grad_outputs=tm.tensor([3.0, 5.0], dtype=tm.float64))
    np.testing.assert_allclose(np_of(g), [6.0, 20.0])


def test_grad_allow_unused_and_materialize_grads():
    x, unused = leaf([1.0]), leaf([2.0, 3.0])
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="The differentiated Tensor at index 1 appears to "
                                           "not have been used in the graph. Set "
                                           "allow_unused=True"):
        autograd.grad(y, [x, unused], retain_graph=True)
    gx, gu = autograd.grad(y, [x, unused], allow_unused=True, retain_graph=True)
    assert gu is None
    gx, gu = autograd.grad(y, [x, unused], materialize_grads=True)
    np.testing.assert_allclose(np_of(gu), [0.0, 0.0])
    with pytest.raises(ValueError, match="Expected allow_unused to be True or not passed when "
                                         "materialize_grads=True"):
        autograd.grad((x * 2).sum(), x, allow_unused=False, materialize_grads=True)


def test_grad_input_that_does_not_require_grad():
    x = leaf([1.0])
    with pytest.raises(RuntimeError, match="One of the differentiated Tensors does not require "
                                           "grad"):
        autograd.grad((x * 2).sum(), [x, tm.ones(1)])


class _CountingIdentity(Function):
    """Identity whose backward counts its calls (to see which branches run)."""

    calls = 0

    @staticmethod
    def forward(ctx, t):
        return t.clone()

    @staticmethod
    def backward(ctx, grad):
        _CountingIdentity.calls += 1
        return grad


def test_grad_runs_only_the_branches_it_needs():
    x, w = leaf([1.0]), leaf([2.0])
    _CountingIdentity.calls = 0
    y = x * 3 + _CountingIdentity.apply(w) * 4
    (gx,) = autograd.grad(y.sum(), x, retain_graph=True)
    np.testing.assert_allclose(np_of(gx), [3.0])
    assert _CountingIdentity.calls == 0
    autograd.grad(y.sum(), w)
    assert _CountingIdentity.calls == 1


def test_backward_inputs_limits_accumulation():
    x, w = leaf([1.0]), leaf([2.0])
    y = x * w
    autograd.backward(y.sum(), inputs=[x])
    np.testing.assert_allclose(np_of(x.grad), [2.0])
    assert w.grad is None
    y2 = x * w
    y2.sum().backward(inputs=w)
    np.testing.assert_allclose(np_of(w.grad), [1.0])


def test_backward_inputs_non_leaf_gets_grad():
    x = leaf([1.0, 2.0])
    h = x * 2
    (h * h).sum().backward(inputs=[h])
    np.testing.assert_allclose(np_of(h.grad), [4.0, 8.0])
    assert x.grad is None


def test_backward_inputs_empty_raises():
    with pytest.raises(RuntimeError, match="'inputs' argument to backward\\(\\) cannot be "
                                           "empty"):
        (leaf([1.0]) * 2).sum().backward(inputs=[])


def test_backward_multiple_roots():
    x = leaf([1.0, 2.0])
    autograd.backward([(x * 2).sum(), x * x], [None, tm.ones(2, dtype=tm.float64)])
    np.testing.assert_allclose(np_of(x.grad), [2 + 2, 2 + 4])


# -- in-place and version counters ----------------------------------------------------------

def test_version_counter_increments_on_in_place_ops():
    t = tm.zeros(3)
    assert t._version == 0
    t.add_(1)
    t.mul_(2)
    assert t._version == 2
    assert t.detach()._version == 2


def test_modified_saved_tensor_raises():
    x = leaf([1.0, 2.0])
    b = x * 1
    c = b * b  # saves b at version 0
    b.add_(1)
    with pytest.raises(RuntimeError, match=r"one of the variables needed for gradient "
                                           r"computation has been modified by an inplace "
                                           r"operation: \[taimatsu.DoubleTensor \[2\]\], which "
                                           r"is output 0 of .*, is at version 1; expected "
                                           r"version 0 instead"):
        c.sum().backward()


def test_in_place_on_unsaved_tensor_is_fine():
    x = leaf([1.0, 2.0])
    y = x * 2 + 1  # nothing saves y: its backward needs no values
    y.mul_(3)
    y.sum().backward()
    np.testing.assert_allclose(np_of(x.grad), [6.0, 6.0])
    assert y.grad_fn.name() == "MulBackward0"


def test_leaf_in_place_raises_and_no_grad_allows_it():
    x = leaf([1.0])
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used "
                                           "in an in-place operation."):
        x.add_(1)
    with tm.no_grad():
        x.add_(1)
    np.testing.assert_allclose(np_of(x), [2.0])


# -- anomaly mode ----------------------------------------------------------------------------

# d/dx sqrt(x) at 0 is inf and the incoming gradient is 0: 0 * inf = nan in the op's backward
NAN_MAKERS = {"SqrtBackward0": lambda x: x.sqrt() * 0, "PowBackward0": lambda x: (x ** 0.5) * 0}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy's own inf/nan warnings
@pytest.mark.parametrize("node_name", sorted(NAN_MAKERS))
def test_detect_anomaly_names_the_op_that_made_nan(node_name):
    x = leaf([0.0, 1.0])
    with autograd.detect_anomaly():
        assert autograd.is_anomaly_enabled()
        y = NAN_MAKERS[node_name](x)
        with pytest.warns(UserWarning, match=f"Error detected in {node_name}"), \
                pytest.raises(RuntimeError, match=f"Function '{node_name}' returned nan values "
                                                  "in its 0th output."):
            y.sum().backward()
    assert not autograd.is_anomaly_enabled()


def test_without_anomaly_mode_nan_grads_pass_silently():
    x = leaf([0.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ((x ** 0.5) * 0).sum().backward()
    assert np.isnan(np_of(x.grad)[0])


def test_set_detect_anomaly_function_and_context():
    with autograd.set_detect_anomaly(True):
        assert autograd.is_anomaly_enabled()
    assert not autograd.is_anomaly_enabled()


def test_detect_anomaly_in_custom_function():
    class MakesNan(Function):
        @staticmethod
        def forward(ctx, t):
            return t * 1

        @staticmethod
        def backward(ctx, grad):
            return grad * float("nan")

    x = leaf([1.0])
    with autograd.detect_anomaly(), pytest.warns(UserWarning), \
            pytest.raises(RuntimeError, match="Function 'MakesNanBackward' returned nan"):
        MakesNan.apply(x).sum().backward()


# -- the engine does not recurse --------------------------------------------------------------

def test_long_chain_backpropagates_without_recursion():
    x = tm.ones(1, dtype=tm.float64, requires_grad=True)
    y = x
    n = 100_000
    start = time.perf_counter()
    for _ in range(n):
        y = y * 1.0001
    y.sum().backward()
    elapsed = time.perf_counter() - start
    np.testing.assert_allclose(np_of(x.grad), [1.0001 ** n], rtol=1e-3)
    assert elapsed < 30, f"100,000-node chain took {elapsed:.1f}s"  # ~1 s normally


def test_wide_fan_in_accumulates():
    x = leaf([1.0])
    total = x * 0
    for i in range(1000):
        total = total + x * i
    total.sum().backward()
    np.testing.assert_allclose(np_of(x.grad), [sum(range(1000))])


def test_inference_tensors_stay_out_of_autograd():
    import taimatsu as tm
    with tm.inference_mode():
        x = tm.ones(3)
    assert x.is_inference() and not tm.ones(1).is_inference()
    w = tm.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="Inference tensors cannot be saved for backward"):
        w * x
    with pytest.raises(RuntimeError, match="Inplace update to inference tensor outside "
                       "InferenceMode is not allowed"):
        x.add_(1)
    y = x.clone()
    assert not y.is_inference()
    (w * y).sum().backward()
    assert w.grad.tolist() == [1.0, 1.0, 1.0]
