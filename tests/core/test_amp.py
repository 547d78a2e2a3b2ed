"""taimatsu.amp: autocast regions (op policies, state, nesting, threads, the weight-cast
cache, custom Functions) and GradScaler (scaling, unscaling, skipped steps, scale updates,
checkpoints, errors)."""

from __future__ import annotations

import pickle
import threading
import warnings

import numpy as np
import pytest

import taimatsu as tm
from taimatsu.amp import _lists, _state

F = tm.nn.functional


# -- op policies ---------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [tm.bfloat16, tm.float16])
def test_lower_precision_ops_run_in_the_autocast_dtype(dtype):
    x, w = tm.randn(4, 4), tm.randn(3, 4)
    img, k = tm.randn(1, 2, 5, 5), tm.randn(3, 2, 3, 3)
    with tm.autocast("cpu", dtype=dtype):
        outs = [tm.mm(x, x), x @ x, x.matmul(x), tm.bmm(x[None], x[None]),
                tm.addmm(x, x, x), F.linear(x, w), F.conv2d(img, k),
                F.conv_transpose2d(img, k.transpose(0, 1)), tm.einsum("ij,jk->ik", x, x),
                F.prelu(x, tm.tensor([0.1])), tm.nn.Linear(4, 2)(x),
                F.scaled_dot_product_attention(x[None].half(), x[None].half(),
                                               x[None].half())]
    for out in outs[:-1]:
        assert out.dtype is dtype
    if dtype is tm.float16:
        assert outs[-1].dtype is dtype


@pytest.mark.parametrize("dtype", [tm.bfloat16, tm.float16])
def test_float32_ops_cast_low_precision_inputs_up(dtype):
    x = tm.randn(4, 4).to(dtype)
    target = tm.tensor([0, 1, 2, 3])
    with tm.autocast("cpu", dtype=dtype):
        outs = [F.cross_entropy(x, target), F.nll_loss(x, target), F.mse_loss(x, x),
                F.l1_loss(x, x), F.kl_div(x, x.float().softmax(-1), reduction="batchmean"), tm.cdist(x, x),
                x.prod(), tm.trace(x),
                F.binary_cross_entropy(x.float().sigmoid().to(dtype), tm.rand(4, 4))]
    assert all(out.dtype is tm.float32 for out in outs)


def test_promote_ops_take_the_widest_floating_type():
    low, f32, f64 = tm.randn(2, 3).bfloat16(), tm.randn(2, 3), tm.randn(2, 3).double()
    with tm.autocast("cpu"):
        assert tm.cat([low, f32]).dtype is tm.float32
        assert tm.stack([low, low]).dtype is tm.bfloat16
        assert tm.cat([low, f64]).dtype is tm.float64  # float64 is never autocast
        assert tm.stack([low, tm.ones(2, 3, dtype=tm.int64)]).dtype is tm.bfloat16
        with pytest.raises(RuntimeError, match="Unexpected floating ScalarType in "
                                               "at::autocast::prioritize"):
            tm.cat([f32.half(), f32])


def test_unlisted_ops_float64_integers_and_out_are_left_alone():
    x = tm.randn(3, 3)
    with tm.autocast("cpu"):
        assert F.relu(x).dtype is tm.float32
        assert (x + x).dtype is tm.float32
        assert F.softmax(x, -1).dtype is tm.float32  # on CUDA's list, not on the CPU's
        assert tm.mm(x.double(), x.double()).dtype is tm.float64
        assert tm.mm(x.long(), x.long()).dtype is tm.int64
        out = tm.empty(3, 3)
        assert tm.mm(x, x, out=out) is out and out.dtype is tm.float32


def test_outputs_match_computing_on_rounded_inputs():
    x, w = tm.randn(5, 8), tm.randn(3, 8)
    with tm.autocast("cpu"):
        y = F.linear(x, w)
    expected = F.linear(x.bfloat16(), w.bfloat16())
    assert tm.equal(y, expected)


