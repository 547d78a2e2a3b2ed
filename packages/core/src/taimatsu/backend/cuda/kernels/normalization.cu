// Layer norm and RMS norm over the last dim of a (rows, cols) array, forward and backward.
//
// Row kernels (forward, input gradient): one block per row, grid-stride over rows; the threads
// of a block stride over the row's columns, so a warp reads consecutive elements, and the row
// statistics come from block reductions. Each pass re-reads the row from global memory rather
// than staging it in shared memory: a row of a few thousand elements is still in L1/L2.
//
// Weight/bias gradients sum g * x_hat and g over the rows in two deterministic stages: tiles of
// 32 columns x a chunk of rows write per-chunk partial sums, then one thread per column adds
// the chunks up in order. No atomics, so the result does not depend on scheduling.
//
// Statistics are kept in the accumulation type (float for the 16-bit types). weight and bias
// are optional: when a has_* flag is 0 the matching pointer is never read (callers pass any
// valid array there).

#define TM_NORM_TILE_ROWS 8  // blockDim.y of the partial-sum kernel; blockDim.x is 32 (256 threads)

__device__ __forceinline__ float tm_norm_rsqrt(float v) { return rsqrtf(v); }
__device__ __forceinline__ double tm_norm_rsqrt(double v) { return rsqrt(v); }

// y = (x - mean) * rstd * weight + bias per row (CENTERED), or y = x * rstd * weight (RMS norm,
// rstd = 1 / sqrt(mean(x^2) + eps)). Saves mean (layer norm only) and rstd per row.
template <class T, bool CENTERED>
__device__ __forceinline__ void norm_forward(
        const T* __restrict__ x, const T* __restrict__ weight, const T* __restrict__ bias,
        T* __restrict__ y, typename tm_acc<T>::type* __restrict__ mean_out,
        typename tm_acc<T>::type* __restrict__ rstd_out, long long rows, long long cols,
        typename tm_acc<T>::type eps, int has_weight, int has_bias) {
    typedef typename tm_acc<T>::type A;
    __shared__ A scratch[32];
    for (long long row = blockIdx.x; row < rows; row += gridDim.x) {  // uniform per block
        const T* xr = x + row * cols;
        A mean = A(0);
        if (CENTERED) {
            A s = A(0);
            for (long long c = threadIdx.x; c < cols; c += blockDim.x) s += tm_to_acc(xr[c]);
            mean = tm_block_sum(s, scratch) / (A)cols;
        }
        // Two passes (the spread around the mean, not E[x^2] - mean^2, which cancels).
        A v = A(0);
        for (long long c = threadIdx.x; c < cols; c += blockDim.x) {
            A d = tm_to_acc(xr[c]) - mean;
            v += d * d;
        }
        A rstd = tm_norm_rsqrt(tm_block_sum(v, scratch) / (A)cols + eps);
        T* yr = y + row * cols;
        for (long long c = threadIdx.x; c < cols; c += blockDim.x) {
            A h = (tm_to_acc(xr[c]) - mean) * rstd;
            if (has_weight) h *= tm_to_acc(weight[c]);
            if (has_bias) h += tm_to_acc(bias[c]);
            yr[c] = tm_from_acc<T>(h);
        }
        if (threadIdx.x == 0) {
            if (CENTERED) mean_out[row] = mean;
            rstd_out[row] = rstd;
        }
    }
}

