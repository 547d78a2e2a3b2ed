// Cross entropy with class-index targets, fused with log-softmax, forward and backward.
//
// Logits x are (N, C, D) with D the product of the dims after C (D == 1 for (N, C)); an entry
// is one (n, d), its logits x[n, :, d], its target target[n * D + d]. With w the class weights
// (ones when absent), W = sum_c w_c, s the label smoothing and lse = log sum_c exp(x_c):
//   loss = (1 - s) w_t (lse - x_t) + (s / C) sum_c w_c (lse - x_c)        (0 if t == ignore)
//   dloss/dx_c = p_c ((1 - s) w_t + (s / C) W) - (s / C) w_c - (1 - s) w_t [c == t],
// p = softmax(x), every term 0 for an ignored entry. The host checks before launch that every
// other target lies in [0, C). Forward writes per entry the loss, lse (backward reads it
// instead of a stored softmax) and w_t (0 when ignored: 'mean' divides by their sum).
//
// *_rows kernels (D == 1): one block per entry, grid-stride over entries; the threads stride
// over the classes (coalesced) and combine through block reductions.
// *_strided kernels (D > 1): one thread per entry, grid-stride over N * D, each looping over
// the C classes; neighbouring threads hold neighbouring d, so their loads coalesce.
// All arithmetic is in the accumulation type (float for 16-bit storage).

__device__ __forceinline__ float ce_exp(float v) { return expf(v); }
__device__ __forceinline__ double ce_exp(double v) { return exp(v); }
__device__ __forceinline__ float ce_log(float v) { return logf(v); }
__device__ __forceinline__ double ce_log(double v) { return log(v); }

template <class A> __device__ __forceinline__ A ce_max(A m, A v) {
    return (v > m || v != v) ? v : m;  // a NaN logit makes the entry NaN, as in torch
}

template <class T>
__device__ __forceinline__ typename tm_acc<T>::type ce_weight(const T* weight, long long c,
                                                               int has_weight) {
    typedef typename tm_acc<T>::type A;
    return has_weight ? tm_to_acc(weight[c]) : A(1);
}

// Writes entry e's outputs from its max logit m, sum_c exp(x_c - m) and sum_c w_c (x_c - m).
// xe points at the entry's class 0; classes are `stride` apart.
template <class T>
__device__ __forceinline__ void ce_store_entry(
        const T* xe, long long stride, long long e, long long t, typename tm_acc<T>::type m,
        typename tm_acc<T>::type sum_exp, typename tm_acc<T>::type sum_wx, const T* weight,
        const typename tm_acc<T>::type* weight_sum, long long classes, long long ignore_index,
        typename tm_acc<T>::type smoothing, int has_weight, typename tm_acc<T>::type* loss,
        typename tm_acc<T>::type* lse, typename tm_acc<T>::type* target_weight) {
    typedef typename tm_acc<T>::type A;
    A log_sum = ce_log(sum_exp);
    lse[e] = m + log_sum;
    if (t == ignore_index) {
        loss[e] = A(0);
        target_weight[e] = A(0);
        return;
    }
    A wt = ce_weight(weight, t, has_weight);
    A l = wt * (log_sum - (tm_to_acc(xe[t * stride]) - m));
    if (smoothing != A(0)) {
        A total = has_weight ? weight_sum[0] : (A)classes;
        l = (A(1) - smoothing) * l + smoothing / (A)classes * (total * log_sum - sum_wx);
    }
    loss[e] = l;
    target_weight[e] = wt;
}

// The three per-entry coefficients of the gradient: g_c = p_c * alpha - w_c * beta
// - [c == t] * gamma, all 0 for an ignored entry.
template <class A> struct ce_coefs { A alpha, beta, gamma; };

