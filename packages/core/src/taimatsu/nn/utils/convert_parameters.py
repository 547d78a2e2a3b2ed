"""parameters_to_vector and vector_to_parameters."""

from __future__ import annotations

from ..._tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _check_param_device(param: Tensor, old_device):
    """All parameters must live on one device (PyTorch's check and message)."""
    here = param.device.index if param.is_cuda else -1
    if here is None:
        here = 0
    if old_device is not None and here != old_device:
        raise TypeError("Found two parameters on different devices, this is currently not "
                        "supported.")
    return here


def parameters_to_vector(parameters) -> Tensor:
    """One 1-D tensor of all parameters, flattened and concatenated (differentiable)."""
    from ...ops.join import cat
    device = None
    pieces = []
    for param in parameters:
        device = _check_param_device(param, device)
        pieces.append(param.reshape(-1))
    return cat(pieces)


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Makes each parameter's data the matching slice of `vec` (shared memory, as torch)."""
    if not isinstance(vec, Tensor):
        from ..modules.module import _typename
        raise TypeError(f"expected taimatsu.Tensor, but got: {_typename(vec)}")
    device = None
    pointer = 0
    flat = vec._data.reshape(-1)
    for param in parameters:
        device = _check_param_device(param, device)
        n = param.numel()
        param._data = flat[pointer:pointer + n].reshape(param._data.shape)
        pointer += n
