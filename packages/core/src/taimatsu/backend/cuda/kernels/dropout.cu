// Dropout masks from a counter-based generator, Philox4x32-10 (Salmon, Moraes, Dror and Shaw,
// "Parallel random numbers: as easy as 1, 2, 3", SC 2011), so that every thread draws its
// own numbers with no state in memory: the key is the generator's 64-bit seed and the
// 128-bit counter is (element group, offset). Element i takes word i % 4 of the Philox
// output for group i / 4, so a mask depends on (seed, offset, i) only, never on the launch
// shape. The host advances the offset by the number of groups a call used, so consecutive
// calls never reuse a counter.

#define TM_PHILOX_M0 0xD2511F53u
#define TM_PHILOX_M1 0xCD9E8D57u
#define TM_PHILOX_W0 0x9E3779B9u  // golden ratio
#define TM_PHILOX_W1 0xBB67AE85u  // sqrt(3) - 1

// Ten Philox rounds on counter c = {group lo, group hi, offset lo, offset hi} in place,
// with the key bumped by the Weyl constants before every round but the first.
__device__ __forceinline__ void tm_philox4x32_10(unsigned int c[4], unsigned long long seed) {
    unsigned int k0 = (unsigned int)seed, k1 = (unsigned int)(seed >> 32);
#pragma unroll
    for (int round = 0; round < 10; ++round) {
        if (round > 0) { k0 += TM_PHILOX_W0; k1 += TM_PHILOX_W1; }
        unsigned int lo0 = TM_PHILOX_M0 * c[0], hi0 = __umulhi(TM_PHILOX_M0, c[0]);
        unsigned int lo1 = TM_PHILOX_M1 * c[2], hi1 = __umulhi(TM_PHILOX_M1, c[2]);
        unsigned int c0 = hi1 ^ c[1] ^ k0, c2 = hi0 ^ c[3] ^ k1;
        c[0] = c0; c[1] = lo1; c[2] = c2; c[3] = lo0;
    }
}

// The four 32-bit words of group `group` of the stream (seed, offset).
__device__ __forceinline__ void tm_philox_group(unsigned int r[4], unsigned long long seed,
                                                unsigned long long offset,
                                                unsigned long long group) {
    r[0] = (unsigned int)group; r[1] = (unsigned int)(group >> 32);
    r[2] = (unsigned int)offset; r[3] = (unsigned int)(offset >> 32);
    tm_philox4x32_10(r, seed);
}

// A word to a uniform float in [0, 1) on a 2^-24 grid (exact in float); kept iff below `keep`.
__device__ __forceinline__ bool tm_keep(unsigned int word, float keep) {
    return (float)(word >> 8) * 5.9604644775390625e-08f < keep;
}

// Raw generator output, for checking against known answers: thread t writes the 4 words
// of group first_group + t (grid-stride over `groups` groups).
extern "C" __global__ void philox4x32_10_raw(unsigned int* out, long long groups,
                                             unsigned long long seed,
                                             unsigned long long first_group,
                                             unsigned long long offset) {
    for (long long g = blockIdx.x * (long long)blockDim.x + threadIdx.x; g < groups;
         g += (long long)gridDim.x * blockDim.x) {
        unsigned int r[4];
        tm_philox_group(r, seed, offset, first_group + (unsigned long long)g);
        for (int k = 0; k < 4; ++k) out[4 * g + k] = r[k];
    }
}

// Four elements that move as one aligned vector load/store.
template <class T> struct alignas(4 * sizeof(T)) tm_pack4 { T v[4]; };
struct alignas(4) tm_mask4 { bool v[4]; };

// Fused dropout forward: each thread takes a group of 4 elements (grid-stride), draws one
// Philox block for it, and writes mask[i] = u_i < keep and out[i] = x[i] * mask[i] * scale.
// VEC: x, out and mask are aligned for whole-group vector access (the host checks), so a
// warp moves 32 contiguous groups per instruction; the last, partial group goes
// element by element. The mask is bool (one byte, 0 or 1).
template <class T, bool VEC>
__device__ void dropout_fwd(const T* __restrict__ x, T* __restrict__ out,
                            bool* __restrict__ mask, long long n, unsigned long long seed,
                            unsigned long long offset, float keep,
                            typename tm_acc<T>::type scale) {
    typedef typename tm_acc<T>::type A;
    long long groups = (n + 3) / 4;
    for (long long g = blockIdx.x * (long long)blockDim.x + threadIdx.x; g < groups;
         g += (long long)gridDim.x * blockDim.x) {
        unsigned int r[4];
        tm_philox_group(r, seed, offset, (unsigned long long)g);
        long long i = 4 * g;
        if (VEC && i + 4 <= n) {
            tm_pack4<T> in = *reinterpret_cast<const tm_pack4<T>*>(x + i), res;
            tm_mask4 m;
#pragma unroll
            for (int k = 0; k < 4; ++k) {
                m.v[k] = tm_keep(r[k], keep);
                res.v[k] = tm_from_acc<T>(tm_to_acc(in.v[k]) * (m.v[k] ? scale : A(0)));
            }
            *reinterpret_cast<tm_pack4<T>*>(out + i) = res;
            *reinterpret_cast<tm_mask4*>(mask + i) = m;
        } else {
            for (int k = 0; k < 4 && i + k < n; ++k) {
                bool m = tm_keep(r[k], keep);
                mask[i + k] = m;
                out[i + k] = tm_from_acc<T>(tm_to_acc(x[i + k]) * (m ? scale : A(0)));
            }
        }
    }
}

