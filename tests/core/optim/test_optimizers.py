"""Each optimizer: argument checks with PyTorch's messages, state it creates, hand-computed
first steps, and that it actually minimizes a simple objective."""

import numpy as np
import pytest

import taimatsu
from taimatsu import optim

ALL = ["SGD", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "RMSprop", "Adagrad", "Adadelta",
       "Rprop"]
STATE_KEYS = {
    "SGD": ["momentum_buffer"],
    "Adam": ["step", "exp_avg", "exp_avg_sq"],
    "AdamW": ["step", "exp_avg", "exp_avg_sq"],
    "Adamax": ["step", "exp_avg", "exp_inf"],
    "NAdam": ["step", "mu_product", "exp_avg", "exp_avg_sq"],
    "RAdam": ["step", "exp_avg", "exp_avg_sq"],
    "RMSprop": ["step", "square_avg"],
    "Adagrad": ["step", "sum"],
    "Adadelta": ["step", "square_avg", "acc_delta"],
    "Rprop": ["step", "prev", "step_size"],
}
LEARNS = {"SGD": dict(lr=0.05, momentum=0.9), "Adam": dict(lr=0.1), "AdamW": dict(lr=0.1),
          "Adamax": dict(lr=0.1), "NAdam": dict(lr=0.1), "RAdam": dict(lr=0.1),
          "RMSprop": dict(lr=0.05), "Adagrad": dict(lr=0.5), "Adadelta": dict(lr=10.0),
          "Rprop": dict()}


def param(values, dtype=taimatsu.float32):
    return taimatsu.tensor(np.asarray(values, dtype=np.float64), dtype=dtype,
                           requires_grad=True)


@pytest.mark.parametrize("name", ALL)
def test_negative_learning_rate_is_refused(name):
    with pytest.raises(ValueError) as info:
        getattr(optim, name)([param([1.0])], lr=-0.1)
    assert str(info.value) == "Invalid learning rate: -0.1"


@pytest.mark.parametrize("name", ALL)
def test_tensor_lr_must_have_one_element(name):
    with pytest.raises(ValueError, match="^Tensor lr must be 1-element$"):
        getattr(optim, name)([param([1.0])], lr=taimatsu.tensor([0.1, 0.2]))


