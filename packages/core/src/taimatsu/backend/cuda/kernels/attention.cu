// Fused scaled-dot-product attention, FlashAttention-2 style, in plain SIMT CUDA:
// softmax(scale * q k^T + bias) v without ever writing the (Lq, Lk) score matrix.
//
// Layout: q (N, Lq, D), k (N / group, Lk, D), v (N / group, Lk, Dv), out (N, Lq, Dv), all
// contiguous; N flattens (outer batch, heads); query head h reads key/value head h / group
// (grouped-query attention; group == 1 otherwise). D, Dv <= TM_ATT_MAX_D.
// Masks: `causal` (top-left aligned: query i sees keys j <= i) and an optional `mask` read at
// (n / heads) * msb + (n % heads) * msh + i * msi + j * msj (zero strides broadcast), either
// bool (false = may not attend) or additive in the input dtype.
//
// Work split. A block has W warps; every warp owns TM_ATT_ROWS rows of the block's
// W * TM_ATT_ROWS "owned" rows and the block streams tiles of `tile` <= 32 "other" rows
// through shared memory:
//   attention_fwd / attention_bwd_dq: owned rows are queries, streamed tiles are keys/values.
//     Lane j computes the scores of key j of the tile for the warp's rows (q rows broadcast
//     from shared memory, k rows padded against bank conflicts); for the p v (or ds k)
//     products lane l owns output columns l, l + 32, ... and reads p_j (for all the warp's
//     rows at once) from a per-warp scratch in shared memory.
//   attention_bwd_dkdv: owned rows are keys, streamed tiles are queries (with dO, the
//     logsumexp and delta); lane i computes s and dp for query i, lanes own dK/dV columns.
//     For grouped-query attention the block also loops over the query heads of its key head,
//     so dK and dV accumulate in registers without atomics.
//   attention_bwd_delta: one warp per query row, delta = rowsum(dO * O).
// The backward is three kernels: delta, then dQ (one block per query tile, streaming K/V)
// and dK/dV (one block per key tile, streaming Q/dO). Recomputing P in both costs one more
// q k^T than FlashAttention-2's atomicAdd of dQ, but it is deterministic and needs no
// float32 staging buffer.
//
// Forward keeps per row a running max m, sum l and unnormalised output, rescaled by
// exp(m_old - m_new) when a tile raises the max; it writes out = acc / l and
// lse = m + log(l). A row that sees no key (all masked) gives out = 0 and lse = +inf, so that
// backward's p = exp(s - lse) is 0 and its gradients are 0, as torch's sdpa gives. NaN or
// +inf scores make the row NaN, as the reference exp(s - max) / sum does.
// Everything accumulates in float (double for float64); 16-bit inputs are widened on load.

#define TM_ATT_ROWS 4                        // rows a warp owns
#define TM_ATT_MAX_D 128                     // largest head dim
#define TM_ATT_COLS (TM_ATT_MAX_D / 32)      // output columns per lane
#define TM_ATT_MASK_NONE 0
#define TM_ATT_MASK_BOOL 1
#define TM_ATT_MASK_ADD 2

__device__ __forceinline__ float tm_att_exp(float v) { return expf(v); }
__device__ __forceinline__ double tm_att_exp(double v) { return exp(v); }
__device__ __forceinline__ float tm_att_log(float v) { return logf(v); }
__device__ __forceinline__ double tm_att_log(double v) { return log(v); }

// The score of one (query, key) pair from its dot product; -inf where it may not attend.
template <class T, class A>
__device__ __forceinline__ A tm_att_score(A dot, A scale, bool allowed, const void* mask,
                                          int mask_kind, long long offset) {
    if (!allowed) return -tm_infinity<A>();
    A s = dot * scale;
    if (mask_kind == TM_ATT_MASK_BOOL) {
        if (!static_cast<const unsigned char*>(mask)[offset]) s = -tm_infinity<A>();
    } else if (mask_kind == TM_ATT_MASK_ADD) {
        s += tm_to_acc(static_cast<const T*>(mask)[offset]);
    }
    return s;
}

