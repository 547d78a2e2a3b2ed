"""The CPU emulator that CI runs our CUDA kernels on: its thread model must match CUDA's."""

import numpy as np
import pytest

from taimatsu.backend.cuda import _module
from taimatsu.testing import cuda_emulator, nvrtc

pytestmark = pytest.mark.skipif(not cuda_emulator.available(), reason="no C++ compiler")

PRELUDE = (_module.KERNELS / _module.PRELUDE).read_text()

SOURCE = PRELUDE + r'''
extern "C" __global__ void block_reverse(const float* x, float* out, int n) {
    __shared__ float tile[256];
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    tile[threadIdx.x] = i < n ? x[i] : 0.f;
    __syncthreads();
    int j = blockIdx.x * blockDim.x + (blockDim.x - 1 - threadIdx.x);
    if (j < n) out[j] = tile[threadIdx.x];
}
extern "C" __global__ void row_sums(const double* x, double* out, int cols) {
    TM_DYNAMIC_SHARED(double, scratch);
    double acc = 0;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) acc += x[blockIdx.x * cols + c];
    acc = tm_block_sum(acc, scratch);
    if (threadIdx.x == 0) out[blockIdx.x] = acc;
}
extern "C" __global__ void row_max(const float* x, float* out, int cols) {
    __shared__ float scratch[32];
    float m = -tm_infinity<float>();
    for (int c = threadIdx.x; c < cols; c += blockDim.x) {
        float v = x[blockIdx.x * cols + c];
        m = (v > m || v != v) ? v : m;  // fmaxf would drop a NaN
    }
    m = tm_block_max(m, scratch);
    if (threadIdx.x == 0) out[blockIdx.x] = m;
}
extern "C" __global__ void histogram(const int* x, int* counts, long long n) {
    for (long long i = blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x)
        atomicAdd(&counts[x[i]], 1);
}
extern "C" __global__ void shuffles(int* out) {
    int lane = threadIdx.x & 31;
    out[threadIdx.x * 4 + 0] = __shfl_down_sync(0xffffffffu, lane, 3);
    out[threadIdx.x * 4 + 1] = __shfl_up_sync(0xffffffffu, lane, 2);
    out[threadIdx.x * 4 + 2] = __shfl_sync(0xffffffffu, lane, 5, 16);
    out[threadIdx.x * 4 + 3] = __ballot_sync(0xffffffffu, lane % 3 == 0);
}
extern "C" __global__ void early_exit(float* out, int n) {
    int i = threadIdx.x;
    if (i >= n) return;  // the rest still meet at the barrier below
    __syncthreads();
    out[i] = 1.f;
}
extern "C" __global__ void halves(const tm_half* h, const tm_bfloat16* b, float* out,
                                  tm_half* h_out, tm_bfloat16* b_out, int n) {
    int i = threadIdx.x;
    if (i < n) {
        out[2 * i] = tm_to_acc(h[i]);
        out[2 * i + 1] = tm_to_acc(b[i]);
        h_out[i] = tm_from_acc<tm_half>(out[2 * i] * 3.f);
        b_out[i] = tm_from_acc<tm_bfloat16>(out[2 * i + 1] * 3.f);
    }
}
'''


@pytest.fixture(scope="module")
def lib():
    return cuda_emulator.build(SOURCE)


def test_shared_memory_and_barrier(lib):
    x = np.arange(600, dtype=np.float32)
    out = np.zeros_like(x)
    cuda_emulator.launch(lib, "block_reverse", 3, 256, (x, out, np.int32(600)))
    expected = np.zeros_like(x)
    for j in range(600):  # position j of a block takes its mirror; a partial block reads zeros
        start = j // 256 * 256
        mirror = start + 255 - (j - start)
        expected[j] = x[mirror] if mirror < 600 else 0.0
    np.testing.assert_array_equal(out, expected)


def test_block_reductions_with_dynamic_shared_memory(lib):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 1000))
    out = np.zeros(5)
    cuda_emulator.launch(lib, "row_sums", 5, 128, (x, out, np.int32(1000)), shared_mem=32 * 8)
    np.testing.assert_allclose(out, x.sum(1), rtol=1e-12)
    xf = rng.standard_normal((4, 77)).astype(np.float32)
    xf[2, 5] = np.nan
    m = np.zeros(4, np.float32)
    cuda_emulator.launch(lib, "row_max", 4, 64, (xf, m, np.int32(77)))
    assert np.isnan(m[2])
    np.testing.assert_array_equal(np.delete(m, 2), np.delete(xf.max(1), 2))


