// Token choice on the GPU: argmax (lowest index on ties) and temperature / top-k / top-p sampling.
#include "common.cuh"

struct ArgmaxParams { const float* logits; int* out; int n; };

__device__ __forceinline__ void better(float& v, int& i, float v2, int i2)
{
    if (v2 > v || (v2 == v && i2 < i) || (v != v && v2 == v2)) { v = v2; i = i2; }
}

// One block of 1024 threads.
extern "C" __global__ void argmax(const ArgmaxParams p)
{
    __shared__ float sv[32];
    __shared__ int si[32];
    asm volatile("griddepcontrol.wait;" ::: "memory");  // a programmatic launch: the head matvec writes the logits
    float v = __int_as_float(0xff800000);
    int idx = 0x7fffffff;
    // float4 loads (all of a thread's in flight at once) when aligned; the rest one by one. better() picks the
    // same element whatever the visiting order.
    int n4 = ((unsigned long long)p.logits & 15) == 0 ? p.n / 4 : 0;
    const float4* l4 = (const float4*)p.logits;
#pragma unroll 8
    for (int i = threadIdx.x; i < n4; i += blockDim.x)
    {
        float4 a = l4[i];
        better(v, idx, a.x, 4 * i);
        better(v, idx, a.y, 4 * i + 1);
        better(v, idx, a.z, 4 * i + 2);
        better(v, idx, a.w, 4 * i + 3);
    }
    for (int i = 4 * n4 + threadIdx.x; i < p.n; i += blockDim.x) better(v, idx, p.logits[i], i);
    for (int o = 16; o > 0; o >>= 1)
    {
        float v2 = __shfl_xor_sync(0xffffffffu, v, o);
        int i2 = __shfl_xor_sync(0xffffffffu, idx, o);
        better(v, idx, v2, i2);
    }
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) { sv[warp] = v; si[warp] = idx; }
    __syncthreads();
    if (warp == 0)
    {
        int nw = blockDim.x >> 5;
        v = lane < nw ? sv[lane] : __int_as_float(0xff800000);
        idx = lane < nw ? si[lane] : 0x7fffffff;
        for (int o = 16; o > 0; o >>= 1)
        {
            float v2 = __shfl_xor_sync(0xffffffffu, v, o);
            int i2 = __shfl_xor_sync(0xffffffffu, idx, o);
            better(v, idx, v2, i2);
        }
        if (lane == 0) *p.out = idx == 0x7fffffff ? 0 : idx;
    }
}

// ---------------------------------------------------------------------------------------------------------
// Temperature / top-k / top-p sampling: the CPU Sampler's algorithm (Engine/Sampler.cs) step for step, so the
// same logits and the same coin (a float in [0, 1) from SamplerRandom, drawn on the host) pick the same token
// up to float rounding (exp, and the order of the softmax sum). One block of 1024 threads; no float atomics.
//   probs = softmax(logits / temperature)                      (max, subtract, exp, sum, divide, as the CPU)
//   no truncation: the first i with coin < cdf(i) in id order  (else the last non-zero probability)
//   truncation:    candidates p >= (1 - top_p) / (n - 1); the top min(top_k, count) of them by (p desc, id asc)
//                  are found by radix select on the float bits, gathered in id order and bitonic-sorted in shared
//                  memory; then one thread walks them exactly as the CPU does (top-p prefix, then the draw).
// When the walk needs more than SAMPLE_CAP sorted tokens (a nucleus or top-k larger than that) the kernel writes
// -1 and the host samples those logits on the CPU.
#define SAMPLE_CAP 4096

struct SampleParams { const float* logits; float* probs; int* out; int n; float temperature; float top_p; int top_k; float coin; };

// Exclusive prefix of v over the block in thread order; *total gets the block total. Deterministic.
template <typename T> __device__ T block_exclusive_scan(T v, T* s32, T* total)
{
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
    T x = v;
    for (int o = 1; o < 32; o <<= 1)
    {
        T y = __shfl_up_sync(0xffffffffu, x, o);
        if (lane >= o) x += y;
    }
    __syncthreads();
    if (lane == 31) s32[warp] = x;
    __syncthreads();
    if (warp == 0)
    {
        T w = lane < nw ? s32[lane] : (T)0;
        for (int o = 1; o < 32; o <<= 1)
        {
            T y = __shfl_up_sync(0xffffffffu, w, o);
            if (lane >= o) w += y;
        }
        s32[lane] = w;
    }
    __syncthreads();
    T before = (warp > 0 ? s32[warp - 1] : (T)0) + x - v;
    *total = s32[nw - 1];
    __syncthreads();
    return before;
}

