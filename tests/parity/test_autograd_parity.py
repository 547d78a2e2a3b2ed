"""Autograd against PyTorch: the same computation in both gives the same gradients,
node names, hook calls, second derivatives and autograd.functional results.

Every computation is written once as `fn(lib, *tensors)` and run with lib = torch and
lib = taimatsu on the same float64 data.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import taimatsu  # noqa: E402

pytestmark = pytest.mark.parity

RNG = np.random.default_rng(0)


def data(*shape):
    return RNG.uniform(0.5, 1.5, size=shape)


def leaves(lib, arrays):
    return [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]


def to_np(t):
    return None if t is None else np.asarray(t.detach().cpu().numpy())


def grads_of(lib, fn, arrays, create_graph=False):
    xs = leaves(lib, arrays)
    out = fn(lib, *xs)
    gs = lib.autograd.grad(out, xs, allow_unused=True, create_graph=create_graph)
    return xs, out, gs


# -- first-order gradients -----------------------------------------------------------------

COMPUTATIONS = {
    "polynomial": (lambda lib, x, y: (3 * x ** 2 * y - x / (y + 1) + 2).sum(), [(3,), (3,)]),
    "broadcast": (lambda lib, x, y: (x * y - y).mean(), [(2, 3), (3,)]),
    "matmul_chain": (lambda lib, a, b: (lib.matmul(a, b) ** 2).sum(), [(2, 3), (3, 4)]),
    "reuse": (lambda lib, x: ((x * x) * (x * x) + x).sum(), [(4,)]),
    "reductions": (lambda lib, x: x.sum(0).mean() * x.sum(dim=1, keepdim=True).sum(),
                   [(3, 4)]),
    "reshape_transpose": (lambda lib, x: (x.reshape(3, 2).t() * x.reshape(2, 3)).sum(),
                          [(6,)]),
    "indexing": (lambda lib, x: (x[0] * x[1:].sum(0) + x[:, 1].sum()).sum(), [(3, 2)]),
    "division_and_pow": (lambda lib, x, y: (x ** y / (x + y) ** 0.5).sum(), [(3,), (3,)]),
    "neg_sub_rsub": (lambda lib, x: (-x - (1 - x) * 2).sum(), [(3,)]),
    "unused_input": (lambda lib, x, y: (x * 2).sum(), [(2,), (2,)]),
}


@pytest.mark.parametrize("name", sorted(COMPUTATIONS))
def test_first_order_gradients(name):
    fn, shapes = COMPUTATIONS[name]
    arrays = [data(*s) for s in shapes]
    _, t_out, t_grads = grads_of(torch, fn, arrays)
    _, m_out, m_grads = grads_of(taimatsu, fn, arrays)
    np.testing.assert_allclose(to_np(m_out), to_np(t_out), rtol=1e-12)
    for tg, mg in zip(t_grads, m_grads):
        if tg is None:
            assert mg is None
        else:
            np.testing.assert_allclose(to_np(mg), to_np(tg), rtol=1e-12, atol=1e-14)


def test_backward_with_gradient_and_accumulation():
    arrays, v = [data(2, 3)], data(2, 3)
    grads = []
    for lib in (torch, taimatsu):
        (x,) = leaves(lib, arrays)
        y = x * x * 3
        y.backward(lib.tensor(v, dtype=lib.float64), retain_graph=True)
        y.backward(lib.tensor(v, dtype=lib.float64))
        grads.append(to_np(x.grad))
    np.testing.assert_allclose(grads[1], grads[0])


def test_tutorial_number():
    results = []
    for lib in (torch, taimatsu):
        x = lib.ones(2, 2, requires_grad=True)
        (3 * (x + 2) ** 2).mean().backward()
        results.append(to_np(x.grad))
    np.testing.assert_array_equal(results[1], results[0])


# -- node names ----------------------------------------------------------------------------

NODE_CASES = {
    "add": lambda lib, x, y: x + y,
    "add_scalar": lambda lib, x, y: x + 2,
    "sub": lambda lib, x, y: x - y,
    "rsub": lambda lib, x, y: 1 - x,
    "mul": lambda lib, x, y: x * y,
    "div": lambda lib, x, y: x / y,
    "neg": lambda lib, x, y: -x,
    "pow_scalar": lambda lib, x, y: x ** 2,
    "pow_tensor": lambda lib, x, y: x ** y,
    "rpow": lambda lib, x, y: 2 ** x,
    "sum": lambda lib, x, y: x.sum(),
    "sum_dim": lambda lib, x, y: x.sum(0),
    "mean": lambda lib, x, y: x.mean(),
    "mean_dim": lambda lib, x, y: x.mean(1),
    "matmul_2d": lambda lib, x, y: lib.matmul(x, y.t()),
    "matmul_1d": lambda lib, x, y: lib.matmul(x[0], y[0]),
    "mm": lambda lib, x, y: lib.mm(x, y.t()),
    "t": lambda lib, x, y: x.t(),
    "transpose": lambda lib, x, y: x.transpose(0, 1),
    "reshape": lambda lib, x, y: x.reshape(6),
    "view": lambda lib, x, y: x.view(3, 2),
    "unsqueeze": lambda lib, x, y: x.unsqueeze(0),
    "select": lambda lib, x, y: x[0],
    "slice": lambda lib, x, y: x[:, 1:],
    "clone": lambda lib, x, y: x.clone(),
    "to_float32": lambda lib, x, y: x.to(lib.float32),
    "cat": lambda lib, x, y: lib.cat([x, y]),
    "stack": lambda lib, x, y: lib.stack([x, y]),
    "in_place_mul": lambda lib, x, y: (x * 1).mul_(2),
}


@pytest.mark.parametrize("name", sorted(NODE_CASES))
def test_grad_fn_names(name):
    fn = NODE_CASES[name]
    arrays = [data(2, 3), data(2, 3)]
    names = [fn(lib, *leaves(lib, arrays)).grad_fn.name() for lib in (torch, taimatsu)]
    assert names[1] == names[0]


def _node_name(fn):
    # torch spells its C++ leaf node "torch::autograd::AccumulateGrad"; compare the class part
    return None if fn is None else fn.name().rsplit("::", 1)[-1]


def test_next_functions_structure():
    structures = []
    for lib in (torch, taimatsu):
        x, y = leaves(lib, [data(2), data(2)])
        z = (x * y) + x
        node = z.grad_fn
        structures.append([(_node_name(fn), nr) for fn, nr in node.next_functions]
                          + [[(_node_name(f), nr)
                              for f, nr in node.next_functions[0][0].next_functions]])
        assert node.next_functions[1][0].variable is x
    assert structures[1] == structures[0]


# -- hooks ---------------------------------------------------------------------------------

def hook_trace(lib):
    """Runs one backward with hooks everywhere; returns what they saw, in order."""
    log = []
    x, w = leaves(lib, [np.array([1.0, 2.0]), np.array([3.0, -1.0])])
    h = x * w
    h.retain_grad()
    h.register_hook(lambda g: log.append(("h", to_np(g).tolist())))
    h.register_hook(lambda g: g * 2)
    h.register_hook(lambda g: log.append(("h_after_double", to_np(g).tolist())))
    handle = w.register_hook(lambda g: log.append(("removed", None)))
    handle.remove()
    x.register_hook(lambda g: log.append(("x", to_np(g).tolist())))
    x.register_hook(lambda g: g + 100)
    out = (h * h).sum() + x.sum()
    out.backward()
    log.append(("x.grad", to_np(x.grad).tolist()))
    log.append(("w.grad", to_np(w.grad).tolist()))
    log.append(("h.grad", to_np(h.grad).tolist()))
    return log


def test_hook_behaviour_matches():
    assert hook_trace(taimatsu) == hook_trace(torch)


def test_hooks_see_accumulated_gradient_once():
    logs = []
    for lib in (torch, taimatsu):
        log = []
        (x,) = leaves(lib, [np.array([1.0, 2.0])])
        y = x * 2
        y.register_hook(lambda g, log=log: log.append(to_np(g).tolist()))
        (y * 3 + y * 4).sum().backward()
        logs.append(log)
    assert logs[1] == logs[0]


# -- anomaly mode --------------------------------------------------------------------------

@pytest.mark.filterwarnings("ignore")  # anomaly-mode and numpy inf/nan warnings
@pytest.mark.parametrize("make_nan", [lambda x: x.sqrt() * 0, lambda x: (x ** 0.5) * 0,
                                      lambda x: (x * 0) / (x * 0 + 0) * 0],
                         ids=["sqrt", "pow", "div"])
def test_anomaly_names_the_same_node(make_nan):
    messages = []
    for lib in (torch, taimatsu):
        (x,) = leaves(lib, [np.array([0.0, 1.0])])
        with lib.autograd.detect_anomaly():
            y = make_nan(x)
            with pytest.raises(RuntimeError) as info:
                y.sum().backward()
        messages.append(str(info.value))
    assert messages[1] == messages[0]


# -- second derivatives -----------------------------------------------------------------

SECOND_ORDER = {
    "cube": (lambda lib, x: (x ** 3).sum(), [(3,)]),
    "product": (lambda lib, x, y: (x * x * y + y ** 3 / x).sum(), [(3,), (3,)]),
    "matmul": (lambda lib, a, b: (lib.matmul(a, b) ** 2).sum(), [(2, 3), (3, 2)]),
    "mean_pow": (lambda lib, x: ((x - x.mean()) ** 2).mean(), [(5,)]),
}


@pytest.mark.parametrize("name", sorted(SECOND_ORDER))
def test_second_derivatives(name):
    fn, shapes = SECOND_ORDER[name]
    arrays = [data(*s) for s in shapes]
    v = [data(*s) for s in shapes]
    results = []
    for lib in (torch, taimatsu):
        xs, _, gs = grads_of(lib, fn, arrays, create_graph=True)
        # d/dxs of <grad, v>: a Hessian-vector product
        inner = sum((g * lib.tensor(vi, dtype=lib.float64)).sum() for g, vi in zip(gs, v))
        hv = lib.autograd.grad(inner, xs, allow_unused=True)
        results.append([to_np(g) for g in gs] + [to_np(h) for h in hv])
    for mine, ref in zip(results[1], results[0]):
        np.testing.assert_allclose(mine, ref, rtol=1e-11, atol=1e-13)


def test_backward_create_graph_then_backward_again():
    results = []
    for lib in (torch, taimatsu):
        (x,) = leaves(lib, [np.array([0.5, 2.0])])
        (x ** 4).sum().backward(create_graph=True)
        g = x.grad
        x.grad = None
        g.sum().backward()
        results.append((to_np(g), to_np(x.grad)))
    for mine, ref in zip(results[1], results[0]):
        np.testing.assert_allclose(mine, ref)


# -- custom Functions --------------------------------------------------------------------

def make_square_function(lib):
    class Square(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale):
            ctx.save_for_backward(x)
            ctx.scale = scale
            return x * x * scale

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * x * grad * ctx.scale, None

    return Square


def test_custom_function_grads_names_and_double_backward():
    results = []
    for lib in (torch, taimatsu):
        square = make_square_function(lib)
        (x,) = leaves(lib, [np.array([1.0, -2.0, 3.0])])
        y = square.apply(x, 0.5)
        (g,) = lib.autograd.grad((y ** 2).sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), x)
        results.append((y.grad_fn.name(), to_np(y), to_np(g), to_np(gg)))
    assert results[1][0] == results[0][0]
    for mine, ref in zip(results[1][1:], results[0][1:]):
        np.testing.assert_allclose(mine, ref)


def test_custom_function_materialized_and_non_differentiable_outputs():
    results = []
    for lib in (torch, taimatsu):
        seen = []

        class Split(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                half = x * 0.5
                ctx.mark_non_differentiable(half)
                return x * 2, half

            @staticmethod
            def backward(ctx, g, g_half, seen=seen):
                seen.append(to_np(g_half).tolist())
                return g * 2

        (x,) = leaves(lib, [np.array([1.0, 2.0])])
        a, b = Split.apply(x)
        a.sum().backward()
        results.append((b.requires_grad, seen, to_np(x.grad).tolist()))
    assert results[1] == results[0]


# -- autograd.functional -----------------------------------------------------------------

def _func(lib, x, y):
    return (x * y ** 2).sum(0), x.sum() * y


FUNCTIONAL_SHAPES = [(2, 3), (3,)]


def _functional_results(lib):
    F = lib.autograd.functional
    x, y = (lib.tensor(a, dtype=lib.float64) for a in FUNCTIONAL_ARRAYS)
    v_out = tuple(lib.tensor(a, dtype=lib.float64) for a in V_OUT)
    v_in = tuple(lib.tensor(a, dtype=lib.float64) for a in V_IN)

    def scalar(a, b):
        return (a ** 2 * b).sum() + (b ** 3).sum()

    return {
        "jacobian": F.jacobian(lambda a, b: _func(lib, a, b), (x, y)),
        "jacobian_single": F.jacobian(lambda a: (a ** 3).sum(0), x),
        "hessian": F.hessian(scalar, (x, y)),
        "vjp": F.vjp(lambda a, b: _func(lib, a, b), (x, y), v_out),
        "jvp": F.jvp(lambda a, b: _func(lib, a, b), (x, y), v_in),
        "vhp": F.vhp(scalar, (x, y), v_in),
        "hvp": F.hvp(scalar, (x, y), v_in),
    }


FUNCTIONAL_ARRAYS = [data(2, 3), data(3)]
V_OUT = [data(3), data(3)]
V_IN = [data(2, 3), data(3)]


def _flatten(obj):
    if isinstance(obj, tuple):
        out = []
        for o in obj:
            out.extend(_flatten(o))
        return out
    return [obj]


def _nesting(obj):
    return [_nesting(o) for o in obj] if isinstance(obj, tuple) else tuple(obj.shape)


@pytest.mark.parametrize("name", ["jacobian", "jacobian_single", "hessian", "vjp", "jvp",
                                  "vhp", "hvp"])
def test_functional_matches(name):
    ref = _functional_results(torch)[name]
    mine = _functional_results(taimatsu)[name]
    assert _nesting(mine) == _nesting(ref)
    for m, r in zip(_flatten(mine), _flatten(ref)):
        np.testing.assert_allclose(to_np(m), to_np(r), rtol=1e-11, atol=1e-13)
