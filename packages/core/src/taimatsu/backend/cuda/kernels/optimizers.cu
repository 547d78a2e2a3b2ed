// Fused optimizer updates: one launch updates every parameter of a group (multi-tensor apply).
//
// The host passes one int64 table: `ntensors` rows, one per parameter, holding the device
// addresses of its arrays and its element count (layouts below), then `nchunks` pairs
// (row, start) cutting every parameter into chunks of `chunk_size` elements. Block b updates
// chunks b, b + gridDim.x, ...; its threads stride through the chunk by blockDim.x, so each
// warp reads and writes consecutive elements. Arithmetic runs in tm_acc<T> (float for
// float/half/bfloat16, double for double), one rounding per operation in the order of the
// array path in taimatsu/optim, which it matches to rounding (bit for bit where the compiler
// does not contract a multiply-add into an FMA, as NVRTC may). Hyperparameters
// arrive as doubles computed on the host (1 - beta1, -step_size, ...) and are rounded to the
// accumulation type once, as NumPy rounds a Python float against a float32 array.

__device__ __forceinline__ float tm_optim_sqrt(float v) { return sqrtf(v); }
__device__ __forceinline__ double tm_optim_sqrt(double v) { return sqrt(v); }

// -- Adam / AdamW ---------------------------------------------------------------------------
// Row: param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq (0 without amsgrad), numel,
// step (address of a float32 step count on the device, or 0 to use the launch's
// neg_step_size and bias_correction2_sqrt, which the host computed from its own step).
#define TM_ADAM_ROW 7
#define TM_ADAM_MAXIMIZE 1
#define TM_ADAM_DECOUPLED 2

struct tm_adam_args {
    double weight_decay;       // L2 coefficient added to the gradient (coupled decay only)
    double decay;              // 1 - lr * weight_decay, the decoupled shrink factor
    double lerp_weight;        // 1 - beta1: exp_avg.lerp_(grad, lerp_weight)
    double lerp_complement;    // 1 - lerp_weight, the form lerp uses for weights >= 0.5
    double beta1, beta2, one_minus_beta2, lr, eps;
    double neg_step_size;      // -lr / (1 - beta1^step), for rows without a device step
    double bias_correction2_sqrt;
    int flags;
};

template <class T>
__device__ void tm_adam(const long long* __restrict__ table, int ntensors, long long nchunks,
                        long long chunk_size, tm_adam_args a) {
    typedef typename tm_acc<T>::type A;
    const long long* chunks = table + (long long)ntensors * TM_ADAM_ROW;
    const bool maximize = a.flags & TM_ADAM_MAXIMIZE, decoupled = a.flags & TM_ADAM_DECOUPLED;
    for (long long c = blockIdx.x; c < nchunks; c += gridDim.x) {
        const long long* row = table + chunks[2 * c] * TM_ADAM_ROW;
        T* __restrict__ param = reinterpret_cast<T*>(row[0]);
        const T* __restrict__ grad = reinterpret_cast<const T*>(row[1]);
        T* __restrict__ exp_avg = reinterpret_cast<T*>(row[2]);
        T* __restrict__ exp_avg_sq = reinterpret_cast<T*>(row[3]);
        T* __restrict__ max_exp_avg_sq = reinterpret_cast<T*>(row[4]);
        const long long start = chunks[2 * c + 1];
        const long long end = start + chunk_size < row[5] ? start + chunk_size : row[5];
        double neg_step_size = a.neg_step_size, bias_correction2_sqrt = a.bias_correction2_sqrt;
        if (row[6] != 0) {  // the step lives on the device (fused): bias corrections from it
            const double step = *reinterpret_cast<const float*>(row[6]);
            neg_step_size = -a.lr / (1.0 - pow(a.beta1, step));
            bias_correction2_sqrt = sqrt(1.0 - pow(a.beta2, step));
        }
        const A weight_decay = (A)a.weight_decay, decay = (A)a.decay, eps = (A)a.eps;
        const A w = (A)a.lerp_weight, w_complement = (A)a.lerp_complement;
        const A beta2 = (A)a.beta2, one_minus_beta2 = (A)a.one_minus_beta2;
        const A step_size = (A)neg_step_size, bc2_sqrt = (A)bias_correction2_sqrt;
        const bool small_weight = a.lerp_weight < 0.5;
        for (long long i = start + threadIdx.x; i < end; i += blockDim.x) {
            A p = tm_to_acc(param[i]);
            A g = tm_to_acc(grad[i]);
            if (maximize) g = -g;
            if (a.weight_decay != 0) {
                if (decoupled) p = p * decay;
                else g = g + p * weight_decay;
            }
            // lerp switches formula at weight 0.5 so that weight 1 lands exactly on grad
            A m = tm_to_acc(exp_avg[i]);
            const A d = g - m;
            m = small_weight ? m + d * w : g - d * w_complement;
            A v = tm_to_acc(exp_avg_sq[i]);
            v = v * beta2 + (g * one_minus_beta2) * g;
            A second = v;
            if (max_exp_avg_sq != nullptr) {
                const A old = tm_to_acc(max_exp_avg_sq[i]);
                second = (old > v || old != old) ? old : v;  // NaN propagates, as maximum
                max_exp_avg_sq[i] = tm_from_acc<T>(second);
            }
            const A denom = tm_optim_sqrt(second) / bc2_sqrt + eps;
            p = p + (m * step_size) / denom;
            exp_avg[i] = tm_from_acc<T>(m);
            exp_avg_sq[i] = tm_from_acc<T>(v);
            param[i] = tm_from_acc<T>(p);
        }
    }
}

