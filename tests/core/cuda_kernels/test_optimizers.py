"""Fused Adam/AdamW/SGD kernels (kernels/optimizers.cu): against NumPy references, and
through optim.Adam/AdamW/SGD against the array path that CPU parameters take."""

import contextlib
import math

import ml_dtypes
import numpy as np
import pytest

import taimatsu
from taimatsu import optim
from taimatsu._tensor import Tensor
from taimatsu.backend import cuda
from taimatsu.backend.cuda import optimizers as fused

from .conftest import host

CHUNK, THREADS = 24, 32  # small chunks, so that most parameters span several blocks
SIZES = [(1,), (7, 5), (130,), (3, 1, 11), (0,)]
ACC_RTOL = {np.float32: 1e-5, np.float64: 1e-12, np.float16: 2e-3,
            ml_dtypes.bfloat16: 1.6e-2}


@contextlib.contextmanager
def array_path():
    """The optimizers' array path for NumPy parameters, even under the emulator."""
    previous = cuda.EMULATED
    cuda.EMULATED = False
    try:
        yield
    finally:
        cuda.EMULATED = previous


@pytest.fixture
def launches(monkeypatch):
    """Counts the fused launches an optimizer makes, with small chunks and blocks."""
    monkeypatch.setattr(fused, "CHUNK_SIZE", CHUNK)
    monkeypatch.setattr(fused, "THREADS", THREADS)
    calls = []
    for name in ("adam_", "sgd_"):
        real = getattr(fused, name)

        def counted(rows, *args, _real=real, **kwargs):
            calls.append(len(rows))
            return _real(rows, *args, **kwargs)
        monkeypatch.setattr(fused, name, counted)
    return calls


def _random(rng, shape, dtype, low=-1.0, high=1.0):
    return rng.uniform(low, high, shape).astype(dtype)


# -- kernels against textbook formulas in float64 ----------------------------------------------

def _adam_reference(p, g, m, v, vmax, step, *, lr, beta1, beta2, eps, weight_decay, maximize,
                    decoupled):
    p, g, m, v = (a.astype(np.float64) for a in (p, g, m, v))
    g = -g if maximize else g
    if decoupled:
        p = p * (1 - lr * weight_decay)
    else:
        g = g + weight_decay * p
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    second = v if vmax is None else np.maximum(vmax.astype(np.float64), v)
    denom = np.sqrt(second) / math.sqrt(1 - beta2 ** step) + eps
    p = p - lr / (1 - beta1 ** step) * m / denom
    return p, m, v, (None if vmax is None else second)


def _assert_close(actual, expected, dtype):
    rtol = ACC_RTOL[dtype]
    np.testing.assert_allclose(host(actual).astype(np.float64), expected, rtol=rtol,
                               atol=rtol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, ml_dtypes.bfloat16])
@pytest.mark.parametrize("amsgrad,maximize,decoupled",
                         [(False, False, False), (True, True, False), (True, False, True)])
def test_adam_kernel_matches_the_formulas(xp, dtype, amsgrad, maximize, decoupled):
    rng = np.random.default_rng(0)
    options = dict(lr=0.01, beta1=0.9, beta2=0.99, eps=1e-6, weight_decay=0.1,
                   maximize=maximize, decoupled=decoupled)
    step = 3.0
    cases, rows = [], []
    for shape in SIZES:
        arrays = [_random(rng, shape, dtype), _random(rng, shape, dtype),
                  _random(rng, shape, dtype, -0.1, 0.1), _random(rng, shape, dtype, 0, 0.1),
                  _random(rng, shape, dtype, 0, 0.1) if amsgrad else None]
        cases.append(arrays)
        rows.append(tuple(None if a is None else xp.asarray(a.copy()) for a in arrays)
                    + (None,))
    fused.adam_(rows, step, chunk_size=CHUNK, threads=THREADS, **options)
    for arrays, row in zip(cases, rows):
        expected = _adam_reference(*arrays, step, **options)
        for got, want in zip((row[0], row[2], row[3], row[4]), expected):
            if want is not None:
                _assert_close(got, want, dtype)
        np.testing.assert_array_equal(host(row[1]), arrays[1])  # the gradient is only read


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adam_kernel_advances_and_reads_device_steps(xp, dtype):
    """fused=True keeps 'step' on the device: the kernels advance it and derive the bias
    corrections from it, per parameter."""
    rng = np.random.default_rng(1)
    options = dict(lr=0.05, beta1=0.8, beta2=0.9, eps=1e-8, weight_decay=0.0,
                   maximize=False, decoupled=False)
    counts = [0.0, 4.0, 9.0]
    cases, rows = [], []
    for count, shape in zip(counts, [(5,), (50,), (1,)]):
        arrays = [_random(rng, shape, dtype) for _ in range(2)] + [
            _random(rng, shape, dtype, -0.1, 0.1), _random(rng, shape, dtype, 0, 0.1)]
        cases.append(arrays)
        step = xp.asarray(np.array(count, dtype=np.float32))
        rows.append(tuple(xp.asarray(a.copy()) for a in arrays) + (None, step))
    fused.adam_(rows, None, chunk_size=CHUNK, threads=THREADS, **options)
    for count, arrays, row in zip(counts, cases, rows):
        assert float(host(row[5])) == count + 1
        expected = _adam_reference(*arrays, None, count + 1, **options)
        for got, want in zip((row[0], row[2], row[3]), expected):
            _assert_close(got, want, dtype)


