"""Learning-rate schedulers: values by hand, warnings, errors and state_dict round trips."""

import math
import warnings

import pytest

import taimatsu
from taimatsu import optim
from taimatsu.optim import lr_scheduler as L


def sgd(lr=1.0, groups=1, **kw):
    params = [{"params": [taimatsu.zeros(2, requires_grad=True)]} for _ in range(groups)]
    return optim.SGD(params, lr=lr, **kw)


def lrs(opt, sched, steps):
    out = [opt.param_groups[0]["lr"]]
    for _ in range(steps):
        opt.step()
        sched.step()
        out.append(opt.param_groups[0]["lr"])
    return out


def test_step_lr_by_hand():
    opt = sgd(1.0)
    assert lrs(opt, L.StepLR(opt, step_size=2, gamma=0.5), 5) == [1, 1, 0.5, 0.5, 0.25, 0.25]


def test_multistep_lr_repeated_milestones_compound():
    opt = sgd(1.0)
    out = lrs(opt, L.MultiStepLR(opt, [1, 3, 3], gamma=0.1), 4)
    assert out == pytest.approx([1, 0.1, 0.1, 0.001, 0.001])


def test_cosine_annealing_matches_the_closed_form():
    opt = sgd(1.0)
    sched = L.CosineAnnealingLR(opt, T_max=5, eta_min=0.1)
    out = lrs(opt, sched, 12)
    closed = [0.1 + 0.9 * (1 + math.cos(math.pi * t / 5)) / 2 for t in range(13)]
    assert out == pytest.approx(closed)


def test_warm_restarts_restart():
    opt = sgd(1.0)
    out = lrs(opt, L.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2), 10)
    assert out[0] == out[3] == out[9] == 1.0  # restarts after 3 and 3 + 6 epochs
    assert out[1] > out[2] and out[4] > out[5] > out[8]


def test_one_cycle_shape_and_end():
    opt = sgd(1.0, momentum=0.9)
    sched = L.OneCycleLR(opt, max_lr=1.0, total_steps=20)
    out = lrs(opt, sched, 19)
    assert out[0] == pytest.approx(1.0 / 25)
    assert max(out) == pytest.approx(1.0) and out.index(max(out)) == 5
    assert out[-1] == pytest.approx(1.0 / 25 / 1e4)
    assert opt.param_groups[0]["momentum"] == pytest.approx(0.95)
    opt.step()
    sched.step()
    with pytest.raises(ValueError, match="^Tried to step 21 times. The specified number of "
                                         "total steps is 20$"):
        opt.step()
        sched.step()


def test_cyclic_lr_cycles_momentum_inversely():
    opt = sgd(0.5, momentum=0.9)
    sched = L.CyclicLR(opt, base_lr=0.1, max_lr=1.0, step_size_up=2)
    seen = []
    for _ in range(4):
        seen += [opt.param_groups[0]["lr"], opt.param_groups[0]["momentum"]]
        opt.step()
        sched.step()
    assert seen == pytest.approx([0.1, 0.9, 0.55, 0.85, 1.0, 0.8, 0.55, 0.85])


def test_reduce_lr_on_plateau():
    opt = sgd(1.0)
    sched = L.ReduceLROnPlateau(opt, patience=1, factor=0.5, cooldown=1, min_lr=0.2)
    got = []
    for metric in [1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9]:
        sched.step(metric)
        got.append(opt.param_groups[0]["lr"])
    assert got == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25]
    assert sched.get_last_lr() == [0.25]
    for _ in range(4):
        sched.step(0.9)
    assert opt.param_groups[0]["lr"] == 0.2  # floored at min_lr


