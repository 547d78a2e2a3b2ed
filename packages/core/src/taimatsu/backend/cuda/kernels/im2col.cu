// im2col and its adjoint col2im, the data movement around the GEMMs of a convolution.
//
// One kernel serves 1, 2 and 3 spatial dims: the host pads the geometry with leading
// size-1 dims (kernel 1, stride 1, padding 0, dilation 1). The column matrix of m images
// has rows r = c * K + k (channel c, kernel offset k in (kd, kh, kw) row-major order: the
// weight's own (O, C/groups, kd, kh, kw) layout, so each group's rows are one block) and
// one column l per output position, in one of two layouts:
//   image-major    cols[n][r][l], (m, C*K, L): W (O, C*K) @ cols[n] is y[n], already NCHW
//   channel-major  cols[r][n][l], (C*K, m, L): one GEMM of depth m*L (the weight gradient)
// Entry (n, r, l) holds x[n, c, o*stride - pad + k*dilation] (per dim), zero in the padding.
// Flat indices are 64-bit (m * C*K * L passes 2^31 for ordinary layers); C*K, L and one
// input plane D*H*W each fit an int, which the host checks.

struct tm_conv_geometry {
    int in[3], out[3], kernel[3], stride[3], pad[3], dilation[3];
};

#define TM_CONV_GEOMETRY_PARAMS                                                   \
    int id, int ih, int iw, int od, int oh, int ow, int kd, int kh, int kw,       \
    int sd, int sh, int sw, int pd, int ph, int pw, int dd, int dh, int dw
#define TM_CONV_GEOMETRY_ARGS \
    {{id, ih, iw}, {od, oh, ow}, {kd, kh, kw}, {sd, sh, sw}, {pd, ph, pw}, {dd, dh, dw}}

// im2col: thread -> one column entry. The thread index is the entry's offset in `cols`,
// so writes are fully coalesced in either layout; consecutive threads read consecutive
// output positions of one input row (stride apart).
template <class T>
__device__ void tm_im2col(const T* __restrict__ x, T* __restrict__ cols, long long images,
                          int channels, bool channel_major, tm_conv_geometry g) {
    const long long positions = (long long)g.out[0] * g.out[1] * g.out[2];
    const int taps = g.kernel[0] * g.kernel[1] * g.kernel[2];
    const long long rows = (long long)channels * taps;
    const long long total = images * rows * positions;
    for (long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x; t < total;
         t += (long long)gridDim.x * blockDim.x) {
        // two 64-bit divisions; the rest is 32-bit (rows and positions each fit an int)
        const long long outer = t / positions;
        const int l = (int)(t - outer * positions);
        const long long n = channel_major ? outer % images : outer / rows;
        const int r = (int)(channel_major ? outer / images : outer - n * rows);
        const int c = r / taps, k = r % taps;
        const int kw = k % g.kernel[2], kh = (k / g.kernel[2]) % g.kernel[1];
        const int kd = k / (g.kernel[2] * g.kernel[1]);
        const int ow = l % g.out[2], oh = (l / g.out[2]) % g.out[1];
        const int od = l / (g.out[2] * g.out[1]);
        const int d = od * g.stride[0] - g.pad[0] + kd * g.dilation[0];
        const int h = oh * g.stride[1] - g.pad[1] + kh * g.dilation[1];
        const int w = ow * g.stride[2] - g.pad[2] + kw * g.dilation[2];
        T v = T();  // zero bits: 0.0 in every storage type
        if (d >= 0 && d < g.in[0] && h >= 0 && h < g.in[1] && w >= 0 && w < g.in[2])
            v = x[(((n * channels + c) * g.in[0] + d) * g.in[1] + h) * g.in[2] + w];
        cols[t] = v;
    }
}