// Copies rows [first, first + rows) of a (total, cols) matrix into shared memory with the
// given row pitch, widened to A; rows past `total` become zeros (0 * zero never makes NaN,
// which garbage could). Coalesced: consecutive threads read consecutive elements.
template <class T, class A>
__device__ void tm_att_load(A* dst, int pitch, const T* __restrict__ src, int first, int rows,
                            int total, int cols) {
    const int valid = min(rows, total - first);
    const T* base = src + (long long)first * cols;
    for (int e = threadIdx.x; e < rows * cols; e += blockDim.x) {
        const int r = e / cols, c = e - r * cols;
        dst[r * pitch + c] = r < valid ? tm_to_acc(base[(long long)r * cols + c]) : A(0);
    }
}

// The key/value head that query batch-head n reads.
__device__ __forceinline__ long long tm_att_kv_index(long long n, int heads, int group) {
    return (n / heads) * (heads / group) + (n % heads) / group;
}

// ---- forward ------------------------------------------------------------------------------
// grid (ceil(Lq / owned rows), min(N, 65535)), block W * 32 threads; blockIdx.y strides over N.
// Shared: q rows (owned x D), k tile (tile x (D + 1)), v tile (tile x Dv), p of each warp
// (32 x TM_ATT_ROWS).

template <class T>
__device__ void attention_fwd(
        const T* __restrict__ q, const T* __restrict__ k, const T* __restrict__ v,
        const void* __restrict__ mask, T* __restrict__ out,
        typename tm_acc<T>::type* __restrict__ lse, long long batch_heads, int heads, int group,
        int Lq, int Lk, int D, int Dv, long long msb, long long msh, long long msi,
        long long msj, int mask_kind, int causal, typename tm_acc<T>::type scale, int tile) {
    typedef typename tm_acc<T>::type A;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int owned = (blockDim.x >> 5) * TM_ATT_ROWS;
    TM_DYNAMIC_SHARED(A, smem);
    A* qs = smem;
    A* ks = qs + owned * D;
    A* vs = ks + tile * (D + 1);
    A* ps = vs + tile * Dv + warp * 32 * TM_ATT_ROWS;  // this warp's p, [key][row]
    const A ninf = -tm_infinity<A>();
    const int q0 = blockIdx.x * owned, row0 = q0 + warp * TM_ATT_ROWS;
    // causal: keys past the block's last query are masked for all of its rows
    const int kv_end = causal ? min(Lk, q0 + owned) : Lk;

    for (long long n = blockIdx.y; n < batch_heads; n += gridDim.y) {
        const long long kv = tm_att_kv_index(n, heads, group);
        const long long mbase = (n / heads) * msb + (n % heads) * msh;
        __syncthreads();  // the previous n's tiles are consumed
        tm_att_load(qs, D, q + n * Lq * D, q0, owned, Lq, D);

        A m[TM_ATT_ROWS], l[TM_ATT_ROWS], acc[TM_ATT_ROWS][TM_ATT_COLS];
        for (int r = 0; r < TM_ATT_ROWS; ++r) {
            m[r] = ninf;
            l[r] = A(0);
            for (int c = 0; c < TM_ATT_COLS; ++c) acc[r][c] = A(0);
        }
        for (int k0 = 0; k0 < kv_end; k0 += tile) {
            __syncthreads();  // every warp is done with the previous tile
            tm_att_load(ks, D + 1, k + kv * Lk * D, k0, tile, Lk, D);
            tm_att_load(vs, Dv, v + kv * Lk * Dv, k0, tile, Lk, Dv);
            __syncthreads();

            A s[TM_ATT_ROWS];
            for (int r = 0; r < TM_ATT_ROWS; ++r) s[r] = A(0);
            if (lane < tile) {
                for (int d = 0; d < D; ++d) {
                    const A kd = ks[lane * (D + 1) + d];
                    for (int r = 0; r < TM_ATT_ROWS; ++r)
                        s[r] += qs[(warp * TM_ATT_ROWS + r) * D + d] * kd;
                }
            }
            const int j = k0 + lane;
            for (int r = 0; r < TM_ATT_ROWS; ++r) {
                const int i = row0 + r;
                const bool allowed = lane < tile && j < Lk && i < Lq && !(causal && j > i);
                s[r] = tm_att_score<T>(s[r], scale, allowed, mask, mask_kind,
                                       mbase + i * msi + j * msj);
                const A tile_max = tm_warp_max(s[r]);
                const A m_new = (tile_max > m[r] || tile_max != tile_max) ? tile_max : m[r];
                A alpha = A(1), p = A(0);
                if (m_new != ninf) {  // else nothing seen yet: exp(-inf - -inf) would be NaN
                    alpha = tm_att_exp(m[r] - m_new);
                    p = tm_att_exp(s[r] - m_new);
                }
                l[r] = l[r] * alpha + tm_warp_sum(p);
                m[r] = m_new;
                for (int c = 0; c < TM_ATT_COLS; ++c) acc[r][c] *= alpha;
                ps[lane * TM_ATT_ROWS + r] = p;
            }
            __syncwarp();  // (the next tile's first barrier orders the reads before rewrites)
            for (int jj = 0; jj < tile; ++jj) {
                const A* p = ps + jj * TM_ATT_ROWS;
                for (int c = 0; c < TM_ATT_COLS; ++c) {
                    const int d = lane + 32 * c;
                    if (d < Dv) {
                        const A vd = vs[jj * Dv + d];
                        for (int r = 0; r < TM_ATT_ROWS; ++r) acc[r][c] += p[r] * vd;
                    }
                }
            }
        }
        for (int r = 0; r < TM_ATT_ROWS; ++r) {
            const int i = row0 + r;
            if (i >= Lq) break;
            const long long row = n * Lq + i;
            const bool empty = l[r] == A(0);  // no key attended
            for (int c = 0; c < TM_ATT_COLS; ++c) {
                const int d = lane + 32 * c;
                if (d < Dv) out[row * Dv + d] = tm_from_acc<T>(empty ? A(0) : acc[r][c] / l[r]);
            }
            if (lane == 0) lse[row] = empty ? tm_infinity<A>() : m[r] + tm_att_log(l[r]);
        }
    }
}