// Adds one to every row's device step count (column `column` of rows of `row_width`);
// thread -> one row. Runs before tm_adam, which reads the counts.
extern "C" __global__ void optim_increment_steps(const long long* __restrict__ table,
                                                 int ntensors, int row_width, int column) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < ntensors;
         i += gridDim.x * blockDim.x) {
        float* step = reinterpret_cast<float*>(table[(long long)i * row_width + column]);
        if (step != nullptr) *step += 1.0f;
    }
}

// The extern "C" entry points, spelled out per dtype (the emulator finds kernels by name).
#define TM_ADAM_PARAMS                                                                     \
    const long long* table, int ntensors, long long nchunks, long long chunk_size,        \
    double weight_decay, double decay, double lerp_weight, double lerp_complement,        \
    double beta1, double beta2, double one_minus_beta2, double lr, double eps,            \
    double neg_step_size, double bias_correction2_sqrt, int flags
#define TM_ADAM_BODY(T)                                                                    \
    {                                                                                      \
        tm_adam_args a = {weight_decay, decay, lerp_weight, lerp_complement, beta1,        \
                          beta2, one_minus_beta2, lr, eps, neg_step_size,                  \
                          bias_correction2_sqrt, flags};                                   \
        tm_adam<T>(table, ntensors, nchunks, chunk_size, a);                               \
    }
extern "C" __global__ void adam_f32(TM_ADAM_PARAMS) TM_ADAM_BODY(float)
extern "C" __global__ void adam_f64(TM_ADAM_PARAMS) TM_ADAM_BODY(double)
extern "C" __global__ void adam_f16(TM_ADAM_PARAMS) TM_ADAM_BODY(tm_half)
extern "C" __global__ void adam_bf16(TM_ADAM_PARAMS) TM_ADAM_BODY(tm_bfloat16)

// -- SGD --------------------------------------------------------------------------------------
// Row: param, grad, momentum_buffer (0 without momentum), numel, first (1 when the buffer
// is new this step and starts as the gradient, as torch's first step does).
#define TM_SGD_ROW 5
#define TM_SGD_MAXIMIZE 1
#define TM_SGD_NESTEROV 2

template <class T>
__device__ void tm_sgd(const long long* __restrict__ table, int ntensors, long long nchunks,
                       long long chunk_size, double neg_lr, double momentum, double dampening,
                       double weight_decay, int flags) {
    typedef typename tm_acc<T>::type A;
    const long long* chunks = table + (long long)ntensors * TM_SGD_ROW;
    const bool maximize = flags & TM_SGD_MAXIMIZE, nesterov = flags & TM_SGD_NESTEROV;
    const A step = (A)neg_lr, mu = (A)momentum, wd = (A)weight_decay;
    const A undamped = (A)(1.0 - dampening);
    for (long long c = blockIdx.x; c < nchunks; c += gridDim.x) {
        const long long* row = table + chunks[2 * c] * TM_SGD_ROW;
        T* __restrict__ param = reinterpret_cast<T*>(row[0]);
        const T* __restrict__ grad = reinterpret_cast<const T*>(row[1]);
        T* __restrict__ buffer = reinterpret_cast<T*>(row[2]);
        const bool first = row[4] != 0;
        const long long start = chunks[2 * c + 1];
        const long long end = start + chunk_size < row[3] ? start + chunk_size : row[3];
        for (long long i = start + threadIdx.x; i < end; i += blockDim.x) {
            A p = tm_to_acc(param[i]);
            A g = tm_to_acc(grad[i]);
            if (maximize) g = -g;
            if (weight_decay != 0) g = g + p * wd;
            if (buffer != nullptr) {
                A b = g;
                if (!first) {
                    b = tm_to_acc(buffer[i]) * mu;
                    b = dampening != 0 ? b + g * undamped : b + g;
                }
                buffer[i] = tm_from_acc<T>(b);
                g = nesterov ? g + b * mu : b;
            }
            param[i] = tm_from_acc<T>(p + g * step);
        }
    }
}

#define TM_SGD_PARAMS                                                                      \
    const long long* table, int ntensors, long long nchunks, long long chunk_size,        \
    double neg_lr, double momentum, double dampening, double weight_decay, int flags
#define TM_SGD_BODY(T)                                                                     \
    {                                                                                      \
        tm_sgd<T>(table, ntensors, nchunks, chunk_size, neg_lr, momentum, dampening,       \
                  weight_decay, flags);                                                    \
    }
extern "C" __global__ void sgd_f32(TM_SGD_PARAMS) TM_SGD_BODY(float)
extern "C" __global__ void sgd_f64(TM_SGD_PARAMS) TM_SGD_BODY(double)
extern "C" __global__ void sgd_f16(TM_SGD_PARAMS) TM_SGD_BODY(tm_half)
extern "C" __global__ void sgd_bf16(TM_SGD_PARAMS) TM_SGD_BODY(tm_bfloat16)