@pytest.mark.parametrize("name,kw,message", [
    ("SGD", dict(momentum=-1), "Invalid momentum value: -1"),
    ("SGD", dict(weight_decay=-0.5), "Invalid weight_decay value: -0.5"),
    ("SGD", dict(nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
    ("SGD", dict(nesterov=True, momentum=0.9, dampening=0.1),
     "Nesterov momentum requires a momentum and zero dampening"),
    ("Adam", dict(eps=-1.0), "Invalid epsilon value: -1.0"),
    ("Adam", dict(betas=(1.0, 0.9)), "Invalid beta parameter at index 0: 1.0"),
    ("Adam", dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    ("Adam", dict(betas=(0, 0.9)), "betas must be either both floats or both Tensors"),
    ("AdamW", dict(weight_decay=-1.0), "Invalid weight_decay value: -1.0"),
    ("Adamax", dict(betas=(0.9, 1.5)), "Invalid beta parameter at index 1: 1.5"),
    ("NAdam", dict(momentum_decay=-1.0), "Invalid momentum_decay value: -1.0"),
    ("RAdam", dict(eps=-1e-8), "Invalid epsilon value: -1e-08"),
    ("RMSprop", dict(alpha=-0.1), "Invalid alpha value: -0.1"),
    ("RMSprop", dict(momentum=-0.1), "Invalid momentum value: -0.1"),
    ("Adagrad", dict(lr_decay=-0.1), "Invalid lr_decay value: -0.1"),
    ("Adagrad", dict(initial_accumulator_value=-1),
     "Invalid initial_accumulator_value value: -1"),
    ("Adadelta", dict(rho=1.5), "Invalid rho value: 1.5"),
    ("Rprop", dict(etas=(1.5, 1.2)), "Invalid eta values: 1.5, 1.2"),
])
def test_invalid_options(name, kw, message):
    with pytest.raises(ValueError) as info:
        getattr(optim, name)([param([1.0])], **kw)
    assert str(info.value) == message


def test_fused_and_foreach_together_are_refused():
    with pytest.raises(RuntimeError, match="`fused` and `foreach` cannot be `True` together."):
        optim.Adam([param([1.0])], fused=True, foreach=True)


@pytest.mark.parametrize("name", ALL)
def test_state_keys_shapes_and_dtypes(name):
    p = param(np.ones((2, 3)), dtype=taimatsu.float64)
    opt = getattr(optim, name)([p], **({"momentum": 0.9} if name == "SGD" else {}))
    p.grad = taimatsu.ones(2, 3, dtype=taimatsu.float64)
    opt.step()
    state = opt.state[p]
    assert list(state) == STATE_KEYS[name]
    for key, value in state.items():
        if key in ("step", "mu_product"):
            assert value.shape == () and value.dtype is taimatsu.float32
        else:
            assert value.shape == (2, 3) and value.dtype is taimatsu.float64


@pytest.mark.parametrize("name", ALL)
def test_minimizes_a_quadratic(name):
    target = np.array([1.0, -2.0, 0.5, 3.0])
    p = param(np.zeros(4))
    opt = getattr(optim, name)([p], **LEARNS[name])

    def loss():
        return ((p - taimatsu.tensor(target, dtype=taimatsu.float32)) ** 2).sum()

    start = float(loss())
    for _ in range(100):
        opt.zero_grad()
        loss().backward()
        opt.step()
    assert float(loss()) < 0.05 * start


@pytest.mark.parametrize("name", ALL)
def test_maximize_climbs(name):
    p = param(np.zeros(3))
    opt = getattr(optim, name)([p], maximize=True, **LEARNS[name])
    for _ in range(20):
        opt.zero_grad()
        (-(p - 1.0) ** 2).sum().backward()  # concave, maximum at 1
        opt.step()
    assert np.all(p.detach().numpy() > 0.0)


def test_sgd_momentum_by_hand():
    p = param([1.0, 2.0])
    opt = optim.SGD([p], lr=0.1, momentum=0.5, dampening=0.2, weight_decay=0.1)
    g = np.array([1.0, -1.0])
    expected, buf = np.array([1.0, 2.0]), None
    for _ in range(3):
        p.grad = taimatsu.tensor(g, dtype=taimatsu.float32)
        opt.step()
        d = g + 0.1 * expected
        buf = d if buf is None else 0.5 * buf + 0.8 * d
        expected = expected - 0.1 * buf
    np.testing.assert_allclose(p.detach().numpy(), expected, rtol=1e-6)


def test_adam_first_step_moves_by_lr():
    # With bias correction the first Adam step is lr * g / (|g| + eps') for every entry.
    p = param([0.0, 0.0, 0.0])
    opt = optim.Adam([p], lr=0.01)
    p.grad = taimatsu.tensor([3.0, -0.2, 1e-3])
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), [-0.01, 0.01, -0.01], rtol=1e-4)


def test_adamw_decays_the_weights_directly():
    p = param([2.0])
    opt = optim.AdamW([p], lr=0.1, weight_decay=0.5)
    p.grad = taimatsu.tensor([0.0])
    opt.step()
    # zero gradient: only the decoupled decay acts, p *= 1 - lr * wd
    np.testing.assert_allclose(p.detach().numpy(), [2.0 * (1 - 0.05)], rtol=1e-6)
    assert opt.param_groups[0]["decoupled_weight_decay"] is True


def test_rprop_sign_logic():
    p = param([0.0, 0.0])
    opt = optim.Rprop([p], lr=0.1, etas=(0.5, 2.0), step_sizes=(0.01, 1.0))
    for g in ([1.0, 1.0], [1.0, -1.0], [1.0, -1.0]):
        p.grad = taimatsu.tensor(g)
        opt.step()
    # coordinate 0: steps 0.1, 0.2, 0.4 down; coordinate 1: 0.1 down, flip (step size
    # halves to 0.05, no move), then up by 0.05
    np.testing.assert_allclose(p.detach().numpy(), [-0.7, -0.05], rtol=1e-6)
    np.testing.assert_allclose(opt.state[p]["step_size"].numpy(), [0.4, 0.05], rtol=1e-6)


def test_adagrad_creates_state_up_front():
    p = param([1.0, 2.0])
    opt = optim.Adagrad([p], initial_accumulator_value=0.25)
    np.testing.assert_array_equal(opt.state[p]["sum"].numpy(), [0.25, 0.25])
    assert float(opt.state[p]["step"]) == 0.0


@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
def test_lbfgs_minimizes_rosenbrock(line_search):
    xy = param([-1.5, 2.0], dtype=taimatsu.float64)
    opt = optim.LBFGS([xy], lr=1 if line_search else 0.1, max_iter=50,
                      line_search_fn=line_search)

    def closure():
        opt.zero_grad()
        x, y = xy[0], xy[1]
        loss = (1 - x) ** 2 + 100 * (y - x * x) ** 2
        loss.backward()
        return loss

    for _ in range(20):
        opt.step(closure)
    np.testing.assert_allclose(xy.detach().numpy(), [1.0, 1.0], atol=1e-3)
    assert opt.state[xy]["n_iter"] > 0


def test_lbfgs_errors():
    a, b = param([1.0]), param([2.0])
    with pytest.raises(ValueError, match="^LBFGS doesn't support per-parameter options "
                                         "\\(parameter groups\\)$"):
        optim.LBFGS([{"params": [a]}, {"params": [b]}])
    opt = optim.LBFGS([a], line_search_fn="backtracking")

    def closure():
        opt.zero_grad()
        loss = (a * a).sum()
        loss.backward()
        return loss

    with pytest.raises(RuntimeError, match="^only 'strong_wolfe' is supported$"):
        opt.step(closure)
    assert optim.LBFGS([b]).param_groups[0]["max_eval"] == 25


def test_lbfgs_stops_at_a_stationary_point():
    p = param([0.0, 0.0])
    opt = optim.LBFGS([p])
    evals = []

    def closure():
        evals.append(1)
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    opt.step(closure)
    assert len(evals) == 1  # gradient already zero: one evaluation, no update
    np.testing.assert_array_equal(p.detach().numpy(), [0.0, 0.0])