def _sgd_reference(p, g, buf, first, *, lr, momentum, dampening, weight_decay, nesterov,
                   maximize):
    p, g = p.astype(np.float64), g.astype(np.float64)
    g = (-g if maximize else g) + weight_decay * p
    if buf is not None:
        buf = g if first else momentum * buf.astype(np.float64) + (1 - dampening) * g
        g = g + momentum * buf if nesterov else buf
    return p - lr * g, buf


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, ml_dtypes.bfloat16])
@pytest.mark.parametrize("momentum,dampening,nesterov,weight_decay,maximize",
                         [(0.0, 0.0, False, 0.0, False), (0.9, 0.0, True, 0.01, False),
                          (0.5, 0.3, False, 0.0, True)])
def test_sgd_kernel_matches_the_formulas(xp, dtype, momentum, dampening, nesterov,
                                         weight_decay, maximize):
    rng = np.random.default_rng(2)
    options = dict(lr=0.1, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                   nesterov=nesterov, maximize=maximize)
    cases, rows = [], []
    for i, shape in enumerate(SIZES):
        first = i % 2 == 0  # new buffers and running ones in the same launch
        buf = _random(rng, shape, dtype) if momentum else None
        arrays = [_random(rng, shape, dtype), _random(rng, shape, dtype), buf]
        cases.append((arrays, first))
        rows.append(tuple(None if a is None else xp.asarray(a.copy()) for a in arrays)
                    + (first and momentum != 0,))
    fused.sgd_(rows, chunk_size=CHUNK, threads=THREADS, **options)
    for (arrays, first), row in zip(cases, rows):
        p, buf = _sgd_reference(*arrays, first, **options)
        _assert_close(row[0], p, dtype)
        if buf is not None:
            _assert_close(row[2], buf, dtype)


def test_chunks_past_the_grid_limit_are_taken_by_a_grid_stride_loop(xp, monkeypatch):
    monkeypatch.setattr(fused, "_MAX_BLOCKS", 3)
    p, g = np.linspace(-1, 1, 200).astype(np.float32), np.full(200, 0.5, np.float32)
    row = (xp.asarray(p.copy()), xp.asarray(g), None, False)
    fused.sgd_([row], lr=0.1, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
               maximize=False, chunk_size=16, threads=THREADS)
    np.testing.assert_array_equal(host(row[0]), p - np.float32(0.1) * g)


def test_kernel_arrays_refuses_what_the_kernels_cannot_take():
    a = np.zeros((4, 3), np.float32)
    assert fused.kernel_arrays((a, a.T.copy(), None)) is not None
    assert fused.kernel_arrays((a, np.zeros((3, 4), np.float32).T)) is None  # not C order
    assert fused.kernel_arrays((a, np.zeros((4, 3), np.float64))) is None    # dtype
    assert fused.kernel_arrays((a, np.zeros(5, np.float32))) is None         # size
    assert fused.kernel_arrays((np.zeros(3, np.int64),) * 2) is None          # no kernel
    real = fused.kernel_arrays((np.zeros((2, 3), np.complex64),) * 2)
    assert real[0].dtype == np.float32 and real[0].shape == (12,)


# -- the optimizers: kernel path against the array path ----------------------------------------

def _parameters(xp, dtype, rng, sizes=SIZES):
    values = [_random(rng, shape, dtype) for shape in sizes]
    kernel = [Tensor._make(xp.asarray(v)).requires_grad_() for v in values]
    reference = [Tensor._make(v.copy()).requires_grad_() for v in values]
    return kernel, reference


