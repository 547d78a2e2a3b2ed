// Shared by every kernel file in this folder; the loader puts it in front of each one.
//
// Kernels here are plain CUDA C compiled by NVRTC through cupy.RawModule, with no
// #include: the same text also builds with g++ against the CPU emulator in
// taimatsu/testing/cuda_emulator (which defines TM_EMULATOR), so CI without a GPU runs
// the kernels themselves. Half precision therefore goes through bit patterns and PTX
// conversions rather than cuda_fp16.h.

#ifndef TM_PRELUDE_CUH
#define TM_PRELUDE_CUH

#ifndef TM_EMULATOR
// Dynamic shared memory is one byte array per module; each kernel views it as it needs.
extern __shared__ __align__(16) unsigned char tm_dynamic_shared_bytes[];
#define TM_DYNAMIC_SHARED(T, name) T* name = reinterpret_cast<T*>(tm_dynamic_shared_bytes)
#define TM_INFINITY_F __int_as_float(0x7f800000)
#define TM_INFINITY_D __longlong_as_double(0x7ff0000000000000LL)
#endif

struct tm_half { unsigned short bits; };
struct tm_bfloat16 { unsigned short bits; };

#ifndef TM_EMULATOR
__device__ __forceinline__ float tm_half_to_float(unsigned short h) {
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
    return f;
}
__device__ __forceinline__ unsigned short tm_float_to_half(float f) {
    unsigned short h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
    return h;
}
#endif

// bfloat16 is the top half of a float32: widen by shifting, narrow with round-to-nearest-even.
__device__ __forceinline__ float tm_bfloat16_to_float(unsigned short b) {
    return __uint_as_float(((unsigned int)b) << 16);
}
__device__ __forceinline__ unsigned short tm_float_to_bfloat16(float f) {
    unsigned int u = __float_as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (unsigned short)((u >> 16) | 0x40u);  // NaN stays NaN
    u += 0x7fffu + ((u >> 16) & 1u);
    return (unsigned short)(u >> 16);
}

// The accumulation type of a storage type: float for the 16-bit types and float, double for double.
template <class T> struct tm_acc { typedef float type; };
template <> struct tm_acc<double> { typedef double type; };

__device__ __forceinline__ float tm_to_acc(float v) { return v; }
__device__ __forceinline__ double tm_to_acc(double v) { return v; }
__device__ __forceinline__ float tm_to_acc(tm_half v) { return tm_half_to_float(v.bits); }
__device__ __forceinline__ float tm_to_acc(tm_bfloat16 v) { return tm_bfloat16_to_float(v.bits); }

template <class T> __device__ __forceinline__ T tm_from_acc(float v);
template <> __device__ __forceinline__ float tm_from_acc<float>(float v) { return v; }
template <> __device__ __forceinline__ tm_half tm_from_acc<tm_half>(float v) {
    tm_half h; h.bits = tm_float_to_half(v); return h;
}
template <> __device__ __forceinline__ tm_bfloat16 tm_from_acc<tm_bfloat16>(float v) {
    tm_bfloat16 b; b.bits = tm_float_to_bfloat16(v); return b;
}
template <class T> __device__ __forceinline__ T tm_from_acc(double v);
template <> __device__ __forceinline__ double tm_from_acc<double>(double v) { return v; }

template <class A> __device__ __forceinline__ A tm_infinity();
template <> __device__ __forceinline__ float tm_infinity<float>() { return TM_INFINITY_F; }
template <> __device__ __forceinline__ double tm_infinity<double>() { return TM_INFINITY_D; }

// Reductions within a warp (all 32 lanes take part) and within a block. The block versions
// need blockDim.x to be a multiple of 32 and `scratch` to hold 32 values; every thread gets
// the result.
template <class A> __device__ __forceinline__ A tm_warp_sum(A v) {
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
    return v;
}
template <class A> __device__ __forceinline__ A tm_warp_max(A v) {
    for (int offset = 16; offset > 0; offset >>= 1) {
        A other = __shfl_xor_sync(0xffffffffu, v, offset);
        v = (other > v || other != other) ? other : v;  // NaN wins, as torch's max does
    }
    return v;
}
template <class A> __device__ A tm_block_sum(A v, A* scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    v = tm_warp_sum(v);
    __syncthreads();  // scratch may still be read by a previous reduction
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < warps ? scratch[lane] : A(0);
    return tm_warp_sum(v);
}
template <class A> __device__ A tm_block_max(A v, A* scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    v = tm_warp_max(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < warps ? scratch[lane] : -tm_infinity<A>();
    return tm_warp_max(v);
}

#endif  // TM_PRELUDE_CUH
