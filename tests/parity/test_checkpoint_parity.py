"""taimatsu.utils.checkpoint against torch.utils.checkpoint: gradients, warnings, errors.

Each scenario is written once against a library module (`torch` or `taimatsu`) and
returns what a user can observe; torch's messages are compared with "torch" read as
"taimatsu". Dropout is left out of the gradient checks: the two RNG streams differ.
"""

import contextlib
import warnings

import numpy as np
import pytest

import taimatsu

torch = pytest.importorskip("torch")


def _run(lib, scenario):
    """(result, warnings, error) of scenario(lib), messages normalized to taimatsu's."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result, error = scenario(lib), None
        except Exception as e:  # noqa: BLE001 - the exception is what is compared
            result, error = None, (type(e).__name__, _norm(str(e)))
    messages = [(w.category.__name__, _norm(str(w.message))) for w in caught
                if "checkpoint" in str(w.message) or "requires_grad" in str(w.message)]
    return result, messages, error


def _norm(text):
    return text.replace("torch.", "taimatsu.")


def _same(scenario, compare_warning_text=True):
    ours = _run(taimatsu, scenario)
    theirs = _run(torch, scenario)
    assert ours[0] == theirs[0]
    assert ours[2] == theirs[2]
    if compare_warning_text:
        assert ours[1] == theirs[1]
    else:
        assert [c for c, _ in ours[1]] == [c for c, _ in theirs[1]]
    return ours


def _x(lib, requires_grad=True):
    return lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=requires_grad)


def _ck(lib):
    return lib.utils.checkpoint


# -- gradients -----------------------------------------------------------------------------

def _mlps(seed=0):
    torch.manual_seed(seed)
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 8),
                                 torch.nn.ReLU(), torch.nn.Linear(8, 3)).double()
    ours = taimatsu.nn.Sequential(taimatsu.nn.Linear(4, 8), taimatsu.nn.Tanh(),
                                  taimatsu.nn.Linear(8, 8), taimatsu.nn.ReLU(),
                                  taimatsu.nn.Linear(8, 3)).double()
    ours.load_state_dict({k: taimatsu.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    return ours, theirs


def _grads(lib, model, run, x):
    model.zero_grad()
    x.grad = None
    out = run()
    (out * out).sum().backward()
    return [out.detach().numpy(), x.grad.numpy()] + [p.grad.numpy() for p in model.parameters()]


@pytest.mark.parametrize("reentrant", [True, False])
@pytest.mark.parametrize("segments", [None, 1, 2, 5])
def test_gradients_match_torch(reentrant, segments):
    ours, theirs = _mlps()
    data = np.random.default_rng(0).standard_normal((6, 4))
    results = []
    for lib, model in ((taimatsu, ours), (torch, theirs)):
        x = lib.tensor(data, requires_grad=True)
        ck = _ck(lib)
        if segments is None:
            run = lambda ck=ck, m=model, x=x: ck.checkpoint(  # noqa: E731
                m, x, use_reentrant=reentrant)
        else:
            run = lambda ck=ck, m=model, x=x: ck.checkpoint_sequential(  # noqa: E731
                m, segments, x, use_reentrant=reentrant)
        results.append(_grads(lib, model, run, x))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_kwargs_nested_outputs_and_autograd_grad_match_torch():
    rng = np.random.default_rng(1)
    w_np, x_np, b_np = rng.standard_normal((3, 3)), rng.standard_normal((2, 3)), rng.standard_normal(3)

    def scenario(lib):
        w, x, b = (lib.tensor(a, requires_grad=True) for a in (w_np, x_np, b_np))

        def f(x, *, bias):
            h = (x @ w).tanh()
            return h * bias, {"n": 3, "cos": h.cos()}, x

        y, d, same = _ck(lib).checkpoint(f, x, bias=b, use_reentrant=False)
        loss = (y * y).sum() + d["cos"].sum() + same.sum()
        grads = lib.autograd.grad(loss, [w, x, b])
        return (same is x, d["n"], y.requires_grad, d["cos"].requires_grad,
                [g.numpy().round(12).tolist() for g in grads])

    _same(scenario)


# -- flags, warnings and errors --------------------------------------------------------------

def _sin(lib):
    return lambda t: t.sin() * 2


SCENARIOS = {
    "no_use_reentrant_warns": lambda lib: _ck(lib).checkpoint(_sin(lib), _x(lib)).requires_grad,
    "sequential_no_use_reentrant_warns": lambda lib: _ck(lib).checkpoint_sequential(
        [lib.nn.Tanh(), lib.nn.Tanh()], 2, _x(lib)).requires_grad,
    "reentrant_kwargs": lambda lib: _ck(lib).checkpoint(_sin(lib), _x(lib), use_reentrant=True,
                                                        foo=1, bar=2),
    "reentrant_debug": lambda lib: _ck(lib).checkpoint(_sin(lib), _x(lib), use_reentrant=True,
                                                       debug=True),
    "reentrant_context_fn": lambda lib: _ck(lib).checkpoint(
        _sin(lib), _x(lib), use_reentrant=True,
        context_fn=lambda: (contextlib.nullcontext(), contextlib.nullcontext())),
    "bad_determinism_check": lambda lib: _ck(lib).checkpoint(
        _sin(lib), _x(lib), use_reentrant=False, determinism_check="strict"),
    "debug_with_context_fn": lambda lib: _ck(lib).checkpoint(
        _sin(lib), _x(lib), use_reentrant=False, debug=True,
        context_fn=lambda: (contextlib.nullcontext(), contextlib.nullcontext())),
    "sequential_kwargs": lambda lib: _ck(lib).checkpoint_sequential(
        [lib.nn.Tanh()], 1, _x(lib), use_reentrant=False, foo=1),
    "sequential_too_many_segments": lambda lib: _ck(lib).checkpoint_sequential(
        [lib.nn.Tanh()] * 2, 3, _x(lib), use_reentrant=False),
    "reentrant_no_input_requires_grad": lambda lib: _ck(lib).checkpoint(
        _sin(lib), _x(lib, False), use_reentrant=True).requires_grad,
    "nonreentrant_no_input_requires_grad": lambda lib: _ck(lib).checkpoint(
        _sin(lib), _x(lib, False), use_reentrant=False).requires_grad,
    "reentrant_grad": lambda lib: lib.autograd.grad(
        _ck(lib).checkpoint(_sin(lib), x := _x(lib), use_reentrant=True).sum(), x),
    "reentrant_backward_inputs": lambda lib: _ck(lib).checkpoint(
        _sin(lib), x := _x(lib), use_reentrant=True).sum().backward(inputs=[x]),
    "reentrant_no_output_requires_grad": lambda lib: _ck(lib).checkpoint(
        lambda t: t.detach() * 2, _x(lib), use_reentrant=True).sum().backward(),
    "reentrant_non_tensor_outputs": lambda lib: [
        (type(o).__name__, getattr(o, "requires_grad", o)) for o in _ck(lib).checkpoint(
            lambda t: (t * 2, 5, "s"), _x(lib), use_reentrant=True)],
    "reentrant_dict_output_passes_through": lambda lib: _ck(lib).checkpoint(
        lambda t: {"a": t * 2}, _x(lib), use_reentrant=True)["a"].requires_grad,
    "reentrant_identity_is_new_tensor": lambda lib: (
        lambda x: _ck(lib).checkpoint(lambda t: t, x, use_reentrant=True) is x)(_x(lib)),
    "nonreentrant_identity_is_input": lambda lib: (
        lambda x: _ck(lib).checkpoint(lambda t: t, x, use_reentrant=False) is x)(_x(lib)),
    "nonreentrant_under_no_grad": lambda lib: _no_grad_scenario(lib),
    "suppressed_forward_exception": lambda lib: _ck(lib).checkpoint(
        lambda t: 1 / 0, _x(lib), use_reentrant=False,
        context_fn=lambda: (_Swallow(), contextlib.nullcontext())),
    "forward_exception_propagates": lambda lib: _ck(lib).checkpoint(
        lambda t: 1 / 0, _x(lib), use_reentrant=False),
    "detach_variable_list": lambda lib: _ck(lib).detach_variable([_x(lib)]),
    "reentrant_second_backward": lambda lib: _backward_twice(lib, True),
    "nonreentrant_second_backward": lambda lib: _backward_twice(lib, False),
}


def _backward_twice(lib, reentrant):
    y = _ck(lib).checkpoint(_sin(lib), _x(lib), use_reentrant=reentrant).sum()
    y.backward()
    y.backward()


class _Swallow:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return True


def _no_grad_scenario(lib):
    with lib.no_grad():
        return _ck(lib).checkpoint(_sin(lib), _x(lib), use_reentrant=False).requires_grad


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_matches_torch(name):
    # torch's deprecation text names a version ("In version 2.9 we will raise..."), which
    # taimatsu words without one: compare that warning's category and opening.
    ours = _same(SCENARIOS[name], compare_warning_text="no_use_reentrant" not in name)
    for _, text in ours[1]:
        if "no_use_reentrant" in name:
            assert "the use_reentrant parameter should be passed explicitly" in text


@pytest.mark.parametrize("reentrant", [True, False])
def test_in_place_change_of_input_detected_as_torch(reentrant):
    def scenario(lib):
        a = _x(lib).clone()
        out = _ck(lib).checkpoint(_sin(lib), a, use_reentrant=reentrant)
        with lib.no_grad():
            a.add_(1)
        out.sum().backward()

    ours, theirs = _run(taimatsu, scenario), _run(torch, scenario)
    assert ours[2][0] == theirs[2][0] == "RuntimeError"
    for _, message in (ours[2], theirs[2]):
        assert "modified by an inplace operation" in message


def test_context_fn_grad_modes_match_torch():
    def scenario(lib):
        seen = []

        @contextlib.contextmanager
        def mark(label):
            seen.append((label, lib.is_grad_enabled()))
            yield

        out = _ck(lib).checkpoint(_sin(lib), _x(lib), use_reentrant=False,
                                  context_fn=lambda: (mark("forward"), mark("recompute")))
        out.sum().backward()
        return seen

    _same(scenario)


def test_public_names_exist_in_torch():
    for name in taimatsu.utils.checkpoint.__all__:
        assert hasattr(torch.utils.checkpoint, name), name