// ---- backward: delta = rowsum(dO * O) ----------------------------------------------------
// One warp per row, grid-stride over rows.

template <class T>
__device__ void attention_bwd_delta(const T* __restrict__ out, const T* __restrict__ dout,
                                    typename tm_acc<T>::type* __restrict__ delta,
                                    long long rows, int Dv) {
    typedef typename tm_acc<T>::type A;
    const int lane = threadIdx.x & 31;
    const long long warps = blockDim.x >> 5;
    for (long long row = blockIdx.x * warps + (threadIdx.x >> 5); row < rows;
         row += gridDim.x * warps) {  // warp-uniform
        A sum = A(0);
        for (int d = lane; d < Dv; d += 32)
            sum += tm_to_acc(out[row * Dv + d]) * tm_to_acc(dout[row * Dv + d]);
        sum = tm_warp_sum(sum);
        if (lane == 0) delta[row] = sum;
    }
}

// ---- backward: dQ --------------------------------------------------------------------------
// As the forward: grid (ceil(Lq / owned rows), min(N, 65535)). For the warp's query rows and
// key j = lane: p = exp(s - lse), dp = dO . v_j, ds = p (dp - delta); dQ += scale ds k.
// Shared: q rows (owned x D), dO rows (owned x Dv), k tile (tile x (D + 1)), v tile
// (tile x (Dv + 1)), ds of each warp (32 x TM_ATT_ROWS).

