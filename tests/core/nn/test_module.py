"""nn.Module, Parameter and Buffer: registration, traversal, state_dict, hooks, dtype moves."""

from __future__ import annotations

import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import taimatsu as tm
from taimatsu import nn
from taimatsu.nn import Buffer, Module, Parameter


class Net(Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 3)
        self.fc2 = nn.Linear(3, 2)
        self.register_buffer("steps", tm.zeros((), dtype=tm.int64))
        self.register_buffer("cache", tm.ones(2), persistent=False)
        self.scale = Parameter(tm.ones(1))

    def forward(self, x):
        return self.fc2(tm.tanh(self.fc1(x))) * self.scale


# -- Parameter and Buffer ----------------------------------------------------------------------

def test_parameter_is_a_leaf_sharing_memory():
    t = tm.arange(3.0)
    p = Parameter(t)
    assert isinstance(p, tm.Tensor) and p.requires_grad and p.is_leaf
    p.data[0] = 7.0
    assert t[0].item() == 7.0
    assert type(p * 2) is tm.Tensor
    assert type(p.detach()) is tm.Tensor
    assert not Parameter(tm.ones(2), requires_grad=False).requires_grad
    assert Parameter().shape == (0,)


def test_parameter_repr():
    p = Parameter(tm.tensor([1.0, 2.0]))
    assert repr(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"


def test_parameter_of_integers_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating point and complex"):
        Parameter(tm.tensor([1, 2]))
    assert Parameter(tm.tensor([1, 2]), requires_grad=False).dtype == tm.int64


def test_parameter_deepcopy_and_pickle_keep_class_and_values():
    p = Parameter(tm.randn(2, 3))
    (p * 2).sum().backward()
    p.tag = "w"
    for q in (copy.deepcopy(p), pickle.loads(pickle.dumps(p))):
        assert type(q) is Parameter and q.requires_grad and q.tag == "w"
        assert np.array_equal(q.detach().numpy(), p.detach().numpy())
        assert q.data_ptr() != p.data_ptr()
    assert copy.deepcopy(p).grad is not None  # deepcopy keeps .grad, pickling drops it
    assert pickle.loads(pickle.dumps(p)).grad is None


def test_buffer_marker_registers_buffers():
    m = Module()
    m.b = Buffer(tm.ones(2))
    m.nb = Buffer(tm.zeros(1), persistent=False)
    assert isinstance(m.b, Buffer) and not isinstance(tm.ones(1), Buffer)
    assert list(m._buffers) == ["b", "nb"]
    assert list(m.state_dict()) == ["b"]


# -- registration and attribute routing ---------------------------------------------------------

def test_attribute_routing_into_dicts():
    net = Net()
    assert list(net._parameters) == ["scale"]
    assert list(net._modules) == ["fc1", "fc2"]
    assert list(net._buffers) == ["steps", "cache"]
    assert net._non_persistent_buffers_set == {"cache"}
    assert "fc1" not in net.__dict__ and "scale" not in net.__dict__
    net.scale = None  # a parameter slot can be emptied
    assert net._parameters["scale"] is None and net.scale is None
    net.steps = tm.ones(())  # assigning a tensor to a buffer name replaces the buffer
    assert net._buffers["steps"].item() == 1.0
    del net.fc2
    assert "fc2" not in net._modules
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'fc2'"):
        _ = net.fc2


def test_reassigning_a_name_moves_it_between_kinds():
    m = Module()
    m.x = nn.Linear(1, 1)
    m.x = Parameter(tm.ones(1))
    assert "x" in m._parameters and "x" not in m._modules
    m.b = tm.ones(1)  # a plain attribute first, then a Buffer under the same name
    m.b = Buffer(tm.zeros(1))
    assert "b" in m._buffers and "b" not in m.__dict__
    with pytest.raises(TypeError, match="cannot assign 'taimatsu.nn.modules.linear.Linear' as "
                                        "parameter 'x'"):
        m.x = nn.Linear(1, 1)  # as torch: a parameter slot only takes Parameters or None


def test_assignment_type_errors():
    net = Net()
    with pytest.raises(TypeError, match=r"cannot assign 'taimatsu.FloatTensor' as parameter "
                                        r"'scale' \(taimatsu.nn.Parameter or None expected\)"):
        net.scale = tm.ones(1)
    with pytest.raises(TypeError, match="cannot assign 'int' as child module 'fc1'"):
        net.fc1 = 3
    with pytest.raises(TypeError, match="cannot assign 'str' as buffer 'steps'"):
        net.steps = "x"


def test_assignment_before_init_is_refused():
    class Early(Module):
        def __init__(self):
            self.p = Parameter(tm.ones(1))

    with pytest.raises(AttributeError,
                       match=r"cannot assign parameters before Module.__init__\(\) call"):
        Early()


def test_register_errors():
    m = Module()
    m.plain = 3
    with pytest.raises(KeyError, match="attribute 'plain' already exists"):
        m.register_buffer("plain", tm.ones(1))
    with pytest.raises(KeyError, match=r"buffer name can.*t contain"):
        m.register_buffer("a.b", tm.ones(1))
    with pytest.raises(KeyError, match=r"parameter name can.*t be empty string"):
        m.register_parameter("", None)
    with pytest.raises(TypeError, match="parameter name should be a string. Got int"):
        m.register_parameter(1, None)
    with pytest.raises(TypeError, match="cannot assign 'taimatsu.FloatTensor' object to "
                                        "parameter 'w'"):
        m.register_parameter("w", tm.ones(1))
    with pytest.raises(TypeError, match="cannot assign 'list' object to buffer 'b'"):
        m.register_buffer("b", [1])
    with pytest.raises(TypeError, match="int is not a Module subclass"):
        m.add_module("c", 3)
    with pytest.raises(KeyError, match=r"module name can.*t contain .*, got: a.b"):
        m.add_module("a.b", Module())
    # Parameters are built as leaves; give one a history to reach the check
    fake = Parameter(tm.ones(1))
    fake._grad_fn = (Parameter(tm.ones(1)) * 2).grad_fn
    with pytest.raises(ValueError, match="Cannot assign non-leaf Tensor to parameter 'w'"):
        m.register_parameter("w", fake)


def test_register_module_alias_and_dir():
    m = Module()
    m.register_module("child", nn.Linear(1, 1))
    m.register_parameter("w", Parameter(tm.ones(1)))
    m.register_buffer("b", None)
    names = dir(m)
    assert {"child", "w", "b", "forward", "training"} <= set(names)
    assert m.b is None


# -- traversal ----------------------------------------------------------------------------------

def test_named_parameters_prefix_recurse_and_duplicates():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "scale", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert [n for n, _ in net.named_parameters(prefix="m")][0] == "m.scale"
    assert [n for n, _ in net.named_parameters(recurse=False)] == ["scale"]
    net.fc2.weight = net.fc1.weight  # a shared parameter is listed once ...
    net.fc2 = nn.Linear(4, 3)
    net.fc2.weight = net.fc1.weight
    assert len(list(net.parameters())) == 4
    # ... unless duplicates are asked for
    names = [n for n, _ in net.named_parameters(remove_duplicate=False)]
    assert names.count("fc2.weight") == 1 and len(names) == 5


def test_modules_children_and_buffers():
    net = Net()
    assert [n for n, _ in net.named_modules()] == ["", "fc1", "fc2"]
    assert [n for n, _ in net.named_children()] == ["fc1", "fc2"]
    assert list(net.children()) == [net.fc1, net.fc2]
    assert [n for n, _ in net.named_buffers()] == ["steps", "cache"]
    shared = nn.Linear(1, 1)
    seq = nn.Sequential(shared, shared)
    assert len(list(seq.modules())) == 2
    assert len(list(seq.named_modules(remove_duplicate=False))) == 3


def test_get_submodule_parameter_buffer():
    outer = nn.Sequential(OrderedDict(block=Net()))
    assert outer.get_submodule("block.fc1") is outer.block.fc1
    assert outer.get_submodule("") is outer
    assert outer.get_parameter("block.fc1.bias") is outer.block.fc1.bias
    assert outer.get_buffer("block.steps") is outer.block.steps
    with pytest.raises(AttributeError, match="Net has no attribute `fc9`"):
        outer.get_submodule("block.fc9")
    with pytest.raises(AttributeError, match="`scale` is not an nn.Module"):
        outer.get_submodule("block.scale")
    with pytest.raises(AttributeError, match="`steps` is not an nn.Parameter"):
        outer.get_parameter("block.steps")
    with pytest.raises(AttributeError, match="`scale` is not a buffer"):
        outer.get_buffer("block.scale")
    outer.set_submodule("block.fc2", nn.Identity())
    assert isinstance(outer.block.fc2, nn.Identity)


# -- modes, gradients, apply ------------------------------------------------------------------

def test_train_eval_recursive():
    net = Net()
    assert net.training and net.fc1.training
    assert net.eval() is net
    assert not net.training and not net.fc1.training
    net.train()
    assert net.fc2.training
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        net.train("yes")


def test_zero_grad_and_requires_grad_():
    net = Net()
    net(tm.randn(5, 4)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and p.grad.abs().sum().item() == 0 for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_apply_visits_children_first():
    seen = []
    net = Net()
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "Linear", "Net"]


# -- dtype and device ---------------------------------------------------------------------------

def test_to_double_keeps_parameter_identity_and_grads():
    net = Net()
    w = net.fc1.weight
    net(tm.randn(2, 4)).sum().backward()
    assert net.double() is net
    assert net.fc1.weight is w and w.dtype == tm.float64 and w.grad.dtype == tm.float64
    assert net.steps.dtype == tm.int64  # integer buffers keep their dtype
    net.to(tm.float32)
    assert w.dtype == tm.float32
    net.half()
    assert w.dtype == tm.float16
    net.bfloat16()
    assert w.dtype == tm.bfloat16
    net.float()
    assert net(tm.randn(2, 4)).dtype == tm.float32
    net.type(tm.float64)
    assert net.steps.dtype == tm.float64  # type() converts every tensor
    net.to("cpu")
    net.cpu()


def test_to_refuses_integer_dtype():
    with pytest.raises(TypeError, match="nn.Module.to only accepts floating point or complex "
                                        "dtypes, but got desired dtype=taimatsu.int32"):
        nn.Linear(1, 1).to(tm.int32)


def test_optimizer_style_update_survives_to():
    lin = nn.Linear(3, 1)
    params = list(lin.parameters())
    lin.double()
    assert params[0] is lin.weight and params[0].dtype == tm.float64


# -- state_dict ----------------------------------------------------------------------------------

def test_state_dict_keys_metadata_and_detach():
    net = Net()
    sd = net.state_dict()
    assert isinstance(sd, OrderedDict)
    assert list(sd) == ["scale", "steps", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert dict(sd._metadata) == {"": {"version": 1}, "fc1": {"version": 1},
                                  "fc2": {"version": 1}}
    assert not sd["fc1.weight"].requires_grad and type(sd["fc1.weight"]) is tm.Tensor
    assert sd["fc1.weight"].data_ptr() == net.fc1.weight.data_ptr()
    kv = net.state_dict(keep_vars=True)
    assert kv["fc1.weight"] is net.fc1.weight
    assert list(net.state_dict(prefix="model."))[0] == "model.scale"


def test_load_state_dict_round_trip():
    a, b = Net(), Net()
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    for (_, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        assert np.array_equal(p.detach().numpy(), q.detach().numpy())
        assert p.data_ptr() != q.data_ptr()  # copied, not shared


def test_load_state_dict_missing_unexpected_strict():
    net = Net()
    sd = net.state_dict()
    del sd["fc2.bias"]
    sd["fc1.extra"] = tm.ones(1)
    sd["nothere.weight"] = tm.ones(1)
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(sd)
    assert str(info.value) == (
        "Error(s) in loading state_dict for Net:\n"
        '\tMissing key(s) in state_dict: "fc2.bias". \n'
        '\tUnexpected key(s) in state_dict: "nothere.weight", "fc1.extra". ')
    result = net.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["fc2.bias"]
    assert sorted(result.unexpected_keys) == ["fc1.extra", "nothere.weight"]


def test_load_state_dict_size_mismatch_message():
    lin = nn.Linear(4, 3)
    with pytest.raises(RuntimeError) as info:
        lin.load_state_dict(nn.Linear(5, 3).state_dict())
    assert str(info.value) == (
        "Error(s) in loading state_dict for Linear:\n\tsize mismatch for weight: copying a "
        "param with shape taimatsu.Size([3, 5]) from checkpoint, the shape in current model "
        "is taimatsu.Size([3, 4]).")


def test_load_state_dict_rejects_non_mappings_and_non_tensors():
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        nn.Linear(1, 1).load_state_dict([1, 2])
    with pytest.raises(RuntimeError, match='While copying the parameter named "bias", '
                                           "expected taimatsu.Tensor or Tensor-like"):
        nn.Linear(1, 1).load_state_dict({"weight": tm.ones(1, 1), "bias": "x"})


def test_load_state_dict_accepts_numpy_and_casts():
    lin = nn.Linear(2, 1)
    lin.load_state_dict({"weight": np.array([[1.0, 2.0]]), "bias": np.array([3.0])})
    assert lin.weight.dtype == tm.float32
    assert lin.weight.tolist() == [[1.0, 2.0]] and lin.bias.item() == 3.0


def test_load_state_dict_assign():
    lin = nn.Linear(2, 1)
    w = tm.full((1, 2), 5.0, dtype=tm.float64)
    lin.load_state_dict({"weight": w, "bias": tm.zeros(1, dtype=tm.float64)}, assign=True)
    assert isinstance(lin.weight, Parameter) and lin.weight.requires_grad
    assert lin.weight.dtype == tm.float64  # assign keeps the checkpoint's properties
    assert lin.weight.data_ptr() == w.data_ptr()


def test_extra_state_round_trip():
    class WithExtra(Module):
        def __init__(self):
            super().__init__()
            self.value = 1

        def get_extra_state(self):
            return {"value": self.value}

        def set_extra_state(self, state):
            self.value = state["value"]

    a, b = WithExtra(), WithExtra()
    a.value = 42
    sd = a.state_dict()
    assert sd["_extra_state"] == {"value": 42}
    b.load_state_dict(sd)
    assert b.value == 42
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "_extra_state"'):
        b.load_state_dict({})


def test_state_dict_hooks():
    lin = nn.Linear(2, 1)
    calls = []
    lin.register_state_dict_pre_hook(lambda m, prefix, keep: calls.append(("pre", prefix)))
    lin.register_state_dict_post_hook(
        lambda m, sd, prefix, meta: sd.__setitem__(prefix + "note", tm.ones(1)))
    sd = lin.state_dict()
    assert calls == [("pre", "")] and "note" in sd

    def rename(module, state_dict, prefix, *rest):
        if prefix + "w" in state_dict:
            state_dict[prefix + "weight"] = state_dict.pop(prefix + "w")

    lin2 = nn.Linear(2, 1)
    lin2.register_load_state_dict_pre_hook(rename)
    seen = []
    lin2.register_load_state_dict_post_hook(lambda m, keys: seen.append(list(keys.missing_keys)))
    lin2.load_state_dict({"w": tm.ones(1, 2), "bias": tm.zeros(1)})
    assert lin2.weight.tolist() == [[1.0, 1.0]] and seen == [[]]

    lin3 = nn.Linear(2, 1)
    lin3.register_load_state_dict_post_hook(lambda m, keys: keys.unexpected_keys.clear())
    lin3.load_state_dict({"weight": tm.ones(1, 2), "bias": tm.zeros(1), "junk": tm.ones(1)})
    lin4 = nn.Linear(2, 1)
    lin4.register_load_state_dict_post_hook(lambda m, keys: keys)
    with pytest.raises(AssertionError, match="are not expected to return new values"):
        lin4.load_state_dict(lin3.state_dict())


def test_scalar_parameter_loads_from_one_element_checkpoint():
    m = Module()
    m.s = Parameter(tm.tensor(1.0))
    m.load_state_dict({"s": tm.tensor([3.0])})
    assert m.s.item() == 3.0


# -- calling and hooks ---------------------------------------------------------------------------

def test_missing_forward():
    with pytest.raises(NotImplementedError, match='Module \\[Module\\] is missing the required '
                                                  '"forward" function'):
        Module()(1)


def test_forward_pre_and_post_hooks():
    lin = nn.Linear(2, 2)
    log = []
    h1 = lin.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    h2 = lin.register_forward_hook(lambda m, args, out: log.append(out.shape) or out + 1)
    y = lin(tm.ones(3, 2))
    assert log == [(3, 2)]
    assert np.allclose(y.detach().numpy(), lin.bias.detach().numpy() + 1)
    h1.remove()
    h2.remove()
    assert not lin._forward_hooks and not lin._forward_pre_hooks
    assert np.allclose(lin(tm.ones(1, 2)).detach().numpy(),
                       (tm.ones(1, 2) @ lin.weight.T + lin.bias).detach().numpy())


def test_hooks_with_kwargs_prepend_and_order():
    class Add(Module):
        def forward(self, x, *, y=0):
            return x + y

    m = Add()
    order = []
    m.register_forward_hook(lambda mod, a, o: order.append("a"))
    m.register_forward_hook(lambda mod, a, o: order.append("b"), prepend=True)
    m.register_forward_pre_hook(lambda mod, a, kw: (a, {"y": 10}), with_kwargs=True)
    m.register_forward_hook(lambda mod, a, kw, o: o * kw["y"], with_kwargs=True)
    assert m(tm.tensor(1.0)).item() == 110.0
    assert order == ["b", "a"]
    m2 = Add()
    m2.register_forward_pre_hook(lambda mod, a, kw: 5, with_kwargs=True)
    with pytest.raises(RuntimeError, match="forward pre-hook must return None or a tuple of "
                                           "\\(new_args, new_kwargs\\), but got 5"):
        m2(tm.tensor(1.0))


def test_forward_hook_always_call_runs_when_forward_raises():
    class Boom(Module):
        def forward(self, x):
            raise ValueError("boom")

    m = Boom()
    seen = []
    m.register_forward_hook(lambda mod, a, o: seen.append("always"), always_call=True)
    m.register_forward_hook(lambda mod, a, o: seen.append("normal"))
    with pytest.raises(ValueError, match="boom"):
        m(1)
    assert seen == ["always"]


def test_full_backward_hook_sees_input_and_output_grads():
    lin = nn.Linear(3, 2)
    got = {}

    def hook(module, grad_input, grad_output):
        got["in"], got["out"] = grad_input, grad_output

    lin.register_full_backward_hook(hook)
    x = tm.randn(4, 3, requires_grad=True)
    lin(x).sum().backward()
    assert len(got["in"]) == 1 and len(got["out"]) == 1
    assert np.allclose(got["out"][0].numpy(), np.ones((4, 2)))
    assert np.allclose(got["in"][0].numpy(), x.grad.numpy())
    expected = np.ones((4, 2)) @ lin.weight.detach().numpy()
    assert np.allclose(x.grad.numpy(), expected, atol=1e-6)


def test_full_backward_hook_can_replace_grad_input_and_pre_hook_grad_output():
    lin = nn.Linear(3, 2)
    lin.register_full_backward_pre_hook(lambda m, go: (go[0] * 2,))
    lin.register_full_backward_hook(lambda m, gi, go: (gi[0] * 10,))
    x = tm.randn(4, 3, requires_grad=True)
    lin(x).sum().backward()
    expected = 20 * np.ones((4, 2)) @ lin.weight.detach().numpy()
    assert np.allclose(x.grad.numpy(), expected, atol=1e-5)
    # parameter grads see the doubled grad_output, not the input rescaling
    assert np.allclose(lin.bias.grad.numpy(), [8.0, 8.0])


def test_full_backward_hook_when_inputs_do_not_require_grad():
    lin = nn.Linear(3, 2)
    got = []
    lin.register_full_backward_hook(lambda m, gi, go: got.append((gi, go[0].shape)))
    lin(tm.randn(4, 3)).sum().backward()
    assert got == [((None,), (4, 2))]


def test_backward_hook_kinds_cannot_mix():
    lin = nn.Linear(1, 1)
    lin.register_full_backward_hook(lambda *a: None)
    with pytest.raises(RuntimeError, match="Cannot use both regular backward hooks and full"):
        lin.register_backward_hook(lambda *a: None)


def test_global_forward_hook():
    from taimatsu.nn.modules.module import register_module_forward_hook
    seen = []
    handle = register_module_forward_hook(lambda m, a, o: seen.append(type(m).__name__))
    try:
        nn.Sequential(nn.Linear(1, 1))(tm.ones(1, 1))
    finally:
        handle.remove()
    assert seen == ["Linear", "Sequential"]
    nn.Linear(1, 1)(tm.ones(1, 1))
    assert len(seen) == 2


def test_handle_as_context_manager():
    lin = nn.Linear(1, 1)
    with lin.register_forward_hook(lambda m, a, o: o * 0):
        assert lin(tm.ones(1, 1)).item() == 0.0
    assert not lin._forward_hooks


# -- repr, copy, pickle -------------------------------------------------------------------------

def test_nested_repr():
    net = Net()
    assert repr(net) == (
        "Net(\n"
        "  (fc1): Linear(in_features=4, out_features=3, bias=True)\n"
        "  (fc2): Linear(in_features=3, out_features=2, bias=True)\n"
        ")")
    assert repr(Module()) == "Module()"

    class Multi(Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.Sequential(nn.Linear(1, 1))

        def extra_repr(self):
            return "a=1\nb=2"

    assert repr(Multi()) == (
        "Multi(\n  a=1\n  b=2\n  (inner): Sequential(\n"
        "    (0): Linear(in_features=1, out_features=1, bias=True)\n  )\n)")


def test_deepcopy_and_pickle_module():
    net = Net()
    net(tm.randn(2, 4)).sum().backward()
    for clone in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        assert type(clone) is Net
        for (n1, p1), (n2, p2) in zip(net.named_parameters(), clone.named_parameters()):
            assert n1 == n2 and type(p2) is Parameter
            assert np.array_equal(p1.detach().numpy(), p2.detach().numpy())
            assert p1.data_ptr() != p2.data_ptr()
        x = tm.randn(3, 4)
        assert np.allclose(clone(x).detach().numpy(), net(x).detach().numpy())


def test_pickle_restores_missing_hook_dicts():
    lin = nn.Linear(1, 1)
    state = dict(lin.__dict__)
    del state["_forward_hooks_always_called"]
    fresh = nn.Linear.__new__(nn.Linear)
    fresh.__setstate__(state)
    assert fresh._forward_hooks_always_called == OrderedDict()
    fresh(tm.ones(1, 1))


def test_module_init_rejects_unexpected_arguments():
    with pytest.raises(TypeError, match="unexpected keyword argument 'x'"):
        Module(x=1)


def test_deepcopy_while_a_graph_is_alive_gives_an_independent_copy():
    lin = nn.Linear(2, 2)
    pending = lin(tm.randn(3, 2)).sum()  # lin's parameters have live grad accumulators
    clone = copy.deepcopy(lin)
    clone(tm.randn(3, 2)).sum().backward()
    assert lin.weight.grad is None and clone.weight.grad is not None
    pending.backward()
    assert lin.weight.grad is not None


def test_share_memory_returns_module():
    net = Net()
    assert net.share_memory() is net