template <class T>
__device__ __forceinline__ ce_coefs<typename tm_acc<T>::type> ce_grad_coefs(
        long long t, typename tm_acc<T>::type g, const T* weight,
        const typename tm_acc<T>::type* weight_sum, long long classes, long long ignore_index,
        typename tm_acc<T>::type smoothing, int has_weight) {
    typedef typename tm_acc<T>::type A;
    ce_coefs<A> k;
    if (t == ignore_index) {
        k.alpha = k.beta = k.gamma = A(0);
        return k;
    }
    A wt = ce_weight(weight, t, has_weight);
    A smooth = smoothing / (A)classes;
    A total = smoothing == A(0) ? A(0) : (has_weight ? weight_sum[0] : (A)classes);
    k.gamma = g * (A(1) - smoothing) * wt;
    k.alpha = k.gamma + g * smooth * total;
    k.beta = g * smooth;
    return k;
}

template <class T>
__device__ __forceinline__ void ce_forward_rows(
        const T* __restrict__ x, const long long* __restrict__ target, const T* weight,
        const typename tm_acc<T>::type* weight_sum, typename tm_acc<T>::type* loss,
        typename tm_acc<T>::type* lse, typename tm_acc<T>::type* target_weight,
        long long entries, long long classes, long long ignore_index,
        typename tm_acc<T>::type smoothing, int has_weight) {
    typedef typename tm_acc<T>::type A;
    __shared__ A scratch[32];
    for (long long e = blockIdx.x; e < entries; e += gridDim.x) {  // uniform per block
        const T* xe = x + e * classes;
        A m = -tm_infinity<A>();
        for (long long c = threadIdx.x; c < classes; c += blockDim.x)
            m = ce_max(m, tm_to_acc(xe[c]));
        m = tm_block_max(m, scratch);
        A sum_exp = A(0), sum_wx = A(0);
        for (long long c = threadIdx.x; c < classes; c += blockDim.x) {
            A v = tm_to_acc(xe[c]) - m;
            sum_exp += ce_exp(v);
            if (smoothing != A(0)) sum_wx += ce_weight(weight, c, has_weight) * v;
        }
        sum_exp = tm_block_sum(sum_exp, scratch);
        if (smoothing != A(0)) sum_wx = tm_block_sum(sum_wx, scratch);  // kernel-wide branch
        if (threadIdx.x == 0)
            ce_store_entry(xe, 1, e, target[e], m, sum_exp, sum_wx, weight, weight_sum, classes,
                           ignore_index, smoothing, has_weight, loss, lse, target_weight);
    }
}

template <class T>
__device__ __forceinline__ void ce_forward_strided(
        const T* __restrict__ x, const long long* __restrict__ target, const T* weight,
        const typename tm_acc<T>::type* weight_sum, typename tm_acc<T>::type* loss,
        typename tm_acc<T>::type* lse, typename tm_acc<T>::type* target_weight,
        long long entries, long long classes, long long inner, long long ignore_index,
        typename tm_acc<T>::type smoothing, int has_weight) {
    typedef typename tm_acc<T>::type A;
    for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < entries;
         e += (long long)gridDim.x * blockDim.x) {
        long long n = e / inner;
        const T* xe = x + n * classes * inner + (e - n * inner);
        A m = -tm_infinity<A>();
        for (long long c = 0; c < classes; ++c) m = ce_max(m, tm_to_acc(xe[c * inner]));
        A sum_exp = A(0), sum_wx = A(0);
        for (long long c = 0; c < classes; ++c) {
            A v = tm_to_acc(xe[c * inner]) - m;
            sum_exp += ce_exp(v);
            if (smoothing != A(0)) sum_wx += ce_weight(weight, c, has_weight) * v;
        }
        ce_store_entry(xe, inner, e, target[e], m, sum_exp, sum_wx, weight, weight_sum, classes,
                       ignore_index, smoothing, has_weight, loss, lse, target_weight);
    }
}

