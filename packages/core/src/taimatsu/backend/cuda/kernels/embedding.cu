// The embedding table's gradient: grad_weight[index[i]] += grad_out[i] for every looked-up
// row i (dim columns each), rows equal to padding_idx left out.
//
// Two ways: embedding_bwd_atomic_* adds with atomicAdd into a float (double for float64)
// table -- fast, but the order of the additions, hence the rounding, varies from run to run;
// embedding_bwd_sorted_* takes the indices sorted (stably) into segments of equal rows and
// has one thread sum one column of one segment in order -- deterministic, used under
// use_deterministic_algorithms(True). scale_grad_by_freq divides each row's gradient by the
// number of times its index occurs (`counts` in the atomic kernel, the segment's length in
// the sorted one).

// atomic: thread -> one element (i, j) of grad_out (n rows of dim), grid-stride; consecutive
// threads take consecutive columns, so reads and the atomics on a row are coalesced.
template <class T, class A, bool FREQ>
__device__ void tm_embedding_bwd_atomic(const T* __restrict__ gy,
                                        const long long* __restrict__ index,
                                        const long long* __restrict__ counts,
                                        A* __restrict__ gw, long long n, long long dim,
                                        long long padding_idx) {
    const long long total = n * dim;
    for (long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x; t < total;
         t += (long long)gridDim.x * blockDim.x) {
        const long long i = t / dim, j = t - i * dim;
        const long long row = index[i];
        if (row == padding_idx) continue;
        A v = tm_to_acc(gy[t]);
        if (FREQ) v /= A(counts[row]);
        atomicAdd(gw + row * dim + j, v);
    }
}

// sorted: thread -> one column j of one segment s; order[start[s]..start[s+1]) are the
// positions (in grad_out) of the entries of row rows[s], in their original order. A very
// frequent row serializes onto its segment's threads; that is the price of determinism here.
template <class T, bool FREQ>
__device__ void tm_embedding_bwd_sorted(const T* __restrict__ gy,
                                        const long long* __restrict__ order,
                                        const long long* __restrict__ start,
                                        const long long* __restrict__ rows, T* __restrict__ gw,
                                        long long segments, long long dim, long long padding_idx) {
    typedef typename tm_acc<T>::type A;
    const long long total = segments * dim;
    for (long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x; t < total;
         t += (long long)gridDim.x * blockDim.x) {
        const long long s = t / dim, j = t - s * dim;
        const long long row = rows[s];
        if (row == padding_idx) continue;
        const long long begin = start[s], end = start[s + 1];
        A sum = A(0);
        for (long long k = begin; k < end; ++k) sum += tm_to_acc(gy[order[k] * dim + j]);
        if (FREQ) sum /= A(end - begin);
        gw[row * dim + j] = tm_from_acc<T>(sum);
    }
}

// The extern "C" entry points, spelled out per dtype (the emulator finds kernels by their
// literal names). 16-bit gradients accumulate atomically into a float32 table.
#define TM_EMB_ATOMIC_PARAMS(T, A) const T* gy, const long long* index, const long long* counts, \
                                   A* gw, long long n, long long dim, long long padding_idx,     \
                                   int by_freq
#define TM_EMB_ATOMIC_BODY(T, A)                                                       \
    {                                                                                  \
        if (by_freq)                                                                   \
            tm_embedding_bwd_atomic<T, A, true>(gy, index, counts, gw, n, dim, padding_idx); \
        else                                                                           \
            tm_embedding_bwd_atomic<T, A, false>(gy, index, counts, gw, n, dim, padding_idx); \
    }
#define TM_EMB_SORTED_PARAMS(T) const T* gy, const long long* order, const long long* start,  \
                                const long long* rows, T* gw, long long segments,             \
                                long long dim, long long padding_idx, int by_freq
#define TM_EMB_SORTED_BODY(T)                                                                  \
    {                                                                                          \
        if (by_freq) tm_embedding_bwd_sorted<T, true>(gy, order, start, rows, gw, segments,    \
                                                      dim, padding_idx);                      \
        else tm_embedding_bwd_sorted<T, false>(gy, order, start, rows, gw, segments, dim,      \
                                               padding_idx);                                  \
    }

extern "C" __global__ void embedding_bwd_atomic_f32(TM_EMB_ATOMIC_PARAMS(float, float))
    TM_EMB_ATOMIC_BODY(float, float)
extern "C" __global__ void embedding_bwd_atomic_f64(TM_EMB_ATOMIC_PARAMS(double, double))
    TM_EMB_ATOMIC_BODY(double, double)
extern "C" __global__ void embedding_bwd_atomic_f16(TM_EMB_ATOMIC_PARAMS(tm_half, float))
    TM_EMB_ATOMIC_BODY(tm_half, float)
extern "C" __global__ void embedding_bwd_atomic_bf16(TM_EMB_ATOMIC_PARAMS(tm_bfloat16, float))
    TM_EMB_ATOMIC_BODY(tm_bfloat16, float)

extern "C" __global__ void embedding_bwd_sorted_f32(TM_EMB_SORTED_PARAMS(float))
    TM_EMB_SORTED_BODY(float)
extern "C" __global__ void embedding_bwd_sorted_f64(TM_EMB_SORTED_PARAMS(double))
    TM_EMB_SORTED_BODY(double)
extern "C" __global__ void embedding_bwd_sorted_f16(TM_EMB_SORTED_PARAMS(tm_half))
    TM_EMB_SORTED_BODY(tm_half)
extern "C" __global__ void embedding_bwd_sorted_bf16(TM_EMB_SORTED_PARAMS(tm_bfloat16))
    TM_EMB_SORTED_BODY(tm_bfloat16)
