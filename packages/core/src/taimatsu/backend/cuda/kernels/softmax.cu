// Fused softmax and log_softmax, forward and backward, over one dimension of a contiguous
// tensor viewed as (outer, dim, inner).
//
// inner == 1 (reducing over the last dimension, the common case):
//   softmax_warp_{fwd,bwd}_<T>_<N>: one warp per row for dim <= 32 N. Lane l keeps elements
//     l, l + 32, ... of its row in N registers, so a row is read once and written once.
//   softmax_block_{fwd,bwd}_<T>: one block per row for longer rows. Pass 1 keeps an online
//     (max, sum) per thread and reduces it over the block; pass 2 re-reads the row (mostly
//     from L2) and writes it.
// inner > 1:
//   softmax_strided_{fwd,bwd}_<T>: a (bx, by) block takes bx adjacent columns (o, i .. i+bx)
//     of one outer index; threadIdx.x runs along the contiguous inner index (coalesced) and
//     threadIdx.y splits the dim, combined in shared memory.
// `log_mode` picks log_softmax. Forward: y = exp(x - max) / sum or (x - max) - log(sum).
// Backward from the output y: softmax dx = y * (g - sum(g * y)), log_softmax
// dx = g - exp(y) * sum(g). 16-bit types compute in float.
//
// Special values follow PyTorch's exp(x - max) / sum(exp(x - max)): a NaN in a row makes
// the row NaN, a row of -inf is NaN (-inf - -inf), a +inf gives inf - inf = NaN.

__device__ __forceinline__ float tm_sm_exp(float v) { return expf(v); }
__device__ __forceinline__ double tm_sm_exp(double v) { return exp(v); }
__device__ __forceinline__ float tm_sm_log(float v) { return logf(v); }
__device__ __forceinline__ double tm_sm_log(double v) { return log(v); }

template <class A> __device__ __forceinline__ A tm_sm_max(A a, A b) {
    return (b > a || b != b) ? b : a;  // NaN wins
}

// Adds v to a running (max m, sum s of exp(x - m)) with one exp per element.
template <class A> __device__ __forceinline__ void tm_sm_online(A& m, A& s, A v) {
    if (v > m) {
        // (v - v) + 1 is 1, or NaN for v = +inf, as exp(v - max) is in the reference formula.
        s = s * tm_sm_exp(m - v) + ((v - v) + A(1));
        m = v;
    } else if (v != -tm_infinity<A>()) {  // -inf adds exp(-inf) = 0; a NaN makes s NaN
        s += tm_sm_exp(v - m);
    }
}

// s rescaled from max m to max M. An empty part (s == 0, m == -inf) adds 0, never NaN.
template <class A> __device__ __forceinline__ A tm_sm_rescale(A s, A m, A M) {
    return s == A(0) ? A(0) : s * tm_sm_exp(m - M);
}

template <class T, class A>
__device__ __forceinline__ T tm_sm_out(A v, A M, A S, A logS, int log_mode) {
    return tm_from_acc<T>(log_mode ? (v - M) - logS : tm_sm_exp(v - M) / S);
}

// ---- inner == 1, one warp per row ---------------------------------------------------------

template <class T, int N>
__device__ void softmax_warp_fwd(const T* __restrict__ x, T* __restrict__ y, long long rows,
                                 int dim, int log_mode) {
    typedef typename tm_acc<T>::type A;
    const int lane = threadIdx.x & 31;
    const long long warps = blockDim.x >> 5;
    for (long long row = blockIdx.x * warps + (threadIdx.x >> 5); row < rows;
         row += gridDim.x * warps) {  // warp-uniform: the whole warp takes the same rows
        const T* xr = x + row * dim;
        T* yr = y + row * dim;
        A v[N];
        A m = -tm_infinity<A>();
#pragma unroll
        for (int k = 0; k < N; ++k) {
            int c = lane + 32 * k;
            v[k] = c < dim ? tm_to_acc(xr[c]) : -tm_infinity<A>();
            m = tm_sm_max(m, v[k]);
        }
        m = tm_warp_max(m);
        A s = 0;
#pragma unroll
        for (int k = 0; k < N; ++k) {
            if (lane + 32 * k < dim) {
                v[k] -= m;
                A e = tm_sm_exp(v[k]);
                s += e;
                if (!log_mode) v[k] = e;
            }
        }
        s = tm_warp_sum(s);
        A log_s = log_mode ? tm_sm_log(s) : A(0);
#pragma unroll
        for (int k = 0; k < N; ++k) {
            int c = lane + 32 * k;
            if (c < dim) yr[c] = tm_from_acc<T>(log_mode ? v[k] - log_s : v[k] / s);
        }
    }
}

