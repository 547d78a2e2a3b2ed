"""taimatsu.utils.checkpoint: gradients equal to the plain computation, both variants."""

import contextlib
import warnings

import pytest

import taimatsu as tm
from taimatsu import autograd, nn
from taimatsu.autograd import Function
from taimatsu.utils.checkpoint import (
    CheckpointError,
    CheckpointFunction,
    check_backward_validity,
    checkpoint,
    checkpoint_sequential,
    detach_variable,
    noop_context_fn,
    set_checkpoint_debug_enabled,
    set_checkpoint_early_stop,
)

VARIANTS = pytest.mark.parametrize("reentrant", [True, False], ids=["reentrant", "nonreentrant"])


def mlp(seed=0, dropout=0.0):
    tm.manual_seed(seed)
    layers = [nn.Linear(4, 8), nn.Tanh()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers += [nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 3)]
    return nn.Sequential(*layers).double()


def grads_of(run, model, *inputs, seed=1):
    """Runs `run()` from a fixed RNG state, backpropagates its sum; input and param grads."""
    for t in list(model.parameters()) + list(inputs):
        t.grad = None
    tm.manual_seed(seed)
    out = run()
    out.sum().backward()
    return out.detach(), [None if t.grad is None else t.grad.clone()
                          for t in list(inputs) + list(model.parameters())]


def assert_same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        if x is None or y is None:
            assert x is None and y is None
        else:
            tm.testing.assert_close(x, y, rtol=0, atol=1e-12)


# -- gradients equal the plain computation ---------------------------------------------------

@VARIANTS
def test_mlp_block_gradients(reentrant):
    model = mlp()
    x = tm.randn(5, 4, dtype=tm.float64, requires_grad=True)
    ref_out, ref = grads_of(lambda: model(x), model, x)
    out, got = grads_of(lambda: checkpoint(model, x, use_reentrant=reentrant), model, x)
    tm.testing.assert_close(out, ref_out)
    assert_same(ref, got)


@VARIANTS
def test_dropout_replays_rng_state(reentrant):
    model = mlp(dropout=0.5)
    x = tm.randn(16, 4, dtype=tm.float64, requires_grad=True)
    _, ref = grads_of(lambda: model(x), model, x)
    _, got = grads_of(lambda: checkpoint(model, x, use_reentrant=reentrant), model, x)
    assert_same(ref, got)
    # The forward consumed the RNG as the plain forward does; backward put it back.
    tm.manual_seed(1)
    model(x)
    expected = tm.rand(3)
    tm.manual_seed(1)
    out = checkpoint(model, x, use_reentrant=reentrant)
    after_forward = tm.get_rng_state()
    out.sum().backward()
    assert tm.equal(tm.get_rng_state(), after_forward)
    tm.testing.assert_close(tm.rand(3), expected)


@VARIANTS
def test_without_preserve_rng_state_masks_differ(reentrant):
    model = mlp(dropout=0.5)
    x = tm.randn(16, 4, dtype=tm.float64, requires_grad=True)
    _, ref = grads_of(lambda: model(x), model, x)
    _, got = grads_of(lambda: checkpoint(model, x, use_reentrant=reentrant,
                                         preserve_rng_state=False), model, x)
    assert not all(tm.allclose(a, b) for a, b in zip(ref, got))


@VARIANTS
def test_checkpoint_sequential_segments(reentrant):
    model = mlp(dropout=0.3)
    x = tm.randn(6, 4, dtype=tm.float64, requires_grad=True)
    _, ref = grads_of(lambda: model(x), model, x)
    for segments in (1, 2, 3, len(model)):
        out, got = grads_of(lambda n=segments: checkpoint_sequential(
            model, n, x, use_reentrant=reentrant), model, x)
        assert_same(ref, got)
    # a plain list of modules works as well
    _, got = grads_of(lambda: checkpoint_sequential(list(model), 2, x, use_reentrant=reentrant),
                      model, x)
    assert_same(ref, got)


