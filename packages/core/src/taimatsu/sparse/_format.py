"""PyTorch's printed form of a sparse COO tensor:

    tensor(indices=tensor([[0, 1],
                           [2, 0]]),
           values=tensor([3., 4.]),
           size=(2, 3), nnz=2, layout=taimatsu.sparse_coo)
"""

from __future__ import annotations

from .._tensor import Tensor
from .._tensor_str import PRINT_OPTS, _contents_str, _grad_fn_name, _has_default_dtype

_PREFIX = "tensor("
_INDICES = "indices=tensor("
_VALUES = "values=tensor("


def _part(t: Tensor, indent: int) -> str:
    """The bracketed elements of indices or values; an empty one also names its size."""
    if t.numel() == 0:
        return f"[], size={tuple(t.shape)}"
    return _contents_str(t, indent)


def _add_suffixes(text: str, suffixes: list, indent: int) -> str:
    """Appends `, suffix` items wrapping at the line width; for a sparse tensor PyTorch
    always starts the first one on a new line."""
    parts = [text]
    last_line_len = len(text) - text.rfind("\n") + 1
    force_newline = True
    for suffix in suffixes:
        if force_newline or last_line_len + len(suffix) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
            force_newline = False
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def sparse_repr(t, tensor_contents: str | None = None) -> str:
    indent = len(_PREFIX)
    data = t._data
    suffixes = []
    device = t.device
    if device.type != "cpu":
        suffixes.append(f"device='{device}'")
    suffixes.append(f"size={tuple(data.sizes)}")
    suffixes.append(f"nnz={data.indices.shape[1]}")
    if not _has_default_dtype(t.dtype):
        suffixes.append(f"dtype={t.dtype!r}")
    if tensor_contents is not None:
        text = tensor_contents
    else:
        indices = _part(Tensor._make(data.indices), indent + len(_INDICES))
        values = _part(Tensor._make(data.values), indent + len(_VALUES))
        text = f"{_INDICES}{indices}),\n{' ' * indent}{_VALUES}{values})"
    suffixes.append(f"layout={t.layout!r}")
    grad_fn = t.grad_fn
    if grad_fn is not None:
        suffixes.append(f"grad_fn=<{_grad_fn_name(grad_fn)}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(_PREFIX + text, suffixes, indent)
