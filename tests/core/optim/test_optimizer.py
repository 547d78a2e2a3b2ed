"""The Optimizer base class: parameter groups, state_dict layout and loading, zero_grad,
step hooks, the closure, and updates that stay outside autograd."""

import copy
import pickle
import warnings

import numpy as np
import pytest

import taimatsu
from taimatsu import optim
from taimatsu.optim.optimizer import Optimizer, required


def leaf(*shape, value=1.0):
    return taimatsu.full(shape, value, requires_grad=True)


def with_grad(p, value=0.5):
    p.grad = taimatsu.full(tuple(p.shape), value)
    return p


# -- construction and parameter groups ------------------------------------------------------

def test_defaults_fill_groups_and_group_options_win():
    a, b = leaf(2), leaf(3)
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1, momentum=0.9)
    assert opt.param_groups[0]["lr"] == 0.1
    assert opt.param_groups[1]["lr"] == 0.5
    assert len(opt.param_groups[1]["params"]) == 1 and opt.param_groups[1]["params"][0] is b
    assert all(g["momentum"] == 0.9 for g in opt.param_groups)
    assert opt.defaults["lr"] == 0.1


def test_generators_and_named_parameters_are_accepted():
    a, b = leaf(2), leaf(3)
    opt = optim.SGD((p for p in [a, b]), lr=0.1)
    assert opt.param_groups[0]["params"][1] is b
    named = optim.SGD([("w", a), ("b", b)], lr=0.1)
    assert named.param_groups[0]["param_names"] == ["w", "b"]
    assert "param_names" in named.state_dict()["param_groups"][0]
    with pytest.raises(ValueError, match="all optimizer param groups should be with/without "
                                         "names. cannot add param group without names"):
        named.add_param_group({"params": [leaf(1)]})
    with pytest.raises(ValueError, match="Some param names are missing"):
        optim.SGD([("w", a), b], lr=0.1)