template <class T, int N>
__device__ void softmax_warp_bwd(const T* __restrict__ g, const T* __restrict__ y,
                                 T* __restrict__ dx, long long rows, int dim, int log_mode) {
    typedef typename tm_acc<T>::type A;
    const int lane = threadIdx.x & 31;
    const long long warps = blockDim.x >> 5;
    for (long long row = blockIdx.x * warps + (threadIdx.x >> 5); row < rows;
         row += gridDim.x * warps) {
        const long long base = row * dim;
        A gv[N], yv[N];
        A s = 0;
#pragma unroll
        for (int k = 0; k < N; ++k) {
            int c = lane + 32 * k;
            gv[k] = c < dim ? tm_to_acc(g[base + c]) : A(0);
            yv[k] = c < dim ? tm_to_acc(y[base + c]) : A(0);
            s += log_mode ? gv[k] : gv[k] * yv[k];
        }
        s = tm_warp_sum(s);
#pragma unroll
        for (int k = 0; k < N; ++k) {
            int c = lane + 32 * k;
            if (c < dim) {
                A d = log_mode ? gv[k] - tm_sm_exp(yv[k]) * s : gv[k] * yv[k] - yv[k] * s;
                dx[base + c] = tm_from_acc<T>(d);
            }
        }
    }
}

// ---- inner == 1, one block per row (blockDim.x a multiple of 32) ---------------------------

template <class T>
__device__ void softmax_block_fwd(const T* __restrict__ x, T* __restrict__ y, long long rows,
                                  long long dim, int log_mode) {
    typedef typename tm_acc<T>::type A;
    __shared__ A scratch[32];
    for (long long row = blockIdx.x; row < rows; row += gridDim.x) {  // block-uniform
        const T* xr = x + row * dim;
        T* yr = y + row * dim;
        A m = -tm_infinity<A>(), s = 0;
        for (long long c = threadIdx.x; c < dim; c += blockDim.x)
            tm_sm_online(m, s, tm_to_acc(xr[c]));
        const A M = tm_block_max(m, scratch);
        const A S = tm_block_sum(tm_sm_rescale(s, m, M), scratch);
        const A log_s = log_mode ? tm_sm_log(S) : A(0);
        for (long long c = threadIdx.x; c < dim; c += blockDim.x)
            yr[c] = tm_sm_out<T>(tm_to_acc(xr[c]), M, S, log_s, log_mode);
    }
}

template <class T>
__device__ void softmax_block_bwd(const T* __restrict__ g, const T* __restrict__ y,
                                  T* __restrict__ dx, long long rows, long long dim,
                                  int log_mode) {
    typedef typename tm_acc<T>::type A;
    __shared__ A scratch[32];
    for (long long row = blockIdx.x; row < rows; row += gridDim.x) {
        const long long base = row * dim;
        A s = 0;
        for (long long c = threadIdx.x; c < dim; c += blockDim.x) {
            A gv = tm_to_acc(g[base + c]);
            s += log_mode ? gv : gv * tm_to_acc(y[base + c]);
        }
        s = tm_block_sum(s, scratch);
        for (long long c = threadIdx.x; c < dim; c += blockDim.x) {
            A gv = tm_to_acc(g[base + c]), yv = tm_to_acc(y[base + c]);
            dx[base + c] = tm_from_acc<T>(log_mode ? gv - tm_sm_exp(yv) * s : gv * yv - yv * s);
        }
    }
}

// ---- inner > 1: a (bx, by) block per bx columns; dynamic shared memory 2 * bx * by values ----
// blockDim.y must be a power of two (the tree over y halves it).