template <class T>
__device__ void attention_bwd_dq(
        const T* __restrict__ q, const T* __restrict__ k, const T* __restrict__ v,
        const void* __restrict__ mask, const T* __restrict__ dout,
        const typename tm_acc<T>::type* __restrict__ lse,
        const typename tm_acc<T>::type* __restrict__ delta, T* __restrict__ dq,
        long long batch_heads, int heads, int group, int Lq, int Lk, int D, int Dv,
        long long msb, long long msh, long long msi, long long msj, int mask_kind, int causal,
        typename tm_acc<T>::type scale, int tile) {
    typedef typename tm_acc<T>::type A;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int owned = (blockDim.x >> 5) * TM_ATT_ROWS;
    TM_DYNAMIC_SHARED(A, smem);
    A* qs = smem;
    A* dos = qs + owned * D;
    A* ks = dos + owned * Dv;
    A* vs = ks + tile * (D + 1);
    A* dss = vs + tile * (Dv + 1) + warp * 32 * TM_ATT_ROWS;  // this warp's ds, [key][row]
    const int q0 = blockIdx.x * owned, row0 = q0 + warp * TM_ATT_ROWS;
    const int kv_end = causal ? min(Lk, q0 + owned) : Lk;

    for (long long n = blockIdx.y; n < batch_heads; n += gridDim.y) {
        const long long kv = tm_att_kv_index(n, heads, group);
        const long long mbase = (n / heads) * msb + (n % heads) * msh;
        __syncthreads();
        tm_att_load(qs, D, q + n * Lq * D, q0, owned, Lq, D);
        tm_att_load(dos, Dv, dout + n * Lq * Dv, q0, owned, Lq, Dv);

        A row_lse[TM_ATT_ROWS], row_delta[TM_ATT_ROWS], acc[TM_ATT_ROWS][TM_ATT_COLS];
        for (int r = 0; r < TM_ATT_ROWS; ++r) {
            const int i = row0 + r;
            row_lse[r] = i < Lq ? lse[n * Lq + i] : A(0);
            row_delta[r] = i < Lq ? delta[n * Lq + i] : A(0);
            for (int c = 0; c < TM_ATT_COLS; ++c) acc[r][c] = A(0);
        }
        for (int k0 = 0; k0 < kv_end; k0 += tile) {
            __syncthreads();
            tm_att_load(ks, D + 1, k + kv * Lk * D, k0, tile, Lk, D);
            tm_att_load(vs, Dv + 1, v + kv * Lk * Dv, k0, tile, Lk, Dv);
            __syncthreads();

            A s[TM_ATT_ROWS], dp[TM_ATT_ROWS];
            for (int r = 0; r < TM_ATT_ROWS; ++r) s[r] = dp[r] = A(0);
            if (lane < tile) {
                for (int d = 0; d < D; ++d) {
                    const A kd = ks[lane * (D + 1) + d];
                    for (int r = 0; r < TM_ATT_ROWS; ++r)
                        s[r] += qs[(warp * TM_ATT_ROWS + r) * D + d] * kd;
                }
                for (int d = 0; d < Dv; ++d) {
                    const A vd = vs[lane * (Dv + 1) + d];
                    for (int r = 0; r < TM_ATT_ROWS; ++r)
                        dp[r] += dos[(warp * TM_ATT_ROWS + r) * Dv + d] * vd;
                }
            }
            const int j = k0 + lane;
            for (int r = 0; r < TM_ATT_ROWS; ++r) {
                const int i = row0 + r;
                const bool allowed = lane < tile && j < Lk && i < Lq && !(causal && j > i);
                const A score = tm_att_score<T>(s[r], scale, allowed, mask, mask_kind,
                                                mbase + i * msi + j * msj);
                const A p = allowed ? tm_att_exp(score - row_lse[r]) : A(0);
                dss[lane * TM_ATT_ROWS + r] = allowed ? p * (dp[r] - row_delta[r]) : A(0);
            }
            __syncwarp();
            for (int jj = 0; jj < tile; ++jj) {
                const A* ds = dss + jj * TM_ATT_ROWS;
                for (int c = 0; c < TM_ATT_COLS; ++c) {
                    const int d = lane + 32 * c;
                    if (d < D) {
                        const A kd = ks[jj * (D + 1) + d];
                        for (int r = 0; r < TM_ATT_ROWS; ++r) acc[r][c] += ds[r] * kd;
                    }
                }
            }
        }
        for (int r = 0; r < TM_ATT_ROWS; ++r) {
            const int i = row0 + r;
            if (i >= Lq) break;
            for (int c = 0; c < TM_ATT_COLS; ++c) {
                const int d = lane + 32 * c;
                if (d < D) dq[(n * Lq + i) * D + d] = tm_from_acc<T>(acc[r][c] * scale);
            }
        }
    }
}

