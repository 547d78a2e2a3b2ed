"""optim.swa_utils against torch: the averaged weights (SWA, EMA, custom averages, with and
without buffers) and update_bn's recomputed BatchNorm statistics agree."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import taimatsu  # noqa: E402
from taimatsu.optim import swa_utils  # noqa: E402
from taimatsu.testing import load_torch_state  # noqa: E402

pytestmark = pytest.mark.parity


def models():
    def build(lib):
        return lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.ReLU(),
                                 lib.nn.Linear(4, 2))
    torch.manual_seed(0)
    theirs = build(torch)
    ours = build(taimatsu)
    load_torch_state(ours, theirs)
    return ours, theirs


def perturb(ours, theirs, k):
    """Moves both models' weights (and BatchNorm statistics) the same way."""
    rng = np.random.default_rng(k)
    with torch.no_grad():
        for b in theirs.state_dict().values():
            if b.dtype.is_floating_point:
                delta = rng.normal(0, 0.1, size=tuple(b.shape)).astype(np.float32)
                b += torch.from_numpy(delta)
            else:
                b += 1
    load_torch_state(ours, theirs)


def assert_same_weights(ours, theirs, rtol=1e-6):
    for (name, a), (_, b) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        np.testing.assert_allclose(np.asarray(a._data), b.numpy(), rtol=rtol, atol=1e-7,
                                   err_msg=name)


AVERAGING = {
    "swa": lambda lib: {},
    "swa-buffers": lambda lib: dict(use_buffers=True),
    "ema": lambda lib: dict(multi_avg_fn=lib.optim.swa_utils.get_ema_multi_avg_fn(0.9)),
    "ema-buffers": lambda lib: dict(multi_avg_fn=lib.optim.swa_utils.get_ema_multi_avg_fn(0.7),
                                    use_buffers=True),
    "swa-multi": lambda lib: dict(multi_avg_fn=lib.optim.swa_utils.get_swa_multi_avg_fn()),
    "ema-avg_fn": lambda lib: dict(avg_fn=lib.optim.swa_utils.get_ema_avg_fn(0.8)),
    "swa-avg_fn": lambda lib: dict(avg_fn=lib.optim.swa_utils.get_swa_avg_fn()),
}


@pytest.mark.parametrize("how", list(AVERAGING))
def test_averaged_model_matches_torch(how):
    ours, theirs = models()
    avg = swa_utils.AveragedModel(ours, **AVERAGING[how](taimatsu))
    tavg = torch.optim.swa_utils.AveragedModel(theirs, **AVERAGING[how](torch))
    for k in range(6):
        perturb(ours, theirs, k)
        avg.update_parameters(ours)
        tavg.update_parameters(theirs)
    assert int(avg.n_averaged) == int(tavg.n_averaged) == 6
    assert list(avg.state_dict()) == list(tavg.state_dict())
    assert_same_weights(avg, tavg)
    x = np.random.default_rng(9).standard_normal((5, 3)).astype(np.float32)
    avg.eval()
    tavg.eval()
    np.testing.assert_allclose(avg(taimatsu.tensor(x)).detach().numpy(),
                               tavg(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_update_bn_matches_torch():
    ours, theirs = models()
    perturb(ours, theirs, 0)
    rng = np.random.default_rng(1)
    batches = [rng.standard_normal((8, 3)).astype(np.float32) for _ in range(4)]
    ours.eval()
    theirs.eval()
    swa_utils.update_bn([(taimatsu.tensor(x), 0) for x in batches], ours)
    torch.optim.swa_utils.update_bn([(torch.tensor(x), 0) for x in batches], theirs)
    assert not ours.training  # the mode is restored
    assert ours[1].momentum == theirs[1].momentum == 0.1
    assert_same_weights(ours, theirs, rtol=1e-5)


def test_swa_training_loop_matches_torch():
    """The documented recipe: train, average from a start epoch with SWALR, update_bn."""
    ours, theirs = models()
    rng = np.random.default_rng(2)
    data = [(rng.standard_normal((8, 3)).astype(np.float32),
             rng.standard_normal((8, 2)).astype(np.float32)) for _ in range(3)]

    def setup(lib, model):
        opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        return (opt, lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10),
                lib.optim.swa_utils.AveragedModel(model),
                lib.optim.swa_utils.SWALR(opt, swa_lr=0.05, anneal_epochs=2))

    runs = []
    for lib, model in ((taimatsu, ours), (torch, theirs)):
        opt, sched, swa_model, swa_sched = setup(lib, model)
        for epoch in range(8):
            for x, y in data:
                opt.zero_grad()
                loss = ((model(lib.tensor(x)) - lib.tensor(y)) ** 2).mean()
                loss.backward()
                opt.step()
            if epoch >= 4:
                swa_model.update_parameters(model)
                swa_sched.step()
            else:
                sched.step()
        lib.optim.swa_utils.update_bn([lib.tensor(x) for x, _ in data], swa_model)
        runs.append(swa_model)
    assert_same_weights(runs[0], runs[1], rtol=1e-4)