// col2im: thread -> one input element (n, c, d, h, w). It gathers the column entries that
// im2col filled from this element: for each kernel tap, the output position it came from
// (when the tap lands on the stride grid and inside the output), summed in the accumulation
// type and written once, so no atomics and the result is deterministic. Consecutive threads
// read consecutive (stride-1) column entries of one row.
template <class T>
__device__ void tm_col2im(const T* __restrict__ cols, T* __restrict__ x, long long images,
                          int channels, bool channel_major, tm_conv_geometry g) {
    typedef typename tm_acc<T>::type A;
    const long long positions = (long long)g.out[0] * g.out[1] * g.out[2];
    const int taps = g.kernel[0] * g.kernel[1] * g.kernel[2];
    const long long rows = (long long)channels * taps;
    const int volume = g.in[0] * g.in[1] * g.in[2];
    const long long total = images * channels * volume;
    for (long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x; t < total;
         t += (long long)gridDim.x * blockDim.x) {
        const long long nc = t / volume, n = nc / channels;  // the only 64-bit divisions
        const int c = (int)(nc - n * channels), at_in = (int)(t - nc * volume);
        const int w = at_in % g.in[2], h = (at_in / g.in[2]) % g.in[1];
        const int d = at_in / (g.in[2] * g.in[1]);
        A acc = A(0);
        for (int a = 0; a < g.kernel[0]; ++a) {
            const int td = d + g.pad[0] - a * g.dilation[0];  // = od * stride
            if (td < 0) break;  // later taps only move further left
            if (td % g.stride[0] != 0 || td / g.stride[0] >= g.out[0]) continue;
            for (int b = 0; b < g.kernel[1]; ++b) {
                const int th = h + g.pad[1] - b * g.dilation[1];
                if (th < 0) break;
                if (th % g.stride[1] != 0 || th / g.stride[1] >= g.out[1]) continue;
                for (int e = 0; e < g.kernel[2]; ++e) {
                    const int tw = w + g.pad[2] - e * g.dilation[2];
                    if (tw < 0) break;
                    if (tw % g.stride[2] != 0 || tw / g.stride[2] >= g.out[2]) continue;
                    const long long r =
                        (long long)c * taps + (a * g.kernel[1] + b) * g.kernel[2] + e;
                    const long long l = ((long long)(td / g.stride[0]) * g.out[1]
                                         + th / g.stride[1]) * g.out[2] + tw / g.stride[2];
                    const long long at = channel_major ? (r * images + n) * positions + l
                                                       : (n * rows + r) * positions + l;
                    acc += tm_to_acc(cols[at]);
                }
            }
        }
        x[t] = tm_from_acc<T>(acc);
    }
}

extern "C" __global__ void im2col_f32(const float* x, float* cols, long long images,
                                      int channels, int channel_major, TM_CONV_GEOMETRY_PARAMS) {
    tm_im2col<float>(x, cols, images, channels, channel_major != 0, TM_CONV_GEOMETRY_ARGS);
}
extern "C" __global__ void im2col_f64(const double* x, double* cols, long long images,
                                      int channels, int channel_major, TM_CONV_GEOMETRY_PARAMS) {
    tm_im2col<double>(x, cols, images, channels, channel_major != 0, TM_CONV_GEOMETRY_ARGS);
}
extern "C" __global__ void im2col_f16(const tm_half* x, tm_half* cols, long long images,
                                      int channels, int channel_major, TM_CONV_GEOMETRY_PARAMS) {
    tm_im2col<tm_half>(x, cols, images, channels, channel_major != 0, TM_CONV_GEOMETRY_ARGS);
}
extern "C" __global__ void im2col_bf16(const tm_bfloat16* x, tm_bfloat16* cols,
                                       long long images, int channels, int channel_major,
                                       TM_CONV_GEOMETRY_PARAMS) {
    tm_im2col<tm_bfloat16>(x, cols, images, channels, channel_major != 0,
                           TM_CONV_GEOMETRY_ARGS);
}

extern "C" __global__ void col2im_f32(const float* cols, float* x, long long images,
                                      int channels, int channel_major, TM_CONV_GEOMETRY_PARAMS) {
    tm_col2im<float>(cols, x, images, channels, channel_major != 0, TM_CONV_GEOMETRY_ARGS);
}
extern "C" __global__ void col2im_f64(const double* cols, double* x, long long images,
                                      int channels, int channel_major, TM_CONV_GEOMETRY_PARAMS) {
    tm_col2im<double>(cols, x, images, channels, channel_major != 0, TM_CONV_GEOMETRY_ARGS);
}
extern "C" __global__ void col2im_f16(const tm_half* cols, tm_half* x, long long images,
                                      int channels, int channel_major, TM_CONV_GEOMETRY_PARAMS) {
    tm_col2im<tm_half>(cols, x, images, channels, channel_major != 0, TM_CONV_GEOMETRY_ARGS);
}
extern "C" __global__ void col2im_bf16(const tm_bfloat16* cols, tm_bfloat16* x,
                                       long long images, int channels, int channel_major,
                                       TM_CONV_GEOMETRY_PARAMS) {
    tm_col2im<tm_bfloat16>(cols, x, images, channels, channel_major != 0,
                           TM_CONV_GEOMETRY_ARGS);
}
