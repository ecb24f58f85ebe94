// RoPE + KV-cache append, and causal grouped-query attention over the cache (prefill and decode).
#include "attention.cuh"

// One block per (head, query). Query t sits at position pos0 + t and sees cache positions 0 .. pos0 + t (with a sliding
// window, attn_first(pos0 + t) .. pos0 + t).
// Scores: one thread per position (its key row's loads all in flight, summed in d order). Output: the
// block's threads split into groups of hd/4 threads (4 dimensions each) that each sum a strided share of
// the positions; the groups' partial sums are added in group order. Every sum has a fixed order, so results
// are reproducible. Decode (RoPE fused): the earlier positions' cache rows (up to stage_rows of them) are copied
// into shared memory, and the RoPE sines and cosines computed, before griddepcontrol.wait, while the q/k/v matvec
// drains.
// Dynamic shared memory: 2 * stage_rows key/value rows of head_dim * element size + 16 bytes, then
// 3 * head_dim + max(head_dim, 4 * blockDim) + max positions floats.

template <int KV> __device__ __forceinline__ float kv_round(float x)
{
    if (KV == DT_F32) return x;
    if (KV == DT_F16) return f16_to_f32(f32_to_f16(x));
    return bf16_to_f32(f32_to_bf16(x));
}

__device__ __forceinline__ void rope_smem(float* v, int hd, int pos, const float* inv_freq, int style)
{
    int half = hd / 2;
    for (int i = threadIdx.x; i < half; i += blockDim.x)
    {
        int a = style == 0 ? 2 * i : i, b = style == 0 ? 2 * i + 1 : i + half;
        float s, c;
        sincosf((float)pos * inv_freq[i], &s, &c);
        float x0 = v[a], x1 = v[b];
        v[a] = x0 * c - x1 * s;
        v[b] = x0 * s + x1 * c;
    }
}

// Decode: RoPE pair i of q and of the new key k with its angle's sine and cosine (the arithmetic of rope_smem) into qs
// and knew (rounded to the cache type), the rotated key appended at element krow of the key cache when `writer`.
template <int KV>
__device__ __forceinline__ void rope_pair(int i, int hd, int style, float rs, float rc, const float* q, const float* k, const void* kcache, long long krow,
                                          bool writer, float* qs, float* knew)
{
    const int a = style == 0 ? 2 * i : i, b = style == 0 ? 2 * i + 1 : i + hd / 2;
    const float q0 = q[a], q1 = q[b], k0 = k[a], k1 = k[b];
    qs[a] = q0 * rc - q1 * rs;
    qs[b] = q0 * rs + q1 * rc;
    const float ka = k0 * rc - k1 * rs, kb = k0 * rs + k1 * rc;
    if (writer)
    {
        store_elem<KV>((void*)kcache, krow + a, ka);
        store_elem<KV>((void*)kcache, krow + b, kb);
    }
    knew[a] = kv_round<KV>(ka);
    knew[b] = kv_round<KV>(kb);
}


// Decode: the key and value rows of `staged` positions from the one at kbase (kv head at element kbase of a cache row of kvdim
// elements of eb bytes) copied into shared memory at kst and vst, rows `stride` bytes apart, in 16-byte chunks
// (`chunks` a row) spread over the block's nt threads.
__device__ __forceinline__ void stage_kv(char* kst, char* vst, const void* kcache, const void* vcache, int staged, int chunks, int stride, int kvdim,
                                         long long kbase, int eb, int nt)
{
    for (int i = threadIdx.x; i < staged * chunks; i += nt)
    {
        const int j = i / chunks, c = i - j * chunks;
        const long long g = ((long long)j * kvdim + kbase) * eb + c * 16;
        cp_async16(kst + (long long)j * stride + c * 16, (const char*)kcache + g);
        cp_async16(vst + (long long)j * stride + c * 16, (const char*)vcache + g);
    }
}