def _set_grads(xp, kernel, reference, rng, step):
    for i, (k, r) in enumerate(zip(kernel, reference)):
        if i == 1 and step < 2:  # a late starter: its step count lags the others'
            k.grad = r.grad = None
            continue
        g = _random(rng, r.shape, r._data.dtype)
        r.grad = Tensor._make(g)
        k.grad = Tensor._make(xp.asarray(g.copy()))


def _assert_same_state(kernel_opt, reference_opt, kernel, reference, rtol):
    for k, r in zip(kernel, reference):
        np.testing.assert_allclose(host(k._data), r._data, rtol=rtol, atol=rtol)
    got, want = kernel_opt.state_dict(), reference_opt.state_dict()
    assert got["param_groups"] == want["param_groups"]
    assert got["state"].keys() == want["state"].keys()
    for index, state in want["state"].items():
        assert got["state"][index].keys() == state.keys()
        for key, value in state.items():
            mine = got["state"][index][key]
            assert mine.dtype == value.dtype and mine.shape == value.shape
            np.testing.assert_allclose(host(mine._data), value._data, rtol=rtol, atol=rtol)


def _run(xp, make, dtype, launches, steps=5, sizes=SIZES):
    rng = np.random.default_rng(3)
    kernel, reference = _parameters(xp, dtype, rng, sizes)
    kernel_opt, reference_opt = make(kernel), make(reference)
    for step in range(steps):
        _set_grads(xp, kernel, reference, rng, step)
        kernel_opt.step()
        with array_path():
            reference_opt.step()
    assert launches, "the optimizer did not take the fused kernels"
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    _assert_same_state(kernel_opt, reference_opt, kernel, reference, rtol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["Adam", "AdamW"])
@pytest.mark.parametrize("options", [
    dict(lr=0.05), dict(lr=0.05, amsgrad=True, weight_decay=0.1),
    dict(lr=0.05, maximize=True, betas=(0.3, 0.9)),  # 1 - beta1 >= 0.5: lerp's other form
    dict(lr=0.05, amsgrad=True, maximize=True, fused=True)])
def test_adam_steps_match_the_array_path(xp, launches, kind, options, dtype):
    _run(xp, lambda ps: getattr(optim, kind)(ps, **options), dtype, launches)
    # one launch per step count on the host; fused groups' steps live on the device
    assert launches == ([4, 4, 5, 5, 5] if options.get("fused") else [4, 4] + [4, 1] * 3)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", [
    dict(lr=0.1), dict(lr=0.1, momentum=0.9), dict(lr=0.1, momentum=0.9, nesterov=True),
    dict(lr=0.1, momentum=0.8, dampening=0.4, weight_decay=0.05, maximize=True),
    dict(lr=0.1, momentum=0.9, weight_decay=0.01, fused=True)])
def test_sgd_steps_match_the_array_path(xp, launches, options, dtype):
    _run(xp, lambda ps: optim.SGD(ps, **options), dtype, launches)
    assert launches == [4, 4, 5, 5, 5]


def test_parameters_of_each_dtype_get_their_own_launch(xp, launches):
    rng = np.random.default_rng(7)
    k32, r32 = _parameters(xp, np.float32, rng, [(5,), (30,)])
    k64, r64 = _parameters(xp, np.float64, rng, [(9,)])
    kernel, reference = k32 + k64, r32 + r64
    kernel_opt, reference_opt = optim.AdamW(kernel, lr=0.1), optim.AdamW(reference, lr=0.1)
    for _ in range(2):
        _set_grads(xp, kernel, reference, rng, 2)
        kernel_opt.step()
        with array_path():
            reference_opt.step()
    assert launches == [2, 1, 2, 1]
    _assert_same_state(kernel_opt, reference_opt, kernel, reference, 1e-6)


def test_fused_adam_keeps_step_on_the_parameters_device_and_advances_it(xp, launches):
    p = Tensor._make(xp.asarray(np.ones(3, np.float32))).requires_grad_()
    opt = optim.AdamW([p], lr=0.1, fused=True)
    for _ in range(3):
        p.grad = Tensor._make(xp.asarray(np.ones(3, np.float32)))
        opt.step()
    step = opt.state[p]["step"]
    assert step.dtype == taimatsu.float32 and step.shape == () and float(host(step._data)) == 3
    assert type(step._data) is type(p._data)


