"""autograd.Function: custom ops with forward/backward on Tensors, as torch.autograd.Function."""

import gc
import weakref

import numpy as np
import pytest

import taimatsu as tm
from taimatsu import autograd
from taimatsu.autograd import Function, once_differentiable
from taimatsu.autograd.function import BackwardCFunction, FunctionCtx


def leaf(values, dtype=tm.float64):
    return tm.tensor(values, dtype=dtype, requires_grad=True)


def np_of(t):
    return t.detach().numpy()


class Cube(Function):
    """x**3 written by hand; backward is made of differentiable ops."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 3 * x * x * grad


class MulConst(Function):
    """x * k with a Python number k: one gradient per input, None for k."""

    @staticmethod
    def forward(ctx, x, k):
        ctx.k = k
        return x * k

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.k, None


# -- forward / backward basics -----------------------------------------------------------

def test_apply_forward_and_backward():
    x = leaf([1.0, 2.0])
    y = Cube.apply(x)
    np.testing.assert_allclose(np_of(y), [1.0, 8.0])
    assert y.requires_grad and not y.is_leaf
    y.sum().backward()
    np.testing.assert_allclose(np_of(x.grad), [3.0, 12.0])


def test_node_name_and_class():
    y = Cube.apply(leaf([1.0]))
    assert y.grad_fn.name() == "CubeBackward"
    assert type(y.grad_fn).__name__ == "CubeBackward"
    assert isinstance(y.grad_fn, BackwardCFunction)
    assert y.grad_fn._forward_cls is Cube
    assert "grad_fn=<CubeBackward>" in repr(y)


def test_forward_runs_under_no_grad():
    seen = []

    class Probe(Function):
        @staticmethod
        def forward(ctx, x):
            seen.append(tm.is_grad_enabled())
            inner = x * 2
            seen.append(inner.requires_grad)
            return inner

        @staticmethod
        def backward(ctx, grad):
            seen.append(tm.is_grad_enabled())
            return grad * 2

    Probe.apply(leaf([1.0])).sum().backward()
    assert seen == [False, False, False]


def test_non_tensor_arguments_and_needs_input_grad():
    x, w = leaf([1.0]), tm.tensor([5.0], dtype=tm.float64)
    needs = []

    class Scale(Function):
        @staticmethod
        def forward(ctx, x, w, k):
            needs.append(ctx.needs_input_grad)
            return x * w * k

        @staticmethod
        def backward(ctx, grad):
            needs.append(ctx.needs_input_grad)
            return grad * 10, None, None

    y = Scale.apply(x, w, 3)
    y.sum().backward()
    assert needs == [(True, False, False)] * 2
    np.testing.assert_allclose(np_of(x.grad), [10.0])
    # one edge per Tensor input, as PyTorch lists them
    assert len(y.grad_fn.next_functions) == 2
    assert y.grad_fn.next_functions[1] == (None, 0)


def test_nothing_recorded_without_grad():
    x = tm.tensor([1.0, 2.0])
    y = Cube.apply(x)
    assert not y.requires_grad and y.grad_fn is None
    with tm.no_grad():
        y = Cube.apply(leaf([1.0]))
    assert not y.requires_grad and y.grad_fn is None


def test_keyword_arguments_reach_forward():
    class Shift(Function):
        @staticmethod
        def forward(ctx, x, offset=0.0):
            return x + offset

        @staticmethod
        def backward(ctx, grad):
            return grad

    x = leaf([1.0])
    np.testing.assert_allclose(np_of(Shift.apply(x, offset=2.0)), [3.0])
    np.testing.assert_allclose(np_of(Shift.apply(x)), [1.0])


def test_arbitrary_ctx_attributes_and_node_lookup():
    y = MulConst.apply(leaf([1.0, 2.0]), 4.0)
    assert y.grad_fn.k == 4.0  # the node reads attributes forward stored on the ctx
    y.sum().backward()


def test_ctx_may_use_names_the_engine_uses():
    class Named(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.fn = "user value"
            ctx.xp = None
            ctx.variable = 3
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            assert ctx.fn == "user value" and ctx.variable == 3
            return grad * 2

    x = leaf([1.0])
    Named.apply(x).sum().backward()
    np.testing.assert_allclose(np_of(x.grad), [2.0])


def test_vjp_may_replace_backward():
    class Double(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def vjp(ctx, grad):
            return grad * 2

    x = leaf([1.0])
    Double.apply(x).sum().backward()
    np.testing.assert_allclose(np_of(x.grad), [2.0])


# -- outputs -----------------------------------------------------------------------------

def test_multiple_outputs_and_non_tensor_outputs():
    class Split(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3, "label"

        @staticmethod
        def backward(ctx, g1, g2, g3):
            assert g3 is None
            return g1 * 2 + g2 * 3

    x = leaf([1.0])
    a, b, label = Split.apply(x)
    assert label == "label"
    assert a.grad_fn is b.grad_fn and a.output_nr == 0 and b.output_nr == 1
    (a + b).sum().backward()
    np.testing.assert_allclose(np_of(x.grad), [5.0])


def test_unused_outputs_get_zero_grads_by_default():
    received = []

    class Two(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            received.append(np_of(g2).tolist())
            return g1 * 2 + g2 * 3

    x = leaf([1.0, 1.0])
    Two.apply(x)[0].sum().backward()
    assert received == [[0.0, 0.0]]


def test_set_materialize_grads_false_passes_none():
    received = []

    class Two(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            received.append(g2)
            return g1 * 2 if g2 is None else g1 * 2 + g2 * 3

    x = leaf([1.0])
    Two.apply(x)[0].sum().backward()
    assert received == [None]
    np.testing.assert_allclose(np_of(x.grad), [2.0])


def test_mark_non_differentiable_and_integer_outputs():
    received = []

    class SortLike(Function):
        @staticmethod
        def forward(ctx, x):
            doubled = x * 2
            idx = tm.tensor([1, 0])
            flag = x * 0
            ctx.mark_non_differentiable(flag)
            return doubled, idx, flag

        @staticmethod
        def backward(ctx, g, g_idx, g_flag):
            received.append((g_idx.dtype, np_of(g_idx).tolist(), np_of(g_flag).tolist()))
            return g * 2

    x = leaf([1.0, 2.0])
    doubled, idx, flag = SortLike.apply(x)
    assert doubled.requires_grad
    assert not idx.requires_grad and not flag.requires_grad
    doubled.sum().backward()
    assert received == [(tm.int64, [0, 0], [0.0, 0.0])]


def test_input_returned_as_is_becomes_an_alias():
    class Identity(Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad * 3

    x = leaf([1.0, 2.0])
    y = Identity.apply(x)
    assert y is not x and y.grad_fn.name() == "IdentityBackward"
    assert y.data_ptr() == x.data_ptr()
    assert x.is_leaf and x.grad_fn is None
    y.sum().backward()
    np.testing.assert_allclose(np_of(x.grad), [3.0, 3.0])
    with tm.no_grad():
        z = Identity.apply(x)
    assert z is not x and not z.requires_grad and z.data_ptr() == x.data_ptr()


# -- save_for_backward -------------------------------------------------------------------

def test_saved_tensors_of_inputs_outputs_and_intermediates():
    class Exp2(Function):
        @staticmethod
        def forward(ctx, x):
            y = 2 ** x
            half = y * 0.5
            ctx.save_for_backward(x, y, half, None)
            return y

        @staticmethod
        def backward(ctx, grad):
            x, y, half, nothing = ctx.saved_tensors
            assert nothing is None
            return grad * y * float(np.log(2.0))

    x = leaf([0.0, 1.0, 3.0])
    y = Exp2.apply(x)
    saved = y.grad_fn.saved_tensors
    assert saved[0] is x
    np.testing.assert_allclose(np_of(saved[1]), [1.0, 2.0, 8.0])
    assert saved[1].grad_fn is y.grad_fn  # a saved output carries the node
    y.sum().backward()
    np.testing.assert_allclose(np_of(x.grad), np.log(2.0) * np.array([1.0, 2.0, 8.0]))


def test_save_for_backward_rejects_non_tensors():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x, 3)
            return x * 1

        @staticmethod
        def backward(ctx, grad):
            return grad

    with pytest.raises(TypeError, match="save_for_backward can only save variables, but "
                                        "argument 1 is of type int"):
        Bad.apply(leaf([1.0]))


def test_saved_tensors_are_freed_after_backward():
    x = leaf([1.0, 2.0])
    y = Cube.apply(x)
    node = y.grad_fn
    y.sum().backward()
    assert node._saved is None
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second "
                                           "time"):
        y.sum().backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second "
                                           "time"):
        _ = node.saved_tensors


def test_retain_graph_keeps_saved_tensors():
    x = leaf([1.0, 2.0])
    y = Cube.apply(x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(np_of(x.grad), [6.0, 24.0])


def test_node_is_freed_without_the_cycle_collector():
    class SavesOutput(Function):
        @staticmethod
        def forward(ctx, x):
            y = x * x
            ctx.save_for_backward(x, y)
            return y

        @staticmethod
        def backward(ctx, grad):
            x, y = ctx.saved_tensors
            return 2 * x * grad

    gc.disable()
    try:
        y = SavesOutput.apply(leaf([1.0, 2.0]))
        node = weakref.ref(y.grad_fn)
        del y
        assert node() is None  # no reference cycle keeps the saved arrays alive
    finally:
        gc.enable()


def test_saved_input_modified_in_place_raises():
    x = leaf([1.0, 2.0])
    b = x * 1
    y = Cube.apply(b)
    b.add_(1)
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation: "
                                           r"\[taimatsu.DoubleTensor \[2\]\], which is output "
                                           r"0 of .*, is at version 1; expected version 0"):
        y.sum().backward()


def test_saved_output_modified_in_place_raises():
    class SaveOut(Function):
        @staticmethod
        def forward(ctx, x):
            y = x * 2
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * 2

    y = SaveOut.apply(leaf([1.0]))
    y.add_(1)
    with pytest.raises(RuntimeError, match=r"which is output 0 of SaveOutBackward, is at "
                                           r"version 1; expected version 0"):
        y.sum().backward()


def test_grad_never_shares_memory_with_a_saved_tensor():
    class ReturnsSaved(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return x

    x = leaf([1.0, 2.0])
    ReturnsSaved.apply(x).sum().backward()
    assert x.grad.data_ptr() != x.data_ptr()
    x.grad.mul_(10)
    np.testing.assert_allclose(np_of(x), [1.0, 2.0])


# -- mark_dirty --------------------------------------------------------------------------

class AddOneInPlace(Function):
    @staticmethod
    def forward(ctx, x):
        x.add_(1)
        ctx.mark_dirty(x)
        return x

    @staticmethod
    def backward(ctx, grad):
        return grad * 5


def test_mark_dirty_input_takes_the_node():
    x = leaf([1.0, 2.0])
    b = x * 1
    out = AddOneInPlace.apply(b)
    assert out is b
    assert b.grad_fn.name() == "AddOneInPlaceBackward"
    assert b._version == 2  # the in-place add, then mark_dirty
    np.testing.assert_allclose(np_of(b), [2.0, 3.0])
    b.sum().backward()
    np.testing.assert_allclose(np_of(x.grad), [5.0, 5.0])


def test_mark_dirty_on_leaf_requiring_grad_raises():
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad has been used "
                                           "in an in-place operation."):
        AddOneInPlace.apply(leaf([1.0]))


def test_mark_dirty_tensor_must_be_returned():
    class Forgets(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.mark_dirty(x)
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad

    with pytest.raises(RuntimeError, match="Some elements marked as dirty during the forward "
                                           "method were not returned as output"):
        Forgets.apply(leaf([1.0]) * 1)


def test_mark_dirty_invalidates_earlier_saves():
    x = leaf([1.0, 2.0])
    b = x * 1
    c = b * b  # saves b
    AddOneInPlace.apply(b)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        c.sum().backward()


def test_mark_dirty_on_a_view_rewrites_the_base_history():
    class DoubleInPlace(Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    a = leaf([1.0, 1.0, 1.0])
    b = a.clone()
    view = b[1:]
    assert DoubleInPlace.apply(view) is view
    np.testing.assert_allclose(np_of(b), [1.0, 2.0, 2.0])
    assert b.grad_fn.name() == "CopySlices"
    b.sum().backward()
    np.testing.assert_allclose(np_of(a.grad), [1.0, 2.0, 2.0])
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad is "
                                           "being used in an in-place operation."):
        DoubleInPlace.apply(leaf([1.0, 2.0])[1:])


def test_mark_dirty_without_grad():
    b = tm.tensor([1.0])
    assert AddOneInPlace.apply(b) is b
    np.testing.assert_allclose(np_of(b), [2.0])


# -- create_graph and once_differentiable -----------------------------------------------

def test_double_backward_through_differentiable_backward():
    x = leaf([1.0, 2.0])
    (g,) = autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
    np.testing.assert_allclose(np_of(g), [3.0, 12.0])
    (g2,) = autograd.grad(g.sum(), x)
    np.testing.assert_allclose(np_of(g2), [6.0, 12.0])


def test_double_backward_through_a_saved_output():
    class Exp2(Function):
        @staticmethod
        def forward(ctx, x):
            y = 2 ** x
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y * float(np.log(2.0))

    x = leaf([0.0, 1.0, 2.0])
    (g,) = autograd.grad(Exp2.apply(x).sum(), x, create_graph=True)
    (g2,) = autograd.grad(g.sum(), x)  # the saved output differentiates through Exp2 again
    np.testing.assert_allclose(np_of(g2), np.log(2.0) ** 2 * 2 ** np.array([0.0, 1.0, 2.0]))


def test_backward_sees_grad_mode_of_create_graph():
    modes = []

    class Probe(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, grad):
            modes.append(tm.is_grad_enabled())
            return grad

    x = leaf([1.0])
    autograd.grad(Probe.apply(x).sum(), x)
    autograd.grad(Probe.apply(x).sum(), x, create_graph=True)
    assert modes == [False, True]


class CubeOnce(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        assert not tm.is_grad_enabled()
        return 3 * x * x * grad


def test_once_differentiable_first_order_is_correct():
    x = leaf([1.0, 2.0])
    CubeOnce.apply(x).sum().backward()
    np.testing.assert_allclose(np_of(x.grad), [3.0, 12.0])


def test_once_differentiable_refuses_to_be_differentiated_again():
    x = leaf([2.0])
    y = CubeOnce.apply(x) ** 2  # the incoming gradient depends on x
    (g,) = autograd.grad(y.sum(), x, create_graph=True)
    np.testing.assert_allclose(np_of(g), [2 * 8 * 12.0])
    assert g.requires_grad
    with pytest.raises(RuntimeError, match="trying to differentiate twice a function that was "
                                           "marked with @once_differentiable"):
        g.sum().backward()


def test_once_differentiable_with_constant_incoming_grad_has_no_graph():
    x = leaf([2.0])
    (g,) = autograd.grad(CubeOnce.apply(x).sum(), x, create_graph=True)
    assert not g.requires_grad


# -- setup_context style -----------------------------------------------------------------

class Hypot(Function):
    @staticmethod
    def forward(x, y, scale=1.0):
        return ((x * x + y * y) ** 0.5) * scale

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, y, scale = inputs
        ctx.save_for_backward(x, y, output)
        ctx.scale = scale

    @staticmethod
    def backward(ctx, grad):
        x, y, out = ctx.saved_tensors
        k = grad * ctx.scale * ctx.scale / out
        return k * x, k * y, None


def test_setup_context_style():
    x, y = leaf([3.0]), leaf([4.0])
    out = Hypot.apply(x, y, scale=2.0)
    np.testing.assert_allclose(np_of(out), [10.0])
    out.sum().backward()
    np.testing.assert_allclose(np_of(x.grad), [2 * 3 / 5])
    np.testing.assert_allclose(np_of(y.grad), [2 * 4 / 5])


def test_setup_context_defaults_are_bound():
    x, y = leaf([3.0]), leaf([4.0])
    out = Hypot.apply(x, y)  # scale defaults to 1.0 and is passed to setup_context
    out.sum().backward()
    np.testing.assert_allclose(np_of(x.grad), [3 / 5])


# -- what backward may return -----------------------------------------------------------

def _returns(value_fn):
    class Returns(Function):
        @staticmethod
        def forward(ctx, x, *rest):
            return x * 1

        @staticmethod
        def backward(ctx, grad):
            return value_fn(grad)

    return Returns


def test_wrong_number_of_gradients():
    fn = _returns(lambda g: (g, g))
    with pytest.raises(RuntimeError, match=r"function ReturnsBackward returned an incorrect "
                                           r"number of gradients \(expected 1, got 2\)"):
        fn.apply(leaf([1.0])).sum().backward()


def test_extra_trailing_nones_are_allowed():
    x = leaf([1.0])
    _returns(lambda g: (g, None, None)).apply(x).sum().backward()
    np.testing.assert_allclose(np_of(x.grad), [1.0])


def test_gradient_for_non_tensor_input_must_be_none():
    fn = _returns(lambda g: (g, g))
    with pytest.raises(RuntimeError, match="returned a gradient different than None at "
                                           "position 2, but the corresponding forward input "
                                           "was not a Variable"):
        fn.apply(leaf([1.0]), 3).sum().backward()


def test_gradient_must_be_a_tensor():
    fn = _returns(lambda g: 3)
    with pytest.raises(RuntimeError, match=r"expected Variable or None \(got int\)"):
        fn.apply(leaf([1.0])).sum().backward()


def test_gradient_of_wrong_shape():
    fn = _returns(lambda g: tm.ones(3, dtype=tm.float64))
    with pytest.raises(RuntimeError, match=r"Function ReturnsBackward returned an invalid "
                                           r"gradient at index 0 - got \[3\] but expected "
                                           r"shape compatible with \[2\]"):
        fn.apply(leaf([1.0, 2.0])).sum().backward()


def test_broadcast_gradient_is_summed_and_cast():
    fn = _returns(lambda g: tm.ones(3, 2, dtype=tm.float32))
    x = leaf([1.0, 2.0])
    fn.apply(x).sum().backward()
    np.testing.assert_allclose(np_of(x.grad), [3.0, 3.0])
    assert x.grad.dtype is tm.float64


def test_gradient_for_input_not_requiring_grad_is_ignored():
    class Both(Function):
        @staticmethod
        def forward(ctx, x, c):
            return x * c

        @staticmethod
        def backward(ctx, grad):
            return grad, tm.ones(7)  # the second is discarded: c needs no gradient

    x = leaf([1.0])
    Both.apply(x, tm.tensor([2.0], dtype=tm.float64)).sum().backward()
    np.testing.assert_allclose(np_of(x.grad), [1.0])


# -- hooks, anomaly and misuse -----------------------------------------------------------

def test_hooks_on_custom_node():
    x = leaf([1.0])
    y = MulConst.apply(x, 3.0)
    seen = []
    y.grad_fn.register_hook(lambda gin, gout: seen.append(np_of(gin[0]).tolist()))
    y.register_hook(lambda g: g * 2)
    y.sum().backward()
    assert seen == [[6.0]]
    np.testing.assert_allclose(np_of(x.grad), [6.0])


def test_custom_function_composes_with_ops():
    x = leaf([1.0, 2.0])
    y = MulConst.apply(Cube.apply(x * 2), 0.5) + x
    y.sum().backward()
    np.testing.assert_allclose(np_of(x.grad), 0.5 * 3 * (2 * np.array([1.0, 2.0])) ** 2 * 2 + 1)


def test_instantiating_and_calling_is_the_legacy_api():
    with pytest.raises(RuntimeError, match="Legacy autograd function with non-static forward "
                                           "method is deprecated"):
        Cube()(leaf([1.0]))


def test_missing_forward_or_backward():
    class NoForward(Function):
        pass

    class NoBackward(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

    with pytest.raises(NotImplementedError, match="You must implement the forward function"):
        NoForward.apply(leaf([1.0]))
    y = NoBackward.apply(leaf([1.0]))
    with pytest.raises(NotImplementedError, match="You must implement either the backward or "
                                                  "vjp method"):
        y.sum().backward()


def test_ctx_is_a_function_ctx():
    seen = []

    class Probe(Function):
        @staticmethod
        def forward(ctx, x):
            seen.append(isinstance(ctx, FunctionCtx))
            return x * 1

        @staticmethod
        def backward(ctx, grad):
            return grad

    Probe.apply(leaf([1.0]))
    assert seen == [True]
