// A CPU stand-in for the CUDA execution model, so that the kernels in
// taimatsu/backend/cuda/kernels build with g++ and run in tests on machines without a GPU.
//
// Each block runs as blockDim OS threads that really run concurrently: __syncthreads is a
// barrier, warp shuffles exchange values through a per-warp slot array between two warp
// barriers, atomics take one process-wide lock. Blocks run one after another, so
// `__shared__` variables (which become function statics) belong to the running block.
// A thread that returns drops out of the barriers, so an early exit cannot hang the run.
// This checks a kernel's indexing, synchronization and arithmetic; it says nothing about
// its speed, and races that happen to come out right on the CPU can still hide here.
#pragma once
#define TM_EMULATOR 1

#include <algorithm>
#include <barrier>
#include <cfloat>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

struct dim3 {
    unsigned int x, y, z;
    dim3(unsigned int x_ = 1, unsigned int y_ = 1, unsigned int z_ = 1) : x(x_), y(y_), z(z_) {}
};

namespace tm_emu {

struct Block {
    dim3 grid, block, index;
    unsigned int threads;
    std::unique_ptr<std::barrier<>> sync;
    std::vector<std::unique_ptr<std::barrier<>>> warp_sync;
    std::vector<unsigned long long> warp_slots;  // 32 eight-byte slots per warp
    std::vector<unsigned long long> dynamic_shared;
};

inline thread_local Block* block = nullptr;
inline thread_local dim3 thread_index;
inline std::mutex atomic_lock;

inline unsigned int linear_thread() {
    return thread_index.x + block->block.x * (thread_index.y + block->block.y * thread_index.z);
}

template <class T> T exchange(T value, int source_lane) {
    static_assert(sizeof(T) <= 8, "warp exchange of a type wider than 8 bytes");
    unsigned int me = linear_thread(), warp = me / 32, lane = me % 32;
    unsigned int width = std::min(32u, block->threads - warp * 32);
    std::memcpy(&block->warp_slots[warp * 32 + lane], &value, sizeof(T));
    block->warp_sync[warp]->arrive_and_wait();
    T result = value;
    if (source_lane >= 0 && (unsigned int)source_lane < width)
        std::memcpy(&result, &block->warp_slots[warp * 32 + source_lane], sizeof(T));
    block->warp_sync[warp]->arrive_and_wait();
    return result;
}

inline unsigned int lane() { return linear_thread() % 32; }

template <class... A, std::size_t... I>
void call(void (*kernel)(A...), void** args, std::index_sequence<I...>) {
    kernel(*static_cast<std::remove_cv_t<std::remove_reference_t<A>>*>(args[I])...);
}

template <class... A>
int launch(void (*kernel)(A...), dim3 grid, dim3 block_dim, std::size_t shared_bytes,
           void** args) {
    unsigned int threads = block_dim.x * block_dim.y * block_dim.z;
    if (threads == 0 || threads > 1024) return 1;
    if (grid.x == 0 || grid.y == 0 || grid.z == 0) return 2;
    unsigned int warps = (threads + 31) / 32;
    for (unsigned int bz = 0; bz < grid.z; ++bz)
        for (unsigned int by = 0; by < grid.y; ++by)
            for (unsigned int bx = 0; bx < grid.x; ++bx) {
                Block b;
                b.grid = grid; b.block = block_dim; b.index = dim3(bx, by, bz);
                b.threads = threads;
                b.sync = std::make_unique<std::barrier<>>(threads);
                for (unsigned int w = 0; w < warps; ++w)
                    b.warp_sync.push_back(std::make_unique<std::barrier<>>(
                        std::min(32u, threads - w * 32)));
                b.warp_slots.assign(warps * 32, 0);
                // Garbage rather than zeros, so that a kernel relying on zeroed shared memory fails.
                b.dynamic_shared.assign((shared_bytes + 7) / 8 + 1, 0x7ff4dead7ff4deadULL);
                std::vector<std::thread> pool;
                pool.reserve(threads);
                for (unsigned int t = 0; t < threads; ++t)
                    pool.emplace_back([&b, t, kernel, args, block_dim] {
                        block = &b;
                        thread_index = dim3(t % block_dim.x, (t / block_dim.x) % block_dim.y,
                                            t / (block_dim.x * block_dim.y));
                        call(kernel, args, std::index_sequence_for<A...>{});
                        unsigned int w = linear_thread() / 32;
                        b.warp_sync[w]->arrive_and_drop();
                        b.sync->arrive_and_drop();
                    });
                for (auto& th : pool) th.join();
            }
    return 0;
}

}  // namespace tm_emu

