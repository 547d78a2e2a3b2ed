// Windowed max and average pooling over (planes, D, H, W), forward and backward.
//
// One kernel serves 1, 2 and 3 spatial dims: the host pads the geometry with leading
// size-1 dims (kernel 1, stride 1, padding 0, dilation 1). A "plane" is one (n, c) slice;
// indices are flat positions within the input plane, int64, as torch's return_indices.
// Every kernel is a grid-stride loop with one thread per output element (forward) or per
// input element (backward). Backward passes gather from the outputs whose windows can
// reach their input element instead of scattering with atomics, so they are deterministic
// and each input gradient is written exactly once.

struct tm_pool_geometry {
    int in[3], out[3], kernel[3], stride[3], pad[3], dilation[3];
};

#define TM_POOL_GEOMETRY_PARAMS                                                   \
    int id, int ih, int iw, int od, int oh, int ow, int kd, int kh, int kw,       \
    int sd, int sh, int sw, int pd, int ph, int pw, int dd, int dh, int dw
#define TM_POOL_GEOMETRY_ARGS \
    {{id, ih, iw}, {od, oh, ow}, {kd, kh, kw}, {sd, sh, sw}, {pd, ph, pw}, {dd, dh, dw}}

// The outputs along one dim whose window (start o*stride - pad, taps every `dilation`)
// can cover input position i: o in [lo, hi). Only a range; a dilated window may step over
// i, which the callers check.
__device__ __forceinline__ void tm_pool_reach(int i, int k, int s, int p, int d, int out,
                                              int* lo, int* hi) {
    int last = i + p;                 // o*s <= i + p
    int first = i + p - d * (k - 1);  // o*s >= i + p - d*(k-1)
    *lo = first <= 0 ? 0 : (first + s - 1) / s;
    *hi = min(last / s + 1, out);
}

// max pooling forward: thread -> one output element; it scans its window in row-major
// order over the taps inside the input and keeps the first maximum (strict >), letting
// any NaN take over (the last NaN wins), as torch does. WITH_INDEX false skips the index.
template <class T, bool WITH_INDEX>
__device__ void tm_max_pool_fwd(const T* __restrict__ x, T* __restrict__ y,
                                long long* __restrict__ index, long long planes,
                                tm_pool_geometry g) {
    typedef typename tm_acc<T>::type A;
    const long long out_plane = (long long)g.out[0] * g.out[1] * g.out[2];
    const long long in_plane = (long long)g.in[0] * g.in[1] * g.in[2];
    const long long total = planes * out_plane;
    for (long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x; t < total;
         t += (long long)gridDim.x * blockDim.x) {
        const int ow = (int)(t % g.out[2]);
        const int oh = (int)((t / g.out[2]) % g.out[1]);
        const int od = (int)((t / ((long long)g.out[2] * g.out[1])) % g.out[0]);
        const T* plane = x + (t / out_plane) * in_plane;
        const int d0 = od * g.stride[0] - g.pad[0];
        const int h0 = oh * g.stride[1] - g.pad[1];
        const int w0 = ow * g.stride[2] - g.pad[2];
        A best = -tm_infinity<A>();
        // a window with no tap inside the input (possible with dilation) reports its start
        long long arg = ((long long)d0 * g.in[1] + h0) * g.in[2] + w0;
        bool found = false;
        for (int a = 0; a < g.kernel[0]; ++a) {
            const int d = d0 + a * g.dilation[0];
            if (d < 0 || d >= g.in[0]) continue;
            for (int b = 0; b < g.kernel[1]; ++b) {
                const int h = h0 + b * g.dilation[1];
                if (h < 0 || h >= g.in[1]) continue;
                const long long row = ((long long)d * g.in[1] + h) * g.in[2];
                for (int c = 0; c < g.kernel[2]; ++c) {
                    const int w = w0 + c * g.dilation[2];
                    if (w < 0 || w >= g.in[2]) continue;
                    const A v = tm_to_acc(plane[row + w]);
                    if (!found || v > best || v != v) {
                        best = v;
                        arg = row + w;
                        found = true;
                    }
                }
            }
        }
        y[t] = tm_from_acc<T>(best);
        if (WITH_INDEX) index[t] = arg;
    }
}