// grad_input per row: with gh = grad * weight and x_hat = (x - mean) * rstd,
//   layer norm: rstd * (gh - mean(gh) - x_hat * mean(gh * x_hat))
//   RMS norm:   rstd * (gh - x_hat * mean(gh * x_hat))
template <class T, bool CENTERED>
__device__ __forceinline__ void norm_backward_input(
        const T* __restrict__ grad, const T* __restrict__ x, const T* __restrict__ weight,
        const typename tm_acc<T>::type* __restrict__ mean,
        const typename tm_acc<T>::type* __restrict__ rstd, T* __restrict__ grad_input,
        long long rows, long long cols, int has_weight) {
    typedef typename tm_acc<T>::type A;
    __shared__ A scratch[32];
    for (long long row = blockIdx.x; row < rows; row += gridDim.x) {
        const T* xr = x + row * cols;
        const T* gr = grad + row * cols;
        A mu = CENTERED ? mean[row] : A(0), r = rstd[row];
        A sum_g = A(0), sum_gh = A(0);
        for (long long c = threadIdx.x; c < cols; c += blockDim.x) {
            A g = tm_to_acc(gr[c]);
            if (has_weight) g *= tm_to_acc(weight[c]);
            sum_g += g;
            sum_gh += g * (tm_to_acc(xr[c]) - mu) * r;
        }
        A mean_g = CENTERED ? tm_block_sum(sum_g, scratch) / (A)cols : A(0);
        A mean_gh = tm_block_sum(sum_gh, scratch) / (A)cols;
        T* out = grad_input + row * cols;
        for (long long c = threadIdx.x; c < cols; c += blockDim.x) {
            A g = tm_to_acc(gr[c]);
            if (has_weight) g *= tm_to_acc(weight[c]);
            A h = (tm_to_acc(xr[c]) - mu) * r;
            out[c] = tm_from_acc<T>(r * (g - mean_g - h * mean_gh));
        }
    }
}

// Stage 1 of the weight/bias gradients. Block (32, TM_NORM_TILE_ROWS) covers 32 columns
// (blockIdx.x) of one chunk of rows (blockIdx.y of gridDim.y chunks); thread (tx, ty) sums
// rows ty, ty + TM_NORM_TILE_ROWS, ... of the chunk for column tx, then the TM_NORM_TILE_ROWS
// sums per column are added in shared memory and written to partial_*[chunk][column].
template <class T, bool CENTERED>
__device__ __forceinline__ void norm_param_partial(
        const T* __restrict__ grad, const T* __restrict__ x,
        const typename tm_acc<T>::type* __restrict__ mean,
        const typename tm_acc<T>::type* __restrict__ rstd,
        typename tm_acc<T>::type* __restrict__ partial_weight,
        typename tm_acc<T>::type* __restrict__ partial_bias, long long rows, long long cols) {
    typedef typename tm_acc<T>::type A;
    __shared__ A tile_w[TM_NORM_TILE_ROWS][32];
    __shared__ A tile_b[TM_NORM_TILE_ROWS][32];
    long long c = (long long)blockIdx.x * 32 + threadIdx.x;
    long long per_chunk = (rows + gridDim.y - 1) / gridDim.y;
    long long start = (long long)blockIdx.y * per_chunk;
    long long end = min(rows, start + per_chunk);
    A sw = A(0), sb = A(0);
    if (c < cols) {
        for (long long r = start + threadIdx.y; r < end; r += TM_NORM_TILE_ROWS) {
            A g = tm_to_acc(grad[r * cols + c]);
            A mu = CENTERED ? mean[r] : A(0);
            sw += g * (tm_to_acc(x[r * cols + c]) - mu) * rstd[r];
            sb += g;
        }
    }
    tile_w[threadIdx.y][threadIdx.x] = sw;
    tile_b[threadIdx.y][threadIdx.x] = sb;
    __syncthreads();
    if (threadIdx.y == 0 && c < cols) {
        for (int k = 1; k < TM_NORM_TILE_ROWS; ++k) {
            sw += tile_w[k][threadIdx.x];
            sb += tile_b[k][threadIdx.x];
        }
        partial_weight[(long long)blockIdx.y * cols + c] = sw;
        if (CENTERED) partial_bias[(long long)blockIdx.y * cols + c] = sb;
    }
}

// Stage 2: one thread per column (grid-stride) adds the `chunks` partial sums in order.
template <class T>
__device__ __forceinline__ void norm_param_reduce(
        const typename tm_acc<T>::type* __restrict__ partial, T* __restrict__ out,
        long long chunks, long long cols) {
    typedef typename tm_acc<T>::type A;
    for (long long c = (long long)blockIdx.x * blockDim.x + threadIdx.x; c < cols;
         c += (long long)gridDim.x * blockDim.x) {
        A s = A(0);
        for (long long k = 0; k < chunks; ++k) s += partial[k * cols + c];
        out[c] = tm_from_acc<T>(s);
    }
}