// grad holds the upstream gradient per entry (grad_stride 1) or one for all (grad_stride 0),
// already divided by the total weight for 'mean'.
template <class T>
__device__ __forceinline__ void ce_backward_rows(
        const T* __restrict__ x, const long long* __restrict__ target, const T* weight,
        const typename tm_acc<T>::type* weight_sum, const typename tm_acc<T>::type* lse,
        const typename tm_acc<T>::type* grad, long long grad_stride, T* __restrict__ grad_input,
        long long entries, long long classes, long long ignore_index,
        typename tm_acc<T>::type smoothing, int has_weight) {
    typedef typename tm_acc<T>::type A;
    for (long long e = blockIdx.x; e < entries; e += gridDim.x) {
        long long t = target[e];
        A l = lse[e];
        ce_coefs<A> k = ce_grad_coefs(t, grad[e * grad_stride], weight, weight_sum, classes,
                                      ignore_index, smoothing, has_weight);
        const T* xe = x + e * classes;
        T* ge = grad_input + e * classes;
        for (long long c = threadIdx.x; c < classes; c += blockDim.x) {
            A v = ce_exp(tm_to_acc(xe[c]) - l) * k.alpha;
            if (k.beta != A(0)) v -= ce_weight(weight, c, has_weight) * k.beta;
            if (c == t) v -= k.gamma;
            ge[c] = tm_from_acc<T>(v);
        }
    }
}

template <class T>
__device__ __forceinline__ void ce_backward_strided(
        const T* __restrict__ x, const long long* __restrict__ target, const T* weight,
        const typename tm_acc<T>::type* weight_sum, const typename tm_acc<T>::type* lse,
        const typename tm_acc<T>::type* grad, long long grad_stride, T* __restrict__ grad_input,
        long long entries, long long classes, long long inner, long long ignore_index,
        typename tm_acc<T>::type smoothing, int has_weight) {
    typedef typename tm_acc<T>::type A;
    for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < entries;
         e += (long long)gridDim.x * blockDim.x) {
        long long n = e / inner, t = target[e];
        long long offset = n * classes * inner + (e - n * inner);
        A l = lse[e];
        ce_coefs<A> k = ce_grad_coefs(t, grad[e * grad_stride], weight, weight_sum, classes,
                                      ignore_index, smoothing, has_weight);
        for (long long c = 0; c < classes; ++c) {
            A v = ce_exp(tm_to_acc(x[offset + c * inner]) - l) * k.alpha;
            if (k.beta != A(0)) v -= ce_weight(weight, c, has_weight) * k.beta;
            if (c == t) v -= k.gamma;
            grad_input[offset + c * inner] = tm_from_acc<T>(v);
        }
    }
}

// extern "C" entry points, one per dtype (the emulator finds them by their literal names).
// Each *_PARAMS macro is a kernel's parameter list and *_CALL the matching template call.
#define TM_A(T) tm_acc<T>::type
#define CE_FWD_PARAMS(T)                                                                       \
    const T* x, const long long* target, const T* weight, const TM_A(T)* weight_sum,           \
    TM_A(T)* loss, TM_A(T)* lse, TM_A(T)* target_weight, long long entries, long long classes
#define CE_FLAGS_PARAMS(T) long long ignore_index, TM_A(T) smoothing, int has_weight
#define CE_FWD_ARGS x, target, weight, weight_sum, loss, lse, target_weight, entries, classes
#define CE_BWD_PARAMS(T)                                                                       \
    const T* x, const long long* target, const T* weight, const TM_A(T)* weight_sum,           \
    const TM_A(T)* lse, const TM_A(T)* grad, long long grad_stride, T* grad_input,             \
    long long entries, long long classes
#define CE_BWD_ARGS                                                                            \
    x, target, weight, weight_sum, lse, grad, grad_stride, grad_input, entries, classes
#define CE_FLAGS ignore_index, smoothing, has_weight