// max pooling backward: thread -> one input element; it sums the output gradients of the
// windows whose recorded index is this element (read in a fixed order: deterministic).
template <class T>
__device__ void tm_max_pool_bwd(const T* __restrict__ gy, const long long* __restrict__ index,
                                T* __restrict__ gx, long long planes, tm_pool_geometry g) {
    typedef typename tm_acc<T>::type A;
    const long long out_plane = (long long)g.out[0] * g.out[1] * g.out[2];
    const long long in_plane = (long long)g.in[0] * g.in[1] * g.in[2];
    const long long total = planes * in_plane;
    for (long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x; t < total;
         t += (long long)gridDim.x * blockDim.x) {
        const long long p = t / in_plane, pos = t % in_plane;
        const int w = (int)(pos % g.in[2]);
        const int h = (int)((pos / g.in[2]) % g.in[1]);
        const int d = (int)(pos / ((long long)g.in[2] * g.in[1]));
        int dlo, dhi, hlo, hhi, wlo, whi;
        tm_pool_reach(d, g.kernel[0], g.stride[0], g.pad[0], g.dilation[0], g.out[0], &dlo, &dhi);
        tm_pool_reach(h, g.kernel[1], g.stride[1], g.pad[1], g.dilation[1], g.out[1], &hlo, &hhi);
        tm_pool_reach(w, g.kernel[2], g.stride[2], g.pad[2], g.dilation[2], g.out[2], &wlo, &whi);
        const long long base = p * out_plane;
        A sum = A(0);
        for (int od = dlo; od < dhi; ++od)
            for (int oh = hlo; oh < hhi; ++oh)
                for (int ow = wlo; ow < whi; ++ow) {
                    const long long o = base + ((long long)od * g.out[1] + oh) * g.out[2] + ow;
                    if (index[o] == pos) sum += tm_to_acc(gy[o]);
                }
        gx[t] = tm_from_acc<T>(sum);
    }
}

// The divisor of average-pooling output (od, oh, ow): divisor_override when given (non-zero),
// else the window's size clipped to the padded input (count_include_pad) or to the input.
__device__ __forceinline__ long long tm_avg_pool_divisor(const tm_pool_geometry& g, int od,
                                                         int oh, int ow, int count_include_pad) {
    const int o[3] = {od, oh, ow};
    long long with_pad = 1, inside = 1;
    for (int i = 0; i < 3; ++i) {
        const int start = o[i] * g.stride[i] - g.pad[i];
        const int end = min(start + g.kernel[i], g.in[i] + g.pad[i]);
        with_pad *= end - start;
        inside *= min(end, g.in[i]) - max(start, 0);
    }
    return count_include_pad ? with_pad : inside;
}