def test_float32_parameters_get_float32_gradients():
    torch_free_ref = np.random.default_rng(0)
    model = tm.nn.Sequential(tm.nn.Linear(6, 5), tm.nn.ReLU(), tm.nn.Linear(5, 3))
    x = tm.tensor(torch_free_ref.standard_normal((4, 6)).astype(np.float32))
    target = tm.tensor([0, 1, 2, 1])
    with tm.autocast("cpu"):
        loss = F.cross_entropy(model(x), target)
    assert loss.dtype is tm.float32
    loss.backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g.dtype is tm.float32 for g in grads)
    model.zero_grad()
    F.cross_entropy(model(x), target).backward()  # the same in float32: close
    for g, ref in zip(grads, (p.grad for p in model.parameters())):
        np.testing.assert_allclose(g.numpy(), ref.numpy(), rtol=0.05, atol=0.02)


def test_backward_inside_the_region_and_twice_through_a_cached_cast():
    w = tm.nn.Parameter(tm.randn(3, 3))
    x = tm.randn(2, 3)
    with tm.autocast("cpu"):
        F.linear(x, w).sum().backward()
        first = w.grad.clone()
        F.linear(x, w).sum().backward()  # reuses the cached bfloat16 cast of w
    assert tm.allclose(w.grad, 2 * first)


# -- regions and state -----------------------------------------------------------------------

def test_nested_and_disabled_regions_restore_the_state():
    x = tm.randn(2, 2)
    assert not tm.is_autocast_enabled("cpu")
    with tm.autocast("cpu"):
        assert tm.mm(x, x).dtype is tm.bfloat16
        with tm.autocast("cpu", enabled=False):
            assert not tm.is_autocast_enabled("cpu")
            assert tm.mm(x, x).dtype is tm.float32
        with tm.autocast("cpu", dtype=tm.float16):
            assert tm.mm(x, x).dtype is tm.float16
            assert tm.get_autocast_dtype("cpu") is tm.float16
        assert tm.mm(x, x).dtype is tm.bfloat16
    assert not tm.is_autocast_enabled("cpu")
    assert tm.get_autocast_dtype("cpu") is tm.bfloat16
    assert _state.hook.on is False


def test_state_is_restored_when_the_region_raises():
    with pytest.raises(ValueError), tm.autocast("cpu"):
        raise ValueError
    assert not tm.is_autocast_enabled("cpu") and _state._local.nesting == 0


