// Batch norm over x viewed as (N, C, L) (L = the product of the spatial dims, 1 for (N, C)
// input): each channel c is normalized over its N * L elements, which lie in N runs of L.
//
// Per-channel reductions (batch statistics, the two gradient sums) run in two deterministic
// stages, no atomics, so results do not depend on scheduling:
//   stage 1 (*_partial): block (c, k) = (blockIdx.x, blockIdx.y) reduces the k-th of gridDim.y
//     equal slices of channel c's N * L elements: its threads stride over the slice (a warp
//     reads consecutive elements of a run), then a block reduction; thread 0 writes
//     partial[quantity][k][c].
//   stage 2 (*_finalize): one warp per channel (grid-stride over channels) merges the chunks,
//     lane j taking chunks j, j + 32, ... in order, then a fixed shuffle tree; lane 0 turns the
//     totals into per-channel coefficients for the elementwise pass (and the statistics to save,
//     the running statistics, the weight/bias gradients).
// Elementwise passes (normalize + affine, input gradient) are grid-stride loops over x in
// memory order, coalesced for any L; each thread tracks its element's channel without
// dividing in the loop (bn_walk).
//
// Everything per channel is in the accumulation type A (float for the 16-bit types, double for
// double); weight/bias/running statistics come in as A arrays (the host casts those of other
// dtypes). Batch statistics use Welford's update per thread and Chan's merge above it (no
// E[x^2] - E[x]^2 cancellation). Block sizes must be multiples of 32.

__device__ __forceinline__ float bn_sqrt(float v) { return sqrtf(v); }
__device__ __forceinline__ double bn_sqrt(double v) { return sqrt(v); }

// Walks flat indices j, j + step, j + 2 * step, ... of a (rows, L) grid whose rows lie `pitch`
// elements apart in memory. Keeps the memory offset of j and (j / L) % mod (the channel, for the
// elementwise passes) with additions only; the divisions happen once, in the constructor.
struct bn_walk {
    long long col, offset, row_mod;
    long long step_col, step_offset, step_row_mod, L, pitch, mod;
    __device__ bn_walk(long long j, long long step, long long L_, long long pitch_, long long mod_)
        : L(L_), pitch(pitch_), mod(mod_) {
        long long row = j / L, step_rows = step / L;
        col = j - row * L;
        offset = row * pitch + col;
        row_mod = row % mod;
        step_col = step - step_rows * L;
        step_offset = step_rows * pitch + step_col;
        step_row_mod = step_rows % mod;
    }
    __device__ __forceinline__ void advance() {
        col += step_col;
        offset += step_offset;
        row_mod += step_row_mod;
        if (col >= L) {  // crossed one more row boundary than step_rows counts
            col -= L;
            offset += pitch - L;
            ++row_mod;
        }
        if (row_mod >= mod) row_mod -= mod;  // both terms were below mod: one wrap at most
    }
};

// Count, mean and sum of squared deviations of a set of values.
template <class A> struct bn_welford { A n, mean, m2; };

// Chan et al.'s merge of two sets; either may be empty.
template <class A>
__device__ __forceinline__ bn_welford<A> bn_merge(bn_welford<A> a, bn_welford<A> b) {
    A n = a.n + b.n;
    A f = n > A(0) ? b.n / n : A(0);
    A d = b.mean - a.mean;
    bn_welford<A> r;
    r.n = n;
    r.mean = a.mean + d * f;
    r.m2 = a.m2 + b.m2 + d * d * a.n * f;
    return r;
}

// Lane 0 ends up with the merge of the warp's 32 sets (a fixed tree: deterministic).
template <class A>
__device__ __forceinline__ bn_welford<A> bn_warp_merge(bn_welford<A> w) {
    for (int offset = 16; offset > 0; offset >>= 1) {
        bn_welford<A> other;
        other.n = __shfl_down_sync(0xffffffffu, w.n, offset);
        other.mean = __shfl_down_sync(0xffffffffu, w.mean, offset);
        other.m2 = __shfl_down_sync(0xffffffffu, w.m2, offset);
        w = bn_merge(w, other);
    }
    return w;
}

