"""Module and containers against PyTorch: names, state_dict layout, reprs, hooks, messages."""

from collections import OrderedDict

import numpy as np
import pytest

import taimatsu as tm
from taimatsu import nn


def _build(lib):
    """The same model in either framework (containers nested two deep)."""
    n = lib.nn

    class Block(n.Module):
        def __init__(self):
            super().__init__()
            self.layers = n.ModuleList([n.Linear(4, 4), n.Linear(4, 4)])
            self.heads = n.ModuleDict({"b": n.Linear(4, 2), "a": n.Linear(4, 3, bias=False)})
            self.gains = n.ParameterList([n.Parameter(lib.ones(4)), n.Parameter(lib.ones(4))])
            self.extra = n.ParameterDict({"scale": n.Parameter(lib.ones(1))})
            self.register_buffer("count", lib.zeros((), dtype=lib.int64))
            self.register_buffer("tmp", lib.zeros(2), persistent=False)

        def forward(self, x):
            for layer, g in zip(self.layers, self.gains):
                x = lib.tanh(layer(x)) * g
            return self.heads["b"](x) * self.extra["scale"], self.heads["a"](x)

    return n.Sequential(OrderedDict([("embed", n.Linear(3, 4)), ("block", Block())]))


def test_names_state_dict_and_metadata_match(torch):
    ours, theirs = _build(tm), _build(torch)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    sd_ours, sd_theirs = ours.state_dict(), theirs.state_dict()
    assert list(sd_ours) == list(sd_theirs)
    assert dict(sd_ours._metadata) == dict(sd_theirs._metadata)
    assert [tuple(v.shape) for v in sd_ours.values()] == \
        [tuple(v.shape) for v in sd_theirs.values()]


def test_torch_state_dict_loads_and_outputs_match(torch):
    ours, theirs = _build(tm), _build(torch)
    state = {k: v.numpy() for k, v in theirs.state_dict().items()}
    result = ours.load_state_dict({k: tm.tensor(v) for k, v in state.items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    for a, b in zip(ours(tm.tensor(x)), theirs(torch.from_numpy(x))):
        assert np.allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)
    # and back: a taimatsu state_dict loads into torch
    theirs2 = _build(torch)
    theirs2.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                             for k, v in ours.state_dict().items()})


def test_reprs_match(torch):
    ours, theirs = repr(_build(tm)), repr(_build(torch))
    ours = ours.replace("taimatsu.FloatTensor", "torch.FloatTensor")
    ours = ours.replace("taimatsu.float32", "torch.float32")
    assert ours == theirs
    ml = [nn.Linear(2, 2)] * 3 + [nn.Identity()]
    tml = [torch.nn.Linear(2, 2)] * 3 + [torch.nn.Identity()]
    assert repr(nn.ModuleList(ml)) == repr(torch.nn.ModuleList(tml))
    assert repr(nn.Sequential()) == repr(torch.nn.Sequential())


def test_load_errors_match(torch):
    def error(module, sd, **kw):
        with pytest.raises(Exception) as info:
            module.load_state_dict(sd, **kw)
        return type(info.value), str(info.value).replace("taimatsu", "torch")

    ours, theirs = _build(tm), _build(torch)
    sd_o, sd_t = ours.state_dict(), theirs.state_dict()
    for sd in (sd_o, sd_t):
        del sd["embed.bias"]
        sd["block.layers.0.junk"] = sd["block.count"]
        sd["nowhere"] = sd["block.count"]
    sd_o["block.layers.1.weight"] = tm.zeros(4, 5)
    sd_t["block.layers.1.weight"] = torch.zeros(4, 5)
    assert error(ours, sd_o) == error(theirs, sd_t)
    with pytest.raises(RuntimeError):
        ours.load_state_dict(sd_o, strict=False)  # size mismatches are errors either way
    sd_o["block.layers.1.weight"] = tm.zeros(4, 4)
    sd_t["block.layers.1.weight"] = torch.zeros(4, 4)
    r_o, r_t = ours.load_state_dict(sd_o, strict=False), theirs.load_state_dict(sd_t,
                                                                                strict=False)
    assert r_o.missing_keys == r_t.missing_keys
    assert r_o.unexpected_keys == r_t.unexpected_keys
    assert repr(r_o) == repr(r_t)


def test_attribute_errors_match(torch):
    def error(fn):
        with pytest.raises(Exception) as info:
            fn()
        return type(info.value), str(info.value).replace("taimatsu", "torch")

    for lib in (tm, torch):
        lib._probe = lib.nn.Linear(2, 2)
    cases = [
        lambda lib: lib._probe.nothing,
        lambda lib: setattr(lib._probe, "weight", lib.ones(2, 2)),
        lambda lib: lib._probe.register_buffer("weight", lib.ones(1)),
        lambda lib: lib._probe.register_parameter("a.b", None),
        lambda lib: lib._probe.add_module("x", 3),
        lambda lib: lib._probe.get_submodule("a.b"),
        lambda lib: lib._probe.get_parameter("bias.x"),
        lambda lib: lib._probe.to(lib.int64),
        lambda lib: lib._probe.train("no"),
        lambda lib: lib.nn.Sequential(lib._probe)[3],
        lambda lib: lib.nn.Sequential(lib._probe) + lib._probe,
        lambda lib: lib.nn.ParameterDict()[3],
    ]
    for case in cases:
        assert error(lambda case=case: case(tm)) == error(lambda case=case: case(torch))
    for lib in (tm, torch):
        del lib._probe


def test_hooks_fire_like_torch(torch):
    def trace(lib):
        log = []
        model = lib.nn.Sequential(lib.nn.Linear(3, 3), lib.nn.Linear(3, 2))
        for name, m in model.named_modules():
            m.register_forward_pre_hook(lambda mod, a, name=name: log.append(("pre", name)))
            m.register_forward_hook(lambda mod, a, o, name=name: log.append(("fwd", name)))
            m.register_full_backward_pre_hook(
                lambda mod, go, name=name: log.append(("bwd_pre", name, tuple(go[0].shape))))
            m.register_full_backward_hook(
                lambda mod, gi, go, name=name: log.append(
                    ("bwd", name, tuple(None if g is None else tuple(g.shape) for g in gi))))
        x = lib.ones(4, 3, requires_grad=True)
        model(x).sum().backward()
        return log

    assert trace(tm) == trace(torch)


def test_backward_hook_grads_match(torch):
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    results = []
    for lib in (tm, torch):
        lin = lib.nn.Linear(3, 2)
        with lib.no_grad():
            lin.weight.copy_(lib.tensor(np.arange(6, dtype=np.float32).reshape(2, 3)))
            lin.bias.fill_(0.5)
        got = {}
        lin.register_full_backward_hook(
            lambda m, gi, go, got=got: got.update(gi=gi[0].detach().numpy(),
                                                  go=go[0].detach().numpy()))
        xt = lib.tensor(x, requires_grad=True)
        (lin(xt) ** 2).sum().backward()
        results.append(got)
    assert np.allclose(results[0]["gi"], results[1]["gi"], rtol=1e-5)
    assert np.allclose(results[0]["go"], results[1]["go"], rtol=1e-5)


def test_module_to_and_dtype_conversions_match(torch):
    ours, theirs = _build(tm), _build(torch)
    for op in ("double", "half", "bfloat16", "float"):
        getattr(ours, op)()
        getattr(theirs, op)()
        assert [str(b.dtype).split(".")[-1] for b in ours.state_dict().values()] == \
            [str(b.dtype).split(".")[-1] for b in theirs.state_dict().values()]