template <class T>
__device__ void softmax_strided_fwd(const T* __restrict__ x, T* __restrict__ y,
                                    long long outer, long long dim, long long inner,
                                    int log_mode) {
    typedef typename tm_acc<T>::type A;
    TM_DYNAMIC_SHARED(A, shared);
    const int bx = blockDim.x, by = blockDim.y, tx = threadIdx.x, ty = threadIdx.y;
    const int slot = ty * bx + tx;
    A* max_part = shared;
    A* sum_part = shared + bx * by;
    const long long col_tiles = (inner + bx - 1) / bx;
    for (long long tile = blockIdx.x; tile < outer * col_tiles; tile += gridDim.x) {
        const long long o = tile / col_tiles, i = (tile % col_tiles) * bx + tx;
        const bool active = i < inner;  // inactive threads still meet every barrier
        const long long base = o * dim * inner + i;
        A m = -tm_infinity<A>(), s = 0;
        if (active)
            for (long long d = ty; d < dim; d += by)
                tm_sm_online(m, s, tm_to_acc(x[base + d * inner]));
        max_part[slot] = m;
        sum_part[slot] = s;
        __syncthreads();
        for (int half = by >> 1; half > 0; half >>= 1) {
            if (ty < half) {
                A m2 = max_part[slot + half * bx], M = tm_sm_max(m, m2);
                s = tm_sm_rescale(s, m, M) + tm_sm_rescale(sum_part[slot + half * bx], m2, M);
                m = M;
                max_part[slot] = m;
                sum_part[slot] = s;
            }
            __syncthreads();
        }
        const A M = max_part[tx], S = sum_part[tx];
        __syncthreads();  // everyone has read the totals before the next tile overwrites them
        const A log_s = log_mode ? tm_sm_log(S) : A(0);
        if (active)
            for (long long d = ty; d < dim; d += by) {
                const long long k = base + d * inner;
                y[k] = tm_sm_out<T>(tm_to_acc(x[k]), M, S, log_s, log_mode);
            }
    }
}

template <class T>
__device__ void softmax_strided_bwd(const T* __restrict__ g, const T* __restrict__ y,
                                    T* __restrict__ dx, long long outer, long long dim,
                                    long long inner, int log_mode) {
    typedef typename tm_acc<T>::type A;
    TM_DYNAMIC_SHARED(A, sum_part);
    const int bx = blockDim.x, by = blockDim.y, tx = threadIdx.x, ty = threadIdx.y;
    const int slot = ty * bx + tx;
    const long long col_tiles = (inner + bx - 1) / bx;
    for (long long tile = blockIdx.x; tile < outer * col_tiles; tile += gridDim.x) {
        const long long o = tile / col_tiles, i = (tile % col_tiles) * bx + tx;
        const bool active = i < inner;
        const long long base = o * dim * inner + i;
        A s = 0;
        if (active)
            for (long long d = ty; d < dim; d += by) {
                A gv = tm_to_acc(g[base + d * inner]);
                s += log_mode ? gv : gv * tm_to_acc(y[base + d * inner]);
            }
        sum_part[slot] = s;
        __syncthreads();
        for (int half = by >> 1; half > 0; half >>= 1) {
            if (ty < half) sum_part[slot] = s = s + sum_part[slot + half * bx];
            __syncthreads();
        }
        const A S = sum_part[tx];
        __syncthreads();
        if (active)
            for (long long d = ty; d < dim; d += by) {
                const long long k = base + d * inner;
                A gv = tm_to_acc(g[k]), yv = tm_to_acc(y[k]);
                dx[k] = tm_from_acc<T>(log_mode ? gv - tm_sm_exp(yv) * S : gv * yv - yv * S);
            }
    }
}

// ---- exported entry points, one per storage type and warp width -------------------------
// (Written out rather than stamped by ## so that every kernel name appears in the text.)

#define TM_WARP_FWD_ARGS(T) const T* x, T* y, long long rows, int dim, int log_mode
#define TM_WARP_BWD_ARGS(T) const T* g, const T* y, T* dx, long long rows, int dim, int log_mode
#define TM_BLOCK_FWD_ARGS(T) const T* x, T* y, long long rows, long long dim, int log_mode
#define TM_BLOCK_BWD_ARGS(T) \
    const T* g, const T* y, T* dx, long long rows, long long dim, int log_mode