@pytest.mark.parametrize("kind", ["Adam", "SGD"])
def test_complex_parameters_update_per_real_component(xp, launches, kind):
    make = {"Adam": lambda ps: optim.Adam(ps, lr=0.05, amsgrad=True, weight_decay=0.1),
            "SGD": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True)}[kind]
    rng = np.random.default_rng(4)
    values = [(rng.uniform(-1, 1, s) + 1j * rng.uniform(-1, 1, s)).astype(np.complex64)
              for s in [(3,), (40,)]]
    kernel = [Tensor._make(xp.asarray(v)).requires_grad_() for v in values]
    reference = [Tensor._make(v.copy()).requires_grad_() for v in values]
    kernel_opt, reference_opt = make(kernel), make(reference)
    for _ in range(3):
        for k, r in zip(kernel, reference):
            g = (rng.uniform(-1, 1, r.shape) + 1j * rng.uniform(-1, 1, r.shape)).astype(
                np.complex64)
            r.grad, k.grad = Tensor._make(g), Tensor._make(xp.asarray(g.copy()))
        kernel_opt.step()
        with array_path():
            reference_opt.step()
    assert launches
    _assert_same_state(kernel_opt, reference_opt, kernel, reference, 1e-6)


@pytest.mark.parametrize("dtype", [np.float16, ml_dtypes.bfloat16])
def test_half_parameters_update_in_float32(xp, launches, dtype):
    """16-bit parameters keep 16-bit state and compute in float32, close to the array path
    (which rounds after every operation; eps is large enough for float16's range there)."""
    rng = np.random.default_rng(5)
    kernel, reference = _parameters(xp, dtype, rng, [(9,), (60,)])
    kernel_opt = optim.Adam(kernel, lr=0.01, eps=1e-3, amsgrad=True)
    reference_opt = optim.Adam(reference, lr=0.01, eps=1e-3, amsgrad=True)
    for _ in range(3):
        for k, r in zip(kernel, reference):
            g = _random(rng, r.shape, dtype)
            r.grad, k.grad = Tensor._make(g), Tensor._make(xp.asarray(g.copy()))
        kernel_opt.step()
        with array_path():
            reference_opt.step()
    assert launches
    for k, r in zip(kernel, reference):
        assert k._data.dtype == dtype
        assert kernel_opt.state[k]["exp_avg"]._data.dtype == dtype
        np.testing.assert_allclose(host(k._data).astype(np.float32),
                                   r._data.astype(np.float32), rtol=2e-2, atol=2e-2)


def test_foreach_false_and_unsupported_arrays_take_the_array_path(xp, launches):
    rng = np.random.default_rng(6)
    kernel, reference = _parameters(xp, np.float32, rng, [(4,), (6,)])
    # a leaf over a transposed array: not C-contiguous, so not the kernel's
    transposed = _random(rng, (3, 5), np.float32).T
    kernel.append(Tensor._make(xp.asarray(transposed.copy(order="F"))).requires_grad_())
    reference.append(Tensor._make(transposed.copy(order="F")).requires_grad_())
    looped = Tensor._make(xp.asarray(np.ones(5, np.float32))).requires_grad_()
    kernel_opt = optim.SGD([{"params": kernel}, {"params": [looped], "foreach": False}],
                           lr=0.1, momentum=0.9)
    reference_opt = optim.SGD(reference, lr=0.1, momentum=0.9)
    for _ in range(3):
        _set_grads(xp, kernel, reference, rng, 2)
        looped.grad = Tensor._make(xp.asarray(np.ones(5, np.float32)))
        kernel_opt.step()
        with array_path():
            reference_opt.step()
    assert launches == [2, 2, 2]  # the transposed parameter and the foreach=False group loop
    for k, r in zip(kernel, reference):
        np.testing.assert_allclose(host(k._data), r._data, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(host(looped._data), 1 - 0.1 * np.array([1, 1.9, 2.71]).sum(),
                               rtol=1e-6)


@pytest.mark.parametrize("make", [lambda ps: optim.Adam(ps, fused=True),
                                  lambda ps: optim.SGD(ps, lr=0.1, fused=True)])
def test_fused_refuses_complex_parameters_as_torch(make):
    p = taimatsu.zeros(2, dtype=taimatsu.complex64, requires_grad=True)
    p.grad = taimatsu.ones(2, dtype=taimatsu.complex64)
    with pytest.raises(RuntimeError, match=r"`fused=True` requires all the params to be "
                                           r"floating point Tensors of supported devices: "
                                           r"\['mps', 'cuda'.* but taimatsu.complex64 and cpu"):
        make([p]).step()
