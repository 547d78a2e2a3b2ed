"""Printing tensors the way PyTorch 2.x prints them, and the print options.

`repr(t)` and `str(t)` of a Tensor are both `tensor_repr(t)`. The layout rules
(one width and one notation per tensor, when scientific notation kicks in,
wrapping at `linewidth`, summarizing with `...` above `threshold`, which
suffixes are shown) are PyTorch's, quirks included, so that output pasted from
a PyTorch session compares equal.

Formatting works on a host NumPy copy of the data. Above the threshold only the
edge rows/columns are copied off the device, so printing a big GPU tensor does
not transfer all of it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from typing import Any

import numpy as np

__all__ = ["set_printoptions", "get_printoptions", "printoptions", "tensor_repr", "PRINT_OPTS"]


@dataclasses.dataclass
class _PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


PRINT_OPTS = _PrintOptions()

_PROFILES = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None) -> None:
    """Sets how tensors are printed.

    Args:
        precision: digits after the decimal point for floating-point values (default 4)
        threshold: element count above which a tensor is summarized with `...` (default 1000)
        edgeitems: items kept at each end of a summarized dimension (default 3)
        linewidth: characters per line before elements wrap (default 80)
        profile: "default", "short" or "full" resets the four options above;
            options given alongside it override the profile
        sci_mode: True forces scientific notation, False forbids it, None
            (the default) lets each tensor's values decide
    """
    # Like PyTorch, an unknown profile name is ignored rather than refused.
    if profile in _PROFILES:
        for name, value in _PROFILES[profile].items():
            setattr(PRINT_OPTS, name, value)
    for name, value in (("precision", precision), ("threshold", threshold),
                        ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            setattr(PRINT_OPTS, name, value)
    # sci_mode is always assigned: leaving it out of a call means "automatic" again.
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> dict[str, Any]:
    """The current print options, as keyword arguments for `set_printoptions`."""
    return dataclasses.asdict(PRINT_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs):
    """Applies `set_printoptions(**kwargs)` inside a `with` block, then restores."""
    saved = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**saved)


# ---------------------------------------------------------------------------
# Element formatting


class _Formatter:
    """Chooses one notation and one width for all the values of a tensor.

    Built from the values that will be shown (the summarized ones when the
    tensor is summarized); for a complex tensor there is one formatter for the
    real parts and one for the imaginary parts.
    """

    def __init__(self, values: np.ndarray, floating: bool):
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        if not floating:
            for v in values.ravel().tolist():
                self.max_width = max(self.max_width, len(str(v)))
            return
        values = values.astype(np.float64).ravel()
        shown = values[np.isfinite(values) & (values != 0)]
        # With nothing finite and nonzero the defaults stand -- sci_mode stays off
        # even when the options force it on, as in PyTorch.
        if shown.size == 0:
            return
        magnitudes = np.abs(shown)
        lo, hi = float(magnitudes.min()), float(magnitudes.max())
        self.int_mode = bool(np.all(np.ceil(shown) == shown))
        if PRINT_OPTS.sci_mode is None:
            self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
        else:
            self.sci_mode = PRINT_OPTS.sci_mode
        p = PRINT_OPTS.precision
        if self.sci_mode:
            widths = (len(f"{v:.{p}e}") for v in shown.tolist())
        elif self.int_mode:
            # +1 for the "." that marks a whole number as floating point.
            widths = (len(f"{v:.0f}") + 1 for v in shown.tolist())
        else:
            widths = (len(f"{v:.{p}f}") for v in shown.tolist())
        self.max_width = max(self.max_width, max(widths))

    def format(self, value) -> str:
        if not self.floating:
            text = str(value)
        elif self.sci_mode:
            text = f"{value:.{PRINT_OPTS.precision}e}"
        elif self.int_mode:
            text = f"{value:.0f}"
            if math.isfinite(value):
                text += "."
        else:
            text = f"{value:.{PRINT_OPTS.precision}f}"
        return text.rjust(self.max_width)


def _element_formatter(real: _Formatter, imag: _Formatter | None):
    """A function value -> padded text; complex values get "a+bj"."""
    if imag is None:
        return real.format

    def fmt(value: complex) -> str:
        imag_text = (imag.format(value.imag) + "j").lstrip()
        # The imaginary part carries its own sign when negative (or -0.).
        if imag_text[0] not in "+-":
            imag_text = "+" + imag_text
        return real.format(value.real) + imag_text

    return fmt


# ---------------------------------------------------------------------------
# Layout


def _host(data) -> np.ndarray:
    """A NumPy array with the values of `data` (NumPy or CuPy), in a printable dtype."""
    if not hasattr(data, "__array_interface__"):
        data = data.get()
    data = np.asarray(data)
    # bfloat16 (ml_dtypes) converts exactly to float32, which NumPy formats natively.
    if data.dtype.name == "bfloat16":
        data = data.astype(np.float32)
    return data


def _edges(data, edgeitems: int):
    """Keeps only the first and last `edgeitems` entries of every long dimension.

    Works on the device array (NumPy or CuPy) so that a summarized GPU tensor
    is cut down before it is copied to the host.
    """
    for axis, size in enumerate(data.shape):
        if size > 2 * edgeitems:
            head = (slice(None),) * axis + (slice(None, edgeitems),)
            tail = (slice(None),) * axis + (slice(size - edgeitems, None),)
            data = np.concatenate((data[head], data[tail]), axis=axis)
    return data


def _vector_str(values: np.ndarray, size: int, indent: int, summarize: bool, fmt,
                element_width: int) -> str:
    opts = PRINT_OPTS
    items = [fmt(v) for v in values.tolist()]
    if summarize and size > 2 * opts.edgeitems:
        items.insert(opts.edgeitems, " ...")
    # element_width counts the ", " that follows each element.
    per_line = max(1, math.floor((opts.linewidth - indent) / element_width))
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _block_str(values: np.ndarray, shape: tuple, indent: int, summarize: bool, fmt,
               element_width: int) -> str:
    """Nested brackets for `values` (the edges of a tensor of `shape` when summarized)."""
    if values.ndim == 0:
        return fmt(values.item())
    if values.ndim == 1:
        return _vector_str(values, shape[0], indent, summarize, fmt, element_width)
    rows = [_block_str(row, shape[1:], indent + 1, summarize, fmt, element_width)
            for row in values]
    if summarize and shape[0] > 2 * PRINT_OPTS.edgeitems:
        rows.insert(PRINT_OPTS.edgeitems, "...")
    # Deeper tensors leave one blank line per extra dimension between their blocks.
    separator = "," + "\n" * (values.ndim - 1) + " " * (indent + 1)
    return "[" + separator.join(rows) + "]"


def _contents_str(t, indent: int) -> str:
    """The bracketed values of a non-empty tensor, e.g. "[1., 2.]"."""
    data = t._data
    shape = tuple(data.shape)
    summarize = math.prod(shape) > PRINT_OPTS.threshold
    if summarize and shape:
        if PRINT_OPTS.edgeitems <= 0:
            return "[...]"
        data = _edges(data, PRINT_OPTS.edgeitems)
    values = _host(data)
    if t.dtype.is_complex:
        real = _Formatter(values.real, floating=True)
        imag = _Formatter(values.imag, floating=True)
        element_width = real.max_width + 2 + imag.max_width + 1  # + 1 for the "j"
    else:
        real = _Formatter(values, floating=t.dtype.is_floating_point)
        imag = None
        element_width = real.max_width + 2
    fmt = _element_formatter(real, imag)
    return _block_str(values, shape, indent, summarize, fmt, element_width)


# ---------------------------------------------------------------------------
# Suffixes and the whole repr


def _has_default_dtype(dtype) -> bool:
    from ._dtype import get_default_dtype

    default = get_default_dtype().name
    # PyTorch pairs complex128 with a float64 default and complex64 with any other.
    default_complex = "complex128" if default == "float64" else "complex64"
    return dtype.name in (default, default_complex, "int64", "bool")


def _grad_fn_name(grad_fn) -> str:
    name = getattr(grad_fn, "name", None)
    name = name() if callable(name) else type(grad_fn).__name__
    return name.rsplit("::", 1)[-1]


def _add_suffixes(text: str, suffixes: list[str], indent: int) -> str:
    parts = [text]
    # PyTorch measures the last line this way (two more than its length when there
    # is no newline); kept as is because it decides where suffixes wrap.
    last_line_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def tensor_repr(t, tensor_contents: str | None = None) -> str:
    """PyTorch's printed form of tensor `t`: `tensor([1., 2.], requires_grad=True)`.

    `tensor_contents`, when given, replaces the bracketed values (the suffixes
    are still worked out from `t`).
    """
    from ._dtype import get_default_dtype

    prefix = "tensor("
    indent = len(prefix)
    suffixes = []
    dtype = t.dtype
    shape = tuple(t._data.shape)
    device = getattr(t, "device", None)
    if device is not None and device.type != "cpu":
        suffixes.append(f"device='{device}'")

    if math.prod(shape) == 0:
        # Empty: (0,) is implied by "[]", any other shape is spelled out; and with
        # no values to go by, every dtype but the default float one is named.
        if len(shape) != 1:
            suffixes.append(f"size={shape}")
        if dtype.name != get_default_dtype().name:
            suffixes.append(f"dtype={dtype!r}")
        text = "[]"
    else:
        # PyTorch names the size whenever edgeitems is 0, summarized or not.
        if not PRINT_OPTS.edgeitems:
            suffixes.append(f"size={shape}")
        if not _has_default_dtype(dtype):
            suffixes.append(f"dtype={dtype!r}")
        text = None
    if tensor_contents is not None:
        text = tensor_contents
    elif text is None:
        text = _contents_str(t, indent)

    grad_fn = getattr(t, "grad_fn", None)
    if grad_fn is not None:
        suffixes.append(f"grad_fn=<{_grad_fn_name(grad_fn)}>")
    elif getattr(t, "requires_grad", False):
        suffixes.append("requires_grad=True")

    return _add_suffixes(prefix + text, suffixes, indent)
