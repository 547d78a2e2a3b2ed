// GELU (exact and tanh-approximated) and SiLU, forward and backward, plain and with a fused
// bias add: the epilogue of a linear layer whose matmul ran without its bias.
//
// `kind` picks the activation: 0 GELU with erf, 1 GELU with tanh, 2 SiLU (uniform per launch).
// act_fwd / act_bwd: elementwise over n items, a grid-stride loop with one item per thread per
//   step (adjacent threads, adjacent items).
// bias_act_fwd: y = act(x + bias[c]) for x of shape (rows, features). threadIdx.x and
//   blockIdx.x run over columns (each thread loads its bias once), blockIdx.y over rows.
// bias_act_bwd: dx = g * act'(x + bias) and the bias gradient's partial column sums. A
//   (bx, by) block covers bx columns; threadIdx.y and blockIdx.y split the rows. Each block
//   sums its rows in shared memory and writes one partial row to partial[blockIdx.y, c]
//   (accumulation type), which the host sums over blockIdx.y: deterministic, no atomics.
// 16-bit types compute in float; x + bias is not rounded to the storage type in between.

#define TM_SQRT_HALF 0.70710678118654752440
#define TM_INV_SQRT_2PI 0.39894228040143267794
#define TM_GELU_BETA 0.79788456080286535588  // sqrt(2 / pi)
#define TM_GELU_KAPPA 0.044715

__device__ __forceinline__ float tm_act_exp(float v) { return expf(v); }
__device__ __forceinline__ double tm_act_exp(double v) { return exp(v); }
__device__ __forceinline__ float tm_act_erfc(float v) { return erfcf(v); }
__device__ __forceinline__ double tm_act_erfc(double v) { return erfc(v); }
__device__ __forceinline__ float tm_act_tanh(float v) { return tanhf(v); }
__device__ __forceinline__ double tm_act_tanh(double v) { return tanh(v); }

template <class A> __device__ __forceinline__ A tm_act_value(A x, int kind) {
    if (kind == 0)  // 1 + erf(z) as erfc(-z): keeps relative accuracy far below zero
        return A(0.5) * x * tm_act_erfc(-x * A(TM_SQRT_HALF));
    if (kind == 1) {
        A inner = A(TM_GELU_BETA) * (x + A(TM_GELU_KAPPA) * x * x * x);
        return A(0.5) * x * (A(1) + tm_act_tanh(inner));
    }
    return x * (A(1) / (A(1) + tm_act_exp(-x)));
}

template <class A> __device__ __forceinline__ A tm_act_grad(A x, int kind) {
    if (kind == 0) {
        A cdf = A(0.5) * tm_act_erfc(-x * A(TM_SQRT_HALF));
        return cdf + x * tm_act_exp(A(-0.5) * x * x) * A(TM_INV_SQRT_2PI);
    }
    if (kind == 1) {
        A x2 = x * x;
        A t = tm_act_tanh(A(TM_GELU_BETA) * (x + A(TM_GELU_KAPPA) * x2 * x));
        A dinner = A(TM_GELU_BETA) * (A(1) + A(3 * TM_GELU_KAPPA) * x2);
        return A(0.5) * (A(1) + t) + A(0.5) * x * (A(1) - t * t) * dinner;
    }
    A s = A(1) / (A(1) + tm_act_exp(-x));
    return s * (A(1) + x * (A(1) - s));
}

template <class T>
__device__ void act_fwd(const T* __restrict__ x, T* __restrict__ y, long long n, int kind) {
    typedef typename tm_acc<T>::type A;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x)
        y[i] = tm_from_acc<T>(tm_act_value<A>(tm_to_acc(x[i]), kind));
}

template <class T>
__device__ void act_bwd(const T* __restrict__ g, const T* __restrict__ x, T* __restrict__ dx,
                        long long n, int kind) {
    typedef typename tm_acc<T>::type A;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x)
        dx[i] = tm_from_acc<T>(tm_to_acc(g[i]) * tm_act_grad<A>(tm_to_acc(x[i]), kind));
}

template <class T>
__device__ void bias_act_fwd(const T* __restrict__ x, const T* __restrict__ bias,
                             T* __restrict__ y, long long rows, long long features, int kind) {
    typedef typename tm_acc<T>::type A;
    for (long long c = blockIdx.x * (long long)blockDim.x + threadIdx.x; c < features;
         c += (long long)gridDim.x * blockDim.x) {
        const A b = tm_to_acc(bias[c]);
        for (long long r = blockIdx.y; r < rows; r += gridDim.y) {
            const long long k = r * features + c;
            y[k] = tm_from_acc<T>(tm_act_value<A>(tm_to_acc(x[k]) + b, kind));
        }
    }
}