// average pooling forward: thread -> one output element; it sums its window's taps inside
// the input (padding counts as zero) in the accumulation type and divides once.
template <class T>
__device__ void tm_avg_pool_fwd(const T* __restrict__ x, T* __restrict__ y, long long planes,
                                tm_pool_geometry g, int count_include_pad,
                                double divisor_override) {
    typedef typename tm_acc<T>::type A;
    const long long out_plane = (long long)g.out[0] * g.out[1] * g.out[2];
    const long long in_plane = (long long)g.in[0] * g.in[1] * g.in[2];
    const long long total = planes * out_plane;
    for (long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x; t < total;
         t += (long long)gridDim.x * blockDim.x) {
        const int ow = (int)(t % g.out[2]);
        const int oh = (int)((t / g.out[2]) % g.out[1]);
        const int od = (int)((t / ((long long)g.out[2] * g.out[1])) % g.out[0]);
        const T* plane = x + (t / out_plane) * in_plane;
        const int d0 = od * g.stride[0] - g.pad[0];
        const int h0 = oh * g.stride[1] - g.pad[1];
        const int w0 = ow * g.stride[2] - g.pad[2];
        A sum = A(0);
        for (int d = max(d0, 0); d < min(d0 + g.kernel[0], g.in[0]); ++d)
            for (int h = max(h0, 0); h < min(h0 + g.kernel[1], g.in[1]); ++h) {
                const long long row = ((long long)d * g.in[1] + h) * g.in[2];
                for (int w = max(w0, 0); w < min(w0 + g.kernel[2], g.in[2]); ++w)
                    sum += tm_to_acc(plane[row + w]);
            }
        const A div = divisor_override != 0
            ? A(divisor_override) : A(tm_avg_pool_divisor(g, od, oh, ow, count_include_pad));
        y[t] = tm_from_acc<T>(sum / div);
    }
}

// average pooling backward (the forward's adjoint): thread -> one input element; it adds
// gy / divisor over every output window that covers it.
template <class T>
__device__ void tm_avg_pool_bwd(const T* __restrict__ gy, T* __restrict__ gx, long long planes,
                                tm_pool_geometry g, int count_include_pad,
                                double divisor_override) {
    typedef typename tm_acc<T>::type A;
    const long long out_plane = (long long)g.out[0] * g.out[1] * g.out[2];
    const long long in_plane = (long long)g.in[0] * g.in[1] * g.in[2];
    const long long total = planes * in_plane;
    for (long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x; t < total;
         t += (long long)gridDim.x * blockDim.x) {
        const long long pos = t % in_plane;
        const int w = (int)(pos % g.in[2]);
        const int h = (int)((pos / g.in[2]) % g.in[1]);
        const int d = (int)(pos / ((long long)g.in[2] * g.in[1]));
        int dlo, dhi, hlo, hhi, wlo, whi;  // no dilation: every window in range covers it
        tm_pool_reach(d, g.kernel[0], g.stride[0], g.pad[0], 1, g.out[0], &dlo, &dhi);
        tm_pool_reach(h, g.kernel[1], g.stride[1], g.pad[1], 1, g.out[1], &hlo, &hhi);
        tm_pool_reach(w, g.kernel[2], g.stride[2], g.pad[2], 1, g.out[2], &wlo, &whi);
        const T* plane = gy + (t / in_plane) * out_plane;
        A sum = A(0);
        for (int od = dlo; od < dhi; ++od)
            for (int oh = hlo; oh < hhi; ++oh)
                for (int ow = wlo; ow < whi; ++ow) {
                    const A div = divisor_override != 0
                        ? A(divisor_override)
                        : A(tm_avg_pool_divisor(g, od, oh, ow, count_include_pad));
                    sum += tm_to_acc(plane[((long long)od * g.out[1] + oh) * g.out[2] + ow]) / div;
                }
        gx[t] = tm_from_acc<T>(sum);
    }
}

