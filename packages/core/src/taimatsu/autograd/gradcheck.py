"""gradcheck and gradgradcheck: analytic gradients against central finite differences.

Complex values follow PyTorch's convention: for a real loss L = Re(sum(conj(v) * out)),
the gradient of a complex input z is dL/dRe(z) + 1j * dL/dIm(z).
"""

from __future__ import annotations

import numpy as np

from .. import backend


class GradcheckError(RuntimeError):
    """Raised when analytic and numerical gradients disagree."""


def _flatten_outputs(out):
    from .._tensor import Tensor
    if isinstance(out, Tensor):
        return [out]
    flat = []
    for o in out:
        flat.extend(_flatten_outputs(o) if isinstance(o, (tuple, list)) else
                    ([o] if isinstance(o, Tensor) else []))
    return flat


def _differentiable(outputs):
    return [o for o in outputs if o.dtype._kind >= 2]


def _evaluate(func, inputs):
    # Not under no_grad: gradgradcheck's function differentiates inside itself.
    outs = _differentiable(_flatten_outputs(func(*inputs)))
    return [backend.to_numpy(o._data).astype(np.complex128 if o.is_complex() else np.float64)
            for o in outs]


def _numerical_columns(func, inputs, tensor, eps):
    """d(out)/dRe(x_k) (and d/dIm for complex x), one entry per element k of `tensor`."""
    arr = tensor._data
    host = backend.to_numpy(arr)
    columns = []
    for k in range(host.size):
        idx = np.unravel_index(k, host.shape)
        orig = arr[idx].item() if hasattr(arr[idx], "item") else arr[idx]
        parts = [1.0] + ([1j] if np.iscomplexobj(host) else [])
        derivs = []
        for step in parts:
            arr[idx] = orig + eps * step
            plus = _evaluate(func, inputs)
            arr[idx] = orig - eps * step
            minus = _evaluate(func, inputs)
            arr[idx] = orig
            derivs.append([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
        columns.append(derivs)
    return columns


def _seeds(out):
    """Unit gradient seeds per output element: 1 (real part) and 1j (imaginary part)."""
    return [1.0, 1j] if out.dtype.is_complex else [1.0]


def _check(func, inputs, eps, atol, rtol, raise_exception, nondet_tol=0.0):
    from .._tensor import Tensor
    from . import grad as autograd_grad
    diff_inputs = [t for t in inputs if isinstance(t, Tensor) and t._rg]
    if not diff_inputs:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, "
                         "but none of the them have requires_grad=True.")
    outputs = _differentiable(_flatten_outputs(func(*inputs)))
    numeric = [_numerical_columns(func, inputs, t, eps) for t in diff_inputs]
    for j, out in enumerate(outputs):
        if not out._rg:
            if any(np.any(c[0][j] != 0) for cols in numeric for c in cols):
                return _fail(raise_exception, f"Output {j} has no grad_fn but its numerical "
                             "gradient is nonzero")
            continue
        xp = backend.of(out._data)
        for m in range(out.numel()):
            for seed in _seeds(out):
                go = xp.zeros(out._data.shape, dtype=out._data.dtype)
                go.reshape(-1)[m] = seed
                grads = autograd_grad(out, diff_inputs, Tensor._make(go), retain_graph=True,
                                      allow_unused=True)
                for i, (t, g) in enumerate(zip(diff_inputs, grads)):
                    analytic = np.zeros(t.shape, dtype=np.complex128 if t.is_complex()
                                        else np.float64) if g is None else \
                        backend.to_numpy(g._data).astype(np.complex128 if t.is_complex()
                                                         else np.float64)
                    expected = _expected_row(numeric[i], j, m, seed, t.is_complex())
                    expected = expected.reshape(analytic.shape)
                    if not np.allclose(analytic, expected, rtol=rtol, atol=atol,
                                       equal_nan=True):
                        return _fail(raise_exception, _mismatch(i, j, m, analytic, expected))
    return True


def _expected_row(columns, j, m, seed, complex_input):
    """dL/dx for L = Re(conj(seed) * out_j[m]), over every element of one input."""
    row = []
    for derivs in columns:
        d_re = np.real(np.conj(seed) * derivs[0][j].reshape(-1)[m])
        if complex_input:
            d_im = np.real(np.conj(seed) * derivs[1][j].reshape(-1)[m])
            row.append(d_re + 1j * d_im)
        else:
            row.append(d_re)
    return np.asarray(row)


def _mismatch(i, j, m, analytic, numerical):
    return (f"Jacobian mismatch for output {j} with respect to input {i} (output element "
            f"{m}),\nnumerical:{numerical.reshape(-1)}\nanalytical:{analytic.reshape(-1)}\n")


def _fail(raise_exception, msg):
    if raise_exception:
        raise GradcheckError(msg)
    return False


def _as_tuple(inputs):
    from .._tensor import Tensor
    return (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)


def gradcheck(func, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, nondet_tol: float = 0.0,
              check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
              check_batched_grad: bool = False, check_batched_forward_grad: bool = False,
              check_forward_ad: bool = False, check_backward_ad: bool = True,
              fast_mode: bool = False, masked=None) -> bool:
    """Checks gradients of `func` at `inputs` against finite differences (use float64)."""
    inputs = _as_tuple(inputs)
    return _check(func, inputs, eps, atol, rtol, raise_exception, nondet_tol)


def gradgradcheck(func, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, gen_non_contig_grad_outputs: bool = False,
                  raise_exception: bool = True, nondet_tol: float = 0.0,
                  check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
                  check_batched_grad: bool = False, check_fwd_over_rev: bool = False,
                  check_rev_over_rev: bool = True, fast_mode: bool = False,
                  masked=None) -> bool:
    """Checks second-order gradients: gradcheck of the function's vector-Jacobian product."""
    from .._tensor import Tensor
    from . import grad as autograd_grad
    inputs = _as_tuple(inputs)
    diff_inputs = [t for t in inputs if isinstance(t, Tensor) and t._rg]
    if grad_outputs is None:
        outs = [o for o in _differentiable(_flatten_outputs(func(*inputs))) if o._rg]
        rng = np.random.default_rng(0)
        grad_outputs = []
        for o in outs:
            shape = tuple(o.shape)
            g = rng.standard_normal(shape)
            if o.is_complex():
                g = g + 1j * rng.standard_normal(shape)
            xp = backend.of(o._data)
            t = Tensor._make(xp.asarray(g.astype(o._data.dtype)))
            t.requires_grad_(True)
            grad_outputs.append(t)
    grad_outputs = list(_as_tuple(grad_outputs))
    n = len(inputs)

    def vjp(*args):
        ins, gos = args[:n], args[n:]
        outs = [o for o in _differentiable(_flatten_outputs(func(*ins))) if o._rg]
        diff = [t for t in ins if isinstance(t, Tensor) and t._rg]
        grads = autograd_grad(outs, diff, gos, create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    del diff_inputs
    return _check(vjp, tuple(inputs) + tuple(grad_outputs), eps, atol, rtol, raise_exception,
                  nondet_tol)