// extern "C" entry points, one per dtype (the emulator finds them by their literal names).
// Each *_PARAMS macro is a kernel's parameter list and *_CALL the matching template call.
#define TM_A(T) tm_acc<T>::type
#define LAYER_NORM_FWD_PARAMS(T)                                                               \
    const T* x, const T* weight, const T* bias, T* y, TM_A(T)* mean, TM_A(T)* rstd,            \
    long long rows, long long cols, TM_A(T) eps, int has_weight, int has_bias
#define LAYER_NORM_FWD_CALL(T)                                                                 \
    norm_forward<T, true>(x, weight, bias, y, mean, rstd, rows, cols, eps, has_weight, has_bias)
#define RMS_NORM_FWD_PARAMS(T)                                                                 \
    const T* x, const T* weight, T* y, TM_A(T)* rstd, long long rows, long long cols,          \
    TM_A(T) eps, int has_weight
#define RMS_NORM_FWD_CALL(T)                                                                   \
    norm_forward<T, false>(x, weight, weight, y, rstd, rstd, rows, cols, eps, has_weight, 0)
#define LAYER_NORM_BWD_INPUT_PARAMS(T)                                                         \
    const T* grad, const T* x, const T* weight, const TM_A(T)* mean, const TM_A(T)* rstd,      \
    T* grad_input, long long rows, long long cols, int has_weight
#define LAYER_NORM_BWD_INPUT_CALL(T)                                                           \
    norm_backward_input<T, true>(grad, x, weight, mean, rstd, grad_input, rows, cols,          \
                                 has_weight)
#define RMS_NORM_BWD_INPUT_PARAMS(T)                                                           \
    const T* grad, const T* x, const T* weight, const TM_A(T)* rstd, T* grad_input,            \
    long long rows, long long cols, int has_weight
#define RMS_NORM_BWD_INPUT_CALL(T)                                                             \
    norm_backward_input<T, false>(grad, x, weight, rstd, rstd, grad_input, rows, cols,         \
                                  has_weight)
#define LAYER_NORM_PARTIAL_PARAMS(T)                                                           \
    const T* grad, const T* x, const TM_A(T)* mean, const TM_A(T)* rstd,                       \
    TM_A(T)* partial_weight, TM_A(T)* partial_bias, long long rows, long long cols
#define LAYER_NORM_PARTIAL_CALL(T)                                                             \
    norm_param_partial<T, true>(grad, x, mean, rstd, partial_weight, partial_bias, rows, cols)
#define RMS_NORM_PARTIAL_PARAMS(T)                                                             \
    const T* grad, const T* x, const TM_A(T)* rstd, TM_A(T)* partial_weight, long long rows,   \
    long long cols
#define RMS_NORM_PARTIAL_CALL(T)                                                               \
    norm_param_partial<T, false>(grad, x, rstd, rstd, partial_weight, partial_weight, rows,    \
                                 cols)
#define NORM_PARAM_REDUCE_PARAMS(T) const TM_A(T)* partial, T* out, long long chunks, long long cols
#define NORM_PARAM_REDUCE_CALL(T) norm_param_reduce<T>(partial, out, chunks, cols)

extern "C" __global__ void layer_norm_fwd_f32(LAYER_NORM_FWD_PARAMS(float)) { LAYER_NORM_FWD_CALL(float); }
extern "C" __global__ void layer_norm_fwd_f64(LAYER_NORM_FWD_PARAMS(double)) { LAYER_NORM_FWD_CALL(double); }
extern "C" __global__ void layer_norm_fwd_f16(LAYER_NORM_FWD_PARAMS(tm_half)) { LAYER_NORM_FWD_CALL(tm_half); }
extern "C" __global__ void layer_norm_fwd_bf16(LAYER_NORM_FWD_PARAMS(tm_bfloat16)) { LAYER_NORM_FWD_CALL(tm_bfloat16); }

extern "C" __global__ void rms_norm_fwd_f32(RMS_NORM_FWD_PARAMS(float)) { RMS_NORM_FWD_CALL(float); }
extern "C" __global__ void rms_norm_fwd_f64(RMS_NORM_FWD_PARAMS(double)) { RMS_NORM_FWD_CALL(double); }
extern "C" __global__ void rms_norm_fwd_f16(RMS_NORM_FWD_PARAMS(tm_half)) { RMS_NORM_FWD_CALL(tm_half); }
extern "C" __global__ void rms_norm_fwd_bf16(RMS_NORM_FWD_PARAMS(tm_bfloat16)) { RMS_NORM_FWD_CALL(tm_bfloat16); }