def test_checkpoint_sequential_checkpoints_all_but_last_segment():
    model = mlp()
    x = tm.randn(2, 4, dtype=tm.float64, requires_grad=True)
    out = checkpoint_sequential(model, 2, x, use_reentrant=True)
    assert out.grad_fn.name() == "AddmmBackward0"  # the last segment runs plainly
    out = checkpoint_sequential(model, len(model), x, use_reentrant=True)
    assert out.grad_fn.name() == "AddmmBackward0"
    with pytest.raises(ValueError, match="must not be zero"):
        checkpoint_sequential(model, len(model) + 1, x, use_reentrant=False)


# -- non-reentrant features --------------------------------------------------------------

def test_input_not_requiring_grad_still_trains_parameters():
    model = mlp()
    x = tm.randn(5, 4, dtype=tm.float64)
    _, ref = grads_of(lambda: model(x), model, x)
    out, got = grads_of(lambda: checkpoint(model, x, use_reentrant=False), model, x)
    assert got[0] is None
    assert_same(ref, got)
    assert out is not None


def test_reentrant_input_not_requiring_grad_warns_and_gives_no_gradients():
    model = mlp()
    x = tm.randn(5, 4, dtype=tm.float64)
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        out = checkpoint(model, x, use_reentrant=True)
    assert not out.requires_grad


def test_kwargs_and_nested_inputs():
    w = tm.randn(3, 3, dtype=tm.float64, requires_grad=True)
    x = tm.randn(2, 3, dtype=tm.float64, requires_grad=True)
    b = tm.randn(3, dtype=tm.float64, requires_grad=True)

    def f(x, pair, *, bias, scale=1.0):
        return (x @ pair[0]).tanh() * scale + bias * pair[1]

    def run(fn):
        for t in (w, x, b):
            t.grad = None
        fn().sum().backward()
        return [w.grad.clone(), x.grad.clone(), b.grad.clone()]

    ref = run(lambda: f(x, [w, 2.0], bias=b, scale=3.0))
    got = run(lambda: checkpoint(f, x, [w, 2.0], bias=b, scale=3.0, use_reentrant=False))
    assert_same(ref, got)


def test_tuple_and_nested_outputs():
    w = tm.randn(3, 3, dtype=tm.float64, requires_grad=True)
    x = tm.randn(2, 3, dtype=tm.float64, requires_grad=True)

    def f(x):
        h = x @ w
        return h.sin(), {"cos": h.cos(), "n": 7, "idx": h.argmax(1)}, x

    a, d, same = checkpoint(f, x, use_reentrant=False)
    assert same is x  # an input returned as-is is the input itself, as in torch
    assert d["n"] == 7 and not d["idx"].requires_grad
    (a.sum() + 2 * d["cos"].sum() + same.sum()).backward()
    got = [x.grad.clone(), w.grad.clone()]
    x.grad = w.grad = None
    a, d, same = f(x)
    (a.sum() + 2 * d["cos"].sum() + same.sum()).backward()
    assert_same([x.grad, w.grad], got)


def test_only_some_outputs_used():
    x = tm.randn(4, dtype=tm.float64, requires_grad=True)
    a, b = checkpoint(lambda t: (t.exp(), t.sin()), x, use_reentrant=False)
    b.sum().backward()
    tm.testing.assert_close(x.grad, x.detach().cos())


def test_autograd_grad_and_backward_inputs():
    model = mlp()
    x = tm.randn(3, 4, dtype=tm.float64, requires_grad=True)
    ref = autograd.grad(model(x).sum(), [x, model[0].weight])
    got = autograd.grad(checkpoint(model, x, use_reentrant=False).sum(), [x, model[0].weight])
    assert_same(ref, got)
    assert model[0].weight.grad is None  # grad() accumulates nothing
    out = checkpoint(model, x, use_reentrant=False)
    out.sum().backward(inputs=[x])
    tm.testing.assert_close(x.grad, ref[0])
    assert model[0].weight.grad is None


def test_reentrant_refuses_grad_and_backward_inputs():
    x = tm.randn(3, dtype=tm.float64, requires_grad=True)
    msg = "When use_reentrant=True, taimatsu.utils.checkpoint is incompatible with .grad()"
    with pytest.raises(RuntimeError, match=msg):
        autograd.grad(checkpoint(tm.sin, x, use_reentrant=True).sum(), x)
    with pytest.raises(RuntimeError, match=msg):
        checkpoint(tm.sin, x, use_reentrant=True).sum().backward(inputs=[x])


