"""taimatsu.amp against torch.amp: output dtypes of ops under autocast, and GradScaler runs.

Every op below runs under `autocast(device_type, dtype)` in both libraries, on float32,
bfloat16 and float16 inputs; the results must have the same dtype (or both libraries
must refuse). On the CPU this checks PyTorch's CPU lists, on a GPU its CUDA lists.
"""

from __future__ import annotations

import types

import numpy as np
import pytest

import taimatsu as tm

torch = pytest.importorskip("torch")

_DTYPES = ("float32", "bfloat16", "float16")


def _env(lib, device: str) -> types.SimpleNamespace:
    """The same tensors in `lib` (torch or taimatsu) on `device`."""
    rng = np.random.default_rng(0)

    def t(shape, low=-1.0, high=1.0):
        return lib.tensor(rng.uniform(low, high, shape).astype(np.float32), device=device)

    return types.SimpleNamespace(
        lib=lib, F=lib.nn.functional, f=t((4, 4)), t3=t((2, 4, 4)), img=t((1, 2, 6, 6)),
        w=t((3, 2, 3, 3)), w1=t((2, 4, 2)), vol=t((1, 2, 4, 4, 4)), prob=t((4, 4), 0.05, 0.95),
        tgt=lib.tensor([0, 1, 2, 3], device=device), sign=lib.tensor([1.0, -1.0, 1.0, -1.0],
                                                                     device=device),
        bw=t((3, 4, 4)), slope=lib.tensor([0.25], device=device),
        long=lib.ones(4, 4, dtype=lib.int64, device=device))