// Sort key as the CPU's: probability descending, then id ascending; the probability is recoverable from the key.
__device__ __forceinline__ u64 sample_key(float p, int i) { return ((u64)(0xffffffffu - __float_as_uint(p)) << 32) | (u32)i; }
__device__ __forceinline__ float key_prob(u64 k) { return __uint_as_float(0xffffffffu - (u32)(k >> 32)); }

// hist[bin] += 1 for every lane with bin >= 0 (all 32 lanes of the warp call it). Most probabilities share a few
// exponent bins, so lanes with the same bin add once, together (integer counts: the result is order-free).
__device__ __forceinline__ void histogram_add(u32* hist, int bin)
{
#if __CUDA_ARCH__ >= 700
    u32 peers = __match_any_sync(0xffffffffu, bin);
    if (bin >= 0 && (threadIdx.x & 31) == __ffs(peers) - 1) atomicAdd(&hist[bin], (u32)__popc(peers));
#else
    if (bin >= 0) atomicAdd(&hist[bin], 1u);
#endif
}

extern "C" __global__ void __launch_bounds__(1024) sample(const SampleParams p)
{
    __shared__ u64 keys[SAMPLE_CAP];
    __shared__ u32 hist[256];
    __shared__ float fs[32];
    __shared__ int is[32];
    __shared__ int pick[2];
    const int n = p.n, t = threadIdx.x, nt = blockDim.x;
    float* probs = p.probs;

    // Softmax of logits / temperature.
    float m = __int_as_float(0xff800000);
    for (int i = t; i < n; i += nt) m = fmaxf(m, __fdiv_rn(p.logits[i], p.temperature));
    m = block_max(m, fs);
    float s = 0.f;
    for (int i = t; i < n; i += nt)
    {
        float e = expf(__fdiv_rn(p.logits[i], p.temperature) - m);
        probs[i] = e;
        s += e;
    }
    s = block_sum(s, fs);
    for (int i = t; i < n; i += nt) probs[i] = __fdiv_rn(probs[i], s);
    __syncthreads();

    // Contiguous id ranges per thread, for the passes that depend on id order.
    const int chunk = (n + nt - 1) / nt, b = min(n, t * chunk), e = min(n, b + chunk);
    const bool truncate = (p.top_k > 0 && p.top_k < n) || p.top_p < 1.f;
    if (!truncate)
    {
        float local = 0.f, total;
        for (int i = b; i < e; i++) local += probs[i];
        float cdf = block_exclusive_scan(local, fs, &total);
        int hit = 0x7fffffff;
        for (int i = b; i < e; i++)
        {
            cdf += probs[i];
            if (p.coin < cdf) { hit = i; break; }
        }
        hit = block_min_int(hit, is);
        if (hit == 0x7fffffff)
        {
            // The coin fell past the rounded total: the last token with a non-zero probability, as the CPU.
            int last = 0;
            for (int i = t; i < n; i += nt)
                if (probs[i] > 0.f) last = max(last, i);
            hit = -block_min_int(-last, is);
        }
        if (t == 0) *p.out = hit;
        return;
    }
    if (n == 1)
    {
        if (t == 0) *p.out = 0;
        return;
    }

    const float cutoff = p.top_p < 1.f ? __fdiv_rn(1.f - p.top_p, (float)(n - 1)) : 0.f;
    int c = 0, count;
    for (int i = b; i < e; i++) c += probs[i] >= cutoff;
    block_exclusive_scan(c, is, &count);
    if (count == 0)
    {
        float v = __int_as_float(0xff800000);
        int idx = 0x7fffffff;
        for (int i = t; i < n; i += nt) better(v, idx, probs[i], i);
        for (int o = 16; o > 0; o >>= 1) better(v, idx, __shfl_xor_sync(0xffffffffu, v, o), __shfl_xor_sync(0xffffffffu, idx, o));
        if ((t & 31) == 0) { fs[t >> 5] = v; is[t >> 5] = idx; }
        __syncthreads();
        if (t == 0)
        {
            for (int w = 1; w < (nt >> 5); w++) better(v, idx, fs[w], is[w]);
            *p.out = idx == 0x7fffffff ? 0 : idx;
        }
        return;
    }
    const int kTop = p.top_k > 0 ? min(p.top_k, count) : count;
    const int M = min(kTop, SAMPLE_CAP);

    // Radix select (8 bits at a time, most significant first): uM = the M-th largest probability's bits among the
    // candidates; `need` = how many of the candidates equal to it are taken (the lowest ids).
    u32 prefix = 0, mask = 0;
    int need = M;
    for (int shift = 24; shift >= 0; shift -= 8)
    {
        for (int j = t; j < 256; j += nt) hist[j] = 0;
        __syncthreads();
        for (int base = 0; base < n; base += nt) // whole warps stay together: the bins are counted warp-aggregated
        {
            int i = base + t;
            float q = i < n ? probs[i] : -1.f;
            u32 u = __float_as_uint(q);
            histogram_add(hist, q >= cutoff && (u & mask) == prefix ? (int)((u >> shift) & 255u) : -1);
        }
        __syncthreads();
        if (t == 0)
        {
            int acc = 0, d = 255;
            for (; d > 0; d--)
            {
                if (acc + (int)hist[d] >= need) break;
                acc += hist[d];
            }
            pick[0] = d;
            pick[1] = need - acc;
        }
        __syncthreads();
        prefix |= (u32)pick[0] << shift;
        mask |= 255u << shift;
        need = pick[1];
        __syncthreads();
    }
    const u32 uM = prefix;

    // Gather the M keys in id order (ties at uM: the lowest ids first); the rest of the candidates' mass aside.
    int gt = 0, eq = 0;
    for (int i = b; i < e; i++)
    {
        float q = probs[i];
        if (q < cutoff) continue;
        u32 u = __float_as_uint(q);
        gt += u > uM;
        eq += u == uM;
    }
    int gtAll, eqAll;
    int w = block_exclusive_scan(gt, is, &gtAll);
    int r = block_exclusive_scan(eq, is, &eqAll);
    float rest = 0.f;
    for (int i = b; i < e; i++)
    {
        float q = probs[i];
        if (q < cutoff) continue;
        u32 u = __float_as_uint(q);
        if (u > uM) keys[w++] = sample_key(q, i);
        else if (u == uM)
        {
            if (r < need) keys[gtAll + r] = sample_key(q, i);
            else rest += q;
            r++;
        }
        else rest += q;
    }
    rest = block_sum(rest, fs);

    // Bitonic sort of the M keys (padded to a power of two with keys that sort last).
    int P = 1;
    while (P < M) P <<= 1;
    for (int j = M + t; j < P; j += nt) keys[j] = ~0ull;
    __syncthreads();
    for (int k = 2; k <= P; k <<= 1)
        for (int j = k >> 1; j > 0; j >>= 1)
        {
            for (int i = t; i < P; i += nt)
            {
                int l = i ^ j;
                if (l > i)
                {
                    u64 x = keys[i], y = keys[l];
                    if ((x > y) == ((i & k) == 0)) { keys[i] = y; keys[l] = x; }
                }
            }
            __syncthreads();
        }

    // The CPU's walk over the sorted tokens.
    if (t != 0) return;
    if (kTop > M && kTop < count) { *p.out = -1; return; } // top-k beyond the sort capacity
    float mass = 0.f;
    for (int i = 0; i < M; i++) mass += key_prob(keys[i]);
    if (kTop > M) mass += rest;
    int kept = kTop;
    if (p.top_p < 1.f)
    {
        float cumulative = 0.f, goal = p.top_p * mass;
        for (int i = 0; i < M; i++)
        {
            cumulative += key_prob(keys[i]);
            if (cumulative >= goal)
            {
                kept = i + 1;
                mass = cumulative;
                break;
            }
        }
    }
    if (kept > M) { *p.out = -1; return; } // the nucleus reaches past the sort capacity
    float target = p.coin * mass, cdf = 0.f;
    for (int i = 0; i < kept; i++)
    {
        cdf += key_prob(keys[i]);
        if (target < cdf) { *p.out = (int)(u32)keys[i]; return; }
    }
    *p.out = (int)(u32)keys[kept - 1];
}