// ---- backward: dK and dV -----------------------------------------------------------------
// grid (ceil(Lk / owned rows), min(N / group, 65535)): a block owns keys of one key/value
// head and streams query tiles of each query head that reads it. For the warp's keys and
// query i = lane: p = exp(s - lse_i), ds = p (dO_i . v - delta_i); dV += p dO_i,
// dK += scale ds q_i. Shared: k rows (owned x D), v rows (owned x Dv), q tile
// (tile x (D + 1)), dO tile (tile x (Dv + 1)), lse and delta of the tile, p and ds of each
// warp (2 x 32 x TM_ATT_ROWS).

template <class T>
__device__ void attention_bwd_dkdv(
        const T* __restrict__ q, const T* __restrict__ k, const T* __restrict__ v,
        const void* __restrict__ mask, const T* __restrict__ dout,
        const typename tm_acc<T>::type* __restrict__ lse,
        const typename tm_acc<T>::type* __restrict__ delta, T* __restrict__ dk,
        T* __restrict__ dv, long long batch_heads, int heads, int group, int Lq, int Lk, int D,
        int Dv, long long msb, long long msh, long long msi, long long msj, int mask_kind,
        int causal, typename tm_acc<T>::type scale, int tile) {
    typedef typename tm_acc<T>::type A;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int owned = (blockDim.x >> 5) * TM_ATT_ROWS;
    TM_DYNAMIC_SHARED(A, smem);
    A* ks = smem;
    A* vs = ks + owned * D;
    A* qs = vs + owned * Dv;
    A* dos = qs + tile * (D + 1);
    A* lses = dos + tile * (Dv + 1);
    A* deltas = lses + tile;
    A* ps = deltas + tile + warp * 2 * 32 * TM_ATT_ROWS;  // this warp's p, [query][key]
    A* dss = ps + 32 * TM_ATT_ROWS;                       // and ds
    const int k0 = blockIdx.x * owned, key0 = k0 + warp * TM_ATT_ROWS;
    const int kv_heads = heads / group;
    // causal: queries before the block's first key see none of its keys
    const int q_begin = causal ? k0 : 0;

    for (long long kv = blockIdx.y; kv < batch_heads / group; kv += gridDim.y) {
        __syncthreads();
        tm_att_load(ks, D, k + kv * Lk * D, k0, owned, Lk, D);
        tm_att_load(vs, Dv, v + kv * Lk * Dv, k0, owned, Lk, Dv);

        A dk_acc[TM_ATT_ROWS][TM_ATT_COLS], dv_acc[TM_ATT_ROWS][TM_ATT_COLS];
        for (int r = 0; r < TM_ATT_ROWS; ++r)
            for (int c = 0; c < TM_ATT_COLS; ++c) dk_acc[r][c] = dv_acc[r][c] = A(0);
        for (int g = 0; g < group; ++g) {
            const long long n = (kv / kv_heads) * heads + (kv % kv_heads) * group + g;
            const long long mbase = (n / heads) * msb + (n % heads) * msh;
            for (int i0 = q_begin; i0 < Lq; i0 += tile) {
                __syncthreads();
                tm_att_load(qs, D + 1, q + n * Lq * D, i0, tile, Lq, D);
                tm_att_load(dos, Dv + 1, dout + n * Lq * Dv, i0, tile, Lq, Dv);
                for (int t = threadIdx.x; t < tile; t += blockDim.x) {
                    const bool valid = i0 + t < Lq;
                    lses[t] = valid ? lse[n * Lq + i0 + t] : A(0);
                    deltas[t] = valid ? delta[n * Lq + i0 + t] : A(0);
                }
                __syncthreads();

                A s[TM_ATT_ROWS], dp[TM_ATT_ROWS];
                for (int r = 0; r < TM_ATT_ROWS; ++r) s[r] = dp[r] = A(0);
                if (lane < tile) {
                    for (int d = 0; d < D; ++d) {
                        const A qd = qs[lane * (D + 1) + d];
                        for (int r = 0; r < TM_ATT_ROWS; ++r)
                            s[r] += ks[(warp * TM_ATT_ROWS + r) * D + d] * qd;
                    }
                    for (int d = 0; d < Dv; ++d) {
                        const A od = dos[lane * (Dv + 1) + d];
                        for (int r = 0; r < TM_ATT_ROWS; ++r)
                            dp[r] += vs[(warp * TM_ATT_ROWS + r) * Dv + d] * od;
                    }
                }
                const int i = i0 + lane;
                for (int r = 0; r < TM_ATT_ROWS; ++r) {
                    const int j = key0 + r;
                    const bool allowed = lane < tile && i < Lq && j < Lk && !(causal && j > i);
                    // mask reads here stride over rows (one query per lane): uncoalesced, but
                    // only when an explicit mask is given
                    const A score = tm_att_score<T>(s[r], scale, allowed, mask, mask_kind,
                                                    mbase + i * msi + j * msj);
                    const A p = allowed ? tm_att_exp(score - lses[lane]) : A(0);
                    ps[lane * TM_ATT_ROWS + r] = p;
                    dss[lane * TM_ATT_ROWS + r] = allowed ? p * (dp[r] - deltas[lane]) : A(0);
                }
                __syncwarp();
                for (int t = 0; t < tile; ++t) {
                    const A* p = ps + t * TM_ATT_ROWS;
                    const A* ds = dss + t * TM_ATT_ROWS;
                    for (int c = 0; c < TM_ATT_COLS; ++c) {
                        const int d = lane + 32 * c;
                        if (d < Dv) {
                            const A od = dos[t * (Dv + 1) + d];
                            for (int r = 0; r < TM_ATT_ROWS; ++r) dv_acc[r][c] += p[r] * od;
                        }
                        if (d < D) {
                            const A qd = qs[t * (D + 1) + d];
                            for (int r = 0; r < TM_ATT_ROWS; ++r) dk_acc[r][c] += ds[r] * qd;
                        }
                    }
                }
            }
        }
        for (int r = 0; r < TM_ATT_ROWS; ++r) {
            const int j = key0 + r;
            if (j >= Lk) break;
            for (int c = 0; c < TM_ATT_COLS; ++c) {
                const int d = lane + 32 * c;
                if (d < D) dk[(kv * Lk + j) * D + d] = tm_from_acc<T>(dk_acc[r][c] * scale);
                if (d < Dv) dv[(kv * Lk + j) * Dv + d] = tm_from_acc<T>(dv_acc[r][c]);
            }
        }
    }
}