// blockDim.y must be a power of two; dynamic shared memory blockDim.x * blockDim.y values.
template <class T>
__device__ void bias_act_bwd(const T* __restrict__ g, const T* __restrict__ x,
                             const T* __restrict__ bias, T* __restrict__ dx,
                             typename tm_acc<T>::type* __restrict__ partial, long long rows,
                             long long features, int kind) {
    typedef typename tm_acc<T>::type A;
    TM_DYNAMIC_SHARED(A, sums);
    const int bx = blockDim.x, by = blockDim.y, tx = threadIdx.x, ty = threadIdx.y;
    const int slot = ty * bx + tx;
    const long long col_tiles = (features + bx - 1) / bx;
    for (long long tile = blockIdx.x; tile < col_tiles; tile += gridDim.x) {  // block-uniform
        const long long c = tile * bx + tx;
        const bool active = c < features;  // inactive threads still meet every barrier
        A acc = 0;
        if (active) {
            const A b = tm_to_acc(bias[c]);
            for (long long r = blockIdx.y * (long long)by + ty; r < rows;
                 r += (long long)gridDim.y * by) {
                const long long k = r * features + c;
                const A d = tm_to_acc(g[k]) * tm_act_grad<A>(tm_to_acc(x[k]) + b, kind);
                dx[k] = tm_from_acc<T>(d);
                acc += d;
            }
        }
        sums[slot] = acc;
        __syncthreads();
        for (int half = by >> 1; half > 0; half >>= 1) {
            if (ty < half) sums[slot] = acc = acc + sums[slot + half * bx];
            __syncthreads();
        }
        if (ty == 0 && active) partial[blockIdx.y * features + c] = acc;
        __syncthreads();  // the sums are reused by the next tile
    }
}

// ---- exported entry points, one per storage type (written out so every name is in the text)

#define TM_ACT_FWD_ARGS(T) const T* x, T* y, long long n, int kind
#define TM_ACT_BWD_ARGS(T) const T* g, const T* x, T* dx, long long n, int kind
#define TM_BIAS_FWD_ARGS(T) \
    const T* x, const T* bias, T* y, long long rows, long long features, int kind
#define TM_BIAS_BWD_ARGS(T, A)                                                                \
    const T* g, const T* x, const T* bias, T* dx, A* partial, long long rows,                \
    long long features, int kind

extern "C" __global__ void act_fwd_f32(TM_ACT_FWD_ARGS(float)) { act_fwd(x, y, n, kind); }
extern "C" __global__ void act_fwd_f64(TM_ACT_FWD_ARGS(double)) { act_fwd(x, y, n, kind); }
extern "C" __global__ void act_fwd_f16(TM_ACT_FWD_ARGS(tm_half)) { act_fwd(x, y, n, kind); }
extern "C" __global__ void act_fwd_bf16(TM_ACT_FWD_ARGS(tm_bfloat16)) { act_fwd(x, y, n, kind); }

extern "C" __global__ void act_bwd_f32(TM_ACT_BWD_ARGS(float)) { act_bwd(g, x, dx, n, kind); }
extern "C" __global__ void act_bwd_f64(TM_ACT_BWD_ARGS(double)) { act_bwd(g, x, dx, n, kind); }
extern "C" __global__ void act_bwd_f16(TM_ACT_BWD_ARGS(tm_half)) { act_bwd(g, x, dx, n, kind); }
extern "C" __global__ void act_bwd_bf16(TM_ACT_BWD_ARGS(tm_bfloat16)) {
    act_bwd(g, x, dx, n, kind);
}

extern "C" __global__ void bias_act_fwd_f32(TM_BIAS_FWD_ARGS(float)) {
    bias_act_fwd(x, bias, y, rows, features, kind);
}
extern "C" __global__ void bias_act_fwd_f64(TM_BIAS_FWD_ARGS(double)) {
    bias_act_fwd(x, bias, y, rows, features, kind);
}
extern "C" __global__ void bias_act_fwd_f16(TM_BIAS_FWD_ARGS(tm_half)) {
    bias_act_fwd(x, bias, y, rows, features, kind);
}
extern "C" __global__ void bias_act_fwd_bf16(TM_BIAS_FWD_ARGS(tm_bfloat16)) {
    bias_act_fwd(x, bias, y, rows, features, kind);
}

extern "C" __global__ void bias_act_bwd_f32(TM_BIAS_BWD_ARGS(float, float)) {
    bias_act_bwd(g, x, bias, dx, partial, rows, features, kind);
}
extern "C" __global__ void bias_act_bwd_f64(TM_BIAS_BWD_ARGS(double, double)) {
    bias_act_bwd(g, x, bias, dx, partial, rows, features, kind);
}
extern "C" __global__ void bias_act_bwd_f16(TM_BIAS_BWD_ARGS(tm_half, float)) {
    bias_act_bwd(g, x, bias, dx, partial, rows, features, kind);
}
extern "C" __global__ void bias_act_bwd_bf16(TM_BIAS_BWD_ARGS(tm_bfloat16, float)) {
    bias_act_bwd(g, x, bias, dx, partial, rows, features, kind);
}
