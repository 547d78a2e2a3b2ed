"""Dropout on CUDA: the Philox4x32-10 generator in kernels/dropout.cu against Random123's
known answers and a NumPy reference, the dropout kernels bit for bit against that
reference, and the dropout ops taking the kernel path (statistics, scale, gradients,
reproducibility)."""

import math

import ml_dtypes
import numpy as np
import pytest

import taimatsu as tm
from taimatsu import nn
from taimatsu.autograd import grad as autograd_grad
from taimatsu.backend.cuda import random as cuda_random
from taimatsu.nn import functional as F

from .conftest import host

M32 = np.uint64(0xFFFFFFFF)
DTYPES = [np.float32, np.float64, np.float16, ml_dtypes.bfloat16]
SUFFIX = {np.float32: "f32", np.float64: "f64", np.float16: "f16", ml_dtypes.bfloat16: "bf16"}
SELU_ALPHA = 1.7580993408473766


# -- a NumPy Philox4x32-10 -------------------------------------------------------------------

def philox_reference(counters, key):
    """Philox4x32-10 of uint32 counters (n, 4) under key (k0, k1), as in Random123."""
    c = [np.asarray(counters, dtype=np.uint64)[:, j].copy() for j in range(4)]
    k0, k1 = np.uint64(key[0]), np.uint64(key[1])
    for r in range(10):
        if r:
            k0, k1 = (k0 + np.uint64(0x9E3779B9)) & M32, (k1 + np.uint64(0xBB67AE85)) & M32
        p0 = np.uint64(0xD2511F53) * c[0]  # < 2^64: no wrap-around
        p1 = np.uint64(0xCD9E8D57) * c[2]
        c = [(p1 >> np.uint64(32)) ^ c[1] ^ k0, p1 & M32, (p0 >> np.uint64(32)) ^ c[3] ^ k1,
             p0 & M32]
    return np.stack(c, axis=1).astype(np.uint32)


def stream_reference(seed, offset, groups, first_group=0):
    """Our stream: group g's counter is (g lo, g hi, offset lo, offset hi), key = seed."""
    g = (np.arange(groups, dtype=np.uint64) + np.uint64(first_group))
    off = np.uint64(offset)
    counters = np.stack([g & M32, g >> np.uint64(32), np.full_like(g, off & M32),
                         np.full_like(g, off >> np.uint64(32))], axis=1)
    return philox_reference(counters, (seed & 0xFFFFFFFF, seed >> 32))


