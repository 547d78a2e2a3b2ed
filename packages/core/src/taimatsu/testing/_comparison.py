"""assert_close: compare tensors, arrays and numbers with dtype-aware tolerances."""

from __future__ import annotations

import functools

import numpy as np

from .. import backend

# (rtol, atol) per dtype, as torch.testing.assert_close uses.
DEFAULT_TOLERANCES = {
    "float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5), "float32": (1.3e-6, 1e-5),
    "float64": (1e-7, 1e-7), "complex64": (1.3e-6, 1e-5), "complex128": (1e-7, 1e-7),
}


def to_numpy(x):
    """A NumPy view of a taimatsu/torch tensor, array or number (bfloat16 -> float32)."""
    from .._tensor import Tensor
    if isinstance(x, Tensor):
        x = backend.to_numpy(x._data)
    elif type(x).__module__.startswith("torch"):
        x = x.detach().cpu()
        if x._is_zerotensor():  # torch's lazily-zero gradients have no memory to read
            x = x.new_zeros(x.shape)
        x = x.resolve_conj().resolve_neg()
        if str(x.dtype) == "torch.bfloat16":
            x = x.float()
        x = x.numpy()
    arr = np.asarray(x)
    if arr.dtype.name == "bfloat16":
        arr = arr.astype(np.float32)
    return arr


def _dtype_name(x) -> str | None:
    from .._tensor import Tensor
    if isinstance(x, Tensor):
        return x.dtype.name
    if type(x).__module__.startswith("torch"):
        return str(x.dtype).replace("torch.", "")
    if isinstance(x, np.ndarray):
        return x.dtype.name
    return None


def assert_close(actual, expected, *, allow_subclasses: bool = True,
                 rtol: float | None = None, atol: float | None = None, equal_nan: bool = False,
                 check_device: bool = True, check_dtype: bool = True, check_layout: bool = True,
                 check_stride: bool = False, check_shape: bool = True,
                 msg: str | None = None) -> None:
    """Raises AssertionError unless |actual - expected| <= atol + rtol * |expected|
    elementwise, with torch's defaults (NaNs differ unless equal_nan=True)."""
    if isinstance(expected, (tuple, list)) and not _is_number_seq(expected):
        if not isinstance(actual, (tuple, list)) or len(actual) != len(expected):
            raise AssertionError(msg or f"structure differs: {actual!r} vs {expected!r}")
        for a, e in zip(actual, expected):
            assert_close(a, e, allow_subclasses=allow_subclasses, rtol=rtol, atol=atol,
                         equal_nan=equal_nan, check_device=check_device,
                         check_dtype=check_dtype, check_layout=check_layout,
                         check_stride=check_stride, check_shape=check_shape, msg=msg)
        return
    if not allow_subclasses and type(actual) is not type(expected):
        raise AssertionError(msg or f"Except for Python scalars, input and expected must be "
                             f"of the same type, but got {type(actual).__name__} and "
                             f"{type(expected).__name__} instead.")
    _check_attributes(actual, expected, msg, device=check_device, layout=check_layout,
                      stride=check_stride)
    actual, expected = _dense(actual), _dense(expected)
    da, de = _dtype_name(actual), _dtype_name(expected)
    if check_dtype and da is not None and de is not None and da != de:
        raise AssertionError(msg or f"dtype differs: {da} vs {de}")
    a, e = to_numpy(actual), to_numpy(expected)
    if check_shape and a.shape != e.shape:
        raise AssertionError(msg or f"shape differs: {a.shape} vs {e.shape}")
    name = da or de or a.dtype.name
    default_rtol, default_atol = DEFAULT_TOLERANCES.get(name, (0.0, 0.0))
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    if a.dtype.kind in "biu" and e.dtype.kind in "biu":
        ok = np.array_equal(a, e)
        close = None if ok else (a == e)
    else:
        close = np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan)
        ok = bool(np.all(close))
    if not ok:
        bad = int(np.size(close) - np.count_nonzero(close)) if close is not None else "?"
        diff = np.abs(a.astype(np.complex128) - e.astype(np.complex128)) if a.size else 0
        known = diff[~np.isnan(diff)] if np.size(diff) else diff
        worst = float(known.max()) if np.size(known) else float("nan")
        raise AssertionError(msg or f"Tensor-likes are not close!\nMismatched elements: {bad} / "
                             f"{a.size}\nGreatest absolute difference: {worst} (up to {atol} "
                             f"allowed, rtol {rtol})\nactual:\n{a}\nexpected:\n{e}")


def _check_attributes(actual, expected, msg, **checks) -> None:
    """torch's attribute checks between two tensors: device, layout and stride."""
    from .._tensor import Tensor
    if not (isinstance(actual, Tensor) and isinstance(expected, Tensor)):
        return
    for name, wanted in checks.items():
        if not wanted or (name == "stride" and (actual.is_sparse or expected.is_sparse)):
            continue
        mine = actual.stride() if name == "stride" else getattr(actual, name)
        theirs = expected.stride() if name == "stride" else getattr(expected, name)
        if mine != theirs:
            raise AssertionError(msg or f"The values for attribute '{name}' do not match: "
                                 f"{mine} != {theirs}.")


def _dense(x):
    """Sparse tensors compare by their dense values."""
    return x.to_dense() if getattr(x, "is_sparse", False) else x


# The op and module harnesses compare results in which NaN must match NaN.
assert_close_nan_equal = functools.partial(assert_close, equal_nan=True)


def _is_number_seq(x) -> bool:
    return all(isinstance(v, (int, float, bool, complex)) for v in x)