#define TM_STRIDED_FWD_ARGS(T) \
    const T* x, T* y, long long outer, long long dim, long long inner, int log_mode
#define TM_STRIDED_BWD_ARGS(T) \
    const T* g, const T* y, T* dx, long long outer, long long dim, long long inner, int log_mode
#define TM_WARP_FWD(T, N) { softmax_warp_fwd<T, N>(x, y, rows, dim, log_mode); }
#define TM_WARP_BWD(T, N) { softmax_warp_bwd<T, N>(g, y, dx, rows, dim, log_mode); }

extern "C" __global__ void softmax_warp_fwd_f32_1(TM_WARP_FWD_ARGS(float)) TM_WARP_FWD(float, 1)
extern "C" __global__ void softmax_warp_bwd_f32_1(TM_WARP_BWD_ARGS(float)) TM_WARP_BWD(float, 1)
extern "C" __global__ void softmax_warp_fwd_f32_2(TM_WARP_FWD_ARGS(float)) TM_WARP_FWD(float, 2)
extern "C" __global__ void softmax_warp_bwd_f32_2(TM_WARP_BWD_ARGS(float)) TM_WARP_BWD(float, 2)
extern "C" __global__ void softmax_warp_fwd_f32_4(TM_WARP_FWD_ARGS(float)) TM_WARP_FWD(float, 4)
extern "C" __global__ void softmax_warp_bwd_f32_4(TM_WARP_BWD_ARGS(float)) TM_WARP_BWD(float, 4)
extern "C" __global__ void softmax_warp_fwd_f32_8(TM_WARP_FWD_ARGS(float)) TM_WARP_FWD(float, 8)
extern "C" __global__ void softmax_warp_bwd_f32_8(TM_WARP_BWD_ARGS(float)) TM_WARP_BWD(float, 8)
extern "C" __global__ void softmax_warp_fwd_f32_16(TM_WARP_FWD_ARGS(float)) TM_WARP_FWD(float, 16)
extern "C" __global__ void softmax_warp_bwd_f32_16(TM_WARP_BWD_ARGS(float)) TM_WARP_BWD(float, 16)
extern "C" __global__ void softmax_warp_fwd_f32_32(TM_WARP_FWD_ARGS(float)) TM_WARP_FWD(float, 32)
extern "C" __global__ void softmax_warp_bwd_f32_32(TM_WARP_BWD_ARGS(float)) TM_WARP_BWD(float, 32)
extern "C" __global__ void softmax_block_fwd_f32(TM_BLOCK_FWD_ARGS(float)) {
    softmax_block_fwd<float>(x, y, rows, dim, log_mode);
}
extern "C" __global__ void softmax_block_bwd_f32(TM_BLOCK_BWD_ARGS(float)) {
    softmax_block_bwd<float>(g, y, dx, rows, dim, log_mode);
}
extern "C" __global__ void softmax_strided_fwd_f32(TM_STRIDED_FWD_ARGS(float)) {
    softmax_strided_fwd<float>(x, y, outer, dim, inner, log_mode);
}
extern "C" __global__ void softmax_strided_bwd_f32(TM_STRIDED_BWD_ARGS(float)) {
    softmax_strided_bwd<float>(g, y, dx, outer, dim, inner, log_mode);
}