// ---- exported entry points, one per storage type ------------------------------------------
// (Written out rather than stamped by ## so that every kernel name appears in the text.)

#define TM_ATT_SHAPE_ARGS                                                                    \
    long long batch_heads, int heads, int group, int Lq, int Lk, int D, int Dv, long long msb, \
        long long msh, long long msi, long long msj, int mask_kind, int causal
#define TM_ATT_SHAPE batch_heads, heads, group, Lq, Lk, D, Dv, msb, msh, msi, msj, mask_kind, causal
#define TM_ATT_FWD_ARGS(T, A) \
    const T* q, const T* k, const T* v, const void* mask, T* out, A* lse, TM_ATT_SHAPE_ARGS, \
        A scale, int tile
#define TM_ATT_DELTA_ARGS(T, A) const T* out, const T* dout, A* delta, long long rows, int Dv
#define TM_ATT_DQ_ARGS(T, A)                                                               \
    const T* q, const T* k, const T* v, const void* mask, const T* dout, const A* lse,     \
        const A* delta, T* dq, TM_ATT_SHAPE_ARGS, A scale, int tile
#define TM_ATT_DKDV_ARGS(T, A)                                                             \
    const T* q, const T* k, const T* v, const void* mask, const T* dout, const A* lse,     \
        const A* delta, T* dk, T* dv, TM_ATT_SHAPE_ARGS, A scale, int tile