extern "C" __global__ void ce_fwd_rows_f32(CE_FWD_PARAMS(float), CE_FLAGS_PARAMS(float)) { ce_forward_rows<float>(CE_FWD_ARGS, CE_FLAGS); }
extern "C" __global__ void ce_fwd_rows_f64(CE_FWD_PARAMS(double), CE_FLAGS_PARAMS(double)) { ce_forward_rows<double>(CE_FWD_ARGS, CE_FLAGS); }
extern "C" __global__ void ce_fwd_rows_f16(CE_FWD_PARAMS(tm_half), CE_FLAGS_PARAMS(tm_half)) { ce_forward_rows<tm_half>(CE_FWD_ARGS, CE_FLAGS); }
extern "C" __global__ void ce_fwd_rows_bf16(CE_FWD_PARAMS(tm_bfloat16), CE_FLAGS_PARAMS(tm_bfloat16)) { ce_forward_rows<tm_bfloat16>(CE_FWD_ARGS, CE_FLAGS); }

extern "C" __global__ void ce_fwd_strided_f32(CE_FWD_PARAMS(float), long long inner, CE_FLAGS_PARAMS(float)) { ce_forward_strided<float>(CE_FWD_ARGS, inner, CE_FLAGS); }
extern "C" __global__ void ce_fwd_strided_f64(CE_FWD_PARAMS(double), long long inner, CE_FLAGS_PARAMS(double)) { ce_forward_strided<double>(CE_FWD_ARGS, inner, CE_FLAGS); }
extern "C" __global__ void ce_fwd_strided_f16(CE_FWD_PARAMS(tm_half), long long inner, CE_FLAGS_PARAMS(tm_half)) { ce_forward_strided<tm_half>(CE_FWD_ARGS, inner, CE_FLAGS); }
extern "C" __global__ void ce_fwd_strided_bf16(CE_FWD_PARAMS(tm_bfloat16), long long inner, CE_FLAGS_PARAMS(tm_bfloat16)) { ce_forward_strided<tm_bfloat16>(CE_FWD_ARGS, inner, CE_FLAGS); }

extern "C" __global__ void ce_bwd_rows_f32(CE_BWD_PARAMS(float), CE_FLAGS_PARAMS(float)) { ce_backward_rows<float>(CE_BWD_ARGS, CE_FLAGS); }
extern "C" __global__ void ce_bwd_rows_f64(CE_BWD_PARAMS(double), CE_FLAGS_PARAMS(double)) { ce_backward_rows<double>(CE_BWD_ARGS, CE_FLAGS); }
extern "C" __global__ void ce_bwd_rows_f16(CE_BWD_PARAMS(tm_half), CE_FLAGS_PARAMS(tm_half)) { ce_backward_rows<tm_half>(CE_BWD_ARGS, CE_FLAGS); }
extern "C" __global__ void ce_bwd_rows_bf16(CE_BWD_PARAMS(tm_bfloat16), CE_FLAGS_PARAMS(tm_bfloat16)) { ce_backward_rows<tm_bfloat16>(CE_BWD_ARGS, CE_FLAGS); }

extern "C" __global__ void ce_bwd_strided_f32(CE_BWD_PARAMS(float), long long inner, CE_FLAGS_PARAMS(float)) { ce_backward_strided<float>(CE_BWD_ARGS, inner, CE_FLAGS); }
extern "C" __global__ void ce_bwd_strided_f64(CE_BWD_PARAMS(double), long long inner, CE_FLAGS_PARAMS(double)) { ce_backward_strided<double>(CE_BWD_ARGS, inner, CE_FLAGS); }
extern "C" __global__ void ce_bwd_strided_f16(CE_BWD_PARAMS(tm_half), long long inner, CE_FLAGS_PARAMS(tm_half)) { ce_backward_strided<tm_half>(CE_BWD_ARGS, inner, CE_FLAGS); }
extern "C" __global__ void ce_bwd_strided_bf16(CE_BWD_PARAMS(tm_bfloat16), long long inner, CE_FLAGS_PARAMS(tm_bfloat16)) { ce_backward_strided<tm_bfloat16>(CE_BWD_ARGS, inner, CE_FLAGS); }