// Stage 1 of the batch statistics: partial[0|1|2][k][c] = count, mean, M2 of slice k of channel c.
template <class T, class A = typename tm_acc<T>::type>
__device__ __forceinline__ void bn_stats_partial(const T* __restrict__ x,
                                                 A* __restrict__ partial, long long N,
                                                 long long C, long long L) {
    __shared__ A s_n[32], s_mean[32], s_m2[32];
    long long c = blockIdx.x, chunks = gridDim.y, k = blockIdx.y;
    long long m = N * L, per = (m + chunks - 1) / chunks;
    long long start = k * per, end = min(m, start + per);
    bn_welford<A> w = {A(0), A(0), A(0)};
    const T* xc = x + c * L;
    bn_walk at(start + threadIdx.x, blockDim.x, L, C * L, 1);
    for (long long j = start + threadIdx.x; j < end; j += blockDim.x, at.advance()) {
        A v = tm_to_acc(xc[at.offset]);
        w.n += A(1);
        A d = v - w.mean;
        w.mean += d / w.n;
        w.m2 += d * (v - w.mean);
    }
    w = bn_warp_merge(w);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    if (lane == 0) {
        s_n[warp] = w.n;
        s_mean[warp] = w.mean;
        s_m2[warp] = w.m2;
    }
    __syncthreads();
    if (warp == 0) {  // the whole first warp takes part in its shuffles
        bn_welford<A> v = {A(0), A(0), A(0)};
        if (lane < warps) {
            v.n = s_n[lane];
            v.mean = s_mean[lane];
            v.m2 = s_m2[lane];
        }
        v = bn_warp_merge(v);
        if (lane == 0) {
            partial[k * C + c] = v.n;
            partial[(chunks + k) * C + c] = v.mean;
            partial[(2 * chunks + k) * C + c] = v.m2;
        }
    }
}

// Stage 2 of the batch statistics (training). Per channel: mean and invstd = 1/sqrt(var + eps)
// (biased var) to save, coefficients scale = invstd * weight and shift = bias for the
// normalize pass, and (update_running) running = running * decay + momentum * batch with
// the unbiased variance (unbias = n / (n - 1)), as the CPU path computes it.
template <class T, class A = typename tm_acc<T>::type>
__device__ __forceinline__ void bn_stats_finalize(
        const A* __restrict__ partial, const A* __restrict__ weight,
        const A* __restrict__ bias, A* __restrict__ mean_out,
        A* __restrict__ invstd_out, A* __restrict__ scale,
        A* __restrict__ shift, A* __restrict__ running_mean,
        A* __restrict__ running_var, long long C, long long chunks, A eps,
        A momentum, A decay, A unbias, int has_weight, int has_bias,
        int update_running) {
    int lane = threadIdx.x & 31;
    long long warps = ((long long)gridDim.x * blockDim.x) >> 5;
    for (long long c = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5; c < C;
         c += warps) {  // uniform per warp
        bn_welford<A> w = {A(0), A(0), A(0)};
        for (long long k = lane; k < chunks; k += 32) {
            bn_welford<A> p = {partial[k * C + c], partial[(chunks + k) * C + c],
                               partial[(2 * chunks + k) * C + c]};
            w = bn_merge(w, p);
        }
        w = bn_warp_merge(w);
        if (lane == 0) {
            A var = w.m2 / w.n;
            A invstd = A(1) / bn_sqrt(var + eps);
            mean_out[c] = w.mean;
            invstd_out[c] = invstd;
            scale[c] = has_weight ? invstd * weight[c] : invstd;
            shift[c] = has_bias ? bias[c] : A(0);
            if (update_running) {
                A rm = running_mean[c] * decay;
                running_mean[c] = rm + momentum * w.mean;
                A rv = running_var[c] * decay;
                running_var[c] = rv + momentum * (var * unbias);
            }
        }
    }
}

// Eval: the same per-channel outputs from the running statistics; one thread per channel.
template <class T, class A = typename tm_acc<T>::type>
__device__ __forceinline__ void bn_eval_finalize(
        const A* __restrict__ running_mean, const A* __restrict__ running_var,
        const A* __restrict__ weight, const A* __restrict__ bias,
        A* __restrict__ mean_out, A* __restrict__ invstd_out,
        A* __restrict__ scale, A* __restrict__ shift, long long C, A eps,
        int has_weight, int has_bias) {
    for (long long c = (long long)blockIdx.x * blockDim.x + threadIdx.x; c < C;
         c += (long long)gridDim.x * blockDim.x) {
        A invstd = A(1) / bn_sqrt(running_var[c] + eps);
        mean_out[c] = running_mean[c];
        invstd_out[c] = invstd;
        scale[c] = has_weight ? invstd * weight[c] : invstd;
        shift[c] = has_bias ? bias[c] : A(0);
    }
}