def test_decorator_on_functions_and_methods():
    @tm.autocast("cpu")
    def f(a, b):
        return tm.mm(a, b)

    class Net(tm.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = tm.nn.Linear(3, 3)

        @tm.autocast("cpu", dtype=tm.float16)
        def forward(self, x):
            return self.fc(x)

    x = tm.randn(3, 3)
    assert f(x, x).dtype is tm.bfloat16
    assert f.__name__ == "f"
    assert Net()(x).dtype is tm.float16
    assert not tm.is_autocast_enabled("cpu")
    with pytest.raises(TypeError, match=r"autocast\(\)\(func\) requires a callable, but got "
                                        "int"):
        tm.autocast("cpu")(3)


def test_state_is_per_thread():
    seen = {}

    def worker():
        seen["enabled"] = tm.is_autocast_enabled("cpu")
        x = tm.randn(2, 2)
        seen["dtype"] = tm.mm(x, x).dtype
        with tm.autocast("cpu", dtype=tm.float16):
            seen["inner"] = tm.mm(x, x).dtype

    with tm.autocast("cpu"):
        t = threading.Thread(target=worker)
        t.start()
        t.join()
        x = tm.randn(2, 2)
        assert tm.mm(x, x).dtype is tm.bfloat16  # the thread's region did not touch ours
    assert seen == {"enabled": False, "dtype": tm.float32, "inner": tm.float16}
    assert _state.hook.on is False


def test_state_functions():
    assert tm.get_autocast_dtype("cuda") is tm.float16
    tm.set_autocast_enabled("cpu", True)
    try:
        assert tm.is_autocast_enabled("cpu") and _state.hook.on
    finally:
        tm.set_autocast_enabled("cpu", False)
    tm.set_autocast_enabled(True)  # the older CUDA-only form
    assert tm.is_autocast_enabled() and tm.is_autocast_enabled("cuda")
    tm.set_autocast_enabled(False)
    assert not tm.is_autocast_enabled()
    with pytest.raises(TypeError, match="argument 'enabled' \\(position 2\\) must be bool, "
                                        "not int"):
        tm.set_autocast_enabled("cpu", 1)
    with pytest.raises(TypeError, match="must be str, not int"):
        tm.is_autocast_enabled(3)
    with pytest.raises(RuntimeError, match="device type at start of device string: xyz"):
        tm.get_autocast_dtype("xyz")
    with pytest.raises(TypeError, match="enabled must be a bool"):
        tm.set_autocast_cache_enabled(1)
    assert tm.autocast_increment_nesting() == 1 and tm.autocast_decrement_nesting() == 0
    with pytest.warns(DeprecationWarning, match=r"get_autocast_cpu_dtype\(\) is deprecated"):
        assert tm.get_autocast_cpu_dtype() is tm.bfloat16
    with pytest.warns(DeprecationWarning):
        assert tm.is_autocast_cpu_enabled() is False


def test_constructor_checks_and_warnings():
    with pytest.raises(ValueError, match="Expected `device_type` of type `str`, got: "
                                         "`<class 'int'>`"):
        tm.autocast(0)
    with pytest.raises(RuntimeError, match="device string: xla"):
        tm.autocast("xla")
    with pytest.warns(UserWarning, match="In CPU autocast, but the target dtype is not "
                                         "supported. Disabling autocast.\nCPU Autocast only "
                                         "supports dtypes of taimatsu.bfloat16, "
                                         "taimatsu.float16 currently."):
        region = tm.autocast("cpu", dtype=tm.float32)
    with region:
        assert not tm.is_autocast_enabled("cpu")
        assert tm.get_autocast_dtype("cpu") is tm.float32
    assert tm.amp.is_autocast_available("cpu") and tm.amp.is_autocast_available("cuda")


def test_cuda_region_without_a_gpu_warns_and_stays_off():
    if tm.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.warns(UserWarning, match="CUDA is not available"), tm.autocast("cuda"):
        assert not tm.is_autocast_enabled("cuda")


def test_deprecated_device_forms():
    with pytest.warns(FutureWarning, match=r"`torch.cpu.amp.autocast\(args...\)` is "
                                           "deprecated"):
        region = tm.cpu.amp.autocast()
    x = tm.randn(2, 2)
    with region:
        assert tm.mm(x, x).dtype is tm.bfloat16
    with pytest.warns(FutureWarning, match="torch.cpu.amp.GradScaler"):
        assert tm.cpu.amp.GradScaler().get_scale() == 65536.0
    with pytest.warns(FutureWarning, match=r"torch.cuda.amp.autocast\(args...\)"), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # no GPU: CUDA autocast stays off
        tm.cuda.amp.autocast()
    assert tm.cpu.device_count() == 1 and tm.cpu.current_device() == "cpu"


# -- the weight-cast cache ------------------------------------------------------------------

def test_weight_casts_are_cached_within_the_region():
    w = tm.nn.Parameter(tm.randn(3, 3))
    x = tm.randn(2, 3)
    with tm.autocast("cpu"):
        F.linear(x, w)
        F.linear(x, w)
        assert len(_state._local.cache) == 1
        cast = _state._local.cache[id(w)][1]
        assert cast.dtype is tm.bfloat16 and cast.grad_fn is not None
        F.linear(x, x)  # not a leaf that requires grad: never cached
        assert len(_state._local.cache) == 1
    assert _state._local.cache == {}
    with tm.autocast("cpu", cache_enabled=False):
        F.linear(x, w)
        assert _state._local.cache == {}
    with tm.no_grad(), tm.autocast("cpu"):
        F.linear(x, w)
        assert _state._local.cache == {}  # a graph-less cast must not serve later passes


# -- the policies CPU has no op for, checked through a patched list --------------------------

@pytest.fixture
def cuda_lists_on_cpu(monkeypatch):
    """Gives the CPU CUDA's policies for a few ops, so their code paths run without a GPU."""
    for name in ("softmax", "sum", "exp", "binary_cross_entropy", "dot"):
        monkeypatch.setitem(_state._BOUND["cpu"], name,
                            _state._Policy(_lists.POLICIES[name]["cuda"], "cpu"))


def test_fp32_dtype_policy_sets_the_dtype_unless_given(cuda_lists_on_cpu):
    x = tm.randn(3, 3).half()
    with tm.autocast("cpu"):
        assert F.softmax(x, -1).dtype is tm.float32
        assert x.softmax(-1).dtype is tm.float32
        assert F.softmax(x, -1, dtype=tm.float64).dtype is tm.float64
        assert x.sum().dtype is tm.float32
        assert tm.ones(3, dtype=tm.int64).sum().dtype is tm.int64  # not eligible
        assert tm.exp(x).dtype is tm.float32
        assert tm.exp(x.double()).dtype is tm.float64


def test_banned_and_promote_policies(cuda_lists_on_cpu):
    p = tm.rand(4).clamp(0.1, 0.9)
    with tm.autocast("cpu"):
        with pytest.raises(RuntimeError, match="binary_cross_entropy and torch.nn.BCELoss "
                                               "are unsafe to autocast"):
            F.binary_cross_entropy(p, p)
        assert tm.dot(p.bfloat16(), p).dtype is tm.float32
    with pytest.raises(RuntimeError, match="expected both vectors to have same dtype"):
        tm.dot(p.bfloat16(), p)


# -- custom autograd Functions ----------------------------------------------------------------

def test_custom_fwd_casts_inputs_and_backward_keeps_the_state():
    seen = []

    class Double(tm.autograd.Function):
        @staticmethod
        @tm.amp.custom_fwd(device_type="cpu", cast_inputs=tm.float32)
        def forward(ctx, x):
            seen.append((x.dtype, tm.is_autocast_enabled("cpu")))
            return x * 2

        @staticmethod
        @tm.amp.custom_bwd(device_type="cpu")
        def backward(ctx, grad):
            seen.append((grad.dtype, tm.is_autocast_enabled("cpu")))
            return grad * 2

    x = tm.randn(3, requires_grad=True)
    with tm.autocast("cpu"):
        y = Double.apply(x.bfloat16())
    y.sum().backward()
    assert seen == [(tm.float32, False), (tm.float32, False)]
    assert Double.apply(x.bfloat16()).dtype is tm.bfloat16  # outside a region: no cast
    with pytest.raises(ValueError, match="Expected `device_type` of type `str`"):
        tm.amp.custom_fwd(device_type=None)


# -- GradScaler ------------------------------------------------------------------------------

def _setup(device="cpu", **kwargs):
    model = tm.nn.Linear(3, 2).to(device)
    opt = tm.optim.SGD(model.parameters(), lr=0.1)
    return model, opt, tm.amp.GradScaler(device, **kwargs)


def _backward(model, scaler, device="cpu"):
    x = tm.ones(4, 3, device=device)
    scaler.scale(model(x).square().mean()).backward()


def test_scale_multiplies_outputs(device):
    _, _, scaler = _setup(device, init_scale=4.0)
    a, b = tm.ones(2, device=device), tm.full((3,), 2.0, device=device)
    assert scaler.scale(a).tolist() == [4.0, 4.0]
    scaled = scaler.scale([a, (b, [a])])
    assert isinstance(scaled, list) and isinstance(scaled[1], tuple)
    assert scaled[1][0].tolist() == [8.0] * 3 and scaled[1][1][0].tolist() == [4.0, 4.0]
    assert [t.tolist() for t in scaler.scale(t for t in (a,))] == [[4.0, 4.0]]
    with pytest.raises(ValueError, match="outputs must be a Tensor or an iterable of Tensors"):
        scaler.scale(3)


def test_unscale_divides_the_gradients(device):
    model, opt, scaler = _setup(device, init_scale=1024.0)
    _backward(model, scaler, device)
    scaled = model.weight.grad.clone()
    scaler.unscale_(opt)
    assert tm.allclose(model.weight.grad, scaled / 1024)
    assert scaler._found_inf_per_device(opt)[model.weight.device].item() == 0.0
    with pytest.raises(RuntimeError, match=r"unscale_\(\) has already been called on this "
                                           r"optimizer since the last update\(\)."):
        scaler.unscale_(opt)


def test_step_is_skipped_on_inf_or_nan_and_the_scale_backs_off(device):
    model, opt, scaler = _setup(device, init_scale=1024.0, growth_interval=3)
    for bad in (float("inf"), float("nan")):
        before = model.weight.detach().clone()
        opt.zero_grad()
        _backward(model, scaler, device)
        with tm.no_grad():
            model.weight.grad[0, 0] = bad
        assert scaler.step(opt) is None
        assert tm.equal(model.weight, before)
        scaler.update()
    assert scaler.get_scale() == 256.0 and scaler._get_growth_tracker() == 0


def test_scale_grows_after_growth_interval_clean_steps(device):
    model, opt, scaler = _setup(device, init_scale=8.0, growth_interval=2)
    scales = []
    for _ in range(5):
        before = model.weight.detach().clone()
        opt.zero_grad()
        _backward(model, scaler, device)
        scaler.step(opt)
        scaler.update()
        assert not tm.equal(model.weight, before)
        scales.append((scaler.get_scale(), scaler._get_growth_tracker()))
    assert scales == [(8.0, 1), (16.0, 0), (16.0, 1), (32.0, 0), (32.0, 1)]


def test_step_returns_the_optimizer_result_and_passes_arguments():
    model, opt, scaler = _setup()
    _backward(model, scaler)
    with pytest.raises(RuntimeError, match="Closure use is not currently supported"):
        scaler.step(opt, closure=lambda: 0.0)

    class Counting(tm.optim.SGD):
        def step(self, marker=None):
            super().step()
            return marker

    opt2 = Counting(model.parameters(), lr=0.1)
    scaler2 = tm.amp.GradScaler("cpu")
    _backward(model, scaler2)
    assert scaler2.step(opt2, "done") == "done"
    with pytest.raises(RuntimeError, match=r"step\(\) has already been called since the "
                                           r"last update\(\)."):
        scaler2.step(opt2)
    with pytest.raises(RuntimeError, match=r"unscale_\(\) is being called after step\(\)."):
        scaler2.unscale_(opt2)


def test_update_with_an_explicit_scale():
    model, opt, scaler = _setup()
    _backward(model, scaler)
    scaler.step(opt)
    scaler.update(128.0)
    assert scaler.get_scale() == 128.0
    scaler.update(tm.tensor([64.0]))
    assert scaler.get_scale() == 64.0
    with pytest.raises(AssertionError, match="new_scale should be a float or a 1-element"):
        scaler.update(tm.tensor([1.0, 2.0]))


def test_errors_before_any_scaling():
    _, opt, scaler = _setup()
    for call in (lambda: scaler.update(), lambda: scaler.step(opt),
                 lambda: scaler.unscale_(opt)):
        with pytest.raises(AssertionError, match="but _scale is None.  This may indicate your "
                                                 "script did not use scaler.scale"):
            call()
    with pytest.raises(AssertionError, match="The growth factor must be > 1.0."):
        tm.amp.GradScaler("cpu", growth_factor=1.0)
    with pytest.raises(AssertionError, match="The backoff factor must be < 1.0."):
        tm.amp.GradScaler("cpu", backoff_factor=1.0)


def test_step_without_gradients_has_no_inf_checks():
    model, opt, scaler = _setup()
    scaler.scale(tm.ones(()))
    with pytest.raises(AssertionError, match="No inf checks were recorded for this "
                                             "optimizer."):
        scaler.step(opt)


def test_float16_gradients_are_refused():
    model, opt, scaler = _setup(init_scale=16.0)
    model.half()
    scaler.scale(model(tm.ones(1, 3).half()).sum()).backward()
    with pytest.raises(ValueError, match="Attempting to unscale FP16 gradients."):
        scaler.step(opt)


def test_state_dict_round_trip_and_pickle():
    model, opt, scaler = _setup(init_scale=64.0, growth_factor=3.0, backoff_factor=0.25,
                                growth_interval=7)
    _backward(model, scaler)
    scaler.step(opt)
    scaler.update()
    state = scaler.state_dict()
    assert state == {"scale": 64.0, "growth_factor": 3.0, "backoff_factor": 0.25,
                     "growth_interval": 7, "_growth_tracker": 1}
    fresh = tm.amp.GradScaler("cpu")
    fresh.load_state_dict(state)
    assert fresh.state_dict() == state
    used = tm.amp.GradScaler("cpu")
    used.scale(tm.ones(()))  # already holding its tensors: they are overwritten
    used.load_state_dict(state)
    assert used.state_dict() == state
    assert pickle.loads(pickle.dumps(scaler)).state_dict() == state
    _backward(model, scaler)
    scaler.step(opt)
    with pytest.raises(AssertionError, match="may only be pickled at the beginning"):
        pickle.dumps(scaler)
    with pytest.raises(RuntimeError, match="The source state dict is empty"):
        fresh.load_state_dict({})
    for name, value in (("growth_factor", 4.0), ("backoff_factor", 0.125),
                        ("growth_interval", 9)):
        getattr(fresh, "set_" + name)(value)
        assert getattr(fresh, "get_" + name)() == value


def test_disabled_scaler_is_a_pass_through():
    model, opt, scaler = _setup(enabled=False)
    loss = model(tm.ones(1, 3)).sum()
    assert scaler.scale(loss) is loss and not scaler.is_enabled()
    loss.backward()
    before = model.weight.detach().clone()
    scaler.unscale_(opt)
    scaler.step(opt)
    scaler.update()
    assert not tm.equal(model.weight, before)
    assert scaler.get_scale() == 1.0 and scaler.state_dict() == {}
    scaler.load_state_dict({})


def test_optimizer_that_unscales_itself_gets_scale_and_found_inf():
    seen = {}

    class SelfScaling(tm.optim.SGD):
        _step_supports_amp_scaling = True

        def step(self):
            seen["scale"] = self.grad_scale.item()
            seen["found_inf"] = self.found_inf.item()

    model = tm.nn.Linear(3, 2)
    opt = SelfScaling(model.parameters(), lr=0.1)
    scaler = tm.amp.GradScaler("cpu", init_scale=32.0)
    _backward(model, scaler)
    scaler.step(opt)
    assert seen == {"scale": 32.0, "found_inf": 0.0}
    assert not hasattr(opt, "grad_scale")
    scaler.update()


def test_mixed_precision_training_loop_learns(device):
    rng = np.random.default_rng(0)
    x = tm.tensor(rng.standard_normal((32, 8)).astype(np.float32), device=device)
    y = (x[:, 0] > 0).long()
    model = tm.nn.Sequential(tm.nn.Linear(8, 16), tm.nn.ReLU(), tm.nn.Linear(16, 2)).to(device)
    opt = tm.optim.Adam(model.parameters(), lr=0.05)
    scaler = tm.amp.GradScaler(device, growth_interval=5)
    losses = []
    for _ in range(25):
        opt.zero_grad()
        with tm.autocast(device):  # bfloat16 on the CPU, float16 on a GPU
            loss = F.cross_entropy(model(x), y)
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        tm.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(opt)
        scaler.update()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    if device == "cpu":  # bfloat16 gradients never overflow here: the scale only grows
        assert scaler.get_scale() == 65536.0 * 2 ** 5