# name -> fn(env, x): x is env.f in the dtype under test
CASES = {
    # lower precision
    "mm": lambda m, x: m.lib.mm(x, x),
    "matmul_operator": lambda m, x: x @ x,
    "matmul_1d": lambda m, x: x[0] @ x[0],
    "bmm": lambda m, x: m.lib.bmm(m.t3.to(x.dtype), m.t3.to(x.dtype)),
    "addmm": lambda m, x: m.lib.addmm(m.f, x, x),
    "baddbmm": lambda m, x: m.lib.baddbmm(m.t3, m.t3.to(x.dtype), m.t3),
    "addbmm": lambda m, x: m.lib.addbmm(m.f, m.t3.to(x.dtype), m.t3),
    "einsum": lambda m, x: m.lib.einsum("ij,jk->ik", x, x),
    "tensordot": lambda m, x: m.lib.tensordot(x, x.clone(), 1),
    "inner": lambda m, x: m.lib.inner(x, x),
    "multi_dot": lambda m, x: m.lib.linalg.multi_dot([x, x, x]),
    "linear": lambda m, x: m.F.linear(x, m.f, m.f[0]),
    "linear_no_bias": lambda m, x: m.F.linear(x, m.f),
    "conv1d": lambda m, x: m.F.conv1d(x[None], m.w1),
    "conv2d": lambda m, x: m.F.conv2d(m.img.to(x.dtype), m.w),
    "conv3d": lambda m, x: m.F.conv3d(m.vol.to(x.dtype), m.w[..., None].expand(3, 2, 3, 3, 2)),
    "conv_transpose2d": lambda m, x: m.F.conv_transpose2d(m.img.to(x.dtype), m.w.transpose(0, 1)),
    "prelu": lambda m, x: m.F.prelu(x, m.slope),
    "sdpa": lambda m, x: m.F.scaled_dot_product_attention(x[None], m.f[None], m.f[None]),
    "sdpa_float_mask": lambda m, x: m.F.scaled_dot_product_attention(
        x[None], x[None], x[None], attn_mask=m.f),
    "linear_module": lambda m, x: m.lib.nn.Linear(4, 3).to(m.f.device)(x),
    # float32
    "cross_entropy": lambda m, x: m.F.cross_entropy(x, m.tgt),
    "cross_entropy_smoothed": lambda m, x: m.F.cross_entropy(x, m.tgt, label_smoothing=0.1),
    "nll_loss": lambda m, x: m.F.nll_loss(x, m.tgt),
    "mse_loss": lambda m, x: m.F.mse_loss(x, m.f),
    "l1_loss": lambda m, x: m.F.l1_loss(x, x),
    "smooth_l1_loss": lambda m, x: m.F.smooth_l1_loss(x, m.f),
    "huber_loss": lambda m, x: m.F.huber_loss(x, m.f),
    "kl_div": lambda m, x: m.F.kl_div(x, m.prob, reduction="batchmean"),
    "bce": lambda m, x: m.F.binary_cross_entropy(m.prob.to(x.dtype), m.prob),
    "bce_with_logits": lambda m, x: m.F.binary_cross_entropy_with_logits(x, m.prob),
    "soft_margin_loss": lambda m, x: m.F.soft_margin_loss(x[0], m.sign),
    "margin_ranking_loss": lambda m, x: m.F.margin_ranking_loss(x[0], x[1], m.sign),
    "hinge_embedding_loss": lambda m, x: m.F.hinge_embedding_loss(x, m.f.sign()),
    "cosine_embedding_loss": lambda m, x: m.F.cosine_embedding_loss(x, m.f, m.sign),
    "triplet_margin_loss": lambda m, x: m.F.triplet_margin_loss(x, m.f, m.f.flip(0)),
    "poisson_nll_loss": lambda m, x: m.F.poisson_nll_loss(x, m.prob),
    "multi_margin_loss": lambda m, x: m.F.multi_margin_loss(x, m.tgt),
    "cdist": lambda m, x: m.lib.cdist(x, m.f),
    "trace": lambda m, x: m.lib.trace(x),
    "prod": lambda m, x: x.prod(),
    "prod_dim": lambda m, x: m.lib.prod(x, 0),
    "layer_norm": lambda m, x: m.F.layer_norm(x, (4,)),
    "group_norm": lambda m, x: m.F.group_norm(m.img.to(x.dtype), 2),
    "softmax": lambda m, x: m.F.softmax(x, -1),
    "softmax_method": lambda m, x: x.softmax(-1),
    "softmax_dtype": lambda m, x: m.F.softmax(x, -1, dtype=m.lib.float64),
    "log_softmax": lambda m, x: m.F.log_softmax(x, -1),
    "log_softmax_method": lambda m, x: x.log_softmax(-1),
    "softmin": lambda m, x: m.F.softmin(x, -1),
    "softplus": lambda m, x: m.F.softplus(x),
    "exp": lambda m, x: m.lib.exp(x),
    "exp_method": lambda m, x: x.exp(),
    "log": lambda m, x: m.lib.log(m.prob.to(x.dtype)),
    "rsqrt": lambda m, x: m.lib.rsqrt(m.prob.to(x.dtype)),
    "pow": lambda m, x: x.pow(2),
    "pow_operator": lambda m, x: x ** 2,
    "pow_scalar_base": lambda m, x: m.lib.pow(2.0, x),
    "sum": lambda m, x: x.sum(),
    "sum_dim": lambda m, x: m.lib.sum(x, 1),
    "cumsum": lambda m, x: x.cumsum(0),
    "logsumexp": lambda m, x: m.lib.logsumexp(x, 0),
    "norm": lambda m, x: x.norm(),
    "normalize": lambda m, x: m.F.normalize(x),
    "cosine_similarity": lambda m, x: m.F.cosine_similarity(x, x),
    # promote
    "cat": lambda m, x: m.lib.cat([x, m.f]),
    "cat_same": lambda m, x: m.lib.cat([x, x]),
    "cat_float64": lambda m, x: m.lib.cat([x, m.f.double()]),
    "stack": lambda m, x: m.lib.stack([m.f, x]),
    "stack_int": lambda m, x: m.lib.stack([x, m.long]),
    "addcmul": lambda m, x: m.lib.addcmul(x, m.f, m.f),
    "atan2": lambda m, x: m.lib.atan2(x, m.f),
    "dot_mixed": lambda m, x: m.lib.dot(x[0], m.f[0]),
    "bilinear": lambda m, x: m.F.bilinear(x, x, m.bw),
    "linalg_cross": lambda m, x: m.lib.linalg.cross(x[:, :3], m.f[:, :3]),
    "cross": lambda m, x: m.lib.cross(x[:, :3], m.f[:, :3], dim=1),
    # not on any list: the inputs' dtype
    "relu": lambda m, x: m.F.relu(x),
    "tanh": lambda m, x: m.lib.tanh(x),
    "add": lambda m, x: x + m.f,
    "max_pool2d": lambda m, x: m.F.max_pool2d(m.img.to(x.dtype), 2),
    "embedding": lambda m, x: m.F.embedding(m.tgt, x),
    # autocast leaves float64 and integer inputs, and out= calls, alone
    "mm_float64": lambda m, x: m.lib.mm(x.double(), x.double()),
    "mm_int": lambda m, x: m.lib.mm(m.long, m.long),
    "mm_out": lambda m, x: m.lib.mm(x, x, out=m.lib.empty(4, 4, dtype=x.dtype,
                                                           device=x.device)),
    "cumsum_int": lambda m, x: m.lib.cumsum(m.long, 0),
}

# Deliberate differences where torch raises: torch checks tensordot's dtypes before its
# CPU decomposition reaches mm, taimatsu casts first; taimatsu's linalg.cross promotes
# mixed dtypes with or without autocast.
_KNOWN = {("cpu", "tensordot"), ("cpu", "inner"), ("cpu", "cross"), ("cpu", "linalg_cross"),
          ("cuda", "linalg_cross")}