extern "C" __global__ void softmax_warp_fwd_f64_1(TM_WARP_FWD_ARGS(double)) TM_WARP_FWD(double, 1)
extern "C" __global__ void softmax_warp_bwd_f64_1(TM_WARP_BWD_ARGS(double)) TM_WARP_BWD(double, 1)
extern "C" __global__ void softmax_warp_fwd_f64_2(TM_WARP_FWD_ARGS(double)) TM_WARP_FWD(double, 2)
extern "C" __global__ void softmax_warp_bwd_f64_2(TM_WARP_BWD_ARGS(double)) TM_WARP_BWD(double, 2)
extern "C" __global__ void softmax_warp_fwd_f64_4(TM_WARP_FWD_ARGS(double)) TM_WARP_FWD(double, 4)
extern "C" __global__ void softmax_warp_bwd_f64_4(TM_WARP_BWD_ARGS(double)) TM_WARP_BWD(double, 4)
extern "C" __global__ void softmax_warp_fwd_f64_8(TM_WARP_FWD_ARGS(double)) TM_WARP_FWD(double, 8)
extern "C" __global__ void softmax_warp_bwd_f64_8(TM_WARP_BWD_ARGS(double)) TM_WARP_BWD(double, 8)
extern "C" __global__ void softmax_warp_fwd_f64_16(TM_WARP_FWD_ARGS(double)) TM_WARP_FWD(double, 16)
extern "C" __global__ void softmax_warp_bwd_f64_16(TM_WARP_BWD_ARGS(double)) TM_WARP_BWD(double, 16)
extern "C" __global__ void softmax_warp_fwd_f64_32(TM_WARP_FWD_ARGS(double)) TM_WARP_FWD(double, 32)
extern "C" __global__ void softmax_warp_bwd_f64_32(TM_WARP_BWD_ARGS(double)) TM_WARP_BWD(double, 32)
extern "C" __global__ void softmax_block_fwd_f64(TM_BLOCK_FWD_ARGS(double)) {
    softmax_block_fwd<double>(x, y, rows, dim, log_mode);
}
extern "C" __global__ void softmax_block_bwd_f64(TM_BLOCK_BWD_ARGS(double)) {
    softmax_block_bwd<double>(g, y, dx, rows, dim, log_mode);
}
extern "C" __global__ void softmax_strided_fwd_f64(TM_STRIDED_FWD_ARGS(double)) {
    softmax_strided_fwd<double>(x, y, outer, dim, inner, log_mode);
}
extern "C" __global__ void softmax_strided_bwd_f64(TM_STRIDED_BWD_ARGS(double)) {
    softmax_strided_bwd<double>(g, y, dx, outer, dim, inner, log_mode);
}

extern "C" __global__ void softmax_warp_fwd_f16_1(TM_WARP_FWD_ARGS(tm_half)) TM_WARP_FWD(tm_half, 1)
extern "C" __global__ void softmax_warp_bwd_f16_1(TM_WARP_BWD_ARGS(tm_half)) TM_WARP_BWD(tm_half, 1)
extern "C" __global__ void softmax_warp_fwd_f16_2(TM_WARP_FWD_ARGS(tm_half)) TM_WARP_FWD(tm_half, 2)
extern "C" __global__ void softmax_warp_bwd_f16_2(TM_WARP_BWD_ARGS(tm_half)) TM_WARP_BWD(tm_half, 2)
extern "C" __global__ void softmax_warp_fwd_f16_4(TM_WARP_FWD_ARGS(tm_half)) TM_WARP_FWD(tm_half, 4)
extern "C" __global__ void softmax_warp_bwd_f16_4(TM_WARP_BWD_ARGS(tm_half)) TM_WARP_BWD(tm_half, 4)
extern "C" __global__ void softmax_warp_fwd_f16_8(TM_WARP_FWD_ARGS(tm_half)) TM_WARP_FWD(tm_half, 8)
extern "C" __global__ void softmax_warp_bwd_f16_8(TM_WARP_BWD_ARGS(tm_half)) TM_WARP_BWD(tm_half, 8)
extern "C" __global__ void softmax_warp_fwd_f16_16(TM_WARP_FWD_ARGS(tm_half)) TM_WARP_FWD(tm_half, 16)
extern "C" __global__ void softmax_warp_bwd_f16_16(TM_WARP_BWD_ARGS(tm_half)) TM_WARP_BWD(tm_half, 16)
extern "C" __global__ void softmax_warp_fwd_f16_32(TM_WARP_FWD_ARGS(tm_half)) TM_WARP_FWD(tm_half, 32)
extern "C" __global__ void softmax_warp_bwd_f16_32(TM_WARP_BWD_ARGS(tm_half)) TM_WARP_BWD(tm_half, 32)
extern "C" __global__ void softmax_block_fwd_f16(TM_BLOCK_FWD_ARGS(tm_half)) {
    softmax_block_fwd<tm_half>(x, y, rows, dim, log_mode);
}
extern "C" __global__ void softmax_block_bwd_f16(TM_BLOCK_BWD_ARGS(tm_half)) {
    softmax_block_bwd<tm_half>(g, y, dx, rows, dim, log_mode);
}
extern "C" __global__ void softmax_strided_fwd_f16(TM_STRIDED_FWD_ARGS(tm_half)) {
    softmax_strided_fwd<tm_half>(x, y, outer, dim, inner, log_mode);
}
extern "C" __global__ void softmax_strided_bwd_f16(TM_STRIDED_BWD_ARGS(tm_half)) {
    softmax_strided_bwd<tm_half>(g, y, dx, outer, dim, inner, log_mode);
}

