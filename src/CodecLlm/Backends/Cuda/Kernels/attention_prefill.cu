// Causal grouped-query attention of a prefill chunk, tiled: a block takes PF_BQ queries of one head and walks the key and
// value rows of the positions they see in tiles of BK, kept in shared memory as floats, so a cache row is read once per
// block instead of once per query (the general kernel in attention.cu reads every row once per query: 49 % of a 512-token
// TinyLlama prefill on an H100, session 22). Online softmax: each query row keeps its running max m, sum l and output
// accumulators, rescaled by exp(m_old - m_new) when a tile raises the max.
//
// Inputs as the general kernel's prefill (AttnParams): q [T, n_heads * hd] rotated by rope_kv, the cache holding positions
// 0 .. pos0 + T - 1 (rope_kv appended the chunk's keys and values); query t at position pos0 + t sees positions
// 0 .. pos0 + t (attn_first(pos0 + t) .. pos0 + t with a sliding window); out [T, n_heads * hd]. hd a multiple of 4, at
// most 16 * DPT.
//
// Block: 128 threads, tx = thread & 15, ty = thread >> 4. Thread (tx, ty) holds the scores of query rows ty + 8i (i < 4)
// and keys tx + 16j (j < BK / 16) of the tile, and the outputs of its 4 rows at dimensions 64k + 4tx .. 64k + 4tx + 3
// (k < DPT / 4). Every sum has a fixed order (the dot products in dimension order, a tile's row max and sum by a xor
// butterfly over the 16 tx lanes after the thread's keys in order, the outputs over keys in order, tile after tile), so
// the results are the same bits run after run.
// Grid (ceil(T / PF_BQ), n_heads). Dynamic shared memory: attention_prefill_bytes (the host's PrefillAttentionBytes).
#include "attention.cuh"

#define PF_BQ 32
#define PF_THREADS 128

// Floats a row of the query, key and value tiles takes (hd + 4 keeps float4 rows 16-byte aligned and the 16 key rows a
// warp reads in distinct banks), and the probability tile's row (BK + 16: the two rows a warp writes in distinct banks).
__device__ __forceinline__ int pf_ld(int hd) { return hd + 4; }

