"""Optimizers against torch.optim: the same start and the same gradients give the same
parameters and the same state_dict after 20 steps, and state_dicts interchange.

Gradients come from one NumPy formula applied to each framework's own current parameters
(a quadratic bowl plus a sine ripple), so the two runs feed back independently and any
difference in an update shows up in the following steps.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import taimatsu  # noqa: E402
from taimatsu import optim  # noqa: E402

pytestmark = pytest.mark.parity

STEPS = 20
# A matrix, a vector, a 0-dim parameter (small ones are updated packed together) and one
# large enough to be updated on its own.
SHAPES = [(3, 4), (5,), (), (40, 40)]
TOL = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-10, atol=1e-12)}

CASES = {
    "SGD": [dict(lr=0.1), dict(lr=0.05, momentum=0.9),
            dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1),
            dict(lr=0.05, momentum=0.5, dampening=0.3, weight_decay=0.01, maximize=True),
            dict(lr=0.05, momentum=0.9, foreach=True), dict(lr=0.05, momentum=0.9, fused=True),
            dict(lr=0.05, momentum=0.9, nesterov=True, foreach=False)],
    "Adam": [dict(lr=0.05), dict(lr=0.05, amsgrad=True, weight_decay=0.1),
             dict(lr=0.02, betas=(0.5, 0.9), maximize=True, eps=1e-6),
             dict(lr=0.02, weight_decay=0.1, decoupled_weight_decay=True, amsgrad=True),
             dict(lr=0.05, fused=True), dict(lr=0.05, foreach=True, amsgrad=True),
             dict(lr=0.05, foreach=False, weight_decay=0.1)],
    "AdamW": [dict(lr=0.05), dict(lr=0.05, amsgrad=True, weight_decay=0.1, maximize=True),
              dict(lr=0.05, fused=True, weight_decay=0.1)],
    "Adamax": [dict(lr=0.05), dict(lr=0.05, betas=(0.8, 0.95), weight_decay=0.1,
                                   maximize=True)],
    "NAdam": [dict(lr=0.05), dict(lr=0.05, weight_decay=0.1, momentum_decay=0.01),
              dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)],
    "RAdam": [dict(lr=0.05), dict(lr=0.05, betas=(0.9, 0.9), weight_decay=0.1),
              dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)],
    "RMSprop": [dict(lr=0.01), dict(lr=0.01, centered=True, momentum=0.9),
                dict(lr=0.01, alpha=0.9, momentum=0.5, weight_decay=0.1, maximize=True),
                dict(lr=0.01, centered=True, foreach=False)],
    "Adagrad": [dict(lr=0.1), dict(lr=0.1, lr_decay=0.01, weight_decay=0.1,
                                   initial_accumulator_value=0.1, maximize=True),
                dict(lr=0.1, fused=True), dict(lr=0.1, foreach=True, lr_decay=0.01)],
    "Adadelta": [dict(), dict(lr=0.5, rho=0.5, weight_decay=0.1, maximize=True)],
    "Rprop": [dict(), dict(lr=0.1, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2), maximize=True)],
}
PARAMS = [pytest.param(name, kw, id=f"{name}-{i}") for name, kws in CASES.items()
          for i, kw in enumerate(kws)]


def gradient(w: np.ndarray, k: int) -> np.ndarray:
    """The gradient at w of sum((w - c)^2) + sum(sin(3w)) / 6, with c moving each step.

    The ripple is kept small enough that the loss stays convex: the runs then contract
    onto each other, and last-bit differences (torch fuses some multiply-adds) stay at the
    rounding level instead of being amplified chaotically."""
    return (2 * (w - 0.3 * np.cos(k)) + 0.5 * np.cos(3 * w)).astype(w.dtype)


def starts(dtype):
    rng = np.random.default_rng(0)
    return [rng.uniform(-1, 1, size=s).astype(dtype) for s in SHAPES]


def make_pair(name, kw, dtype, arrays=None):
    arrays = starts(dtype) if arrays is None else arrays
    ours = [taimatsu.tensor(a.copy(), requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    return ours, getattr(optim, name)(ours, **kw), theirs, getattr(torch.optim, name)(theirs, **kw)


def to_np(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t.detach()._data)


def run(ours, opt, theirs, topt, steps, first=0):
    for k in range(first, first + steps):
        for a, b in zip(ours, theirs):
            a.grad = taimatsu.tensor(gradient(to_np(a), k))
            b.grad = torch.tensor(gradient(to_np(b), k))
        opt.step()
        topt.step()


def assert_same_params(ours, theirs, dtype):
    for a, b in zip(ours, theirs):
        assert a.dtype.name == str(b.dtype).split(".")[1]
        np.testing.assert_allclose(to_np(a), to_np(b), **TOL[dtype])


def assert_same_state_dict(sd, tsd, dtype):
    assert sd["param_groups"] == tsd["param_groups"]
    assert sd["state"].keys() == tsd["state"].keys()
    for idx, tstate in tsd["state"].items():
        state = sd["state"][idx]
        assert list(state) == list(tstate)  # same keys, in the same order
        for key, tval in tstate.items():
            val = state[key]
            if isinstance(tval, torch.Tensor):
                assert isinstance(val, taimatsu.Tensor), key
                assert val.dtype.name == str(tval.dtype).split(".")[1], key
                assert tuple(val.shape) == tuple(tval.shape), key
                # State is compared relative to its own scale: entries that are small
                # differences of large ones (centered RMSprop's variance) carry the
                # rounding of the whole tensor.
                expected = to_np(tval)
                tol = dict(TOL[dtype])
                if expected.size:
                    tol["atol"] = max(tol["atol"], tol["rtol"] * float(np.abs(expected).max()))
                np.testing.assert_allclose(to_np(val), expected, err_msg=key, **tol)
            else:
                assert val == tval, key


def to_torch(obj):
    """A taimatsu state_dict with its tensors turned into torch tensors."""
    if isinstance(obj, taimatsu.Tensor):
        return torch.from_numpy(np.array(obj._data))
    if isinstance(obj, dict):
        return {k: to_torch(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [to_torch(v) for v in obj]
    return obj


def to_taimatsu(obj):
    """A torch state_dict with its tensors turned into taimatsu tensors."""
    if isinstance(obj, torch.Tensor):
        return taimatsu.tensor(obj.detach().numpy().copy())
    if isinstance(obj, dict):
        return {k: to_taimatsu(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [to_taimatsu(v) for v in obj]
    return obj


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name,kw", PARAMS)
def test_steps_and_state_dict_match_torch(name, kw, dtype):
    ours, opt, theirs, topt = make_pair(name, kw, dtype)
    run(ours, opt, theirs, topt, STEPS)
    assert_same_params(ours, theirs, dtype)
    assert_same_state_dict(opt.state_dict(), topt.state_dict(), dtype)


@pytest.mark.parametrize("name,kw", PARAMS)
def test_torch_state_dict_loads_and_continues(name, kw):
    dtype = np.float64
    _, _, theirs, topt = make_pair(name, kw, dtype)
    scratch_ours, scratch_opt, _, _ = make_pair(name, kw, dtype)
    run(scratch_ours, scratch_opt, theirs, topt, 10)
    saved = topt.state_dict()
    # Both restart from torch's parameters and optimizer state (loading casts some state
    # to the parameters' dtype, in torch as here).
    ours = [taimatsu.tensor(to_np(b).copy(), requires_grad=True) for b in theirs]
    opt = getattr(optim, name)(ours, **kw)
    opt.load_state_dict(to_taimatsu(saved))
    topt = getattr(torch.optim, name)(theirs, **kw)
    topt.load_state_dict(saved)
    assert_same_state_dict(opt.state_dict(), topt.state_dict(), dtype)
    run(ours, opt, theirs, topt, 10, first=10)
    assert_same_params(ours, theirs, dtype)
    assert_same_state_dict(opt.state_dict(), topt.state_dict(), dtype)


@pytest.mark.parametrize("name,kw", PARAMS)
def test_our_state_dict_loads_into_torch(name, kw):
    dtype = np.float32
    ours, opt, scratch_theirs, scratch_topt = make_pair(name, kw, dtype)
    run(ours, opt, scratch_theirs, scratch_topt, 10)
    saved = opt.state_dict()
    theirs = [torch.tensor(to_np(a).copy(), requires_grad=True) for a in ours]
    topt = getattr(torch.optim, name)(theirs, **kw)
    topt.load_state_dict(to_torch(saved))
    opt = getattr(optim, name)(ours, **kw)
    opt.load_state_dict(saved)
    assert_same_state_dict(opt.state_dict(), topt.state_dict(), dtype)
    run(ours, opt, theirs, topt, 10, first=10)
    assert_same_params(ours, theirs, dtype)
    assert_same_state_dict(opt.state_dict(), topt.state_dict(), dtype)


def test_param_groups_and_missing_grads_match_torch():
    """Per-group options, a parameter without a gradient (skipped) and one that gets its
    first gradient late (lazy state) behave as in torch."""
    dtype = np.float32
    arrays = starts(dtype)
    ours = [taimatsu.tensor(a.copy(), requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]

    def groups(ps):
        return [{"params": ps[:1]}, {"params": ps[1:], "lr": 0.01, "amsgrad": True}]

    opt = optim.Adam(groups(ours), lr=0.05, weight_decay=0.01)
    topt = torch.optim.Adam(groups(theirs), lr=0.05, weight_decay=0.01)
    for k in range(STEPS):
        for i, (a, b) in enumerate(zip(ours, theirs)):
            if i == 2 and k < 5:  # no gradient yet: skipped, no state
                a.grad = b.grad = None
                continue
            a.grad = taimatsu.tensor(gradient(to_np(a), k))
            b.grad = torch.tensor(gradient(to_np(b), k))
        opt.step()
        topt.step()
    assert_same_params(ours, theirs, dtype)
    assert_same_state_dict(opt.state_dict(), topt.state_dict(), dtype)


def test_complex_parameters_match_torch():
    rng = np.random.default_rng(1)
    w = (rng.standard_normal(4) + 1j * rng.standard_normal(4)).astype(np.complex64)
    for name, kw in [("Adam", dict(lr=0.05, amsgrad=True)), ("RMSprop", dict(centered=True)),
                     ("SGD", dict(lr=0.1, momentum=0.9)), ("Adagrad", dict()),
                     ("Rprop", dict()), ("NAdam", dict()), ("RAdam", dict()),
                     ("Adamax", dict()), ("Adadelta", dict())]:
        a = taimatsu.tensor(w.copy(), requires_grad=True)
        b = torch.tensor(w.copy(), requires_grad=True)
        opt, topt = getattr(optim, name)([a], **kw), getattr(torch.optim, name)([b], **kw)
        for k in range(10):
            a.grad = taimatsu.tensor((to_np(a) - 0.5j * np.cos(k)).astype(np.complex64))
            b.grad = torch.tensor((to_np(b) - 0.5j * np.cos(k)).astype(np.complex64))
            opt.step()
            topt.step()
        np.testing.assert_allclose(to_np(a), to_np(b), rtol=1e-5, atol=1e-6, err_msg=name)


def test_tensor_lr_matches_torch():
    a = taimatsu.tensor(starts(np.float32)[0], requires_grad=True)
    b = torch.tensor(starts(np.float32)[0], requires_grad=True)
    opt = optim.SGD([a], lr=taimatsu.tensor(0.1), momentum=0.9)
    topt = torch.optim.SGD([b], lr=torch.tensor(0.1), momentum=0.9)
    run([a], opt, [b], topt, STEPS)
    assert_same_params([a], [b], np.float32)


def quadratic_loss(lib, w, A, y):
    r = A @ w - y
    return (r * r).sum() + lib.sin(w).sum() + 0.1 * (w ** 4).sum()


@pytest.mark.parametrize("dtype,kw,steps", [
    (np.float64, dict(), 5),
    (np.float64, dict(line_search_fn="strong_wolfe"), 5),
    (np.float64, dict(history_size=3, max_iter=5, lr=0.5), 5),
    (np.float64, dict(line_search_fn="strong_wolfe", history_size=2, max_iter=4), 5),
    (np.float32, dict(max_iter=4), 2),
    (np.float32, dict(line_search_fn="strong_wolfe", max_iter=4), 2),
], ids=["plain", "wolfe", "short-history", "wolfe-short", "plain-f32", "wolfe-f32"])
def test_lbfgs_matches_torch(dtype, kw, steps):
    rng = np.random.default_rng(3)
    A, y, w0 = (rng.standard_normal(s).astype(dtype) for s in [(6, 5), 6, 5])
    a = taimatsu.tensor(w0.copy(), requires_grad=True)
    b = torch.tensor(w0.copy(), requires_grad=True)
    opt, topt = optim.LBFGS([a], **kw), torch.optim.LBFGS([b], **kw)
    Aa, ya, At, yt = taimatsu.tensor(A), taimatsu.tensor(y), torch.tensor(A), torch.tensor(y)

    def closure():
        opt.zero_grad()
        loss = quadratic_loss(taimatsu, a, Aa, ya)
        loss.backward()
        return loss

    def tclosure():
        topt.zero_grad()
        loss = quadratic_loss(torch, b, At, yt)
        loss.backward()
        return loss

    for _ in range(steps):
        loss, tloss = opt.step(closure), topt.step(tclosure)
        np.testing.assert_allclose(float(loss), float(tloss.detach()), **TOL[dtype])
    assert_same_params([a], [b], dtype)
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert sd["param_groups"] == tsd["param_groups"]
    state, tstate = sd["state"][0], tsd["state"][0]
    assert sorted(state) == sorted(tstate)
    for key in ("func_evals", "n_iter"):
        assert state[key] == tstate[key]
    # Vectors are compared relative to their largest entry: near convergence the small
    # entries carry the rounding noise of the sums.
    rtol = 1e-4 if dtype == np.float32 else 1e-9

    def close(ours_value, their_value, what):
        expected = np.asarray(their_value)
        np.testing.assert_allclose(np.asarray(ours_value), expected, rtol=rtol,
                                   atol=rtol * np.abs(expected).max(), err_msg=what)

    for key in ("d", "prev_flat_grad", "H_diag", "t", "prev_loss"):
        close(to_torch(state[key]), tstate[key], key)
    assert len(state["old_dirs"]) == len(tstate["old_dirs"])
    for ours_dir, their_dir in zip(state["old_dirs"], tstate["old_dirs"]):
        assert isinstance(ours_dir, taimatsu.Tensor)
        close(to_np(ours_dir), to_np(their_dir), "old_dirs")


def test_checkpoint_files_interchange_with_torch(tmp_path):
    """Through files: ours saved and read by torch.load, torch's saved and read by ours."""
    serialization = pytest.importorskip("taimatsu.serialization")
    kw = dict(lr=0.05, amsgrad=True, weight_decay=0.1)
    ours, opt, theirs, topt = make_pair("Adam", kw, np.float32)
    run(ours, opt, theirs, topt, 5)
    serialization.save(opt.state_dict(), tmp_path / "ours.pt")
    torch.save(topt.state_dict(), tmp_path / "theirs.pt")

    from_ours = torch.optim.Adam([torch.tensor(to_np(a).copy(), requires_grad=True)
                                  for a in ours], **kw)
    from_ours.load_state_dict(torch.load(tmp_path / "ours.pt"))
    from_theirs = optim.Adam([taimatsu.tensor(to_np(b).copy(), requires_grad=True)
                              for b in theirs], **kw)
    from_theirs.load_state_dict(serialization.load(tmp_path / "theirs.pt"))
    assert_same_state_dict(from_theirs.state_dict(), from_ours.state_dict(), np.float32)
    run(from_theirs.param_groups[0]["params"], from_theirs,
        from_ours.param_groups[0]["params"], from_ours, 5, first=5)
    run(ours, opt, theirs, topt, 5, first=5)
    assert_same_params(from_theirs.param_groups[0]["params"], theirs, np.float32)
    assert_same_params(ours, from_ours.param_groups[0]["params"], np.float32)