extern "C" __global__ void layer_norm_bwd_input_f32(LAYER_NORM_BWD_INPUT_PARAMS(float)) { LAYER_NORM_BWD_INPUT_CALL(float); }
extern "C" __global__ void layer_norm_bwd_input_f64(LAYER_NORM_BWD_INPUT_PARAMS(double)) { LAYER_NORM_BWD_INPUT_CALL(double); }
extern "C" __global__ void layer_norm_bwd_input_f16(LAYER_NORM_BWD_INPUT_PARAMS(tm_half)) { LAYER_NORM_BWD_INPUT_CALL(tm_half); }
extern "C" __global__ void layer_norm_bwd_input_bf16(LAYER_NORM_BWD_INPUT_PARAMS(tm_bfloat16)) { LAYER_NORM_BWD_INPUT_CALL(tm_bfloat16); }

extern "C" __global__ void rms_norm_bwd_input_f32(RMS_NORM_BWD_INPUT_PARAMS(float)) { RMS_NORM_BWD_INPUT_CALL(float); }
extern "C" __global__ void rms_norm_bwd_input_f64(RMS_NORM_BWD_INPUT_PARAMS(double)) { RMS_NORM_BWD_INPUT_CALL(double); }
extern "C" __global__ void rms_norm_bwd_input_f16(RMS_NORM_BWD_INPUT_PARAMS(tm_half)) { RMS_NORM_BWD_INPUT_CALL(tm_half); }
extern "C" __global__ void rms_norm_bwd_input_bf16(RMS_NORM_BWD_INPUT_PARAMS(tm_bfloat16)) { RMS_NORM_BWD_INPUT_CALL(tm_bfloat16); }

extern "C" __global__ __launch_bounds__(256) void layer_norm_param_partial_f32(LAYER_NORM_PARTIAL_PARAMS(float)) { LAYER_NORM_PARTIAL_CALL(float); }
extern "C" __global__ __launch_bounds__(256) void layer_norm_param_partial_f64(LAYER_NORM_PARTIAL_PARAMS(double)) { LAYER_NORM_PARTIAL_CALL(double); }
extern "C" __global__ __launch_bounds__(256) void layer_norm_param_partial_f16(LAYER_NORM_PARTIAL_PARAMS(tm_half)) { LAYER_NORM_PARTIAL_CALL(tm_half); }
extern "C" __global__ __launch_bounds__(256) void layer_norm_param_partial_bf16(LAYER_NORM_PARTIAL_PARAMS(tm_bfloat16)) { LAYER_NORM_PARTIAL_CALL(tm_bfloat16); }

extern "C" __global__ __launch_bounds__(256) void rms_norm_param_partial_f32(RMS_NORM_PARTIAL_PARAMS(float)) { RMS_NORM_PARTIAL_CALL(float); }
extern "C" __global__ __launch_bounds__(256) void rms_norm_param_partial_f64(RMS_NORM_PARTIAL_PARAMS(double)) { RMS_NORM_PARTIAL_CALL(double); }
extern "C" __global__ __launch_bounds__(256) void rms_norm_param_partial_f16(RMS_NORM_PARTIAL_PARAMS(tm_half)) { RMS_NORM_PARTIAL_CALL(tm_half); }
extern "C" __global__ __launch_bounds__(256) void rms_norm_param_partial_bf16(RMS_NORM_PARTIAL_PARAMS(tm_bfloat16)) { RMS_NORM_PARTIAL_CALL(tm_bfloat16); }

extern "C" __global__ void norm_param_reduce_f32(NORM_PARAM_REDUCE_PARAMS(float)) { NORM_PARAM_REDUCE_CALL(float); }
extern "C" __global__ void norm_param_reduce_f64(NORM_PARAM_REDUCE_PARAMS(double)) { NORM_PARAM_REDUCE_CALL(double); }
extern "C" __global__ void norm_param_reduce_f16(NORM_PARAM_REDUCE_PARAMS(tm_half)) { NORM_PARAM_REDUCE_CALL(tm_half); }
extern "C" __global__ void norm_param_reduce_bf16(NORM_PARAM_REDUCE_PARAMS(tm_bfloat16)) { NORM_PARAM_REDUCE_CALL(tm_bfloat16); }