template <int KV, int DPT, int BK>
__device__ void attention_prefill(const AttnParams& p)
{
    static_assert(DPT % 4 == 0 && BK % 16 == 0, "whole float4 output groups and whole key columns");
    constexpr int NJ = BK / 16, NK = DPT / 4, PS = BK + 16;
    extern __shared__ __align__(16) float sm[];
    const int hd = p.head_dim, ld = pf_ld(hd), h4 = hd / 4;
    const int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;
    const int h = blockIdx.y, q0 = blockIdx.x * PF_BQ;
    const int kvdim = p.n_kv_heads * hd, qdim = p.n_heads * hd;
    const long long kbase = (long long)(h / (p.n_heads / p.n_kv_heads)) * hd;
    const int pos0 = *p.pos0, rows = min(PF_BQ, p.T - q0);
    const int last = pos0 + q0 + rows - 1;  // the last position a query of the block sees
    float* qs = sm;                   // PF_BQ x ld
    float* ks = qs + PF_BQ * ld;      // BK x ld
    float* vs = ks + BK * ld;         // BK x ld
    float* ps = vs + BK * ld;         // PF_BQ x PS probabilities
    for (int i = threadIdx.x; i < PF_BQ * h4; i += PF_THREADS)
    {
        const int r = i / h4, d = 4 * (i - r * h4);
        const float4 v = r < rows ? *(const float4*)(p.q + (long long)(q0 + r) * qdim + (long long)h * hd + d) : make_float4(0.f, 0.f, 0.f, 0.f);
        *(float4*)(qs + r * ld + d) = v;
    }
    const float ninf = __int_as_float(0xff800000);
    float m[4], l[4], o[4][DPT];
#pragma unroll
    for (int i = 0; i < 4; ++i)
    {
        m[i] = ninf;
        l[i] = 0.f;
#pragma unroll
        for (int e = 0; e < DPT; ++e) o[i][e] = 0.f;
    }
    // A sliding window: the block's first query sees positions from attn_first on; the tiles start at the one holding it.
    const int lo = attn_first(p, pos0 + q0);
    for (int j0 = lo - lo % BK; j0 <= last; j0 += BK)
    {
        __syncthreads();  // the previous tile's keys, values and probabilities read (and, first, the query tile written)
        for (int i = threadIdx.x; i < BK * h4; i += PF_THREADS)
        {
            const int c = i / h4, d = 4 * (i - c * h4);
            float kv[4] = {0.f, 0.f, 0.f, 0.f}, vv[4] = {0.f, 0.f, 0.f, 0.f};  // positions past `last`: zeros, never NaN
            if (j0 + c <= last)
            {
                const long long e = (long long)(j0 + c) * kvdim + kbase + d;
                load4<KV>(p.kcache, e, kv);
                load4<KV>(p.vcache, e, vv);
            }
            *(float4*)(ks + c * ld + d) = make_float4(kv[0], kv[1], kv[2], kv[3]);
            *(float4*)(vs + c * ld + d) = make_float4(vv[0], vv[1], vv[2], vv[3]);
        }
        __syncthreads();
        float s[4][NJ];
#pragma unroll
        for (int i = 0; i < 4; ++i)
#pragma unroll
            for (int j = 0; j < NJ; ++j) s[i][j] = 0.f;
        for (int d = 0; d < hd; d += 4)
        {
            float4 qa[4], kb[NJ];
#pragma unroll
            for (int i = 0; i < 4; ++i) qa[i] = *(const float4*)(qs + (ty + 8 * i) * ld + d);
#pragma unroll
            for (int j = 0; j < NJ; ++j) kb[j] = *(const float4*)(ks + (tx + 16 * j) * ld + d);
#pragma unroll
            for (int i = 0; i < 4; ++i)
#pragma unroll
                for (int j = 0; j < NJ; ++j)
                {
                    float t = s[i][j];
                    t += qa[i].x * kb[j].x;
                    t += qa[i].y * kb[j].y;
                    t += qa[i].z * kb[j].z;
                    t += qa[i].w * kb[j].w;
                    s[i][j] = t;
                }
        }
#pragma unroll
        for (int i = 0; i < 4; ++i)
        {
            const int r = ty + 8 * i, qpos = pos0 + q0 + r, qlo = attn_first(p, qpos);  // the row sees qlo .. qpos
            float mx = ninf;
#pragma unroll
            for (int j = 0; j < NJ; ++j)
            {
                const int kpos = j0 + tx + 16 * j;
                s[i][j] = r < rows && kpos <= qpos && kpos >= qlo ? s[i][j] * p.scale : ninf;
                mx = fmaxf(mx, s[i][j]);
            }
#pragma unroll
            for (int x = 8; x >= 1; x >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, x));
            const float mn = fmaxf(m[i], mx);
            const float base = mn == ninf ? 0.f : mn;  // a row with no position seen yet (or past T) stays at zero
            const float alpha = expf(m[i] - base);
            float sum = 0.f;
#pragma unroll
            for (int j = 0; j < NJ; ++j)
            {
                const float e = expf(s[i][j] - base);
                ps[r * PS + tx + 16 * j] = e;
                sum += e;
            }
#pragma unroll
            for (int x = 8; x >= 1; x >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, x);
            l[i] = l[i] * alpha + sum;
            m[i] = mn;
#pragma unroll
            for (int e = 0; e < DPT; ++e) o[i][e] *= alpha;
        }
        __syncthreads();
        // The tile's keys that any query sees, rounded up to whole float4s of probabilities (the rest have probability 0
        // and value rows of zeros).
        const int nk = min(BK, (last - j0 + 4) & ~3);
        for (int c = 0; c < nk; c += 4)
        {
            float4 pr[4];
#pragma unroll
            for (int i = 0; i < 4; ++i) pr[i] = *(const float4*)(ps + (ty + 8 * i) * PS + c);
#pragma unroll
            for (int u = 0; u < 4; ++u)
#pragma unroll
                for (int k = 0; k < NK; ++k)
                {
                    const int d = 64 * k + 4 * tx;
                    if (d >= hd) break;
                    const float4 v = *(const float4*)(vs + (c + u) * ld + d);
#pragma unroll
                    for (int i = 0; i < 4; ++i)
                    {
                        const float w = u == 0 ? pr[i].x : u == 1 ? pr[i].y : u == 2 ? pr[i].z : pr[i].w;
                        o[i][4 * k] += w * v.x;
                        o[i][4 * k + 1] += w * v.y;
                        o[i][4 * k + 2] += w * v.z;
                        o[i][4 * k + 3] += w * v.w;
                    }
                }
        }
    }
#pragma unroll
    for (int i = 0; i < 4; ++i)
    {
        const int r = ty + 8 * i;
        if (r >= rows) continue;
        const float inv = 1.0f / l[i];
        float* out = p.out + (long long)(q0 + r) * qdim + (long long)h * hd;
#pragma unroll
        for (int k = 0; k < NK; ++k)
        {
            const int d = 64 * k + 4 * tx;
            if (d >= hd) break;
            *(float4*)(out + d) = make_float4(o[i][4 * k] * inv, o[i][4 * k + 1] * inv, o[i][4 * k + 2] * inv, o[i][4 * k + 3] * inv);
        }
    }
}

// Head dims up to 64 (DPT 4, key tiles of 64), 128 (DPT 8, 32) and 256 (DPT 16, 32).
#define ATTN_PREFILL(NAME, KV)                                                                                                           \
    extern "C" __global__ void __launch_bounds__(PF_THREADS) attention_prefill_##NAME##_d64(const AttnParams p) { attention_prefill<KV, 4, 64>(p); } \
    extern "C" __global__ void __launch_bounds__(PF_THREADS) attention_prefill_##NAME##_d128(const AttnParams p) { attention_prefill<KV, 8, 32>(p); } \
    extern "C" __global__ void __launch_bounds__(PF_THREADS) attention_prefill_##NAME##_d256(const AttnParams p) { attention_prefill<KV, 16, 32>(p); }
ATTN_PREFILL(f32, DT_F32)
ATTN_PREFILL(f16, DT_F16)
ATTN_PREFILL(bf16, DT_BF16)