#define threadIdx (tm_emu::thread_index)
#define blockIdx (tm_emu::block->index)
#define blockDim (tm_emu::block->block)
#define gridDim (tm_emu::block->grid)
#define warpSize 32

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__
#define __restrict__ __restrict
#define __shared__ static
#define __align__(n) alignas(n)
#define __launch_bounds__(...)

#define TM_DYNAMIC_SHARED(T, name) \
    T* name = reinterpret_cast<T*>(tm_emu::block->dynamic_shared.data())
#define TM_INFINITY_F (std::numeric_limits<float>::infinity())
#define TM_INFINITY_D (std::numeric_limits<double>::infinity())

inline void __syncthreads() { tm_emu::block->sync->arrive_and_wait(); }
inline void __syncwarp(unsigned int = 0xffffffffu) {
    tm_emu::block->warp_sync[tm_emu::linear_thread() / 32]->arrive_and_wait();
}
inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void __threadfence_block() { std::atomic_thread_fence(std::memory_order_seq_cst); }

template <class T> T __shfl_sync(unsigned int, T v, int src, int width = 32) {
    int lane = tm_emu::lane();
    return tm_emu::exchange(v, (lane / width) * width + (src % width));
}
template <class T> T __shfl_xor_sync(unsigned int, T v, int mask, int width = 32) {
    int lane = tm_emu::lane(), src = lane ^ mask;
    return tm_emu::exchange(v, src / width == lane / width ? src : lane);
}
template <class T> T __shfl_down_sync(unsigned int, T v, unsigned int delta, int width = 32) {
    int lane = tm_emu::lane();
    return tm_emu::exchange(v, (lane % width) + (int)delta < width ? lane + (int)delta : lane);
}
template <class T> T __shfl_up_sync(unsigned int, T v, unsigned int delta, int width = 32) {
    int lane = tm_emu::lane();
    return tm_emu::exchange(v, (lane % width) >= (int)delta ? lane - (int)delta : lane);
}
inline unsigned int __ballot_sync(unsigned int, int predicate) {
    unsigned int me = tm_emu::linear_thread(), warp = me / 32;
    unsigned int width = std::min(32u, tm_emu::block->threads - warp * 32), bits = 0;
    for (unsigned int l = 0; l < width; ++l) {
        int p = tm_emu::exchange(predicate ? 1 : 0, (int)l);
        bits |= (p ? 1u : 0u) << l;
    }
    return bits;
}
inline int __any_sync(unsigned int m, int p) { return __ballot_sync(m, p) != 0; }
inline int __all_sync(unsigned int m, int p) {
    unsigned int me = tm_emu::linear_thread(), warp = me / 32;
    unsigned int width = std::min(32u, tm_emu::block->threads - warp * 32);
    unsigned int full = width == 32 ? 0xffffffffu : ((1u << width) - 1);
    return __ballot_sync(m, p) == full;
}

// Atomics: one lock for all of them; they return the old value as CUDA's do.
#define TM_EMU_ATOMIC(name, T, update)                                  \
    inline T name(T* address, T value) {                                \
        std::lock_guard<std::mutex> guard(tm_emu::atomic_lock);          \
        T old = *address;                                               \
        *address = update;                                              \
        return old;                                                     \
    }