// y = (x - mean[c]) * scale[c] + shift[c]; grid-stride over all N * C * L elements.
template <class T, class A = typename tm_acc<T>::type>
__device__ __forceinline__ void bn_normalize(const T* __restrict__ x,
                                             const A* __restrict__ mean,
                                             const A* __restrict__ scale,
                                             const A* __restrict__ shift,
                                             T* __restrict__ y, long long total, long long C,
                                             long long L) {
    long long step = (long long)gridDim.x * blockDim.x;
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    bn_walk at(i, step, L, L, C);
    for (; i < total; i += step, at.advance()) {
        long long c = at.row_mod;
        y[i] = tm_from_acc<T>((tm_to_acc(x[i]) - mean[c]) * scale[c] + shift[c]);
    }
}

// Stage 1 of backward: partial[0][k][c] = sum(dy), partial[1][k][c] = sum(dy * (x - mean[c]))
// over slice k of channel c.
template <class T, class A = typename tm_acc<T>::type>
__device__ __forceinline__ void bn_backward_partial(const T* __restrict__ grad,
                                                    const T* __restrict__ x,
                                                    const A* __restrict__ mean,
                                                    A* __restrict__ partial, long long N,
                                                    long long C, long long L) {
    __shared__ A scratch[32];
    long long c = blockIdx.x, chunks = gridDim.y, k = blockIdx.y;
    long long m = N * L, per = (m + chunks - 1) / chunks;
    long long start = k * per, end = min(m, start + per);
    A mu = mean[c], sg = A(0), sgx = A(0);
    const T* xc = x + c * L;
    const T* gc = grad + c * L;
    bn_walk at(start + threadIdx.x, blockDim.x, L, C * L, 1);
    for (long long j = start + threadIdx.x; j < end; j += blockDim.x, at.advance()) {
        A g = tm_to_acc(gc[at.offset]);
        sg += g;
        sgx += g * (tm_to_acc(xc[at.offset]) - mu);
    }
    sg = tm_block_sum(sg, scratch);
    sgx = tm_block_sum(sgx, scratch);
    if (threadIdx.x == 0) {
        partial[k * C + c] = sg;
        partial[(chunks + k) * C + c] = sgx;
    }
}

// Stage 2 of backward. With g = sum(dy) and h = sum(dy * (x - mean)) * invstd = sum(dy * x_hat):
// grad_bias = g, grad_weight = h, and coefficients of dx = a * (dy - b - (x - mean) * k):
//   training: a = invstd * weight, b = g / m, k = invstd * h / m   (m = N * L)
//   eval:     a = invstd * weight, b = k = 0
// coef holds a, b, k as [3][C]. chunks may be 0 (eval with only the input gradient wanted).
template <class T, class A = typename tm_acc<T>::type>
__device__ __forceinline__ void bn_backward_finalize(
        const A* __restrict__ partial, const A* __restrict__ invstd,
        const A* __restrict__ weight, A* __restrict__ grad_weight,
        A* __restrict__ grad_bias, A* __restrict__ coef, long long C,
        long long chunks, long long m, int has_weight, int training, int want_weight,
        int want_bias) {
    int lane = threadIdx.x & 31;
    long long warps = ((long long)gridDim.x * blockDim.x) >> 5;
    for (long long c = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5; c < C;
         c += warps) {  // uniform per warp
        A g = A(0), h = A(0);
        for (long long k = lane; k < chunks; k += 32) {
            g += partial[k * C + c];
            h += partial[(chunks + k) * C + c];
        }
        g = tm_warp_sum(g);
        h = tm_warp_sum(h) * invstd[c];
        if (lane == 0) {
            if (want_weight) grad_weight[c] = h;
            if (want_bias) grad_bias[c] = g;
            A r = invstd[c];
            coef[c] = has_weight ? r * weight[c] : r;
            coef[C + c] = training ? g / (A)m : A(0);
            coef[2 * C + c] = training ? r * h / (A)m : A(0);
        }
    }
}

// dx = a[c] * (dy - b[c] - (x - mean[c]) * k[c]) (training) or a[c] * dy (eval); grid-stride.
template <class T, class A = typename tm_acc<T>::type>
__device__ __forceinline__ void bn_backward_input(const T* __restrict__ grad,
                                                  const T* __restrict__ x,
                                                  const A* __restrict__ mean,
                                                  const A* __restrict__ coef,
                                                  T* __restrict__ grad_input, long long total,
                                                  long long C, long long L, int training) {
    long long step = (long long)gridDim.x * blockDim.x;
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    bn_walk at(i, step, L, L, C);
    for (; i < total; i += step, at.advance()) {
        long long c = at.row_mod;
        A g = tm_to_acc(grad[i]);
        if (training) g -= coef[C + c] + (tm_to_acc(x[i]) - mean[c]) * coef[2 * C + c];
        grad_input[i] = tm_from_acc<T>(coef[c] * g);
    }
}

