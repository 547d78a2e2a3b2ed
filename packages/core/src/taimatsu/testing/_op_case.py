"""The declarative op-test harness: describe an op once, get its tests generated.

A case names the op, how to make its inputs, and its references (NumPy and/or PyTorch).
`generate_tests` yields forward, non-contiguous, gradcheck and gradgradcheck tests; the
forward test takes the `device` fixture, and on an accelerator compares the op's values (and,
in a separate test, its gradients) with the CPU's. `generate_parity_tests` yields forward and
gradient comparisons against PyTorch.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import _dtype as D
from ._comparison import assert_close_nan_equal as assert_close
from ._comparison import to_numpy

FLOATS = (D.float32, D.float64)


@dataclass
class Arg:
    """A tensor input: its shape, dtype (None: the case's float dtype) and values."""

    shape: tuple
    dtype: Any = None
    low: float = -1.0
    high: float = 1.0
    requires_grad: bool | None = None
    fn: Callable | None = None  # fn(rng, shape, np_dtype) -> np.ndarray

    def make(self, rng, float_dtype):
        dt = float_dtype if self.dtype is None else D.to_dtype(self.dtype)
        if self.fn is not None:
            arr = np.asarray(self.fn(rng, tuple(self.shape), dt.np))
        elif dt._kind == 0:
            arr = rng.random(self.shape) < 0.5
        elif dt._kind == 1:
            arr = rng.integers(int(self.low), int(self.high), size=self.shape)
        elif dt._kind == 3:
            arr = rng.uniform(self.low, self.high, self.shape) + 1j * rng.uniform(
                self.low, self.high, self.shape)
        else:
            arr = rng.uniform(self.low, self.high, self.shape)
        return arr.astype(dt.np) if arr.dtype != dt.np else arr

    def differentiable(self, float_dtype) -> bool:
        if self.requires_grad is not None:
            return self.requires_grad
        dt = float_dtype if self.dtype is None else D.to_dtype(self.dtype)
        return dt._kind >= 2


@dataclass
class OpCase:
    """One op, its inputs and references; see the module docstring."""

    name: str
    op: Callable | None = None
    torch_op: Any = None
    numpy_op: Callable | None = None
    inputs: list = field(default_factory=list)
    kwargs: dict = field(default_factory=dict)
    dtypes: tuple = FLOATS
    grad: bool = True
    gradgrad: bool = True
    atol: float | None = None
    rtol: float | None = None
    noncontiguous: bool = True
    parity: bool = True
    grad_atol: float = 1e-5
    grad_rtol: float = 1e-3

    def __str__(self) -> str:
        return self.name

    # -- inputs -------------------------------------------------------------------------
    def _op(self):
        if self.op is not None:
            return self.op
        import taimatsu
        return _resolve(taimatsu, self.name.split("[")[0])

    def arrays(self, dtype) -> list:
        """The raw inputs: numpy arrays for tensor specs, other values as they are."""
        rng = np.random.default_rng(zlib.crc32(self.name.encode()))
        out = []
        for spec in self.inputs:
            if isinstance(spec, tuple):
                spec = Arg(spec)
            out.append(spec.make(rng, dtype) if isinstance(spec, Arg) else spec)
        return out

    def _grad_flags(self, dtype):
        flags = []
        for spec in self.inputs:
            if isinstance(spec, tuple):
                spec = Arg(spec)
            flags.append(isinstance(spec, Arg) and spec.differentiable(dtype))
        return flags

    def tensors(self, dtype, requires_grad=False, noncontiguous=False, device="cpu"):
        """taimatsu arguments for `dtype` on `device` (leaves that require grad if asked)."""
        from .._tensor import Tensor
        args = []
        for arr, diff in zip(self.arrays(dtype), self._grad_flags(dtype)):
            if isinstance(arr, np.ndarray):
                data = _noncontiguous(arr) if noncontiguous else arr.copy()
                t = _to_device(Tensor._make(data), device)
                if requires_grad and diff:
                    t.requires_grad_(True)
                args.append(t)
            else:
                args.append(_to_device(arr, device))  # index tensors, lists of tensors
        return args

    def run(self, args, device="cpu"):
        return self._op()(*args, **_to_device(self.kwargs, device))

    # -- checks ---------------------------------------------------------------------------
    def check_forward(self, device="cpu"):
        if device != "cpu":
            self.check_device_forward(device)
            return
        for dt in self.dtypes:
            result = self.run(self.tensors(dt))
            if self.numpy_op is not None:
                expected = self.numpy_op(*self.arrays(dt), **self.kwargs)
                assert_close(_plain(result), _plain(expected), rtol=self.rtol, atol=self.atol,
                             check_dtype=False, msg=None)

    def check_noncontiguous(self):
        for dt in self.dtypes:
            expected = self.run(self.tensors(dt))
            actual = self.run(self.tensors(dt, noncontiguous=True))
            assert_close(_plain(actual), _plain(expected), rtol=self.rtol, atol=self.atol)

    def check_device_forward(self, device):
        """On `device` the op gives the CPU's values and dtypes, and its tensors live there."""
        for dt in self.dtypes:
            expected = self.run(self.tensors(dt))
            actual = self.run(self.tensors(dt, device=device), device)
            _assert_on_device(actual, device)
            assert_close(_plain(_to_cpu(actual)), _plain(expected), rtol=self.rtol,
                         atol=self.atol, check_dtype=True)

    def check_device_backward(self, device):
        """On `device` backward gives the CPU's gradients (same seeds for the outputs)."""
        dt = _grad_dtype(self.dtypes)
        expected, actual = self._seeded_grads(dt, "cpu"), self._seeded_grads(dt, device)
        assert actual is not None or expected is None, f"no output requires grad on {device}"
        if expected is None:
            return
        assert len(actual) == len(expected)
        for i, (a, e) in enumerate(zip(actual, expected)):
            if a is None or e is None:
                assert a is e, f"gradient {i}: {a is not None} on {device}, {e is not None} on cpu"
                continue
            assert_close(a, e, rtol=self.rtol or 1e-6, atol=self.atol or 1e-6)

    def _seeded_grads(self, dtype, device):
        """Gradients (on the CPU) of the op's float outputs at fixed random output grads."""
        import taimatsu
        args = self.tensors(dtype, requires_grad=True, device=device)
        outs = [o for o in _float_outputs(self.run(args, device)) if o.requires_grad]
        if not outs:
            return None
        rng = np.random.default_rng(1)
        seeds = [taimatsu.tensor(rng.standard_normal(tuple(o.shape)).astype(o.dtype.np),
                                 device=device) for o in outs]
        wrt = [a for a in args if getattr(a, "_rg", False)]
        grads = taimatsu.autograd.grad(outs, wrt, seeds, allow_unused=True)
        return [None if g is None else g.detach().cpu() for g in grads]

    def _diff_call(self, dtype):
        from ..autograd import gradcheck  # noqa: F401
        args = self.tensors(dtype, requires_grad=True)
        idx = [i for i, a in enumerate(args) if getattr(a, "_rg", False)]

        def fn(*diff):
            full = list(args)
            for i, t in zip(idx, diff):
                full[i] = t
            return self.run(full)
        return fn, [args[i] for i in idx]

    def check_gradcheck(self):
        from ..autograd import gradcheck
        fn, diff = self._diff_call(_grad_dtype(self.dtypes))
        assert gradcheck(fn, diff, atol=self.grad_atol, rtol=self.grad_rtol)

    def check_gradgradcheck(self):
        from ..autograd import gradgradcheck
        fn, diff = self._diff_call(_grad_dtype(self.dtypes))
        assert gradgradcheck(fn, diff, atol=self.grad_atol, rtol=self.grad_rtol)

    def check_parity(self, torch):
        torch_fn = self._torch_op(torch)
        for dt in self.dtypes:
            ours = self.run(self.tensors(dt))
            theirs = torch_fn(*_to_torch(torch, self.arrays(dt)), **_kwargs_to_torch(
                torch, self.kwargs))
            assert_close(_plain(ours), _plain(theirs), rtol=self.rtol, atol=self.atol,
                         check_dtype=True)
        if self.grad:
            self._check_grad_parity(torch, torch_fn)

    def _check_grad_parity(self, torch, torch_fn):
        import taimatsu
        dt = _grad_dtype(self.dtypes)
        ours_in = self.tensors(dt, requires_grad=True)
        theirs_in = _to_torch(torch, self.arrays(dt))
        flags = self._grad_flags(dt)
        for t, f in zip(theirs_in, flags):
            if f:
                t.requires_grad_(True)
        ours_out = _float_outputs(self.run(ours_in))
        theirs_out = _float_outputs(torch_fn(*theirs_in, **_kwargs_to_torch(torch,
                                                                             self.kwargs)))
        rng = np.random.default_rng(1)
        seeds = [rng.standard_normal(tuple(o.shape)).astype(to_numpy(o.detach()).dtype)
                 for o in theirs_out]
        ours_diff = [a for a, f in zip(ours_in, flags) if f]
        theirs_diff = [a for a, f in zip(theirs_in, flags) if f]
        keep = [i for i, o in enumerate(theirs_out) if o.requires_grad]
        if not keep:
            return
        g_ours = taimatsu.autograd.grad([ours_out[i] for i in keep], ours_diff,
                                        [taimatsu.tensor(seeds[i]) for i in keep],
                                        allow_unused=True)
        g_theirs = torch.autograd.grad([theirs_out[i] for i in keep], theirs_diff,
                                       [torch.from_numpy(seeds[i]) for i in keep],
                                       allow_unused=True)
        for a, b in zip(g_ours, g_theirs):
            if a is None or b is None:
                assert a is None or not np.any(to_numpy(a)), "unused input got a gradient"
                assert b is None or not np.any(to_numpy(b)), "a gradient torch has is missing"
                continue
            assert_close(a, b, rtol=self.rtol or 1e-6, atol=self.atol or 1e-6)

    def _torch_op(self, torch):
        spec = self.torch_op if self.torch_op is not None else self.name.split("[")[0]
        if callable(spec):
            return lambda *a, **k: spec(torch, *a, **k)
        return _resolve(torch, spec)


def _resolve(module, dotted: str):
    obj = module
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def _grad_dtype(dtypes):
    return D.complex128 if any(d.is_complex for d in dtypes) else D.float64


def _noncontiguous(arr: np.ndarray) -> np.ndarray:
    """The same values in a strided (non-contiguous) array."""
    if arr.ndim == 0 or arr.size == 0:
        return arr.copy()
    big = np.zeros(arr.shape[:-1] + (arr.shape[-1] * 2,), dtype=arr.dtype)
    view = big[..., ::2]
    view[...] = arr
    return view


def _to_device(value, device):
    """Tensors (also in lists, tuples and dict values) moved to `device`; the rest as is."""
    from .._tensor import Tensor
    if device == "cpu":
        return value  # the inputs are made on the CPU: nothing to move
    if isinstance(value, Tensor):
        return value.to(device)
    if isinstance(value, dict):
        return {k: _to_device(v, device) for k, v in value.items()}
    if isinstance(value, (list, tuple)) and any(isinstance(v, Tensor) for v in value):
        return type(value)(_to_device(v, device) for v in value)
    return value


def _tensors_in(x):
    from .._tensor import Tensor
    if isinstance(x, Tensor):
        return [x]
    if isinstance(x, (tuple, list)):
        return [t for v in x for t in _tensors_in(v)]
    return []


def _assert_on_device(result, device):
    from .._device import to_device
    want = to_device(device).type
    for i, t in enumerate(_tensors_in(result)):
        assert t.device.type == want, f"output tensor {i} is on {t.device}, not {want}"


def _to_cpu(x):
    """Tensors (also nested in tuples and lists) copied to the CPU for comparison."""
    from .._tensor import Tensor
    if isinstance(x, Tensor):
        return x.detach().cpu()
    if isinstance(x, (tuple, list)):
        return [_to_cpu(v) for v in x]
    return x


def _plain(x):
    """Tensors/arrays/namedtuples -> nested lists of numpy arrays for comparison."""
    if isinstance(x, (tuple, list)):
        return [_plain(v) for v in x]
    if isinstance(x, (int, float, bool, complex)):
        return np.asarray(x)
    return x


def _float_outputs(out):
    if isinstance(out, (tuple, list)):
        flat = []
        for o in out:
            flat.extend(_float_outputs(o))
        return flat
    if hasattr(out, "dtype") and (getattr(out.dtype, "is_floating_point", False)
                                  or getattr(out.dtype, "is_complex", False)):
        return [out]
    return []


def _array_to_torch(torch, arr: np.ndarray):
    # torch.from_numpy refuses ml_dtypes' bfloat16: go through float32 (exact).
    if arr.dtype == D.bfloat16.np:
        return torch.from_numpy(arr.astype(np.float32)).bfloat16()
    return torch.from_numpy(arr.copy())


def _to_torch(torch, values):
    from .._tensor import Tensor
    from ..backend import to_numpy as host
    out = []
    for v in values:
        if isinstance(v, np.ndarray):
            out.append(_array_to_torch(torch, v))
        elif isinstance(v, Tensor):
            out.append(_array_to_torch(torch, host(v._data)))
        elif isinstance(v, (list, tuple)) and v and all(isinstance(x, Tensor) for x in v):
            out.append(type(v)(_array_to_torch(torch, host(x._data)) for x in v))
        else:
            out.append(v)
    return out


def _kwargs_to_torch(torch, kwargs):
    from .._tensor import Tensor
    out = {}
    for k, v in kwargs.items():
        if isinstance(v, Tensor):
            v = _to_torch(torch, [v])[0]
        elif isinstance(v, D.dtype):
            v = getattr(torch, v.name)
        out[k] = v
    return out


def _unique_ids(cases):
    seen: dict = {}
    ids = []
    for c in cases:
        n = seen.get(c.name, 0)
        seen[c.name] = n + 1
        ids.append(c.name if n == 0 else f"{c.name}-{n}")
    return ids


def generate_tests(cases) -> dict:
    """pytest functions for every case: forward, non-contiguous, gradcheck, gradgradcheck."""
    import pytest
    cases = list(cases)
    ids = _unique_ids(cases)

    tests = {}

    @pytest.mark.parametrize("case", cases, ids=ids)
    def test_forward(case, device):
        case.check_forward(device)
    tests["test_forward"] = test_forward

    nc = [c for c in cases if c.noncontiguous]
    if nc:
        @pytest.mark.parametrize("case", nc, ids=_unique_ids(nc))
        def test_noncontiguous(case):
            case.check_noncontiguous()
        tests["test_noncontiguous"] = test_noncontiguous

    g = [c for c in cases if c.grad]
    if g:
        @pytest.mark.parametrize("case", g, ids=_unique_ids(g))
        def test_gradcheck(case):
            case.check_gradcheck()
        tests["test_gradcheck"] = test_gradcheck

        # gradcheck's float64 finite differences stay on the CPU; on an accelerator one
        # backward pass is compared with the CPU's instead.
        @pytest.mark.parametrize("case", g, ids=_unique_ids(g))
        def test_backward_on_device(case, device):
            if device == "cpu":
                pytest.skip("compares an accelerator's gradients with the CPU's")
            case.check_device_backward(device)
        tests["test_backward_on_device"] = test_backward_on_device

    gg = [c for c in cases if c.grad and c.gradgrad]
    if gg:
        @pytest.mark.parametrize("case", gg, ids=_unique_ids(gg))
        def test_gradgradcheck(case):
            case.check_gradgradcheck()
        tests["test_gradgradcheck"] = test_gradgradcheck
    return tests


def generate_parity_tests(cases) -> dict:
    """pytest functions comparing every case's values and gradients against PyTorch."""
    import pytest
    cases = [c for c in cases if c.parity]

    @pytest.mark.parity
    @pytest.mark.parametrize("case", cases, ids=_unique_ids(cases))
    def test_parity(case):
        torch = pytest.importorskip("torch")
        case.check_parity(torch)

    return {"test_parity": test_parity}