def test_closure_over_non_leaf_and_shared_weight():
    """A tensor computed outside (from the same weight) is read inside: no double count,
    and the outer graph is not consumed by the inner backward."""
    w = tm.randn(3, 3, dtype=tm.float64, requires_grad=True)
    x = tm.randn(2, 3, dtype=tm.float64, requires_grad=True)

    def run(ck):
        w.grad = x.grad = None
        h = (x @ w).relu()
        g = (x * 2).exp()

        def inner(t):
            return (t @ w).sin() * g

        y = checkpoint(inner, h, use_reentrant=False) if ck else inner(h)
        (y.sum() + h.sum()).backward()
        return [w.grad.clone(), x.grad.clone()]

    assert_same(run(False), run(True))


@VARIANTS
@pytest.mark.filterwarnings("ignore:None of the inputs have requires_grad")  # as torch's
def test_nested_checkpoints(reentrant):
    model = mlp(dropout=0.25)
    x = tm.randn(6, 4, dtype=tm.float64, requires_grad=True)
    first, second = model[:3], model[3:]

    def outer(t):
        return checkpoint(second, checkpoint(first, t, use_reentrant=reentrant),
                          use_reentrant=reentrant)

    _, ref = grads_of(lambda: model(x), model, x)
    _, got = grads_of(lambda: checkpoint(outer, x, use_reentrant=reentrant), model, x)
    assert_same(ref, got)


def test_mixed_nesting():
    model = mlp()
    x = tm.randn(3, 4, dtype=tm.float64, requires_grad=True)
    _, ref = grads_of(lambda: model(x), model, x)
    run = lambda: checkpoint(lambda t: checkpoint(model, t, use_reentrant=True), x,  # noqa: E731
                             use_reentrant=False)
    _, got = grads_of(run, model, x)
    assert_same(ref, got)


@VARIANTS
def test_retain_graph_backward_twice(reentrant):
    model = mlp()
    x = tm.randn(3, 4, dtype=tm.float64, requires_grad=True)
    _, ref = grads_of(lambda: model(x), model, x)
    model.zero_grad()
    x.grad = None
    out = checkpoint(model, x, use_reentrant=reentrant)
    out.sum().backward(retain_graph=True)
    out.sum().backward()
    tm.testing.assert_close(x.grad, 2 * ref[0])
    tm.testing.assert_close(model[0].weight.grad, 2 * ref[1])


def test_double_backward():
    x = tm.randn(5, dtype=tm.float64, requires_grad=True)
    w = tm.randn(5, dtype=tm.float64, requires_grad=True)
    f = lambda t: (t * w).sin() ** 2  # noqa: E731
    ref = autograd.grad(autograd.grad(f(x).sum(), x, create_graph=True)[0].sum(), [x, w])
    g, = autograd.grad(checkpoint(f, x, use_reentrant=False).sum(), x, create_graph=True)
    got = autograd.grad(g.sum(), [x, w])
    assert_same(ref, got)


def test_gradcheck_nonreentrant():
    w = tm.randn(3, 2, dtype=tm.float64, requires_grad=True)
    x = tm.randn(4, 3, dtype=tm.float64, requires_grad=True)
    fn = lambda a, b: checkpoint(lambda u, v: (u @ v).tanh(), a, b, use_reentrant=False)  # noqa: E731
    assert autograd.gradcheck(fn, (x, w))
    assert autograd.gradgradcheck(fn, (x, w))


def test_custom_function_reading_a_parameter_directly():
    class Scale(Function):
        @staticmethod
        def forward(ctx, x, w):
            ctx.save_for_backward(x, w)
            return x * w

        @staticmethod
        def backward(ctx, g):
            x, w = ctx.saved_tensors
            return g * w, g * x

    w = tm.randn(3, dtype=tm.float64, requires_grad=True)
    x = tm.randn(3, dtype=tm.float64, requires_grad=True)
    f = lambda t: Scale.apply(t.sin(), w) * w  # noqa: E731
    ref = autograd.grad(f(x).sum(), [x, w])
    got = autograd.grad(checkpoint(f, x, use_reentrant=False).sum(), [x, w])
    assert_same(ref, got)