def test_add_param_group_later():
    a, b = leaf(2), leaf(3)
    opt = optim.Adam([a], lr=0.1)
    opt.add_param_group({"params": [b], "lr": 0.01})
    assert opt.param_groups[1]["betas"] == (0.9, 0.999)
    assert opt.param_groups[1]["lr"] == 0.01
    with pytest.raises(ValueError, match="^some parameters appear in more than one parameter "
                                         "group$"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(TypeError, match="param_group must be a dict, but got <class 'list'>"):
        opt.add_param_group([b])


@pytest.mark.parametrize("params,exc,message", [
    ([], ValueError, "optimizer got an empty parameter list"),
    (taimatsu.ones(2), TypeError, "params argument given to the optimizer should be an iterable "
                                  "of Tensors or dicts, but got taimatsu.FloatTensor"),
    ({"params": {1}}, None, None),
    ([1.5], TypeError, "optimizer can only optimize Tensors, but one of the params is float"),
    ([np.ones(2)], TypeError, "optimizer can only optimize Tensors, but one of the params is "
                              "numpy.ndarray"),
])
def test_bad_params(params, exc, message):
    if exc is None:  # a set inside a group
        with pytest.raises(TypeError, match="ordering of tensors in sets will change between "
                                            "runs. Please use a list instead."):
            optim.SGD([{"params": {leaf(2)}}], lr=0.1)
        return
    with pytest.raises(exc) as info:
        optim.SGD(params, lr=0.1)
    assert str(info.value) == message


def test_non_leaf_and_duplicates():
    a = leaf(2)
    with pytest.raises(ValueError, match="^can't optimize a non-leaf Tensor$"):
        optim.SGD([a * 2], lr=0.1)
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optim.SGD([a, a], lr=0.1)


def test_required_option_must_be_given():
    class Custom(Optimizer):
        def __init__(self, params, lr=required):
            super().__init__(params, {"lr": lr})

    with pytest.raises(ValueError, match="^parameter group didn't specify a value of required "
                                         "optimization parameter lr$"):
        Custom([leaf(2)])
    assert Custom([{"params": [leaf(2)], "lr": 0.3}]).param_groups[0]["lr"] == 0.3
    assert repr(required) == "<required parameter>"


def test_differentiable_is_refused_clearly():
    with pytest.raises(RuntimeError, match="differentiable=True is not supported"):
        optim.Adam([leaf(2)], differentiable=True)


def test_repr_lists_group_options_sorted():
    opt = optim.SGD([leaf(2)], lr=0.1)
    assert repr(opt) == ("SGD (\nParameter Group 0\n    dampening: 0\n    differentiable: False\n"
                         "    foreach: None\n    fused: None\n    lr: 0.1\n    maximize: False\n"
                         "    momentum: 0\n    nesterov: False\n    weight_decay: 0\n)")


# -- step ---------------------------------------------------------------------------------

def test_step_updates_in_place_outside_autograd():
    p = with_grad(leaf(3))
    array, version = p._data, p._version
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    opt.step()
    assert p._data is array  # same memory
    np.testing.assert_allclose(p.detach().numpy(), 0.95)
    assert p.is_leaf and p.grad_fn is None and p.requires_grad
    assert p._version > version  # autograd sees the in-place change
    buf = opt.state[p]["momentum_buffer"]
    assert buf._data is not p.grad._data and not buf.requires_grad


def test_step_bumps_version_so_stale_graphs_fail():
    p = leaf(3)
    y = (p * p).sum()  # saves p for backward
    with_grad(p)
    optim.SGD([p], lr=0.1).step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_parameters_without_grad_are_skipped():
    a, b = with_grad(leaf(2)), leaf(2)
    opt = optim.Adam([a, b], lr=0.1)
    opt.step()
    assert b not in opt.state and a in opt.state
    np.testing.assert_array_equal(b.detach().numpy(), 1.0)


def test_closure_runs_with_grad_enabled_and_its_loss_is_returned():
    p = leaf(2)
    opt = optim.SGD([p], lr=0.1)
    seen = []

    def closure():
        seen.append(taimatsu.is_grad_enabled())
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with taimatsu.no_grad():
        loss = opt.step(closure)
    assert seen == [True]
    assert float(loss) == pytest.approx(2.0)
    np.testing.assert_allclose(p.detach().numpy(), 0.8)
    assert opt.step() is None


def test_step_restores_grad_mode_even_when_the_closure_fails():
    opt = optim.SGD([with_grad(leaf(2))], lr=0.1)

    def closure():
        raise KeyError("boom")

    with pytest.raises(KeyError):
        opt.step(closure)
    assert taimatsu.is_grad_enabled()
    with taimatsu.no_grad():
        opt.step()
        assert not taimatsu.is_grad_enabled()


def test_scratch_is_reused_between_steps():
    ps = [with_grad(leaf(50)), with_grad(leaf(10))]
    opt = optim.Adam(ps, lr=0.1)
    opt.step()
    buffers = dict(opt._scratch._flat)
    opt.step()
    assert {k: id(v) for k, v in opt._scratch._flat.items()} == \
        {k: id(v) for k, v in buffers.items()}


# -- hooks --------------------------------------------------------------------------------

def test_step_hooks_order_arguments_and_removal():
    calls = []
    opt = optim.SGD([with_grad(leaf(2))], lr=0.1)

    def pre(o, args, kwargs):
        calls.append(("pre", o is opt, args[1:], dict(kwargs)))

    def replace(o, args, kwargs):
        calls.append("replace")
        return args, {"closure": lambda: 7.0}

    h1 = opt.register_step_pre_hook(pre)
    h2 = opt.register_step_pre_hook(replace)
    h3 = opt.register_step_post_hook(lambda o, a, k: calls.append(("post", k["closure"]())))
    g1 = optim.register_optimizer_step_pre_hook(lambda o, a, k: calls.append("global-pre"))
    g2 = optim.register_optimizer_step_post_hook(lambda o, a, k: calls.append("global-post"))
    try:
        assert opt.step() == 7.0
    finally:
        g1.remove()
        g2.remove()
    assert calls == ["global-pre", ("pre", True, (), {}), "replace", ("post", 7.0),
                     "global-post"]
    for h in (h1, h2, h3):
        h.remove()
    calls.clear()
    opt.step()
    assert calls == []


def test_pre_hook_with_bad_return_value():
    opt = optim.SGD([with_grad(leaf(2))], lr=0.1)
    opt.register_step_pre_hook(lambda o, a, k: 3)
    with pytest.raises(RuntimeError, match="must return None or a tuple of \\(new_args, "
                                           "new_kwargs\\), but got 3."):
        opt.step()


def test_state_dict_hooks():
    opt = optim.SGD([with_grad(leaf(2))], lr=0.1)
    log = []
    opt.register_state_dict_pre_hook(lambda o: log.append("pre"))
    opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
    opt.register_state_dict_pre_hook(lambda o: log.append("first"), prepend=True)
    assert opt.state_dict()["extra"] == 1
    assert log == ["first", "pre"]
    opt.register_load_state_dict_pre_hook(lambda o, sd: log.append("load-pre"))
    opt.register_load_state_dict_post_hook(lambda o: log.append("load-post"))
    opt.load_state_dict(opt.state_dict())
    assert log[-2:] == ["load-pre", "load-post"]


# -- zero_grad ----------------------------------------------------------------------------

def test_zero_grad():
    p = with_grad(leaf(3))
    opt = optim.SGD([p], lr=0.1)
    grad = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is grad
    np.testing.assert_array_equal(grad.numpy(), 0.0)
    opt.zero_grad()
    assert p.grad is None


def test_zero_grad_detaches_a_grad_with_history():
    p = leaf(2)
    (p * p).sum().backward(create_graph=True)
    assert p.grad.grad_fn is not None
    optim.SGD([p], lr=0.1).zero_grad(set_to_none=False)
    assert p.grad.grad_fn is None and not p.grad.requires_grad
    np.testing.assert_array_equal(p.grad.numpy(), 0.0)


# -- state_dict ---------------------------------------------------------------------------

def test_state_dict_layout():
    a, b, c = with_grad(leaf(2)), with_grad(leaf(3)), leaf(1)
    opt = optim.Adam([{"params": [a, c]}, {"params": [b], "lr": 0.01}], lr=0.1)
    opt.step()
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert sorted(sd["state"]) == [0, 2]  # c never had a gradient
    state = sd["state"][0]
    assert list(state) == ["step", "exp_avg", "exp_avg_sq"]
    step = state["step"]
    assert step.dtype is taimatsu.float32 and step.shape == () and float(step) == 1.0
    assert state["exp_avg"].shape == (2,)
    assert state["exp_avg"] is opt.state[a]["exp_avg"]  # not a copy, as in torch
    assert sd["param_groups"][1]["lr"] == 0.01


def test_step_state_follows_a_float64_default_dtype():
    previous = taimatsu.get_default_dtype()
    taimatsu.set_default_dtype(taimatsu.float64)
    try:
        p = with_grad(leaf(2))
        opt = optim.NAdam([p])
        opt.step()
    finally:
        taimatsu.set_default_dtype(previous)
    assert opt.state[p]["step"].dtype is taimatsu.float64
    assert opt.state[p]["mu_product"].dtype is taimatsu.float64


def test_load_state_dict_round_trip_and_continue():
    def trained(steps):
        p = leaf(4)
        opt = optim.Adam([p], lr=0.1, amsgrad=True)
        for k in range(steps):
            p.grad = taimatsu.tensor(np.cos(np.arange(4.0) + k).astype(np.float32))
            opt.step()
        return p, opt

    p, opt = trained(6)
    q = taimatsu.tensor(p.detach().numpy().copy(), requires_grad=True)
    copy_opt = optim.Adam([q], lr=0.5)
    copy_opt.load_state_dict(copy.deepcopy(opt.state_dict()))
    assert copy_opt.param_groups[0]["lr"] == 0.1 and copy_opt.param_groups[0]["params"][0] is q
    for k in range(6, 9):
        g = taimatsu.tensor(np.cos(np.arange(4.0) + k).astype(np.float32))
        p.grad, q.grad = g, g.clone()
        opt.step()
        copy_opt.step()
    np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


def test_load_state_dict_casts_like_torch():
    p = leaf(3)  # float32
    opt = optim.Adam([p])
    saved = {"state": {0: {"step": taimatsu.tensor(4.0, dtype=taimatsu.float64),
                           "exp_avg": taimatsu.zeros(3, dtype=taimatsu.float64),
                           "exp_avg_sq": taimatsu.zeros(3, dtype=taimatsu.float64)}},
             "param_groups": [dict(opt.state_dict()["param_groups"][0])]}
    opt.load_state_dict(saved)
    state = opt.state[p]
    assert state["exp_avg"].dtype is taimatsu.float32  # floats follow the parameter
    assert state["step"].dtype is taimatsu.float64  # 'step' is kept as saved


def test_load_state_dict_validates_groups():
    opt = optim.SGD([leaf(2), leaf(2)], lr=0.1)
    sd = opt.state_dict()
    two = optim.SGD([{"params": [leaf(2)]}, {"params": [leaf(2)]}], lr=0.1)
    with pytest.raises(ValueError, match="^loaded state dict has a different number of "
                                         "parameter groups$"):
        two.load_state_dict(sd)
    one = optim.SGD([leaf(2)], lr=0.1)
    with pytest.raises(ValueError, match="^loaded state dict contains a parameter group that "
                                         "doesn't match the size of optimizer's group$"):
        one.load_state_dict(sd)


def test_load_state_dict_restores_missing_group_defaults():
    opt = optim.Adam([leaf(2)])
    sd = opt.state_dict()
    del sd["param_groups"][0]["amsgrad"]  # as saved by an older version
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["amsgrad"] is False


def test_deepcopy_and_pickle_keep_state():
    p = with_grad(leaf(2))
    opt = optim.RMSprop([p], momentum=0.5)
    opt.step()
    clone = copy.deepcopy(opt)
    assert clone.state_dict()["param_groups"] == opt.state_dict()["param_groups"]
    clone.step()  # still works: hooks and scratch come back
    restored = pickle.loads(pickle.dumps(opt))
    (p2,) = restored.param_groups[0]["params"]
    np.testing.assert_array_equal(restored.state[p2]["square_avg"].numpy(),
                                  opt.state[p]["square_avg"].numpy())


def test_no_warnings_in_a_normal_loop():
    p = leaf(3)
    opt = optim.Adam([p], lr=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            opt.zero_grad()
            (p * p).sum().backward()
            opt.step()


@pytest.mark.parametrize("name,kw", [
    ("SGD", dict(lr=0.1, momentum=0.9, weight_decay=0.1)), ("Adam", dict(amsgrad=True)),
    ("AdamW", dict()), ("Adamax", dict()), ("RAdam", dict()), ("RMSprop", dict(centered=True)),
    ("Adagrad", dict()), ("Adadelta", dict()), ("Rprop", dict(maximize=True)),
])
def test_packed_updates_of_small_parameters_are_bit_identical(name, kw):
    """foreach (the default) packs small parameters into one update; foreach=False updates
    each on its own. The kernels are elementwise, so both give exactly the same bits."""
    rng = np.random.default_rng(0)
    shapes = [(3,), (2, 5), (), (7,), (2000,)]
    starts = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    runs = []
    for foreach in (None, False):
        ps = [taimatsu.tensor(a.copy(), requires_grad=True) for a in starts]
        opt = getattr(optim, name)(ps, foreach=foreach, **kw)
        for k in range(4):
            for p in ps:
                p.grad = taimatsu.tensor(np.sin(p.detach().numpy() + k).astype(np.float32))
            opt.step()
        runs.append((ps, opt))
    (packed, packed_opt), (single, single_opt) = runs
    for a, b in zip(packed, single):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    for a, b in zip(packed, single):
        for key, value in packed_opt.state[a].items():
            np.testing.assert_array_equal(value.numpy(), single_opt.state[b][key].numpy())
