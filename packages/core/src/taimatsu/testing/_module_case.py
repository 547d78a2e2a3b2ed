"""check_module_parity: one layer in taimatsu and in PyTorch, same weights, same results."""

from __future__ import annotations

import numpy as np

from ._comparison import assert_close_nan_equal as assert_close
from ._comparison import to_numpy


def _to_tm(value, requires_grad: bool, device="cpu"):
    import taimatsu
    if isinstance(value, np.ndarray):
        t = taimatsu.tensor(value, device=device)
        if requires_grad and value.dtype.kind in "fc":
            t.requires_grad_(True)
        return t
    if isinstance(value, (list, tuple)):
        return type(value)(_to_tm(v, requires_grad, device) for v in value)
    return value


def _to_torch(torch, value, requires_grad: bool):
    if isinstance(value, np.ndarray):
        t = torch.from_numpy(value.copy())
        if requires_grad and value.dtype.kind in "fc":
            t.requires_grad_(True)
        return t
    if isinstance(value, (list, tuple)):
        return type(value)(_to_torch(torch, v, requires_grad) for v in value)
    return value


def _leaves(value, out):
    """Tensors in a nested structure, in order (outputs, inputs)."""
    if isinstance(value, (list, tuple)):
        for v in value:
            _leaves(v, out)
    elif hasattr(value, "requires_grad") and hasattr(value, "shape"):
        out.append(value)
    return out


def load_torch_state(tm_module, torch_module) -> None:
    """Copies every parameter and buffer of `torch_module` into `tm_module` (strict)."""
    import taimatsu
    state = {k: taimatsu.tensor(to_numpy(v).copy()) if v.dtype.is_floating_point or
             v.dtype.is_complex else taimatsu.tensor(v.detach().cpu().numpy().copy())
             for k, v in torch_module.state_dict().items()}
    tm_module.load_state_dict(state, strict=True)


def check_module_parity(tm_module, torch_module, inputs, *, rtol: float = 1e-5,
                        atol: float = 1e-6, forward_kwargs: dict | None = None,
                        train: bool = True, check_grads: bool = True, seed: int = 0,
                        device="cpu"):
    """Runs both modules on the same inputs and compares outputs, gradients and buffers.

    `inputs` is a numpy array or a list of them (other values pass through unchanged);
    float arrays become inputs that require grad. Our module and inputs live on `device`
    (pass the `device` fixture), PyTorch's on the CPU. Returns (ours, theirs) outputs.
    """
    import torch

    import taimatsu
    load_torch_state(tm_module, torch_module)
    tm_module.to(device)
    tm_module.train(train)
    torch_module.train(train)
    if isinstance(inputs, np.ndarray):
        inputs = [inputs]
    kwargs = forward_kwargs or {}
    ours_in = [_to_tm(v, check_grads, device) for v in inputs]
    theirs_in = [_to_torch(torch, v, check_grads) for v in inputs]
    ours = tm_module(*ours_in, **{k: _to_tm(v, False, device) for k, v in kwargs.items()})
    theirs = torch_module(*theirs_in, **{k: _to_torch(torch, v, False)
                                         for k, v in kwargs.items()})
    ours_out, theirs_out = _leaves(ours, []), _leaves(theirs, [])
    assert len(ours_out) == len(theirs_out), "the modules return different structures"
    wanted = taimatsu.device(device).type
    assert all(t.device.type == wanted for t in ours_out), f"an output is not on {device}"
    for a, b in zip(ours_out, theirs_out):
        assert_close(a, b, rtol=rtol, atol=atol)
    _compare_buffers(tm_module, torch_module, rtol, atol)
    if check_grads:
        _compare_grads(tm_module, torch_module, ours_in, theirs_in, ours_out, theirs_out,
                       rtol, atol, seed, taimatsu, torch, device)
    return ours, theirs


def _compare_buffers(tm_module, torch_module, rtol, atol):
    theirs = dict(torch_module.named_buffers())
    for name, buf in tm_module.named_buffers():
        assert name in theirs, f"buffer {name} is not in the torch module"
        try:
            assert_close(buf, theirs[name], rtol=rtol, atol=atol)
        except AssertionError as exc:
            raise AssertionError(f"buffer {name} differs:\n{exc}") from None


def _compare_grads(tm_module, torch_module, ours_in, theirs_in, ours_out, theirs_out, rtol,
                   atol, seed, taimatsu, torch, device):
    rng = np.random.default_rng(seed)
    pairs = [(a, b) for a, b in zip(ours_out, theirs_out) if b.requires_grad]
    if not pairs:
        return
    seeds = [rng.standard_normal(tuple(b.shape)).astype(to_numpy(b.detach()).dtype)
             for _, b in pairs]
    our_params = dict(tm_module.named_parameters())
    their_params = dict(torch_module.named_parameters())
    names = [n for n, p in their_params.items() if p.requires_grad]
    ours_wrt = [t for t in _leaves(ours_in, []) if t.requires_grad] + \
        [our_params[n] for n in names]
    theirs_wrt = [t for t in _leaves(theirs_in, []) if t.requires_grad] + \
        [their_params[n] for n in names]
    g_ours = taimatsu.autograd.grad([a for a, _ in pairs], ours_wrt,
                                    [taimatsu.tensor(s, device=device) for s in seeds],
                                    allow_unused=True)
    g_theirs = torch.autograd.grad([b for _, b in pairs], theirs_wrt,
                                   [torch.from_numpy(s) for s in seeds], allow_unused=True)
    labels = [f"input {i}" for i in range(len(ours_wrt) - len(names))] + names
    for label, a, b in zip(labels, g_ours, g_theirs):
        if a is None or b is None:
            assert a is None or not np.any(to_numpy(a)), f"{label}: unexpected gradient"
            assert b is None or not np.any(to_numpy(b)), f"{label}: gradient missing"
            continue
        try:
            assert_close(a, b, rtol=rtol, atol=atol)
        except AssertionError as exc:
            raise AssertionError(f"gradient of {label} differs:\n{exc}") from None