def mask_reference(seed, offset, n, p):
    words = stream_reference(seed, offset, -(-n // 4)).reshape(-1)[:n]
    return (words >> 8).astype(np.float32) * np.float32(2.0 ** -24) < np.float32(1.0 - p)


# Random123's kat_vectors, philox4x32 with 10 rounds: counter (4 words), key (2), result (4).
KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]


@pytest.mark.parametrize("counter,key,expected", KAT)
def test_numpy_reference_matches_known_answers(counter, key, expected):
    assert philox_reference([counter], key)[0].tolist() == list(expected)


@pytest.mark.parametrize("counter,key,expected", KAT)
def test_kernel_philox_matches_known_answers(xp, counter, key, expected):
    group = counter[0] | counter[1] << 32
    offset = counter[2] | counter[3] << 32
    seed = key[0] | key[1] << 32
    out = cuda_random.philox_raw(xp, 1, seed, offset, first_group=group, threads=32)
    assert host(out)[0].tolist() == list(expected)


def test_kernel_philox_matches_reference_bit_for_bit(xp):
    # 75 groups over 3 blocks of 32 threads; the group index crosses 2^32 (carry into word 1)
    seed, offset, first = 0x0123456789ABCDEF, (1 << 32) + 7, (1 << 32) - 40
    out = host(cuda_random.philox_raw(xp, 75, seed, offset, first_group=first, threads=32))
    np.testing.assert_array_equal(out, stream_reference(seed, offset, 75, first))


# -- the dropout kernels ---------------------------------------------------------------------

def require_dtype(xp, dtype):
    """Skips where the array module cannot hold `dtype` (CuPy without bfloat16)."""
    try:
        xp.asarray(np.zeros(1, dtype=dtype))
    except (TypeError, ValueError):
        pytest.skip(f"{xp.__name__} has no {np.dtype(dtype).name} arrays")


def aligned_empty(xp, n, dtype, align=64, misalign=0):
    """A contiguous array whose data starts `misalign` bytes past an `align` boundary."""
    dtype = np.dtype(dtype)
    raw = xp.empty(n * dtype.itemsize + 2 * align, dtype=np.uint8)
    pointer = raw.data.ptr if hasattr(raw.data, "ptr") else raw.ctypes.data
    start = (-pointer) % align + misalign
    return raw[start:start + n * dtype.itemsize].view(dtype)


def random_input(xp, n, dtype, seed=0):
    values = np.random.default_rng(seed).uniform(-2, 2, n).astype(dtype)
    return xp.asarray(values)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("vec", [True, False], ids=["vector", "scalar"])
def test_fused_forward_matches_reference(xp, dtype, vec):
    require_dtype(xp, dtype)
    n, p, seed, offset = 203, 0.3, 0xDEADBEEF12345678, 5  # odd size: a partial last group
    x, out = aligned_empty(xp, n, dtype), aligned_empty(xp, n, dtype)
    mask = aligned_empty(xp, n, np.bool_)
    x[...] = random_input(xp, n, dtype)
    scale = (np.float64 if dtype is np.float64 else np.float32)(1.0 / (1.0 - p))
    name = f"dropout_fwd_{'vec_' if vec else ''}{SUFFIX[dtype]}"
    cuda_random._MODULE[name](2, 32, (x, out, mask, np.int64(n), np.uint64(seed),
                                     np.uint64(offset), np.float32(1 - p), scale))
    want_mask = mask_reference(seed, offset, n, p)
    np.testing.assert_array_equal(host(mask), want_mask)
    wide = host(x).astype(np.float64 if dtype is np.float64 else np.float32)
    want = (wide * np.where(want_mask, scale, scale.dtype.type(0))).astype(dtype)
    np.testing.assert_array_equal(host(out).view(np.uint8), want.view(np.uint8))


@pytest.mark.parametrize("dtype", [np.float32, np.float16], ids=["float32", "float16"])
def test_dropout_wrapper_on_misaligned_input(xp, dtype):
    # a view one element in: not aligned for vector loads, so the scalar kernel runs
    cuda_random.manual_seed_all(11)
    x = aligned_empty(xp, 50, dtype, misalign=np.dtype(dtype).itemsize)
    assert not cuda_random._aligned(x, 4 * x.itemsize)
    x[...] = random_input(xp, 50, dtype)
    out, mask = cuda_random.dropout(x, 0.5, threads=32)
    want_mask = mask_reference(11, 0, 50, 0.5)
    np.testing.assert_array_equal(host(mask), want_mask)
    np.testing.assert_array_equal(host(out),
                                  (host(x).astype(np.float32) * want_mask * 2).astype(dtype))


def test_mask_kernel_matches_reference_and_offsets_advance(xp):
    cuda_random.manual_seed_all(7)
    like = xp.zeros(1, dtype=np.float32)
    first = cuda_random.bernoulli_mask(like, (3, 7), 0.6, threads=32)  # 21 -> 6 groups
    second = cuda_random.bernoulli_mask(like, (5,), 0.6, threads=32)
    np.testing.assert_array_equal(host(first).reshape(-1), mask_reference(7, 0, 21, 0.4))
    np.testing.assert_array_equal(host(second), mask_reference(7, 6, 5, 0.4))
    assert cuda_random.state_of(like).offset == 8


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_apply_kernel_broadcasts_mask_and_shifts(xp, dtype):
    require_dtype(xp, dtype)
    x = random_input(xp, 2 * 3 * 5, dtype).reshape(2, 3, 5)
    mask = xp.asarray(np.array([[1, 0, 1], [0, 0, 1]], dtype=bool).reshape(2, 3, 1))
    plain = host(cuda_random.masked_scale(x, mask, 1.25, threads=32))
    shifted = host(cuda_random.masked_scale(x, mask, 0.5, 0.25, -1.5, threads=32))
    wide, m = host(x).astype(np.float64), host(mask)
    tol = dict(rtol=1e-2, atol=1e-2) if np.dtype(dtype).itemsize == 2 else dict(rtol=1e-6)
    np.testing.assert_allclose(plain.astype(np.float64), wide * m * 1.25, **tol)
    np.testing.assert_allclose(shifted.astype(np.float64),
                               wide * m * 0.5 + np.where(m, 0.25, -1.5), **tol)


# -- the state -------------------------------------------------------------------------------

def test_state_round_trips_and_reseeding_replays(xp):
    x = xp.ones(40, dtype=np.float32)
    cuda_random.manual_seed_all(3)
    a = host(cuda_random.dropout(x, 0.5, threads=32)[1])
    state = cuda_random.state_of(x).get_state()
    assert state.dtype == np.uint8 and state.size == 16
    b = host(cuda_random.dropout(x, 0.5, threads=32)[1])
    cuda_random.state_of(x).set_state(state)
    np.testing.assert_array_equal(host(cuda_random.dropout(x, 0.5, threads=32)[1]), b)
    assert not np.array_equal(a, b)
    cuda_random.manual_seed_all(3)
    np.testing.assert_array_equal(host(cuda_random.dropout(x, 0.5, threads=32)[1]), a)
    with pytest.raises(RuntimeError, match="size 16"):
        cuda_random.state_of(x).set_state(np.zeros(8, dtype=np.uint8))


# -- statistics ------------------------------------------------------------------------------

@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_keep_rate_is_binomial(xp, p):
    cuda_random.manual_seed_all(2024)
    n = 8192
    x = xp.ones(n, dtype=np.float32)
    out, mask = cuda_random.dropout(x, p, threads=256)
    m = host(mask)
    q = 1.0 - p
    assert abs(m.sum() - n * q) < 5 * math.sqrt(n * q * p)
    # neighbours (words of one Philox block and of adjacent blocks) are independent
    both = (m[:-1] & m[1:]).sum()
    assert abs(both - (n - 1) * q * q) < 6 * math.sqrt(n * q * q * (1 - q * q))
    o = host(out)
    assert set(np.unique(o).tolist()) <= {0.0, float(np.float32(1 / q))}
    np.testing.assert_array_equal(o != 0, m)


# -- the ops on the kernel path --------------------------------------------------------------

def _tensor(xp, shape, dtype=np.float32, requires_grad=False, seed=0):
    """A tensor on the fixture's device (CPU under the emulator), values never 0."""
    values = np.random.default_rng(seed).uniform(0.5, 2, shape).astype(dtype)
    t = tm.from_numpy(values)
    if xp is not np:
        t = t.to("cuda")
    return t.requires_grad_() if requires_grad else t


def _np(t):
    return t.detach().cpu().numpy()


def test_functional_dropout_forward_and_gradient(xp):
    cuda_random.manual_seed_all(5)
    x = _tensor(xp, (6, 7), requires_grad=True)
    y = F.dropout(x, 0.4)
    assert y.grad_fn.name() == "NativeDropoutBackward0"
    keep = mask_reference(5, 0, 42, 0.4).reshape(6, 7)
    scale = np.float32(1 / 0.6)
    np.testing.assert_array_equal(_np(y), _np(x) * keep * scale)
    w = np.random.default_rng(1).normal(size=(6, 7)).astype(np.float32)
    (y * tm.from_numpy(w).to(x.device)).sum().backward()
    np.testing.assert_array_equal(_np(x.grad), w * keep * scale)


@pytest.mark.parametrize("dtype", DTYPES[2:], ids=["float16", "bfloat16"])
def test_functional_dropout_half_precision(xp, dtype):
    require_dtype(xp, dtype)
    cuda_random.manual_seed_all(9)
    x = _tensor(xp, (3, 11), dtype, requires_grad=True)
    y = F.dropout(x, 0.25)
    keep = mask_reference(9, 0, 33, 0.25).reshape(3, 11)
    scale = np.float32(1 / 0.75)
    np.testing.assert_array_equal(_np(y), (_np(x).astype(np.float32) * keep * scale).astype(dtype))
    y.sum().backward()
    assert x.grad.dtype == x.dtype
    np.testing.assert_array_equal(_np(x.grad), (keep * scale).astype(dtype))


def test_module_train_eval_and_reproducibility(xp):
    layer = nn.Dropout(0.5)
    x = _tensor(xp, (4, 9))
    cuda_random.manual_seed_all(21)
    a, b = _np(layer(x)), _np(layer(x))
    assert not np.array_equal(a, b)  # the offset moved on
    cuda_random.manual_seed_all(21)
    np.testing.assert_array_equal(_np(layer(x)), a)
    np.testing.assert_array_equal(_np(layer(x)), b)
    layer.eval()
    assert layer(x) is x


@pytest.mark.parametrize("seed_fn", [tm.manual_seed, tm.cuda.manual_seed, tm.cuda.manual_seed_all])
def test_public_seeding_replays_kernel_masks(xp, seed_fn):
    x = _tensor(xp, (6, 7))
    seed_fn(5)
    first = _np(F.dropout(x, 0.3))
    seed_fn(5)
    np.testing.assert_array_equal(_np(F.dropout(x, 0.3)), first)
    seed_fn(6)
    assert not np.array_equal(_np(F.dropout(x, 0.3)), first)


def test_p_zero_is_identity_and_p_one_zeroes(xp):
    x = _tensor(xp, (5, 3), requires_grad=True)
    assert F.dropout(x, 0.0) is x
    y = F.dropout(x, 1.0)
    np.testing.assert_array_equal(_np(y), np.zeros((5, 3), np.float32))
    y.sum().backward()
    np.testing.assert_array_equal(_np(x.grad), np.zeros((5, 3), np.float32))


def test_dropped_nan_stays_nan(xp):
    # x * mask, as torch's kernel computes it: NaN * 0 is NaN
    x = _tensor(xp, (2, 9)) * float("nan")
    assert np.isnan(_np(F.dropout(x, 0.5))).all()


def test_noncontiguous_and_inplace(xp):
    cuda_random.manual_seed_all(4)
    base = _tensor(xp, (5, 6), requires_grad=True)
    y = F.dropout((base * 1.0).t(), 0.5)  # a transposed view: the kernel reads a copy
    keep = mask_reference(4, 0, 30, 0.5).reshape(6, 5)
    np.testing.assert_array_equal(_np(y), _np(base).T * keep * 2)
    cuda_random.manual_seed_all(4)
    z = base * 1.0
    assert F.dropout(z, 0.5, inplace=True) is z
    keep = mask_reference(4, 0, 30, 0.5).reshape(5, 6)
    np.testing.assert_array_equal(_np(z), _np(base) * keep * 2)
    z.sum().backward()
    np.testing.assert_array_equal(_np(base.grad), keep * np.float32(2))


def test_double_backward_through_the_kernel_node(xp):
    cuda_random.manual_seed_all(8)
    x = _tensor(xp, (3, 5), np.float64, requires_grad=True)
    y = F.dropout(x, 0.5)
    v = tm.ones(3, 5, dtype=tm.float64, device=x.device, requires_grad=True)
    (gx,) = autograd_grad(y, x, grad_outputs=v, create_graph=True)
    keep = mask_reference(8, 0, 15, 0.5).reshape(3, 5)
    np.testing.assert_array_equal(_np(gx), keep * 2.0)
    (gx * 3.0).sum().backward()
    np.testing.assert_array_equal(_np(v.grad), keep * 6.0)


@pytest.mark.parametrize("fn,shape,mask_shape", [
    (F.dropout2d, (2, 3, 4, 5), (2, 3, 1, 1)),
    (F.dropout1d, (3, 7), (3, 1)),  # unbatched (C, L)
    (F.dropout3d, (1, 2, 2, 3, 3), (1, 2, 1, 1, 1)),
])
def test_feature_dropout_masks_whole_channels(xp, fn, shape, mask_shape):
    cuda_random.manual_seed_all(13)
    x = _tensor(xp, shape, requires_grad=True)
    y = fn(x, 0.5)
    assert y.grad_fn.name() == "MulBackward0"
    keep = mask_reference(13, 0, math.prod(mask_shape), 0.5).reshape(mask_shape)
    np.testing.assert_array_equal(_np(y), _np(x) * keep * 2)
    y.sum().backward()
    np.testing.assert_array_equal(_np(x.grad), np.broadcast_to(keep * np.float32(2), shape))


@pytest.mark.parametrize("fn,feature", [(F.alpha_dropout, False),
                                        (F.feature_alpha_dropout, True)])
def test_alpha_dropout(xp, fn, feature):
    cuda_random.manual_seed_all(17)
    p = 0.2
    x = _tensor(xp, (2, 4, 3), np.float64, requires_grad=True)
    y = fn(x, p, training=True)
    assert y.grad_fn.name() == "AddBackward0"
    mask_shape = (2, 4, 1) if feature else (2, 4, 3)
    keep = mask_reference(17, 0, math.prod(mask_shape), p).reshape(mask_shape)
    a = 1.0 / math.sqrt((SELU_ALPHA ** 2 * p + 1) * (1 - p))
    want = np.where(keep, _np(x) * a + SELU_ALPHA * a * p, SELU_ALPHA * a * (p - 1))
    np.testing.assert_allclose(_np(y), want, rtol=1e-14, atol=1e-14)
    y.sum().backward()
    np.testing.assert_allclose(_np(x.grad), np.broadcast_to(keep * a, (2, 4, 3)), rtol=1e-15)
    assert fn(x, p) is x  # training=False by default
