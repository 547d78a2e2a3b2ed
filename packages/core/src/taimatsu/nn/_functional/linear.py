"""linear and bilinear.

`linear` is one fused node (x @ W.T + b with its own backward): the batch dims are folded
into one GEMM, the bias is added in place into the product, and backward reads only the
arrays it needs, so a Linear layer costs exactly its three GEMMs and a bias reduction.
"""

from __future__ import annotations

from ..._tensor import Tensor
from ...amp._state import hook as _autocast
from ...autograd.node import Function
from ...ops._util import sum_to
from ...ops.inplace import _legacy
from ...ops.linalg import _LOW_PRECISION, _mm, matmul

__all__ = ["linear", "bilinear"]


class Linear(Function):
    """x @ W.T + b for x of shape (*, in), W (out, in), b broadcastable to (out,)."""

    _backward_name = "AddmmBackward0"

    @staticmethod
    def forward(ctx, x, w, b):
        need = ctx.needs_input_grad
        lead = x.shape[:-1]
        x2 = x if x.ndim == 2 else x.reshape(-1, x.shape[-1])
        out = _low_precision_mm(x2, w.T) if x.dtype in _LOW_PRECISION else x2 @ w.T
        if b is not None:
            out += b
        if need:
            # x and w themselves (not reshaped views) so that in-place checks and
            # create_graph see the input tensors
            ctx.save_for_backward(x if need[1] else None, w if need[0] else None)
            ctx.shapes = (x.shape, None if b is None else b.shape)
            if x.ndim != 2:  # torch folds the batch dims into addmm, then views the result
                ctx.mark_name("SqueezeBackward4" if x.ndim == 1 and b is None
                              else "ViewBackward0")
            elif b is None:
                ctx.mark_name("MmBackward0")
        return out if x.ndim == 2 else out.reshape(lead + (w.shape[0],))

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_arrays
        x_shape, b_shape = ctx.shapes
        need_x, need_w, need_b = ctx.needs_input_grad
        xp = ctx.xp
        n_out = grad.shape[-1]
        g2 = grad if grad.ndim == 2 else grad.reshape((-1, n_out))
        gx = gw = gb = None
        if need_x:
            gx = _matmul(xp, g2, w)
            if len(x_shape) != 2:
                gx = gx.reshape(x_shape)
        if need_w:
            x2 = x if x.ndim == 2 else x.reshape((-1, x_shape[-1]))
            gw = _matmul(xp, g2.T, x2)
        if need_b:
            # the array method skips np.sum's Python-level dispatch (this runs every step)
            gb = xp.sum(g2, axis=0) if isinstance(g2, Tensor) else g2.sum(axis=0)
            gb = sum_to(gb, b_shape)
        return gx, gw, gb


def _matmul(xp, a, b):
    if not isinstance(a, Tensor) and a.dtype in _LOW_PRECISION:
        return _low_precision_mm(a, b)
    return xp.matmul(a, b)


def _low_precision_mm(a, b):
    from ... import backend
    return _mm(backend.of(a), a, b)


def _check_linear(input: Tensor, weight: Tensor, bias) -> None:
    for name, t in (("input", input), ("weight", weight)):
        if not isinstance(t, Tensor):
            raise TypeError(f"linear(): argument '{name}' must be Tensor, not "
                            f"{type(t).__name__}")
    if bias is not None and not isinstance(bias, Tensor):
        raise TypeError(f"linear(): argument 'bias' must be Tensor, not {type(bias).__name__}")
    if input.ndim == 0:
        raise RuntimeError("both arguments to linear need to be at least 1D, but they are 0D "
                           f"and {weight.ndim}D")
    if input._data.dtype != weight._data.dtype:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got "
                           f"{_legacy(input.dtype)} and {_legacy(weight.dtype)}")
    out_f, in_f = weight.shape
    k = input.shape[-1]
    if k != in_f:
        rows = input.numel() // k if k else 0
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{k} and "
                           f"{in_f}x{out_f})")
    if bias is not None:
        if bias._data.dtype != input._data.dtype:
            raise RuntimeError("expected m1 and m2 to have the same dtype, but got: "
                               f"{input.dtype} != {bias.dtype}")
        if bias.ndim > 1 or (bias.ndim == 1 and bias.shape[0] not in (1, out_f)):
            raise RuntimeError(f"The size of tensor a ({bias.shape[-1]}) must match the size "
                               f"of tensor b ({out_f}) at non-singleton dimension 1")


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = input @ weight.T + bias.

    Shape: input (*, in_features), weight (out_features, in_features),
    bias (out_features) -> (*, out_features).
    """
    if _autocast.on and (policy := _autocast.policy("linear", input)):
        return policy(linear, input, weight, bias)
    # one cheap test on the arrays for the common case; the full check explains failures
    try:
        x, w = input._data, weight._data
        b = None if bias is None else bias._data
    except AttributeError:
        _check_linear(input, weight, bias)
        raise
    ws = w.shape
    if len(ws) != 2:  # torch also accepts a 1-D weight (a dot product per row)
        out = matmul(input, weight)
        return out if bias is None else out + bias
    if (x.dtype != w.dtype or x.ndim == 0 or x.shape[-1] != ws[1]
            or (b is not None and (b.dtype != w.dtype or b.shape != ws[:1]))):
        _check_linear(input, weight, bias)
    return Linear.apply(input, weight, bias)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor,
             bias: Tensor | None = None) -> Tensor:
    """y = x1^T W x2 + b per output feature.

    Shape: input1 (*, in1), input2 (*, in2), weight (out, in1, in2), bias (out) -> (*, out).
    """
    if _autocast.on and (policy := _autocast.policy("bilinear", input1)):
        return policy(bilinear, input1, input2, weight, bias)
    from ...ops.linalg import einsum
    if input1.ndim != input2.ndim:
        raise RuntimeError("bilinear(): input dimensions do not match: got "
                           f"{input1.ndim} and {input2.ndim}")
    for a, b in zip(input1.shape[:-1], input2.shape[:-1]):
        if a != b:
            raise RuntimeError(f"bilinear(): input batch dimensions do not match: got {a} "
                               f"and {b}")
    if input1.shape[-1] != weight.shape[1]:
        raise RuntimeError("bilinear(): input1 size does not match weight size: got "
                           f"{input1.shape[-1]} but expected {weight.shape[1]}")
    if input2.shape[-1] != weight.shape[2]:
        raise RuntimeError("bilinear(): input2 size does not match weight size: got "
                           f"{input2.shape[-1]} but expected {weight.shape[2]}")
    if bias is not None and bias.shape[0] != weight.shape[0]:
        raise RuntimeError("bilinear(): bias size does not match weight size: got "
                           f"{bias.shape[0]} but expected {weight.shape[0]}")
    lead = tuple(input1.shape[:-1])
    x1 = input1.reshape(-1, input1.shape[-1])
    x2 = input2.reshape(-1, input2.shape[-1])
    out = einsum("bi,oij,bj->bo", x1, weight, x2)
    if bias is not None:
        out = out + bias
    return out.reshape(lead + (weight.shape[0],))
