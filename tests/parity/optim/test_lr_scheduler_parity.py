"""Learning-rate schedulers against torch.optim.lr_scheduler: the same lr (and momentum)
sequence over 60 steps, the same state_dict, and torch's state_dict loads into ours."""

import math
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import taimatsu  # noqa: E402
from taimatsu import optim  # noqa: E402

pytestmark = pytest.mark.parity

STEPS = 60


class Scale:
    """A callable object: its attributes go into LambdaLR's state_dict."""

    def __init__(self, base):
        self.base = base

    def __call__(self, epoch):
        return self.base ** epoch


def seq(L, o):
    return L.SequentialLR(o, [L.LinearLR(o, start_factor=0.1, total_iters=10),
                              L.ExponentialLR(o, gamma=0.95),
                              L.CosineAnnealingLR(o, T_max=8, eta_min=0.001)],
                          milestones=[10, 30])


SCHEDULERS = {
    "LambdaLR": lambda L, o: L.LambdaLR(o, [lambda e: 0.9 ** e, Scale(0.95)]),
    "MultiplicativeLR": lambda L, o: L.MultiplicativeLR(o, lambda e: 0.97),
    "StepLR": lambda L, o: L.StepLR(o, step_size=7, gamma=0.5),
    "MultiStepLR": lambda L, o: L.MultiStepLR(o, milestones=[5, 20, 20, 41], gamma=0.3),
    "ConstantLR": lambda L, o: L.ConstantLR(o, factor=0.25, total_iters=12),
    "LinearLR": lambda L, o: L.LinearLR(o, start_factor=0.2, end_factor=0.9, total_iters=30),
    "ExponentialLR": lambda L, o: L.ExponentialLR(o, gamma=0.93),
    "PolynomialLR": lambda L, o: L.PolynomialLR(o, total_iters=40, power=2.0),
    "CosineAnnealingLR": lambda L, o: L.CosineAnnealingLR(o, T_max=10, eta_min=0.001),
    "CosineAnnealingWarmRestarts": lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=5),
    "WarmRestarts-Tmult": lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2,
                                                                      eta_min=0.01),
    "CyclicLR-triangular": lambda L, o: L.CyclicLR(o, 0.01, [0.1, 0.2], step_size_up=7),
    "CyclicLR-triangular2": lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=5,
                                                    step_size_down=3, mode="triangular2"),
    "CyclicLR-exp_range": lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=6,
                                                  mode="exp_range", gamma=0.97,
                                                  base_momentum=0.7, max_momentum=0.95),
    "CyclicLR-no-momentum": lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=4,
                                                    cycle_momentum=False),
    "OneCycleLR-cos": lambda L, o: L.OneCycleLR(o, max_lr=[0.5, 0.3], total_steps=STEPS + 1),
    "OneCycleLR-linear": lambda L, o: L.OneCycleLR(o, max_lr=0.4, epochs=6, steps_per_epoch=11,
                                                   anneal_strategy="linear", pct_start=0.25),
    "OneCycleLR-three-phase": lambda L, o: L.OneCycleLR(o, max_lr=0.4, total_steps=STEPS + 5,
                                                        three_phase=True, div_factor=10.0,
                                                        base_momentum=0.8),
    "SequentialLR": seq,
    "ChainedScheduler": lambda L, o: L.ChainedScheduler([L.ExponentialLR(o, gamma=0.97),
                                                         L.StepLR(o, step_size=9, gamma=0.5),
                                                         L.ConstantLR(o, 0.5, 4)]),
    "Chained-of-Sequential": lambda L, o: L.ChainedScheduler([seq(L, o),
                                                              L.MultiStepLR(o, [15, 45])]),
}


def make_optimizer(lib, kind):
    params = [lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)]
    groups = [{"params": params[:1]}, {"params": params[1:], "lr": 0.05}]
    if kind == "adam":
        return lib.optim.Adam(groups, lr=0.1)
    return lib.optim.SGD(groups, lr=0.1, momentum=0.9)


def trace(opt, sched, steps, metrics=None):
    """lr, momentum/beta1 and get_last_lr() after construction and after each step."""
    rows = []

    def record():
        momentum = [g["betas"][0] if "betas" in g else g["momentum"] for g in opt.param_groups]
        rows.append([g["lr"] for g in opt.param_groups] + momentum + list(sched.get_last_lr()))

    record()
    for k in range(steps):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[k])
        record()
    return np.array(rows, dtype=np.float64)


def plain(state):
    """A scheduler state_dict with callables dropped (they are not data)."""
    if isinstance(state, dict):
        return {k: plain(v) for k, v in state.items() if not callable(v)}
    if isinstance(state, list):
        return [plain(v) for v in state]
    return state