def test_no_grad_mode_runs_plainly():
    x = tm.randn(3, requires_grad=True)
    with tm.no_grad():
        out = checkpoint(tm.sin, x, use_reentrant=False)
    assert not out.requires_grad


def test_output_node_and_no_saved_activations():
    model = mlp()
    x = tm.randn(3, 4, dtype=tm.float64, requires_grad=True)
    out = checkpoint(model, x, use_reentrant=False)
    assert out.grad_fn.name() == "CheckpointBackward"
    # the node's inputs are x and the parameters, not intermediate activations
    nexts = [n for n, _ in out.grad_fn.next_functions]
    assert {n.name() for n in nexts} == {"AccumulateGrad"}
    assert len(nexts) == 1 + len(list(model.parameters()))
    out = checkpoint(model, x, use_reentrant=True)
    assert out.grad_fn.name() == "CheckpointFunctionBackward"


@VARIANTS
def test_input_modified_in_place_after_forward(reentrant):
    x = tm.randn(3, dtype=tm.float64, requires_grad=True).clone()
    out = checkpoint(tm.sin, x, use_reentrant=reentrant)
    with tm.no_grad():
        x.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


# -- options and errors ------------------------------------------------------------------

def test_use_reentrant_not_passed_warns_and_defaults_to_reentrant():
    x = tm.randn(3, requires_grad=True)
    with pytest.warns(UserWarning, match="the use_reentrant parameter should be passed "
                                         "explicitly"):
        out = checkpoint(tm.sin, x)
    assert out.grad_fn.name() == "CheckpointFunctionBackward"
    with pytest.warns(UserWarning, match="checkpoint_sequential: the use_reentrant parameter"):
        checkpoint_sequential([nn.ReLU(), nn.ReLU()], 2, x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        checkpoint(tm.sin, x, use_reentrant=False)
        checkpoint_sequential([nn.ReLU(), nn.ReLU()], 2, x, use_reentrant=True)


def test_reentrant_argument_errors():
    x = tm.randn(3, requires_grad=True)
    with pytest.raises(ValueError, match="^Unexpected keyword arguments: foo,bar$"):
        checkpoint(tm.sin, x, use_reentrant=True, foo=1, bar=2)
    with pytest.raises(ValueError, match="Passing `context_fn` or `debug` is only supported"):
        checkpoint(tm.sin, x, use_reentrant=True, debug=True)
    with pytest.raises(ValueError, match="Passing `context_fn` or `debug`"):
        checkpoint(tm.sin, x, use_reentrant=True, context_fn=noop_context_fn.__call__)
    with pytest.raises(ValueError, match="^Unexpected keyword arguments: foo$"):
        checkpoint_sequential([nn.ReLU()], 1, x, use_reentrant=False, foo=1)


def test_nonreentrant_argument_errors():
    x = tm.randn(3, requires_grad=True)
    with pytest.raises(ValueError, match=r"determinism_check should be one of \['default', "
                                         r"'none'\], but got x"):
        checkpoint(tm.sin, x, use_reentrant=False, determinism_check="x")
    ctx = lambda: (contextlib.nullcontext(), contextlib.nullcontext())  # noqa: E731
    with pytest.raises(ValueError, match="debug=True is incompatible with non-default "
                                         "context_fn"):
        checkpoint(tm.sin, x, use_reentrant=False, debug=True, context_fn=ctx)


def test_reentrant_no_output_requires_grad():
    x = tm.randn(3, requires_grad=True)
    out = checkpoint(lambda t: t.detach() * 2, x, use_reentrant=True)
    assert out.requires_grad
    with pytest.raises(RuntimeError, match="none of output has requires_grad=True"):
        out.sum().backward()


def test_context_fn_runs_around_both_passes():
    seen = []

    @contextlib.contextmanager
    def mark(label):
        seen.append((label, tm.is_grad_enabled()))
        yield

    x = tm.randn(3, requires_grad=True)
    out = checkpoint(tm.sin, x, use_reentrant=False,
                     context_fn=lambda: (mark("forward"), mark("recompute")))
    assert seen == [("forward", True)]
    out.sum().backward()
    assert seen == [("forward", True), ("recompute", True)]  # recomputation runs with grad


def test_context_fn_suppressing_an_exception():
    class Swallow:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return True

    x = tm.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="suppressed an exception raised during the "
                                           "checkpointed forward"):
        checkpoint(lambda t: 1 / 0, x, use_reentrant=False,
                   context_fn=lambda: (Swallow(), contextlib.nullcontext()))