#define TM_ATT_FWD(T) { attention_fwd<T>(q, k, v, mask, out, lse, TM_ATT_SHAPE, scale, tile); }
#define TM_ATT_DELTA(T) { attention_bwd_delta<T>(out, dout, delta, rows, Dv); }
#define TM_ATT_DQ(T) \
    { attention_bwd_dq<T>(q, k, v, mask, dout, lse, delta, dq, TM_ATT_SHAPE, scale, tile); }
#define TM_ATT_DKDV(T)                                                                       \
    {                                                                                        \
        attention_bwd_dkdv<T>(q, k, v, mask, dout, lse, delta, dk, dv, TM_ATT_SHAPE, scale,  \
                              tile);                                                         \
    }

extern "C" __global__ void attention_fwd_f32(TM_ATT_FWD_ARGS(float, float))
    TM_ATT_FWD(float)
extern "C" __global__ void attention_bwd_delta_f32(TM_ATT_DELTA_ARGS(float, float))
    TM_ATT_DELTA(float)
extern "C" __global__ void attention_bwd_dq_f32(TM_ATT_DQ_ARGS(float, float))
    TM_ATT_DQ(float)
extern "C" __global__ void attention_bwd_dkdv_f32(TM_ATT_DKDV_ARGS(float, float))
    TM_ATT_DKDV(float)

extern "C" __global__ void attention_fwd_f64(TM_ATT_FWD_ARGS(double, double))
    TM_ATT_FWD(double)
extern "C" __global__ void attention_bwd_delta_f64(TM_ATT_DELTA_ARGS(double, double))
    TM_ATT_DELTA(double)
extern "C" __global__ void attention_bwd_dq_f64(TM_ATT_DQ_ARGS(double, double))
    TM_ATT_DQ(double)
extern "C" __global__ void attention_bwd_dkdv_f64(TM_ATT_DKDV_ARGS(double, double))
    TM_ATT_DKDV(double)

extern "C" __global__ void attention_fwd_f16(TM_ATT_FWD_ARGS(tm_half, float))
    TM_ATT_FWD(tm_half)
extern "C" __global__ void attention_bwd_delta_f16(TM_ATT_DELTA_ARGS(tm_half, float))
    TM_ATT_DELTA(tm_half)
extern "C" __global__ void attention_bwd_dq_f16(TM_ATT_DQ_ARGS(tm_half, float))
    TM_ATT_DQ(tm_half)
extern "C" __global__ void attention_bwd_dkdv_f16(TM_ATT_DKDV_ARGS(tm_half, float))
    TM_ATT_DKDV(tm_half)

extern "C" __global__ void attention_fwd_bf16(TM_ATT_FWD_ARGS(tm_bfloat16, float))
    TM_ATT_FWD(tm_bfloat16)
extern "C" __global__ void attention_bwd_delta_bf16(TM_ATT_DELTA_ARGS(tm_bfloat16, float))
    TM_ATT_DELTA(tm_bfloat16)
extern "C" __global__ void attention_bwd_dq_bf16(TM_ATT_DQ_ARGS(tm_bfloat16, float))
    TM_ATT_DQ(tm_bfloat16)
extern "C" __global__ void attention_bwd_dkdv_bf16(TM_ATT_DKDV_ARGS(tm_bfloat16, float))
    TM_ATT_DKDV(tm_bfloat16)