@pytest.mark.parametrize("kind", ["sgd", "adam"])
@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_lr_sequence_matches_torch(name, kind):
    opt, topt = make_optimizer(taimatsu, kind), make_optimizer(torch, kind)
    sched = SCHEDULERS[name](optim.lr_scheduler, opt)
    tsched = SCHEDULERS[name](torch.optim.lr_scheduler, topt)
    np.testing.assert_allclose(trace(opt, sched, STEPS), trace(topt, tsched, STEPS),
                               rtol=1e-13, atol=1e-15)
    assert plain(sched.state_dict()) == plain(tsched.state_dict())
    for group, tgroup in zip(opt.param_groups, topt.param_groups):
        assert {k: v for k, v in group.items() if k != "params"} == \
            {k: v for k, v in tgroup.items() if k != "params"}


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_torch_state_dict_loads_and_continues(name):
    topt = make_optimizer(torch, "sgd")
    tsched = SCHEDULERS[name](torch.optim.lr_scheduler, topt)
    trace(topt, tsched, 25)
    opt = make_optimizer(taimatsu, "sgd")
    sched = SCHEDULERS[name](optim.lr_scheduler, opt)
    # Optimizer first (it carries the current lrs and momenta), then the scheduler.
    opt.load_state_dict(topt.state_dict())
    sched.load_state_dict(tsched.state_dict())
    np.testing.assert_allclose(trace(opt, sched, 30), trace(topt, tsched, 30), rtol=1e-13)


@pytest.mark.parametrize("kw", [
    dict(),
    dict(mode="max", factor=0.5, patience=2, threshold=0.1, threshold_mode="abs"),
    dict(patience=1, cooldown=3, min_lr=[0.02, 0.001], eps=1e-3),
    dict(mode="max", patience=0, threshold_mode="rel", min_lr=0.004),
])
def test_reduce_lr_on_plateau_matches_torch(kw):
    rng = np.random.default_rng(0)
    metrics = 1.0 + np.cumsum(rng.normal(0.0, 0.1, STEPS)) * 0.1
    metrics[30:] = metrics[30]  # a long plateau
    opt, topt = make_optimizer(taimatsu, "sgd"), make_optimizer(torch, "sgd")
    sched = optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kw)
    np.testing.assert_allclose(trace(opt, sched, STEPS, metrics),
                               trace(topt, tsched, STEPS, metrics), rtol=1e-13)
    assert sched.state_dict() == tsched.state_dict()


def test_swalr_matches_torch():
    from taimatsu.optim.swa_utils import SWALR

    for kw in [dict(swa_lr=0.02, anneal_epochs=5),
               dict(swa_lr=[0.02, 0.01], anneal_epochs=7, anneal_strategy="linear"),
               dict(swa_lr=0.03, anneal_epochs=0)]:
        opt, topt = make_optimizer(taimatsu, "sgd"), make_optimizer(torch, "sgd")
        sched, tsched = SWALR(opt, **kw), torch.optim.swa_utils.SWALR(topt, **kw)
        np.testing.assert_allclose(trace(opt, sched, 20), trace(topt, tsched, 20), rtol=1e-13)
        assert plain(sched.state_dict()) == plain(tsched.state_dict())


def test_epoch_argument_uses_closed_forms_like_torch():
    """step(epoch) is deprecated in torch but still jumps with the closed form."""
    for name in ["StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR",
                 "PolynomialLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts",
                 "WarmRestarts-Tmult"]:
        opt, topt = make_optimizer(taimatsu, "sgd"), make_optimizer(torch, "sgd")
        sched = SCHEDULERS[name](optim.lr_scheduler, opt)
        tsched = SCHEDULERS[name](torch.optim.lr_scheduler, topt)
        epochs = [3, 4, 11, 7, 25, 2.5, 19.25] if "Warm" in name else [3, 4, 11, 7, 25, 2]
        for epoch in epochs:
            opt.step()
            topt.step()
            with warnings.catch_warnings(record=True) as ours_warned:
                warnings.simplefilter("always")
                sched.step(epoch)
            with warnings.catch_warnings(record=True) as torch_warned:
                warnings.simplefilter("always")
                tsched.step(epoch)
            assert [str(w.message) for w in ours_warned] == \
                [str(w.message) for w in torch_warned]
            assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-13), name


def test_tensor_lr_is_updated_in_place_like_torch():
    lr, tlr = taimatsu.tensor(0.1), torch.tensor(0.1)
    opt = optim.SGD([taimatsu.zeros(2, requires_grad=True)], lr=lr)
    topt = torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=tlr)
    sched = optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    tsched = torch.optim.lr_scheduler.ExponentialLR(topt, gamma=0.5)
    for _ in range(3):
        opt.step()
        topt.step()
        sched.step()
        tsched.step()
    assert opt.param_groups[0]["lr"] is lr  # filled in place, never replaced
    assert float(lr) == pytest.approx(float(tlr))
    assert isinstance(sched.get_last_lr()[0], taimatsu.Tensor)
    assert sched.get_last_lr()[0] is not lr
    assert math.isclose(float(sched.get_last_lr()[0]), float(tsched.get_last_lr()[0]),
                        rel_tol=1e-6)