template <int KV> __device__ void attention(const AttnParams& p)
{
    // The next kernel (a matvec) may start prefetching its weights now; with a programmatic (PDL) launch this
    // kernel itself may have started before the q/k/v matvec finished: wait for it before reading what it writes
    // (q, k, v). What is read before the wait was written before the step's first launch, the embedding gather,
    // which is an ordinary launch (it starts after all earlier work): the position, the RoPE frequencies and the
    // cache rows of earlier positions.
    TlMark tl;
    tl_start(tl);
    asm volatile("griddepcontrol.launch_dependents;");
    extern __shared__ __align__(16) float sm[];
    __shared__ float red[32];
    int h = blockIdx.x, t = blockIdx.y;
    const bool batched = p.seq_bytes != 0;
    const bool fused = p.fuse_rope != 0;
    int hd = p.head_dim;
    int kvdim = p.n_kv_heads * hd, qdim = p.n_heads * hd;
    const void* kcache = (const char*)p.kcache + p.seq_bytes * t;  // seq_bytes 0: the one sequence's cache
    const void* vcache = (const char*)p.vcache + p.seq_bytes * t;
    int kvh = h / (p.n_heads / p.n_kv_heads);
    const long long kbase = (long long)kvh * hd;
    const bool vec = (hd & 7) == 0 && hd / 4 <= (int)blockDim.x;  // rows of whole 8-element chunks (16-byte aligned for 16-bit caches)
    const int per = vec ? hd / 4 : hd;                // output: threads per group
    const int groups = per >= (int)blockDim.x ? 1 : (int)blockDim.x / per;
    const int grp = threadIdx.x / per;
    // Decode: the cache rows of the earlier positions were written by earlier steps and the position by a copy before
    // the step, so the key and value rows of the first min(pos - lo, stage_rows) positions lo .. are copied into shared memory
    // (rows of hd elements in the cache's type, 16 bytes apart) before the wait, while the q/k/v matvec drains, and
    // the RoPE sine and cosine computed. Only where the rows are read from changes: every sum keeps its order.
    const int eb = KV == DT_F32 ? 4 : 2, stride = hd * eb + 16;
    char* kst = reinterpret_cast<char*>(sm);
    char* vst = kst + (long long)p.stage_rows * stride;
    int pos = -1, staged = 0;
    float rs = 0.f, rc = 1.f;
    if (fused)
    {
        pos = batched ? p.pos0[t] : *p.pos0 + t;
        if ((int)threadIdx.x < hd / 2) sincosf((float)pos * p.inv_freq[threadIdx.x], &rs, &rc);  // this thread's RoPE pair
        if (vec)
        {
            const int lo = attn_first(p, pos);
            staged = min(pos - lo, p.stage_rows);  // rows lo .. lo + staged - 1, at kst row j - lo
            const int chunks = hd * eb / 16;
            stage_kv(kst, vst, kcache, vcache, staged, chunks, stride, kvdim, kbase + (long long)lo * kvdim, eb, blockDim.x);
        }
    }
    asm volatile("griddepcontrol.wait;" ::: "memory");
    tl_wait(tl);
    if (pos < 0) pos = batched ? p.pos0[t] : *p.pos0 + t;
    // Positions lo .. pos (lo > 0 only with a sliding window); their scores at att[j - lo].
    const int lo = attn_first(p, pos), n = pos + 1 - lo;
    const float* k_new = batched ? p.k_new + (long long)t * kvdim : p.k_new;
    const float* v_new = batched ? p.v_new + (long long)t * kvdim : p.v_new;
    float* qs = reinterpret_cast<float*>(kst + 2LL * p.stage_rows * stride);
    float* knew = qs + hd;            // fused RoPE: the new token's key and value
    float* vnew = knew + hd;
    float* part = vnew + hd;                                           // groups x hd partial outputs
    float* att = part + max(hd, (int)blockDim.x * 4);                  // n scores (position lo + i at att[i])
    const float* q = p.q + (long long)t * qdim + h * hd;
    if (fused && hd / 2 <= (int)blockDim.x)
    {
        // Decode: thread i < hd/2 rotates pair i of q and of the new key with its angle's sine and cosine from before
        // the wait (the arithmetic of rope_smem), appends the key and the value, and keeps the cache-rounded copies.
        const bool writer = h % (p.n_heads / p.n_kv_heads) == 0;
        const int i = threadIdx.x;
        if (i < hd / 2) rope_pair<KV>(i, hd, p.style, rs, rc, q, k_new + kvh * hd, kcache, (long long)pos * kvdim + kvh * hd, writer, qs, knew);
        for (int d = threadIdx.x; d < hd; d += blockDim.x)
        {
            const float v = kv_round<KV>(v_new[kvh * hd + d]);
            if (writer) store_elem<KV>((void*)vcache, (long long)pos * kvdim + kvh * hd + d, v);
            vnew[d] = v;
        }
        cp_async_wait_all();
        __syncthreads();
    }
    else  // prefill (q and k rotated by rope_kv) or heads wider than two per thread
    {
        for (int d = threadIdx.x; d < hd; d += blockDim.x)
        {
            qs[d] = q[d];
            if (fused)
            {
                knew[d] = k_new[kvh * hd + d];
                vnew[d] = kv_round<KV>(v_new[kvh * hd + d]);
            }
        }
        cp_async_wait_all();
        __syncthreads();
        if (fused)
        {
            rope_smem(qs, hd, pos, p.inv_freq, p.style);
            rope_smem(knew, hd, pos, p.inv_freq, p.style);
            __syncthreads();
            bool writer = h % (p.n_heads / p.n_kv_heads) == 0;
            for (int d = threadIdx.x; d < hd; d += blockDim.x)
            {
                float k = knew[d];
                if (writer)
                {
                    store_elem<KV>((void*)kcache, (long long)pos * kvdim + kvh * hd + d, k);
                    store_elem<KV>((void*)vcache, (long long)pos * kvdim + kvh * hd + d, vnew[d]);
                }
                knew[d] = kv_round<KV>(k);
            }
            __syncthreads();
        }
    }
    float mx = __int_as_float(0xff800000);
    // Scores: one thread per position, the whole key row's loads in flight at once, summed in d order.
    for (int i = threadIdx.x; i < n; i += blockDim.x)
    {
        const int j = lo + i;
        float s = 0.f;
        if (fused && j == pos)
            for (int d = 0; d < hd; ++d) s += qs[d] * knew[d];
        else if (vec)
        {
            const bool st = i < staged;  // the row was staged in shared memory before the wait
            const void* src = st ? (const void*)(kst + (long long)i * stride) : kcache;
            const long long row = st ? 0 : (long long)j * kvdim + kbase;
#pragma unroll 8
            for (int d = 0; d < hd; d += 8)
            {
                float kv[8];
                load8<KV>(src, row + d, kv);
#pragma unroll
                for (int u = 0; u < 8; ++u) s += qs[d + u] * kv[u];
            }
        }
        else
            for (int d = 0; d < hd; ++d) s += qs[d] * load_elem<KV>(kcache, (long long)j * kvdim + kbase + d);
        s *= p.scale;
        att[i] = s;
        mx = fmaxf(mx, s);
    }
    mx = block_max(mx, red);
    float sum = 0.f;
    for (int j = threadIdx.x; j < n; j += blockDim.x)
    {
        float e = expf(att[j] - mx);
        att[j] = e;
        sum += e;
    }
    sum = block_sum(sum, red);
    __syncthreads();
    float inv = 1.0f / sum;
    // Output: each thread owns 4 consecutive dimensions (1 when hd % 8 != 0); the hd/4-thread groups each sum a
    // strided share of the positions; the groups' partial sums are added in group order.
    if (grp < groups)
    {
        if (vec)
        {
            const int d = (threadIdx.x % per) * 4;
            float a0 = 0.f, a1 = 0.f, a2 = 0.f, a3 = 0.f;
#pragma unroll 4
            for (int i = grp; i < n; i += groups)
            {
                const int j = lo + i;
                float w = att[i] * inv, v4[4];
                if (fused && j == pos) { v4[0] = vnew[d]; v4[1] = vnew[d + 1]; v4[2] = vnew[d + 2]; v4[3] = vnew[d + 3]; }
                else if (i < staged) load4<KV>(vst + (long long)i * stride, d, v4);
                else load4<KV>(vcache, (long long)j * kvdim + kbase + d, v4);
                a0 += w * v4[0]; a1 += w * v4[1]; a2 += w * v4[2]; a3 += w * v4[3];
            }
            float* pp = part + grp * hd + d;
            pp[0] = a0; pp[1] = a1; pp[2] = a2; pp[3] = a3;
        }
        else
            for (int d = threadIdx.x % per; d < hd; d += (groups == 1 ? blockDim.x : per))
            {
                float acc = 0.f;
                for (int i = grp; i < n; i += groups)
                    acc += (att[i] * inv) * (fused && lo + i == pos ? vnew[d] : load_elem<KV>(vcache, (long long)(lo + i) * kvdim + kbase + d));
                part[grp * hd + d] = acc;
            }
    }
    __syncthreads();
    float* o = p.out + (long long)t * qdim + h * hd;
    for (int d = threadIdx.x; d < hd; d += blockDim.x)
    {
        float acc = part[d];
        for (int g = 1; g < groups; ++g) acc += part[g * hd + d];
        o[d] = acc;
    }
    tl_end(tl, 3000 + (fused ? 1 : 0));
}