// adaptive max pooling's indices: thread -> one output element; its window along each dim
// is [floor(o*in/out), ceil((o+1)*in/out)), scanned as tm_max_pool_fwd scans (first maximum,
// the last NaN). The values are then a gather at these indices.
template <class T>
__device__ void tm_adaptive_max_pool_index(const T* __restrict__ x, long long* __restrict__ index,
                                           long long planes, int id, int ih, int iw, int od,
                                           int oh, int ow) {
    typedef typename tm_acc<T>::type A;
    const long long out_plane = (long long)od * oh * ow;
    const long long in_plane = (long long)id * ih * iw;
    const long long total = planes * out_plane;
    for (long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x; t < total;
         t += (long long)gridDim.x * blockDim.x) {
        const int o2 = (int)(t % ow);
        const int o1 = (int)((t / ow) % oh);
        const int o0 = (int)((t / ((long long)ow * oh)) % od);
        const T* plane = x + (t / out_plane) * in_plane;
        const int d1 = (int)((((long long)o0 + 1) * id + od - 1) / od);
        const int h1 = (int)((((long long)o1 + 1) * ih + oh - 1) / oh);
        const int w1 = (int)((((long long)o2 + 1) * iw + ow - 1) / ow);
        const int w0 = (int)((long long)o2 * iw / ow);
        A best = -tm_infinity<A>();
        long long arg = 0;
        bool found = false;
        for (int d = (int)((long long)o0 * id / od); d < d1; ++d)
            for (int h = (int)((long long)o1 * ih / oh); h < h1; ++h) {
                const long long row = ((long long)d * ih + h) * iw;
                for (int w = w0; w < w1; ++w) {
                    const A v = tm_to_acc(plane[row + w]);
                    if (!found || v > best || v != v) {
                        best = v;
                        arg = row + w;
                        found = true;
                    }
                }
            }
        index[t] = arg;
    }
}

// The extern "C" entry points, spelled out per dtype (the emulator finds kernels by their
// literal names); their parameter lists and bodies are shared through these macros.
#define TM_MAX_FWD_PARAMS(T) \
    const T* x, T* y, long long* index, long long planes, TM_POOL_GEOMETRY_PARAMS
#define TM_MAX_FWD_BODY(T) \
    { tm_max_pool_fwd<T, true>(x, y, index, planes, TM_POOL_GEOMETRY_ARGS); }
#define TM_MAX_FWD_NOINDEX_PARAMS(T) \
    const T* x, T* y, long long planes, TM_POOL_GEOMETRY_PARAMS
#define TM_MAX_FWD_NOINDEX_BODY(T) \
    { tm_max_pool_fwd<T, false>(x, y, nullptr, planes, TM_POOL_GEOMETRY_ARGS); }
#define TM_MAX_BWD_PARAMS(T) \
    const T* gy, const long long* index, T* gx, long long planes, TM_POOL_GEOMETRY_PARAMS
#define TM_MAX_BWD_BODY(T) \
    { tm_max_pool_bwd<T>(gy, index, gx, planes, TM_POOL_GEOMETRY_ARGS); }
#define TM_AVG_FWD_PARAMS(T) const T* x, T* y, long long planes, TM_POOL_GEOMETRY_PARAMS, \
                             int count_include_pad, double divisor_override
#define TM_AVG_FWD_BODY(T) { tm_avg_pool_fwd<T>(x, y, planes, TM_POOL_GEOMETRY_ARGS, \
                                                count_include_pad, divisor_override); }
#define TM_AVG_BWD_PARAMS(T) const T* gy, T* gx, long long planes, TM_POOL_GEOMETRY_PARAMS, \
                             int count_include_pad, double divisor_override
#define TM_AVG_BWD_BODY(T) { tm_avg_pool_bwd<T>(gy, gx, planes, TM_POOL_GEOMETRY_ARGS, \
                                                count_include_pad, divisor_override); }

extern "C" __global__ void max_pool_fwd_f32(TM_MAX_FWD_PARAMS(float))
    TM_MAX_FWD_BODY(float)
extern "C" __global__ void max_pool_fwd_f64(TM_MAX_FWD_PARAMS(double))
    TM_MAX_FWD_BODY(double)
extern "C" __global__ void max_pool_fwd_f16(TM_MAX_FWD_PARAMS(tm_half))
    TM_MAX_FWD_BODY(tm_half)
extern "C" __global__ void max_pool_fwd_bf16(TM_MAX_FWD_PARAMS(tm_bfloat16))
    TM_MAX_FWD_BODY(tm_bfloat16)

extern "C" __global__ void max_pool_fwd_noindex_f32(TM_MAX_FWD_NOINDEX_PARAMS(float))
    TM_MAX_FWD_NOINDEX_BODY(float)