def _outcome(lib, device, autocast_dtype, input_dtype, fn):
    env = _env(lib, device)
    x = env.f.to(getattr(lib, input_dtype))
    try:
        with lib.autocast(device, dtype=getattr(lib, autocast_dtype)):
            out = fn(env, x)
    except NotImplementedError:
        return ("missing kernel",)
    except RuntimeError:
        return ("RuntimeError",)
    if isinstance(out, tuple):
        out = out[0]
    return ("ok", str(out.dtype).split(".")[-1])


def _autocast_dtypes(device):
    if device == "cuda" and not torch.cuda.is_available():
        pytest.skip("torch has no CUDA here")
    return ("bfloat16", "float16")


@pytest.mark.parametrize("name", list(CASES))
def test_output_dtypes_match_torch(name, device):
    fn = CASES[name]
    for autocast_dtype in _autocast_dtypes(device):
        for input_dtype in _DTYPES:
            theirs = _outcome(torch, device, autocast_dtype, input_dtype, fn)
            if theirs == ("missing kernel",):
                continue  # torch has no kernel for this dtype here: nothing to compare
            if theirs == ("RuntimeError",) and (device, name) in _KNOWN:
                continue
            ours = _outcome(tm, device, autocast_dtype, input_dtype, fn)
            assert ours == theirs, (autocast_dtype, input_dtype)


def test_autocast_values_match_torch(device):
    """Lower-precision results equal torch's: the inputs are rounded before the product."""
    _autocast_dtypes(device)
    results = []
    for lib in (torch, tm):
        env = _env(lib, device)
        with lib.autocast(device, dtype=lib.bfloat16):
            y = env.F.linear(env.f, env.f, env.f[0])
            z = env.F.cross_entropy(y, env.tgt)
        results.append((y.float().cpu().numpy(), float(z)))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-2, atol=1e-2)
    assert results[0][1] == pytest.approx(results[1][1], rel=1e-2)


def test_gradients_match_torch(device):
    """float32 parameters get float32 gradients through the casts, equal to torch's."""
    _autocast_dtypes(device)
    grads = []
    for lib in (torch, tm):
        env = _env(lib, device)
        w = env.f.clone().requires_grad_()
        with lib.autocast(device, dtype=lib.bfloat16):
            loss = env.F.cross_entropy(env.F.linear(env.f, w), env.tgt)
        loss.backward()
        assert str(w.grad.dtype).endswith("float32")
        grads.append(w.grad.cpu().numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=2e-2, atol=2e-2)


# -- GradScaler ---------------------------------------------------------------------------

def _scaler_run(lib, device, events, **kwargs):
    """Runs scale/backward/step/update per event ("ok", "inf", "nan", "unscale"); returns
    the scale, growth tracker, step result and weights after each step."""
    torch.manual_seed(0)
    weights = np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)
    model = lib.nn.Linear(4, 3, bias=False).to(device)
    with lib.no_grad():
        model.weight.copy_(lib.tensor(weights, device=device))
    opt = lib.optim.SGD(model.parameters(), lr=0.1)
    scaler = lib.amp.GradScaler(device, **kwargs)
    x = lib.tensor(np.linspace(0, 1, 8, dtype=np.float32).reshape(2, 4), device=device)
    history = []
    for event in events:
        opt.zero_grad()
        loss = model(x).square().sum()
        scaler.scale(loss).backward()
        if event in ("inf", "nan"):
            with lib.no_grad():
                model.weight.grad[0, 0] = float(event)
        if event == "unscale":
            scaler.unscale_(opt)
            history.append(model.weight.grad.cpu().numpy().copy())
        result = scaler.step(opt)
        scaler.update()
        history.append((scaler.get_scale(), scaler._get_growth_tracker(), result,
                        model.weight.detach().cpu().numpy().copy()))
    return history, scaler.state_dict()


@pytest.mark.parametrize("events, kwargs", [
    (["ok"] * 5, {"init_scale": 8.0, "growth_interval": 2}),
    (["ok", "inf", "ok", "ok", "nan", "ok"], {"init_scale": 1024.0, "growth_interval": 2}),
    (["inf"] * 3 + ["ok"] * 3, {"init_scale": 4.0, "growth_factor": 3.0, "backoff_factor": 0.25,
                                "growth_interval": 1}),
    (["unscale", "ok", "unscale"], {"init_scale": 2.0 ** 10, "growth_interval": 2}),
    (["ok", "ok", "ok"], {"init_scale": 3.0e38, "growth_interval": 1}),  # loss overflows
], ids=["growth", "backoff", "factors", "unscale", "overflowing_loss"])
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy on the overflowed loss
def test_grad_scaler_runs_match_torch(events, kwargs, device):
    if device == "cuda" and not torch.cuda.is_available():
        pytest.skip("torch has no CUDA here")
    ours, our_state = _scaler_run(tm, device, events, **kwargs)
    theirs, their_state = _scaler_run(torch, device, events, **kwargs)
    assert our_state == their_state
    for a, b in zip(ours, theirs, strict=True):
        if isinstance(a, np.ndarray):
            np.testing.assert_allclose(a, b, rtol=1e-5)
            continue
        assert a[:3] == b[:3]
        np.testing.assert_allclose(a[3], b[3], rtol=1e-5, atol=1e-7)