// extern "C" entry points, one per dtype (the emulator finds them by their literal names).
// Each *_PARAMS macro is a kernel's parameter list and *_CALL the matching template call.
#define TM_A(T) tm_acc<T>::type
#define BN_STATS_PARTIAL_PARAMS(T) const T* x, TM_A(T)* partial, long long N, long long C, long long L
#define BN_STATS_PARTIAL_CALL(T) bn_stats_partial<T>(x, partial, N, C, L)
#define BN_STATS_FINALIZE_PARAMS(T)                                                              \
    const TM_A(T)* partial, const TM_A(T)* weight, const TM_A(T)* bias, TM_A(T)* mean,           \
    TM_A(T)* invstd, TM_A(T)* scale, TM_A(T)* shift, TM_A(T)* running_mean,                      \
    TM_A(T)* running_var, long long C, long long chunks, TM_A(T) eps, TM_A(T) momentum,          \
    TM_A(T) decay, TM_A(T) unbias, int has_weight, int has_bias, int update_running
#define BN_STATS_FINALIZE_CALL(T)                                                                \
    bn_stats_finalize<T>(partial, weight, bias, mean, invstd, scale, shift, running_mean,        \
                         running_var, C, chunks, eps, momentum, decay, unbias, has_weight,       \
                         has_bias, update_running)
#define BN_EVAL_FINALIZE_PARAMS(T)                                                               \
    const TM_A(T)* running_mean, const TM_A(T)* running_var, const TM_A(T)* weight,              \
    const TM_A(T)* bias, TM_A(T)* mean, TM_A(T)* invstd, TM_A(T)* scale, TM_A(T)* shift,         \
    long long C, TM_A(T) eps, int has_weight, int has_bias
#define BN_EVAL_FINALIZE_CALL(T)                                                                 \
    bn_eval_finalize<T>(running_mean, running_var, weight, bias, mean, invstd, scale, shift, C,  \
                        eps, has_weight, has_bias)
#define BN_NORMALIZE_PARAMS(T)                                                                   \
    const T* x, const TM_A(T)* mean, const TM_A(T)* scale, const TM_A(T)* shift, T* y,           \
    long long total, long long C, long long L
#define BN_NORMALIZE_CALL(T) bn_normalize<T>(x, mean, scale, shift, y, total, C, L)
#define BN_BWD_PARTIAL_PARAMS(T)                                                                 \
    const T* grad, const T* x, const TM_A(T)* mean, TM_A(T)* partial, long long N, long long C,  \
    long long L
#define BN_BWD_PARTIAL_CALL(T) bn_backward_partial<T>(grad, x, mean, partial, N, C, L)
#define BN_BWD_FINALIZE_PARAMS(T)                                                                \
    const TM_A(T)* partial, const TM_A(T)* invstd, const TM_A(T)* weight, TM_A(T)* grad_weight,  \
    TM_A(T)* grad_bias, TM_A(T)* coef, long long C, long long chunks, long long m,               \
    int has_weight, int training, int want_weight, int want_bias
#define BN_BWD_FINALIZE_CALL(T)                                                                  \
    bn_backward_finalize<T>(partial, invstd, weight, grad_weight, grad_bias, coef, C, chunks, m, \
                            has_weight, training, want_weight, want_bias)
#define BN_BWD_INPUT_PARAMS(T)                                                                   \
    const T* grad, const T* x, const TM_A(T)* mean, const TM_A(T)* coef, T* grad_input,          \
    long long total, long long C, long long L, int training
#define BN_BWD_INPUT_CALL(T)                                                                     \
    bn_backward_input<T>(grad, x, mean, coef, grad_input, total, C, L, training)

extern "C" __global__ void batch_norm_stats_partial_f32(BN_STATS_PARTIAL_PARAMS(float)) { BN_STATS_PARTIAL_CALL(float); }
extern "C" __global__ void batch_norm_stats_partial_f64(BN_STATS_PARTIAL_PARAMS(double)) { BN_STATS_PARTIAL_CALL(double); }
extern "C" __global__ void batch_norm_stats_partial_f16(BN_STATS_PARTIAL_PARAMS(tm_half)) { BN_STATS_PARTIAL_CALL(tm_half); }
extern "C" __global__ void batch_norm_stats_partial_bf16(BN_STATS_PARTIAL_PARAMS(tm_bfloat16)) { BN_STATS_PARTIAL_CALL(tm_bfloat16); }