// A mask alone (for channel-wise and alpha dropout): thread per group of 4 entries,
// grid-stride; the same stream layout as dropout_fwd.
extern "C" __global__ void dropout_mask(bool* mask, long long n, unsigned long long seed,
                                        unsigned long long offset, float keep) {
    for (long long g = blockIdx.x * (long long)blockDim.x + threadIdx.x; 4 * g < n;
         g += (long long)gridDim.x * blockDim.x) {
        unsigned int r[4];
        tm_philox_group(r, seed, offset, (unsigned long long)g);
        for (int k = 0; k < 4 && 4 * g + k < n; ++k) mask[4 * g + k] = tm_keep(r[k], keep);
    }
}

// out[i] = x[i] * mask[j] * scale (+ shift_keep or shift_drop when `shifted`), where mask
// entry j = i / inner covers `inner` consecutive elements (1 for elementwise dropout, the
// spatial size for channel-wise). Thread per element, grid-stride, coalesced. Serves as the
// backward of every variant (grad * mask * scale) and the forward of the unfused ones.
template <class T>
__device__ void dropout_apply(const T* __restrict__ x, const bool* __restrict__ mask,
                              T* __restrict__ out, long long n, long long inner,
                              typename tm_acc<T>::type scale,
                              typename tm_acc<T>::type shift_keep,
                              typename tm_acc<T>::type shift_drop, int shifted) {
    typedef typename tm_acc<T>::type A;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x) {
        bool m = mask[inner == 1 ? i : i / inner];
        // x * 0 rather than 0, so NaN and inf stay NaN where dropped, as x * mask does.
        A v = tm_to_acc(x[i]) * (m ? scale : A(0));
        if (shifted) v += m ? shift_keep : shift_drop;
        out[i] = tm_from_acc<T>(v);
    }
}

// The exported kernels, one line each per storage type (the emulator finds kernels by their
// written names, so these are spelled out rather than stamped by a macro).
#define TM_FWD_PARAMS(T)                                                                   \
    const T* x, T* out, bool* mask, long long n, unsigned long long seed,                  \
    unsigned long long offset, float keep, tm_acc<T>::type scale
#define TM_FWD_ARGS x, out, mask, n, seed, offset, keep, scale
#define TM_APPLY_PARAMS(T)                                                                 \
    const T* x, const bool* mask, T* out, long long n, long long inner,                    \
    tm_acc<T>::type scale, tm_acc<T>::type shift_keep, tm_acc<T>::type shift_drop, int shifted
#define TM_APPLY_ARGS x, mask, out, n, inner, scale, shift_keep, shift_drop, shifted

extern "C" __global__ void dropout_fwd_f32(TM_FWD_PARAMS(float)) { dropout_fwd<float, false>(TM_FWD_ARGS); }
extern "C" __global__ void dropout_fwd_f64(TM_FWD_PARAMS(double)) { dropout_fwd<double, false>(TM_FWD_ARGS); }
extern "C" __global__ void dropout_fwd_f16(TM_FWD_PARAMS(tm_half)) { dropout_fwd<tm_half, false>(TM_FWD_ARGS); }
extern "C" __global__ void dropout_fwd_bf16(TM_FWD_PARAMS(tm_bfloat16)) { dropout_fwd<tm_bfloat16, false>(TM_FWD_ARGS); }
extern "C" __global__ void dropout_fwd_vec_f32(TM_FWD_PARAMS(float)) { dropout_fwd<float, true>(TM_FWD_ARGS); }
extern "C" __global__ void dropout_fwd_vec_f64(TM_FWD_PARAMS(double)) { dropout_fwd<double, true>(TM_FWD_ARGS); }
extern "C" __global__ void dropout_fwd_vec_f16(TM_FWD_PARAMS(tm_half)) { dropout_fwd<tm_half, true>(TM_FWD_ARGS); }
extern "C" __global__ void dropout_fwd_vec_bf16(TM_FWD_PARAMS(tm_bfloat16)) { dropout_fwd<tm_bfloat16, true>(TM_FWD_ARGS); }
extern "C" __global__ void dropout_apply_f32(TM_APPLY_PARAMS(float)) { dropout_apply<float>(TM_APPLY_ARGS); }
extern "C" __global__ void dropout_apply_f64(TM_APPLY_PARAMS(double)) { dropout_apply<double>(TM_APPLY_ARGS); }
extern "C" __global__ void dropout_apply_f16(TM_APPLY_PARAMS(tm_half)) { dropout_apply<tm_half>(TM_APPLY_ARGS); }
extern "C" __global__ void dropout_apply_bf16(TM_APPLY_PARAMS(tm_bfloat16)) { dropout_apply<tm_bfloat16>(TM_APPLY_ARGS); }