def _flaky_function():
    calls = []

    def f(t):
        calls.append(1)
        return t[: len(calls) + 1].sin()  # the recomputation returns a longer tensor

    return f


def test_determinism_check():
    x = tm.randn(4, requires_grad=True)
    out = checkpoint(_flaky_function(), x, use_reentrant=False)
    with pytest.raises(CheckpointError, match="Recomputed values for the following tensors "
                                              "have different metadata"):
        out.sum().backward()
    # "none" skips the check (gradients then follow the recomputation's graph as far as
    # the shapes allow; here they do not, so the engine's own check fires)
    out = checkpoint(_flaky_function(), x, use_reentrant=False, determinism_check="none")
    with pytest.raises(RuntimeError) as info:
        out.sum().backward()
    assert not isinstance(info.value, CheckpointError)


def test_debug_reports_ops_of_both_passes():
    x = tm.randn(4, requires_grad=True)
    out = checkpoint(_flaky_function(), x, use_reentrant=False, debug=True)
    with pytest.raises(CheckpointError) as info:
        out.sum().backward()
    text = str(info.value)
    assert "Operations executed during the original forward" in text
    assert "Sin(" in text and "in recompute" in text and "test_checkpoint.py" in text
    with set_checkpoint_debug_enabled(True):
        out = checkpoint(_flaky_function(), x, use_reentrant=False)
    with pytest.raises(CheckpointError, match="dumping the logs"):
        out.sum().backward()
    with set_checkpoint_debug_enabled(False):
        out = checkpoint(_flaky_function(), x, use_reentrant=False, debug=True)
    with pytest.raises(CheckpointError, match="Tip: To see a more detailed error"):
        out.sum().backward()


def test_early_stop_is_accepted():
    x = tm.randn(3, dtype=tm.float64, requires_grad=True)
    with set_checkpoint_early_stop(False):
        out = checkpoint(tm.sin, x, use_reentrant=False, early_stop=False)
    out.sum().backward()
    tm.testing.assert_close(x.grad, x.detach().cos())


def test_helpers():
    x = tm.randn(2, requires_grad=True)
    d = detach_variable((x, 3))
    assert d[0].requires_grad and d[0].grad_fn is None and d[1] == 3
    with pytest.raises(RuntimeError, match="Only tuple of tensors is supported. Got "
                                           "Unsupported input type: list"):
        detach_variable([x])
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        check_backward_validity([x.detach(), 1])
    assert CheckpointFunction.apply(tm.sin, True, x).grad_fn.name() == \
        "CheckpointFunctionBackward"
    assert issubclass(CheckpointError, RuntimeError)
    import taimatsu.utils.checkpoint as ck
    assert tm.utils.checkpoint is ck


def test_observers_are_removed_after_errors():
    from taimatsu.autograd import node
    x = tm.randn(3, requires_grad=True)
    with pytest.raises(ZeroDivisionError):
        checkpoint(lambda t: 1 / 0, x, use_reentrant=False)
    assert node.apply_observers == []


@VARIANTS
def test_dropout_mask_replayed_on_device(device, reentrant):
    """The recomputation draws the forward's mask on each device (CUDA draws come from
    cupy.random): for out = dropout(x * w), d sum(out) / dw must equal out / w."""
    tm.manual_seed(3)
    x = tm.randn(512, dtype=tm.float64, device=device, requires_grad=True)
    w = (tm.rand(512, dtype=tm.float64, device=device) + 0.5).requires_grad_()
    f = lambda t: nn.functional.dropout(t * w, 0.5, training=True)  # noqa: E731
    out = checkpoint(f, x, use_reentrant=reentrant)
    out.sum().backward()
    tm.testing.assert_close(w.grad, out.detach() / w.detach())
    assert not tm.equal(out, checkpoint(f, x, use_reentrant=reentrant))  # fresh masks
    w.grad = None
    out = checkpoint(f, x, use_reentrant=reentrant, preserve_rng_state=False)
    out.sum().backward()
    assert not tm.allclose(w.grad, out.detach() / w.detach())
