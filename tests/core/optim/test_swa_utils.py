"""optim.swa_utils: averaging by hand, EMA decay checks, update_bn (with a real BatchNorm
and with a module that has none) and SWALR."""

import numpy as np
import pytest

import taimatsu
from taimatsu import nn, optim
from taimatsu.optim import swa_utils


class Affine(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(taimatsu.zeros(3))
        self.register_buffer("count", taimatsu.tensor(0))

    def forward(self, x):
        return x * self.w


def set_weights(model, value, count=0):
    with taimatsu.no_grad():
        model.w.fill_(value)
        model.count.fill_(count)


def test_swa_is_the_running_mean():
    model = Affine()
    avg = swa_utils.AveragedModel(model)
    for value in [1.0, 2.0, 6.0]:
        set_weights(model, value, count=int(value))
        avg.update_parameters(model)
    np.testing.assert_allclose(avg.module.w.detach().numpy(), 3.0)
    assert int(avg.n_averaged) == 3
    assert int(avg.module.count) == 6  # buffers are copied, not averaged
    assert model.w is not avg.module.w  # a deep copy


def test_use_buffers_averages_buffers_too():
    model = Affine()
    avg = swa_utils.AveragedModel(model, use_buffers=True)
    for value in [1.0, 2.0, 6.0]:
        set_weights(model, value, count=int(value))
        avg.update_parameters(model)
    # integers truncate at each update, as in torch: 1 -> 1 + 1/2 = 1 -> 1 + 5/3 = 2
    assert int(avg.module.count) == 2
    np.testing.assert_allclose(avg.module.w.detach().numpy(), 3.0)


def test_ema_by_hand():
    model = Affine()
    avg = swa_utils.AveragedModel(model, multi_avg_fn=swa_utils.get_ema_multi_avg_fn(0.5))
    for value in [4.0, 0.0, 2.0]:
        set_weights(model, value)
        avg.update_parameters(model)
    np.testing.assert_allclose(avg.module.w.detach().numpy(), (4 * 0.5 + 0) * 0.5 + 1.0)


def test_custom_avg_fn_receives_the_count():
    model = Affine()
    seen = []

    def avg_fn(averaged, current, n):
        seen.append(int(n))
        return averaged + current

    avg = swa_utils.AveragedModel(model, avg_fn=avg_fn)
    for value in [1.0, 1.0, 1.0]:
        set_weights(model, value)
        avg.update_parameters(model)
    assert seen == [1, 2]
    np.testing.assert_allclose(avg.module.w.detach().numpy(), 3.0)


def test_argument_checks():
    with pytest.raises(ValueError, match="^Invalid decay value 1.5 provided. Please provide a "
                                         "value in \\[0,1\\] range.$"):
        swa_utils.get_ema_multi_avg_fn(1.5)
    with pytest.raises(ValueError, match="Invalid decay value -0.1"):
        swa_utils.get_ema_avg_fn(-0.1)
    with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn"):
        swa_utils.AveragedModel(Affine(), avg_fn=swa_utils.get_swa_avg_fn(),
                                multi_avg_fn=swa_utils.get_swa_multi_avg_fn())


def test_averaged_model_forwards_and_saves_n_averaged():
    model = Affine()
    set_weights(model, 2.0)
    avg = swa_utils.AveragedModel(model)
    avg.update_parameters(model)
    out = avg(taimatsu.ones(3))
    np.testing.assert_allclose(out.detach().numpy(), 2.0)
    assert set(avg.state_dict()) == {"n_averaged", "module.w", "module.count"}


def test_update_bn_recomputes_running_statistics():
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    model.eval()
    rng = np.random.default_rng(0)
    batches = [taimatsu.tensor(rng.standard_normal((10, 2)).astype(np.float32))
               for _ in range(3)]
    swa_utils.update_bn(batches, model)
    with taimatsu.no_grad():
        hidden = model[0](taimatsu.cat(batches)).numpy()
    # momentum None during the pass gives the plain average of the batch statistics
    np.testing.assert_allclose(model[1].running_mean.numpy(), hidden.mean(0), rtol=1e-5,
                               atol=1e-6)
    assert not model.training and model[1].momentum == 0.1
    assert int(model[1].num_batches_tracked) == 3


def test_update_bn_without_batchnorm_does_nothing():
    model = Affine()
    calls = []
    model.register_forward_hook(lambda m, i, o: calls.append(1))
    swa_utils.update_bn([taimatsu.ones(3)], model)
    assert calls == []


def test_swalr_anneals_to_swa_lr():
    opt = optim.SGD([taimatsu.zeros(2, requires_grad=True)], lr=1.0)
    sched = swa_utils.SWALR(opt, swa_lr=0.1, anneal_epochs=4, anneal_strategy="linear")
    seen = []
    for _ in range(6):
        opt.step()
        sched.step()
        seen.append(opt.param_groups[0]["lr"])
    assert seen == pytest.approx([0.775, 0.55, 0.325, 0.1, 0.1, 0.1])
    with pytest.raises(ValueError, match="anneal_strategy must be one of 'cos' or 'linear', "
                                         "instead got exp"):
        swa_utils.SWALR(opt, 0.1, anneal_strategy="exp")
    with pytest.raises(ValueError, match="anneal_epochs must be equal or greater than 0, got "
                                         "-1"):
        swa_utils.SWALR(opt, 0.1, anneal_epochs=-1)