// N consecutive cache elements (N a multiple of 8) from a 16-byte aligned element index, as floats.
template <int KV, int N> __device__ __forceinline__ void load_n(const void* p, long long i, float* v)
{
#pragma unroll
    for (int k = 0; k < N; k += 8) load8<KV>(p, i + k, v + k);
}

// Decode attention with RoPE fused (T = 1, or one token of each of T sequences), for head dims HD = 64 and 128: the
// general kernel's inputs and outputs (AttnParams; the same staging of the earlier positions' rows before the wait, the
// same RoPE, append and cache rounding), with a shorter path after the wait for 256 threads (H100 TinyLlama, session 19:
// the general kernel spent ~5 us a block after its wait, in loops over a runtime head dim, stack traffic and a 32-way
// serial sum). Scores: 8 lanes a position, each HD / 8 dimensions with its q slice in registers, summed by an xor
// butterfly over the 8 lanes. Softmax: block max, then exp and a block sum (each warp's butterfly, then the warps in
// order). Output: groups of HD / 4 threads, 4 dimensions a thread, group g summing positions g, g + NG, ...; the groups'
// sums added by a shuffle within a warp, then the warps' in order. Every sum has a fixed order: reproducible results.
// Decode split over positions (AttnParams.split_*): block z of nsplit writes its unnormalised output `acc` (thread d < HD
// holds dimension d), its max `mx` and exp sum `sum` to the workspace; the last of the nsplit blocks to finish (a counter,
// reset to 0 by that block) reads all of them and returns true with acc = the combined output of dimension d: the
// blocks' outputs and sums scaled by exp(max_z - max), added in block order, divided by the total (reproducible).
template <int HD>
__device__ __forceinline__ bool attention_split_combine(const AttnParams& p, int t, int h, int z, int nsplit, float& acc, float mx, float sum)
{
    __shared__ int last;
    float* ws = p.split_ws + (long long)(t * p.n_heads + h) * p.split_max * (HD + 2);
    if ((int)threadIdx.x < HD) ws[z * (HD + 2) + threadIdx.x] = acc;
    if (threadIdx.x == 0)
    {
        ws[z * (HD + 2) + HD] = mx;
        ws[z * (HD + 2) + HD + 1] = sum;
    }
    __threadfence();
    __syncthreads();
    int* count = p.split_count + t * p.n_heads + h;
    if (threadIdx.x == 0) last = atomicAdd(count, 1) == nsplit - 1;
    __syncthreads();
    if (!last) return false;
    __threadfence();
    if (threadIdx.x == 0) *count = 0;
    float m = __int_as_float(0xff800000);
    for (int k = 0; k < nsplit; k++) m = fmaxf(m, __ldcg(ws + k * (HD + 2) + HD));
    float total = 0.f, o = 0.f;
    for (int k = 0; k < nsplit; k++)
    {
        const float sc = expf(__ldcg(ws + k * (HD + 2) + HD) - m);
        total += __ldcg(ws + k * (HD + 2) + HD + 1) * sc;
        if ((int)threadIdx.x < HD) o += __ldcg(ws + k * (HD + 2) + threadIdx.x) * sc;
    }
    acc = o / total;
    return true;
}