def test_sequential_and_chained():
    opt = sgd(1.0)
    sched = L.SequentialLR(opt, [L.ConstantLR(opt, factor=0.5, total_iters=10),
                                 L.ExponentialLR(opt, gamma=0.5)], milestones=[2])
    assert lrs(opt, sched, 4) == pytest.approx([0.5, 0.5, 1.0, 0.5, 0.25])
    opt = sgd(1.0)
    chain = L.ChainedScheduler([L.ExponentialLR(opt, gamma=0.5), L.StepLR(opt, 2, 0.1)])
    assert lrs(opt, chain, 3) == pytest.approx([1.0, 0.5, 0.025, 0.0125])
    assert chain.get_last_lr() == pytest.approx([0.0125])


def test_scheduler_sets_initial_lr_and_base_lrs():
    opt = sgd(0.3, groups=2)
    sched = L.ExponentialLR(opt, gamma=0.5)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.3, 0.3]
    assert sched.base_lrs == [0.3, 0.3] and sched.last_epoch == 0


def test_resuming_needs_initial_lr():
    with pytest.raises(KeyError, match="param 'initial_lr' is not specified in "
                                       "param_groups\\[0\\] when resuming scheduler"):
        L.StepLR(sgd(), step_size=2, last_epoch=3)


def test_not_an_optimizer():
    with pytest.raises(TypeError, match="^list is not an Optimizer$"):
        L.StepLR([], step_size=1)


def test_warns_when_stepped_before_the_optimizer():
    opt = sgd()
    sched = L.StepLR(opt, step_size=1)
    with pytest.warns(UserWarning, match="Detected call of `lr_scheduler.step\\(\\)` before "
                                         "`optimizer.step\\(\\)`"):
        sched.step()


def test_get_lr_outside_step_warns():
    opt = sgd()
    sched = L.StepLR(opt, step_size=1)
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
        sched.get_lr()