def _error(lib, device, steps):
    dtype = lib.float16 if "half" in steps else lib.float32
    model = lib.nn.Linear(2, 1).to(device, dtype)
    opt = lib.optim.SGD(model.parameters(), lr=0.1)
    scaler = lib.amp.GradScaler(device, init_scale=256.0)  # float16 losses stay finite
    try:
        for step in steps:
            if step == "scale":
                x = lib.ones(1, 2, device=device, dtype=dtype)
                scaler.scale(model(x).sum()).backward()
            elif step == "half":
                pass
            else:
                getattr(scaler, step)(opt) if step != "update" else scaler.update()
    except (RuntimeError, AssertionError, ValueError) as e:
        return type(e).__name__, str(e)
    return None


@pytest.mark.parametrize("steps", [
    ["scale", "unscale_", "unscale_"],
    ["scale", "step", "unscale_"],
    ["scale", "step", "step"],
    ["update"],
    ["step"],
    ["unscale_"],
    ["half", "scale", "unscale_"],
    ["scale", "step", "update", "update"],
], ids=lambda s: "-".join(s))
def test_grad_scaler_errors_match_torch(steps, device):
    if device == "cuda" and not torch.cuda.is_available():
        pytest.skip("torch has no CUDA here")
    theirs = _error(torch, device, steps)
    assert theirs is not None
    assert _error(tm, device, steps) == theirs


def test_state_functions_match_torch():
    for lib in (torch, tm):
        assert lib.get_autocast_dtype("cpu") is lib.bfloat16
        assert lib.get_autocast_dtype("cuda") is lib.float16
        assert lib.is_autocast_enabled("cpu") is False
        with lib.autocast("cpu"):
            assert lib.is_autocast_enabled("cpu") is True
            with lib.autocast("cpu", enabled=False):
                assert lib.is_autocast_enabled("cpu") is False
            with lib.autocast("cpu", dtype=lib.float16):
                assert lib.get_autocast_dtype("cpu") is lib.float16
            assert lib.get_autocast_dtype("cpu") is lib.bfloat16
        assert lib.is_autocast_enabled("cpu") is False
        assert lib.amp.is_autocast_available("cpu") and lib.amp.is_autocast_available("cuda")
        assert lib.amp.GradScaler("cpu").state_dict() == {
            "scale": 65536.0, "growth_factor": 2.0, "backoff_factor": 0.5,
            "growth_interval": 2000, "_growth_tracker": 0}


@pytest.mark.parametrize("scale, tracker, found, interval", [
    (8.0, 0, 0.0, 2), (8.0, 1, 0.0, 2), (8.0, 1, 1.0, 2), (3.0e38, 0, 0.0, 1),
    (2.0 ** -120, 5, 2.0, 100), (1.0, 99, 0.0, 100),
], ids=["count", "grow", "backoff", "growth_overflows", "two_infs", "long_interval"])
def test_update_scale_kernel_matches_torch(scale, tracker, found, interval):
    from taimatsu.amp.grad_scaler import _update_scale_
    results = []
    for lib, update in ((torch, torch._amp_update_scale_), (tm, _update_scale_)):
        s = lib.tensor(scale, dtype=lib.float32)
        t = lib.tensor(tracker, dtype=lib.int32)
        update(s, t, lib.tensor(found), 2.0, 0.5, interval)
        results.append((s.item(), t.item()))
    assert results[0] == results[1]


def test_unscale_kernel_matches_torch():
    from taimatsu.amp.grad_scaler import _non_finite_check_and_unscale_
    values = [[1.0, 2.0, 3.0], [4.0, float("inf"), 5.0], [float("nan"), 0.5, -1.0]]
    for dtype in ("float32", "bfloat16", "float64"):
        results = []
        for lib, kernel in ((torch, torch._amp_foreach_non_finite_check_and_unscale_),
                            (tm, _non_finite_check_and_unscale_)):
            grads = [lib.tensor(v, dtype=getattr(lib, dtype)) for v in values]
            found = lib.tensor(0.0)
            kernel(grads[:1], found, lib.tensor(0.25))
            first = found.item()
            kernel(grads[1:], found, lib.tensor(0.25))
            results.append((first, found.item(), [g.double().tolist() for g in grads]))
        np.testing.assert_equal(results[0], results[1])