#ifndef ATTN_TL_PHASE  // timeline diagnostics: attention_decode's end mark after phase 1 (RoPE, append), 2 (scores, max), 3 (softmax sum), 4 (partial outputs); 0: the end
#define ATTN_TL_PHASE 0
#endif
template <int KV, int HD> __device__ void attention_decode(const AttnParams& p)
{
    constexpr int NT = 256, NW = NT / 32, L = HD / 8;  // threads, warps, dimensions a lane in the scores
    static_assert(HD / 2 <= NT - HD, "the RoPE threads and the value-append threads overlap");
    constexpr int GT = HD / 4, NG = NT / GT;            // output: threads a group, groups
    TlMark tl;
    tl_start(tl);
    asm volatile("griddepcontrol.launch_dependents;");
    extern __shared__ __align__(16) float sm[];
    __shared__ float red[2][NW];
    const int h = blockIdx.x, t = blockIdx.y, lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const bool batched = p.seq_bytes != 0;
    const int kvdim = p.n_kv_heads * HD, qdim = p.n_heads * HD;
    const void* kcache = (const char*)p.kcache + p.seq_bytes * t;
    const void* vcache = (const char*)p.vcache + p.seq_bytes * t;
    const int kvh = h / (p.n_heads / p.n_kv_heads);
    const long long kbase = (long long)kvh * HD;
    constexpr int EB = KV == DT_F32 ? 4 : 2, STRIDE = HD * EB + 16, CHUNKS = HD * EB / 16;
    char* kst = reinterpret_cast<char*>(sm);
    char* vst = kst + (long long)p.stage_rows * STRIDE;
    const int pos = batched ? p.pos0[t] : *p.pos0 + t;
    // This block's positions [j0, jn): split z of split_len from the first attended position lo (0 but with a sliding
    // window), or all of them (split_len 0); blocks past pos have none.
    const bool split = p.split_len > 0;
    const int lo = attn_first(p, pos);
    const int j0 = lo + (split ? (int)blockIdx.z * p.split_len : 0);
    if (j0 > pos) return;
    const int jn = split ? min(pos + 1, j0 + p.split_len) : pos + 1, nsplit = split ? (pos - lo) / p.split_len + 1 : 1;
    const bool mine = jn == pos + 1;  // the block holding the new position (appends the new key and value)
    float rs = 0.f, rc = 1.f;
    if ((int)threadIdx.x < HD / 2) sincosf((float)pos * p.inv_freq[threadIdx.x], &rs, &rc);
    const int staged = min(min(pos, jn) - j0, p.stage_rows);  // rows j0 .. j0 + staged - 1, at kst row j - j0
    stage_kv(kst, vst, kcache, vcache, staged, CHUNKS, STRIDE, kvdim, kbase + (long long)j0 * kvdim, EB, NT);
    asm volatile("griddepcontrol.wait;" ::: "memory");
    tl_wait(tl);
    const float* k_new = batched ? p.k_new + (long long)t * kvdim : p.k_new;
    const float* v_new = batched ? p.v_new + (long long)t * kvdim : p.v_new;
    float* qs = reinterpret_cast<float*>(kst + 2LL * p.stage_rows * STRIDE);
    float* knew = qs + HD;
    float* vnew = knew + HD;
    float* part = vnew + HD;  // NW x HD partial outputs
    float* att = part + NW * HD;
    const float* q = p.q + (long long)t * qdim + h * HD;
    const bool writer = mine && h % (p.n_heads / p.n_kv_heads) == 0;
    if ((int)threadIdx.x < HD / 2)  // RoPE of q and the new key, the key appended
        rope_pair<KV>(threadIdx.x, HD, p.style, rs, rc, q, k_new + kvh * HD, kcache, (long long)pos * kvdim + kvh * HD, writer, qs, knew);
    else if ((int)threadIdx.x >= NT - HD)  // the new value appended
    {
        const int d = threadIdx.x - (NT - HD);
        const float v = kv_round<KV>(v_new[kvh * HD + d]);
        if (writer) store_elem<KV>((void*)vcache, (long long)pos * kvdim + kvh * HD + d, v);
        vnew[d] = v;
    }
    cp_async_wait_all();
    __syncthreads();
    if (ATTN_TL_PHASE == 1) tl_end(tl, 3001);
    // Scores: position j = pass * 32 + warp * 4 + lane / 8; lane c = lane % 8 holds dimensions c * L .. c * L + L - 1.
    const int c = lane & 7;
    float qv[L];
#pragma unroll
    for (int u = 0; u < L; u++) qv[u] = qs[c * L + u];
    float mx = __int_as_float(0xff800000);
    for (int jw = j0 + warp * 4; jw < jn; jw += NW * 4)
    {
        const int j = jw + (lane >> 3);
        float kv[L];
        if (j == pos)
        {
#pragma unroll
            for (int u = 0; u < L; u++) kv[u] = knew[c * L + u];
        }
        else if (j - j0 < staged) load_n<KV, L>(kst + (long long)(j - j0) * STRIDE, c * L, kv);
        else if (j < jn) load_n<KV, L>(kcache, (long long)j * kvdim + kbase + c * L, kv);
        else
        {
#pragma unroll
            for (int u = 0; u < L; u++) kv[u] = 0.f;
        }
        float s = 0.f;
#pragma unroll
        for (int u = 0; u < L; u++) s += qv[u] * kv[u];
        s += __shfl_xor_sync(0xffffffffu, s, 4);
        s += __shfl_xor_sync(0xffffffffu, s, 2);
        s += __shfl_xor_sync(0xffffffffu, s, 1);
        s *= p.scale;
        if (j < jn)
        {
            if (c == 0) att[j - j0] = s;
            mx = fmaxf(mx, s);
        }
    }
    mx = warp_reduce(mx, OpMax());
    if (lane == 0) red[0][warp] = mx;
    __syncthreads();
    mx = red[0][0];
#pragma unroll
    for (int w = 1; w < NW; w++) mx = fmaxf(mx, red[0][w]);
    if (ATTN_TL_PHASE == 2) tl_end(tl, 3001);
    float sum = 0.f;
    for (int j = threadIdx.x; j < jn - j0; j += NT)
    {
        const float e = expf(att[j] - mx);
        att[j] = e;
        sum += e;
    }
    sum = warp_sum(sum);
    if (lane == 0) red[1][warp] = sum;
    __syncthreads();
    sum = red[1][0];
#pragma unroll
    for (int w = 1; w < NW; w++) sum += red[1][w];
    const float inv = nsplit == 1 ? 1.0f / sum : 1.0f;  // split: the partial output unnormalised (the combine scales it)
    if (ATTN_TL_PHASE == 3) tl_end(tl, 3001);
    // Output: group g = threadIdx.x / GT sums positions g, g + NG, ... of dimensions d .. d + 3.
    const int g = threadIdx.x / GT, d = (threadIdx.x % GT) * 4;
    float a0 = 0.f, a1 = 0.f, a2 = 0.f, a3 = 0.f;
#pragma unroll 4
    for (int j = j0 + g; j < jn; j += NG)
    {
        const float w = att[j - j0] * inv;
        float v4[4];
        if (j == pos) { v4[0] = vnew[d]; v4[1] = vnew[d + 1]; v4[2] = vnew[d + 2]; v4[3] = vnew[d + 3]; }
        else if (j - j0 < staged) load4<KV>(vst + (long long)(j - j0) * STRIDE, d, v4);
        else load4<KV>(vcache, (long long)j * kvdim + kbase + d, v4);
        a0 += w * v4[0]; a1 += w * v4[1]; a2 += w * v4[2]; a3 += w * v4[3];
    }
    if (GT == 16)  // two groups a warp: lanes l and l ^ 16 add their sums (the same bits in both)
    {
        a0 += __shfl_xor_sync(0xffffffffu, a0, 16);
        a1 += __shfl_xor_sync(0xffffffffu, a1, 16);
        a2 += __shfl_xor_sync(0xffffffffu, a2, 16);
        a3 += __shfl_xor_sync(0xffffffffu, a3, 16);
    }
    if (lane < GT) *reinterpret_cast<float4*>(part + warp * HD + d) = make_float4(a0, a1, a2, a3);
    __syncthreads();
    if (ATTN_TL_PHASE == 4) tl_end(tl, 3001);
    float acc = 0.f;
    if ((int)threadIdx.x < HD)
    {
        acc = part[threadIdx.x];
#pragma unroll
        for (int w = 1; w < NW; w++) acc += part[w * HD + threadIdx.x];
    }
    if (nsplit == 1)
    {
        if ((int)threadIdx.x < HD) p.out[(long long)t * qdim + h * HD + threadIdx.x] = acc;
    }
    else if (attention_split_combine<HD>(p, t, h, (int)blockIdx.z, nsplit, acc, mx, sum) && (int)threadIdx.x < HD)
        p.out[(long long)t * qdim + h * HD + threadIdx.x] = acc;
    if (ATTN_TL_PHASE == 0) tl_end(tl, 3001);
}
#define ATTN_DECODE(NAME, KV, HD) \
    extern "C" __global__ void __launch_bounds__(256) attention_decode_##NAME##_h##HD(const AttnParams p) { attention_decode<KV, HD>(p); }