def test_no_warnings_in_the_normal_order():
    opt = sgd()
    sched = L.CosineAnnealingLR(opt, T_max=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(4):
            opt.step()
            sched.step()


def test_verbose_is_deprecated_but_prints(capsys):
    opt = sgd()
    with pytest.warns(UserWarning, match="The verbose parameter is deprecated"):
        sched = L.StepLR(opt, step_size=1, gamma=0.5, verbose=True)
    opt.step()
    sched.step()
    assert "Adjusting learning rate of group 0 to 5.0000e-01." in capsys.readouterr().out
    assert "_verbose" not in L.StepLR(sgd(), step_size=1).state_dict()


def test_state_dict_round_trip():
    opt = sgd(1.0)
    sched = L.StepLR(opt, step_size=2, gamma=0.5)
    lrs(opt, sched, 3)
    state = sched.state_dict()
    assert "optimizer" not in state and state["last_epoch"] == 3
    opt2 = sgd(1.0)
    sched2 = L.StepLR(opt2, step_size=5, gamma=0.9)
    sched2.load_state_dict(state)
    assert sched2.step_size == 2 and sched2.last_epoch == 3
    assert sched2.get_last_lr() == sched.get_last_lr()


class Decay:
    def __init__(self, rate):
        self.rate = rate

    def __call__(self, epoch):
        return self.rate ** epoch


def test_lambda_state_keeps_callable_objects_only():
    opt = sgd(1.0, groups=2)
    sched = L.LambdaLR(opt, [lambda e: 1.0, Decay(0.5)])
    state = sched.state_dict()
    assert state["lr_lambdas"] == [None, {"rate": 0.5}]
    other = L.LambdaLR(sgd(1.0, groups=2), [lambda e: 1.0, Decay(0.9)])
    other.load_state_dict(state)
    assert other.lr_lambdas[1].rate == 0.5
    with pytest.raises(ValueError, match="^Expected 2 lr_lambdas, but got 1$"):
        L.LambdaLR(opt, [lambda e: 1.0])
    with pytest.raises(TypeError, match="^lr_lambda should be a function, but got int$"):
        L.MultiplicativeLR(sgd(), 3)


@pytest.mark.parametrize("build,exc,message", [
    (lambda o: L.ConstantLR(o, factor=1.5), ValueError,
     "Constant multiplicative factor expected to be between 0 and 1."),
    (lambda o: L.LinearLR(o, start_factor=0), ValueError,
     "Starting multiplicative factor expected to be greater than 0 and less or equal to 1."),
    (lambda o: L.LinearLR(o, end_factor=2), ValueError,
     "Ending multiplicative factor expected to be between 0 and 1."),
    (lambda o: L.CosineAnnealingWarmRestarts(o, T_0=0), ValueError,
     "Expected positive integer T_0, but got 0"),
    (lambda o: L.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0), ValueError,
     "Expected integer T_mult >= 1, but got 0"),
    (lambda o: L.ReduceLROnPlateau(o, factor=1.0), ValueError, "Factor should be < 1.0."),
    (lambda o: L.ReduceLROnPlateau(o, mode="up"), ValueError, "mode up is unknown!"),
    (lambda o: L.ReduceLROnPlateau(o, threshold_mode="x"), ValueError,
     "threshold mode x is unknown!"),
    (lambda o: L.ReduceLROnPlateau(o, min_lr=[0.1, 0.2]), ValueError,
     "expected 1 min_lrs, got 2"),
    (lambda o: L.OneCycleLR(o, max_lr=1.0), ValueError,
     "You must define either total_steps OR (epochs AND steps_per_epoch)"),
    (lambda o: L.OneCycleLR(o, max_lr=1.0, total_steps=0), ValueError,
     "Expected positive integer total_steps, but got 0"),
    (lambda o: L.OneCycleLR(o, max_lr=1.0, total_steps=5, pct_start=1), ValueError,
     "Expected float between 0 and 1 pct_start, but got 1"),
    (lambda o: L.OneCycleLR(o, max_lr=1.0, total_steps=5, anneal_strategy="exp"), ValueError,
     "anneal_strategy must be one of 'cos' or 'linear', instead got exp"),
    (lambda o: L.CyclicLR(o, 0.1, 1.0, mode="sawtooth", cycle_momentum=False), ValueError,
     "mode is invalid and scale_fn is None"),
    (lambda o: L.CyclicLR(o, [0.1, 0.2], 1.0, cycle_momentum=False), ValueError,
     "base_lr must have the same length as optimizer.param_groups. base_lr has 2 values, "
     "param_groups has 1."),
    (lambda o: L.SequentialLR(o, [], []), ValueError,
     "SequentialLR expects at least one scheduler, but got no scheduler."),
    (lambda o: L.SequentialLR(o, [L.StepLR(o, 1)], [3]), ValueError,
     "Sequential Schedulers expects number of schedulers provided to be one more than the "
     "number of milestone points, but got number of schedulers 1 and the number of "
     "milestones to be equal to 1"),
    (lambda o: L.ChainedScheduler([L.ReduceLROnPlateau(o)]), ValueError,
     "ChainedScheduler does not support `ReduceLROnPlateau` scheduler as it requires "
     "additional kwargs to be specified when calling `step`, but got one at index 0 in the "
     "given schedulers sequence."),
    (lambda o: L.ChainedScheduler([]), ValueError,
     "ChainedScheduler expects at least one scheduler to be chained, but got no scheduler."),
])
def test_errors(build, exc, message):
    with pytest.raises(exc) as info:
        build(sgd())
    assert str(info.value) == message


def test_cycling_momentum_needs_momentum_or_betas():
    opt = optim.Adagrad([taimatsu.zeros(2, requires_grad=True)])
    with pytest.raises(ValueError, match="^optimizer must support momentum or beta1 with "
                                         "`cycle_momentum` option enabled$"):
        L.CyclicLR(opt, 0.1, 1.0)
    L.CyclicLR(opt, 0.1, 1.0, cycle_momentum=False)


def test_schedulers_of_different_optimizers_cannot_be_combined():
    a, b = sgd(), sgd()
    with pytest.raises(ValueError, match="SequentialLR expects all schedulers to belong to the "
                                         "same optimizer, but got scheduler StepLR at index 1"):
        L.SequentialLR(a, [L.StepLR(a, 1), L.StepLR(b, 1)], milestones=[2])