extern "C" __global__ void softmax_warp_fwd_bf16_1(TM_WARP_FWD_ARGS(tm_bfloat16)) TM_WARP_FWD(tm_bfloat16, 1)
extern "C" __global__ void softmax_warp_bwd_bf16_1(TM_WARP_BWD_ARGS(tm_bfloat16)) TM_WARP_BWD(tm_bfloat16, 1)
extern "C" __global__ void softmax_warp_fwd_bf16_2(TM_WARP_FWD_ARGS(tm_bfloat16)) TM_WARP_FWD(tm_bfloat16, 2)
extern "C" __global__ void softmax_warp_bwd_bf16_2(TM_WARP_BWD_ARGS(tm_bfloat16)) TM_WARP_BWD(tm_bfloat16, 2)
extern "C" __global__ void softmax_warp_fwd_bf16_4(TM_WARP_FWD_ARGS(tm_bfloat16)) TM_WARP_FWD(tm_bfloat16, 4)
extern "C" __global__ void softmax_warp_bwd_bf16_4(TM_WARP_BWD_ARGS(tm_bfloat16)) TM_WARP_BWD(tm_bfloat16, 4)
extern "C" __global__ void softmax_warp_fwd_bf16_8(TM_WARP_FWD_ARGS(tm_bfloat16)) TM_WARP_FWD(tm_bfloat16, 8)
extern "C" __global__ void softmax_warp_bwd_bf16_8(TM_WARP_BWD_ARGS(tm_bfloat16)) TM_WARP_BWD(tm_bfloat16, 8)
extern "C" __global__ void softmax_warp_fwd_bf16_16(TM_WARP_FWD_ARGS(tm_bfloat16)) TM_WARP_FWD(tm_bfloat16, 16)
extern "C" __global__ void softmax_warp_bwd_bf16_16(TM_WARP_BWD_ARGS(tm_bfloat16)) TM_WARP_BWD(tm_bfloat16, 16)
extern "C" __global__ void softmax_warp_fwd_bf16_32(TM_WARP_FWD_ARGS(tm_bfloat16)) TM_WARP_FWD(tm_bfloat16, 32)
extern "C" __global__ void softmax_warp_bwd_bf16_32(TM_WARP_BWD_ARGS(tm_bfloat16)) TM_WARP_BWD(tm_bfloat16, 32)
extern "C" __global__ void softmax_block_fwd_bf16(TM_BLOCK_FWD_ARGS(tm_bfloat16)) {
    softmax_block_fwd<tm_bfloat16>(x, y, rows, dim, log_mode);
}
extern "C" __global__ void softmax_block_bwd_bf16(TM_BLOCK_BWD_ARGS(tm_bfloat16)) {
    softmax_block_bwd<tm_bfloat16>(g, y, dx, rows, dim, log_mode);
}
extern "C" __global__ void softmax_strided_fwd_bf16(TM_STRIDED_FWD_ARGS(tm_bfloat16)) {
    softmax_strided_fwd<tm_bfloat16>(x, y, outer, dim, inner, log_mode);
}
extern "C" __global__ void softmax_strided_bwd_bf16(TM_STRIDED_BWD_ARGS(tm_bfloat16)) {
    softmax_strided_bwd<tm_bfloat16>(g, y, dx, outer, dim, inner, log_mode);
}