extern "C" __global__ void batch_norm_stats_finalize_f32(BN_STATS_FINALIZE_PARAMS(float)) { BN_STATS_FINALIZE_CALL(float); }
extern "C" __global__ void batch_norm_stats_finalize_f64(BN_STATS_FINALIZE_PARAMS(double)) { BN_STATS_FINALIZE_CALL(double); }
extern "C" __global__ void batch_norm_stats_finalize_f16(BN_STATS_FINALIZE_PARAMS(tm_half)) { BN_STATS_FINALIZE_CALL(tm_half); }
extern "C" __global__ void batch_norm_stats_finalize_bf16(BN_STATS_FINALIZE_PARAMS(tm_bfloat16)) { BN_STATS_FINALIZE_CALL(tm_bfloat16); }

extern "C" __global__ void batch_norm_eval_finalize_f32(BN_EVAL_FINALIZE_PARAMS(float)) { BN_EVAL_FINALIZE_CALL(float); }
extern "C" __global__ void batch_norm_eval_finalize_f64(BN_EVAL_FINALIZE_PARAMS(double)) { BN_EVAL_FINALIZE_CALL(double); }
extern "C" __global__ void batch_norm_eval_finalize_f16(BN_EVAL_FINALIZE_PARAMS(tm_half)) { BN_EVAL_FINALIZE_CALL(tm_half); }
extern "C" __global__ void batch_norm_eval_finalize_bf16(BN_EVAL_FINALIZE_PARAMS(tm_bfloat16)) { BN_EVAL_FINALIZE_CALL(tm_bfloat16); }

extern "C" __global__ void batch_norm_normalize_f32(BN_NORMALIZE_PARAMS(float)) { BN_NORMALIZE_CALL(float); }
extern "C" __global__ void batch_norm_normalize_f64(BN_NORMALIZE_PARAMS(double)) { BN_NORMALIZE_CALL(double); }
extern "C" __global__ void batch_norm_normalize_f16(BN_NORMALIZE_PARAMS(tm_half)) { BN_NORMALIZE_CALL(tm_half); }
extern "C" __global__ void batch_norm_normalize_bf16(BN_NORMALIZE_PARAMS(tm_bfloat16)) { BN_NORMALIZE_CALL(tm_bfloat16); }

extern "C" __global__ void batch_norm_bwd_partial_f32(BN_BWD_PARTIAL_PARAMS(float)) { BN_BWD_PARTIAL_CALL(float); }
extern "C" __global__ void batch_norm_bwd_partial_f64(BN_BWD_PARTIAL_PARAMS(double)) { BN_BWD_PARTIAL_CALL(double); }
extern "C" __global__ void batch_norm_bwd_partial_f16(BN_BWD_PARTIAL_PARAMS(tm_half)) { BN_BWD_PARTIAL_CALL(tm_half); }
extern "C" __global__ void batch_norm_bwd_partial_bf16(BN_BWD_PARTIAL_PARAMS(tm_bfloat16)) { BN_BWD_PARTIAL_CALL(tm_bfloat16); }

extern "C" __global__ void batch_norm_bwd_finalize_f32(BN_BWD_FINALIZE_PARAMS(float)) { BN_BWD_FINALIZE_CALL(float); }
extern "C" __global__ void batch_norm_bwd_finalize_f64(BN_BWD_FINALIZE_PARAMS(double)) { BN_BWD_FINALIZE_CALL(double); }
extern "C" __global__ void batch_norm_bwd_finalize_f16(BN_BWD_FINALIZE_PARAMS(tm_half)) { BN_BWD_FINALIZE_CALL(tm_half); }
extern "C" __global__ void batch_norm_bwd_finalize_bf16(BN_BWD_FINALIZE_PARAMS(tm_bfloat16)) { BN_BWD_FINALIZE_CALL(tm_bfloat16); }

extern "C" __global__ void batch_norm_bwd_input_f32(BN_BWD_INPUT_PARAMS(float)) { BN_BWD_INPUT_CALL(float); }
extern "C" __global__ void batch_norm_bwd_input_f64(BN_BWD_INPUT_PARAMS(double)) { BN_BWD_INPUT_CALL(double); }
extern "C" __global__ void batch_norm_bwd_input_f16(BN_BWD_INPUT_PARAMS(tm_half)) { BN_BWD_INPUT_CALL(tm_half); }
extern "C" __global__ void batch_norm_bwd_input_bf16(BN_BWD_INPUT_PARAMS(tm_bfloat16)) { BN_BWD_INPUT_CALL(tm_bfloat16); }