extern "C" __global__ void max_pool_fwd_noindex_f64(TM_MAX_FWD_NOINDEX_PARAMS(double))
    TM_MAX_FWD_NOINDEX_BODY(double)
extern "C" __global__ void max_pool_fwd_noindex_f16(TM_MAX_FWD_NOINDEX_PARAMS(tm_half))
    TM_MAX_FWD_NOINDEX_BODY(tm_half)
extern "C" __global__ void max_pool_fwd_noindex_bf16(TM_MAX_FWD_NOINDEX_PARAMS(tm_bfloat16))
    TM_MAX_FWD_NOINDEX_BODY(tm_bfloat16)

extern "C" __global__ void max_pool_bwd_f32(TM_MAX_BWD_PARAMS(float))
    TM_MAX_BWD_BODY(float)
extern "C" __global__ void max_pool_bwd_f64(TM_MAX_BWD_PARAMS(double))
    TM_MAX_BWD_BODY(double)
extern "C" __global__ void max_pool_bwd_f16(TM_MAX_BWD_PARAMS(tm_half))
    TM_MAX_BWD_BODY(tm_half)
extern "C" __global__ void max_pool_bwd_bf16(TM_MAX_BWD_PARAMS(tm_bfloat16))
    TM_MAX_BWD_BODY(tm_bfloat16)

extern "C" __global__ void avg_pool_fwd_f32(TM_AVG_FWD_PARAMS(float))
    TM_AVG_FWD_BODY(float)
extern "C" __global__ void avg_pool_fwd_f64(TM_AVG_FWD_PARAMS(double))
    TM_AVG_FWD_BODY(double)
extern "C" __global__ void avg_pool_fwd_f16(TM_AVG_FWD_PARAMS(tm_half))
    TM_AVG_FWD_BODY(tm_half)
extern "C" __global__ void avg_pool_fwd_bf16(TM_AVG_FWD_PARAMS(tm_bfloat16))
    TM_AVG_FWD_BODY(tm_bfloat16)

extern "C" __global__ void avg_pool_bwd_f32(TM_AVG_BWD_PARAMS(float))
    TM_AVG_BWD_BODY(float)
extern "C" __global__ void avg_pool_bwd_f64(TM_AVG_BWD_PARAMS(double))
    TM_AVG_BWD_BODY(double)
extern "C" __global__ void avg_pool_bwd_f16(TM_AVG_BWD_PARAMS(tm_half))
    TM_AVG_BWD_BODY(tm_half)
extern "C" __global__ void avg_pool_bwd_bf16(TM_AVG_BWD_PARAMS(tm_bfloat16))
    TM_AVG_BWD_BODY(tm_bfloat16)

#define TM_ADAPTIVE_MAX_PARAMS(T) const T* x, long long* index, long long planes, int id, \
                                  int ih, int iw, int od, int oh, int ow
#define TM_ADAPTIVE_MAX_BODY(T) \
    { tm_adaptive_max_pool_index<T>(x, index, planes, id, ih, iw, od, oh, ow); }

extern "C" __global__ void adaptive_max_pool_index_f32(TM_ADAPTIVE_MAX_PARAMS(float))
    TM_ADAPTIVE_MAX_BODY(float)
extern "C" __global__ void adaptive_max_pool_index_f64(TM_ADAPTIVE_MAX_PARAMS(double))
    TM_ADAPTIVE_MAX_BODY(double)
extern "C" __global__ void adaptive_max_pool_index_f16(TM_ADAPTIVE_MAX_PARAMS(tm_half))
    TM_ADAPTIVE_MAX_BODY(tm_half)
extern "C" __global__ void adaptive_max_pool_index_bf16(TM_ADAPTIVE_MAX_PARAMS(tm_bfloat16))
    TM_ADAPTIVE_MAX_BODY(tm_bfloat16)