ATTN_DECODE(f32, DT_F32, 64)
ATTN_DECODE(f16, DT_F16, 64)
ATTN_DECODE(bf16, DT_BF16, 64)
ATTN_DECODE(f32, DT_F32, 128)
ATTN_DECODE(f16, DT_F16, 128)
ATTN_DECODE(bf16, DT_BF16, 128)

extern "C" __global__ void __launch_bounds__(512) attention_f32(const AttnParams p) { attention<DT_F32>(p); }
extern "C" __global__ void __launch_bounds__(512) attention_f16(const AttnParams p) { attention<DT_F16>(p); }
extern "C" __global__ void __launch_bounds__(512) attention_bf16(const AttnParams p) { attention<DT_BF16>(p); }

// Prefill: rotates q and k_new of T tokens at positions pos0 .. pos0+T-1 in place and appends k_new, v_new to the
// cache (the AttnParams fields the attention launch that follows uses too). style 0: adjacent pairs (2i, 2i+1); style
// 1: split halves (i, i + hd/2).
// Grid (T, n_heads + n_kv_heads): one block per token and head; kv-head blocks also append v. Inputs still in [hi | lo]
// halves (p.halves) are summed as they are read (hi + lo, as add_halves did), and q and k_new written back summed.
template <int KV> __device__ void rope_kv(const AttnParams& p)
{
    int t = blockIdx.x, head = blockIdx.y;
    int pos = *p.pos0 + t;
    int half = p.head_dim / 2, kvdim = p.n_kv_heads * p.head_dim, qdim = p.n_heads * p.head_dim;
    bool isq = head < p.n_heads;
    int kvh = head - p.n_heads;
    float* base = isq ? p.q + (long long)t * qdim + head * p.head_dim : p.k_new + (long long)t * kvdim + kvh * p.head_dim;
    const bool halves = (p.halves & (isq ? 1 : 2)) != 0;
    const long long lo = (long long)p.T * (isq ? qdim : kvdim);  // the lo half's rows follow the T hi rows
    for (int i = threadIdx.x; i < half; i += blockDim.x)
    {
        int a = p.style == 0 ? 2 * i : i, b = p.style == 0 ? 2 * i + 1 : i + half;
        float s, c;
        sincosf((float)pos * p.inv_freq[i], &s, &c);
        const float x0 = gemm_out(base, a, lo, halves), x1 = gemm_out(base, b, lo, halves);
        float r0 = x0 * c - x1 * s, r1 = x0 * s + x1 * c;
        base[a] = r0;
        base[b] = r1;
        if (!isq)
        {
            long long off = (long long)pos * kvdim + kvh * p.head_dim;
            store_elem<KV>(p.kcache, off + a, r0);
            store_elem<KV>(p.kcache, off + b, r1);
        }
    }
    if (!isq)
        for (int i = threadIdx.x; i < p.head_dim; i += blockDim.x)
            store_elem<KV>(p.vcache, (long long)pos * kvdim + kvh * p.head_dim + i,
                           gemm_out(p.v_new, (long long)t * kvdim + kvh * p.head_dim + i, (long long)p.T * kvdim, (p.halves & 4) != 0));
}
extern "C" __global__ void rope_kv_f32(const AttnParams p) { rope_kv<DT_F32>(p); }
extern "C" __global__ void rope_kv_f16(const AttnParams p) { rope_kv<DT_F16>(p); }
extern "C" __global__ void rope_kv_bf16(const AttnParams p) { rope_kv<DT_BF16>(p); }