TM_EMU_ATOMIC(atomicAdd, float, old + value)
TM_EMU_ATOMIC(atomicAdd, double, old + value)
TM_EMU_ATOMIC(atomicAdd, int, old + value)
TM_EMU_ATOMIC(atomicAdd, unsigned int, old + value)
TM_EMU_ATOMIC(atomicAdd, unsigned long long, old + value)
TM_EMU_ATOMIC(atomicMax, int, std::max(old, value))
TM_EMU_ATOMIC(atomicMax, unsigned int, std::max(old, value))
TM_EMU_ATOMIC(atomicMax, long long, std::max(old, value))
TM_EMU_ATOMIC(atomicMax, unsigned long long, std::max(old, value))
TM_EMU_ATOMIC(atomicMin, int, std::min(old, value))
TM_EMU_ATOMIC(atomicMin, unsigned int, std::min(old, value))
TM_EMU_ATOMIC(atomicMin, long long, std::min(old, value))
TM_EMU_ATOMIC(atomicMin, unsigned long long, std::min(old, value))
TM_EMU_ATOMIC(atomicExch, int, value)
TM_EMU_ATOMIC(atomicExch, unsigned int, value)
TM_EMU_ATOMIC(atomicExch, unsigned long long, value)
TM_EMU_ATOMIC(atomicExch, float, value)
#undef TM_EMU_ATOMIC
#define TM_EMU_CAS(T)                                                   \
    inline T atomicCAS(T* address, T compare, T value) {                \
        std::lock_guard<std::mutex> guard(tm_emu::atomic_lock);          \
        T old = *address;                                               \
        if (old == compare) *address = value;                           \
        return old;                                                     \
    }
TM_EMU_CAS(int)
TM_EMU_CAS(unsigned int)
TM_EMU_CAS(unsigned long long)
#undef TM_EMU_CAS

// Device intrinsics and the CUDA math library's overloads that C++ spells differently.
inline float __int_as_float(int i) { float f; std::memcpy(&f, &i, 4); return f; }
inline int __float_as_int(float f) { int i; std::memcpy(&i, &f, 4); return i; }
inline float __uint_as_float(unsigned int i) { float f; std::memcpy(&f, &i, 4); return f; }
inline unsigned int __float_as_uint(float f) { unsigned int i; std::memcpy(&i, &f, 4); return i; }
inline double __longlong_as_double(long long i) { double d; std::memcpy(&d, &i, 8); return d; }
inline long long __double_as_longlong(double d) { long long i; std::memcpy(&i, &d, 8); return i; }
inline unsigned int __umulhi(unsigned int a, unsigned int b) {
    return (unsigned int)(((unsigned long long)a * b) >> 32);
}
inline unsigned long long __umul64hi(unsigned long long a, unsigned long long b) {
    return (unsigned long long)(((unsigned __int128)a * b) >> 64);
}
inline int __popc(unsigned int x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz((unsigned int)x); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float __frcp_rn(float a) { return 1.0f / a; }
inline float __saturatef(float x) { return x < 0.f ? 0.f : (x > 1.f ? 1.f : x); }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }
inline float __fmaf_rn(float a, float b, float c) { return std::fma(a, b, c); }
template <class T> T __ldg(const T* p) { return *p; }
using std::isfinite;
using std::isinf;
using std::isnan;
#define TM_EMU_MINMAX(T)                                                \
    inline T min(T a, T b) { return a < b ? a : b; }                    \
    inline T max(T a, T b) { return a > b ? a : b; }
TM_EMU_MINMAX(int)
TM_EMU_MINMAX(unsigned int)
TM_EMU_MINMAX(long long)
TM_EMU_MINMAX(unsigned long long)
TM_EMU_MINMAX(float)
TM_EMU_MINMAX(double)
#undef TM_EMU_MINMAX

inline float tm_half_to_float(unsigned short h) {
    _Float16 f; std::memcpy(&f, &h, 2); return (float)f;
}
inline unsigned short tm_float_to_half(float v) {
    _Float16 f = (_Float16)v; unsigned short h; std::memcpy(&h, &f, 2); return h;
}