def test_atomics_count_every_update(lib):
    x = np.random.default_rng(1).integers(0, 7, 5000).astype(np.int32)
    counts = np.zeros(7, np.int32)
    cuda_emulator.launch(lib, "histogram", 4, 256, (x, counts, np.int64(5000)))
    np.testing.assert_array_equal(counts, np.bincount(x, minlength=7))


def test_warp_shuffles_follow_cuda_rules(lib):
    out = np.zeros((64, 4), np.int32)
    cuda_emulator.launch(lib, "shuffles", 1, 64, (out,))
    lane = np.arange(64) % 32
    np.testing.assert_array_equal(out[:, 0], np.where(lane + 3 < 32, lane + 3, lane))
    np.testing.assert_array_equal(out[:, 1], np.where(lane >= 2, lane - 2, lane))
    np.testing.assert_array_equal(out[:, 2], (lane // 16) * 16 + 5)
    ballot = sum(1 << l for l in range(32) if l % 3 == 0)
    np.testing.assert_array_equal(out[:, 3].view(np.uint32), np.uint32(ballot))


def test_exited_threads_do_not_hang_a_barrier(lib):
    out = np.zeros(64, np.float32)
    cuda_emulator.launch(lib, "early_exit", 1, 64, (out, np.int32(40)))
    np.testing.assert_array_equal(out, (np.arange(64) < 40).astype(np.float32))


def test_half_and_bfloat16_conversions_round_to_nearest_even(lib):
    import ml_dtypes
    values = np.array([1.0, -2.5, 65504.0, 1e-7, np.inf, np.nan, 0.1, 3.14159], np.float32)
    h = values.astype(np.float16)
    b = values.astype(ml_dtypes.bfloat16)
    out = np.zeros(16, np.float32)
    h_out = np.zeros(8, np.float16)
    b_out = np.zeros(8, ml_dtypes.bfloat16)
    cuda_emulator.launch(lib, "halves", 1, 32,
                         (h.view(np.uint16), b.view(np.uint16), out, h_out.view(np.uint16),
                          b_out.view(np.uint16), np.int32(8)))
    np.testing.assert_array_equal(out[0::2], h.astype(np.float32))
    np.testing.assert_array_equal(out[1::2], b.astype(np.float32))
    with np.errstate(over="ignore"):  # 3 * 65504 is inf in float16, as on the GPU
        np.testing.assert_array_equal(h_out, (h.astype(np.float32) * 3).astype(np.float16))
    np.testing.assert_array_equal(b_out.astype(np.float32),
                                  (b.astype(np.float32) * 3).astype(ml_dtypes.bfloat16)
                                  .astype(np.float32))


def test_bad_launches_are_clear_errors(lib):
    with pytest.raises(ValueError, match="outside 1..1024"):
        cuda_emulator.launch(lib, "shuffles", 1, 2048, (np.zeros(1, np.int32),))
    with pytest.raises(TypeError, match="NumPy scalar"):
        cuda_emulator.launch(lib, "early_exit", 1, 32, (np.zeros(32, np.float32), 40))


@pytest.mark.skipif(nvrtc.library() is None, reason="NVRTC is not installed")
def test_the_same_source_compiles_for_the_gpu():
    ptx = nvrtc.compile_ptx(SOURCE, "emulator_test.cu")
    assert ".entry block_reverse" in ptx and "shfl.sync" in ptx


@pytest.mark.skipif(nvrtc.library() is None, reason="NVRTC is not installed")
def test_nvrtc_reports_compile_errors():
    with pytest.raises(RuntimeError, match="does not compile"):
        nvrtc.compile_ptx('extern "C" __global__ void f() { undefined_name = 1; }', "bad.cu")


def test_kernels_named_by_macros_are_found():
    source = PRELUDE + r'''
#define FILL(SUFFIX, T) extern "C" __global__ void fill_##SUFFIX(T* x, T v) { x[threadIdx.x] = v; }
FILL(f32, float)
FILL(f64, double)
'''
    assert cuda_emulator.kernel_names(source) == ("fill_f32", "fill_f64")
    out = np.zeros(4)
    cuda_emulator.launch(cuda_emulator.build(source), "fill_f64", 1, 4, (out, np.float64(2.5)))
    np.testing.assert_array_equal(out, 2.5)
