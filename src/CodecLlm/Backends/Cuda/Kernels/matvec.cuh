// Batch-1 matrix-vector product y = W x for row-major W [rows, cols], used for F32 and F16 weights (BF16 and
// `fixed` weights run fused_matvec.cu, one template for both encodings).
//
// Work split: a block owns a group of 4 rows; the columns are cut in
// chunks of 256, lane l taking columns 8l .. 8l+7 of each of the 4 rows, and the block's warps share the
// chunks. Each lane accumulates its 8 products per row in column order, chunk after chunk; a butterfly
// shuffle sums the 32 lanes; the warps' sums are added in warp order.
// A "decoder" policy supplies the 4x8 weights of a chunk (raw F32/F16/BF16 loads).
//
// Decoder policy:
//   struct Dec {
//     static const int UNROLL;                       // chunks fetched before use
//     struct Frag { ... };                           // registers holding one chunk's encoded weights
//     __device__ Dec(const MvSeg& s, int cols, int row0);
//     __device__ void fetch(int chunk, int lane, Frag& f) const;    // global loads only
//     __device__ void decode(const Frag& f, float w[4][8]) const;   // register arithmetic (warp-uniform call)
//   };
#pragma once
#include "common.cuh"

#define MV_ROWS 4
#define MV_CHUNK 256
#define MV_WARPS 4

struct MvSeg
{
    const void* w;      // raw elements, or the codec's tile stream
    const void* aux0;   // codec metadata (e.g. exponent table)
    const void* aux1;
    const void* aux2;
    const float* bias;  // [rows] or null
    float* out;         // [rows]
    int rows;
    int group_start;    // first 4-row group of this segment in the launch's numbering
};

struct MatvecParams
{
    MvSeg seg[3];
    const float* x;       // [cols]
    const float* x2;      // SwiGLU: the up projection; x is the gate
    const float* norm_w;  // RMSNorm weights applied to x first, or null
    const float* resid;   // out = resid + W x when set (may alias out)
    int nseg;
    int cols;
    int total_groups;
    float eps;
    int act;              // input transform: 0 none, 1 RMSNorm(x) * norm_w, 2 silu(x) * x2
};

#ifndef MV_PREFETCH
#define MV_PREFETCH 1
#endif

__device__ __forceinline__ MvSeg mv_seg(const MatvecParams& p, int g)
{
    int s = 0;
    if (p.nseg > 1 && g >= p.seg[1].group_start) s = 1;
    if (p.nseg > 2 && g >= p.seg[2].group_start) s = 2;
    return s == 0 ? p.seg[0] : s == 1 ? p.seg[1] : p.seg[2];
}

template <class Dec>
__device__ __forceinline__ void mv_fma(const Dec& d, const typename Dec::Frag& f, const float* xs, int chunk, int lane, float acc[4])
{
    float w[4][8];
    d.decode(f, w);
    const float4* xp = (const float4*)(xs + chunk * MV_CHUNK + lane * 8);
    float4 xa = xp[0], xb = xp[1];
    float xv[8] = {xa.x, xa.y, xa.z, xa.w, xb.x, xb.y, xb.z, xb.w};
#pragma unroll
    for (int r = 0; r < 4; ++r)
#pragma unroll
        for (int j = 0; j < 8; ++j) acc[r] = fmaf(w[r][j], xv[j], acc[r]);
}

// Stages the (transformed) input vector in shared memory: x, RMSNorm(x) * norm_w, or silu(x) * x2, zero
// padded to a multiple of 256. Loads are 16 bytes wide and unrolled so that they are all in flight at
// once (a loop of dependent scalar loads costs one L2 round trip per element).
__device__ __forceinline__ void mv_stage(const MatvecParams& p, float* xs, float* red, int padded)
{
    const bool vec = (p.cols & 3) == 0 && (((u64)p.x | (u64)p.x2 | (u64)p.norm_w) & 15) == 0;
    float ss = 0.f;
    if (vec)
    {
        const float4* x4 = (const float4*)p.x;
        const float4* y4 = (const float4*)p.x2;
        float4* s4 = (float4*)xs;
#pragma unroll 4
        for (int i = threadIdx.x; i < p.cols / 4; i += blockDim.x)
        {
            float4 v = x4[i];
            if (p.act == 2)
            {
                float4 u = y4[i];
                v.x = (v.x / (1.0f + expf(-v.x))) * u.x;
                v.y = (v.y / (1.0f + expf(-v.y))) * u.y;
                v.z = (v.z / (1.0f + expf(-v.z))) * u.z;
                v.w = (v.w / (1.0f + expf(-v.w))) * u.w;
            }
            ss += v.x * v.x + v.y * v.y + v.z * v.z + v.w * v.w;
            s4[i] = v;
        }
    }
    else
    {
#pragma unroll 4
        for (int i = threadIdx.x; i < p.cols; i += blockDim.x)
        {
            float v = p.x[i];
            if (p.act == 2) v = (v / (1.0f + expf(-v))) * p.x2[i];
            ss += v * v;
            xs[i] = v;
        }
    }
    for (int i = p.cols + threadIdx.x; i < padded; i += blockDim.x) xs[i] = 0.f;
    if (p.act == 1)
    {
        ss = block_sum(ss, red);
        float scale = 1.0f / sqrtf(ss / (float)p.cols + p.eps);
        // Each thread rescales the elements it staged itself: no barrier needed before this pass.
        if (vec)
        {
            const float4* w4 = (const float4*)p.norm_w;
            float4* s4 = (float4*)xs;
#pragma unroll 4
            for (int i = threadIdx.x; i < p.cols / 4; i += blockDim.x)
            {
                float4 w = w4[i], v = s4[i];
                s4[i] = make_float4(w.x * (v.x * scale), w.y * (v.y * scale), w.z * (v.z * scale), w.w * (v.w * scale));
            }
        }
        else
        {
#pragma unroll 4
            for (int i = threadIdx.x; i < p.cols; i += blockDim.x) xs[i] = p.norm_w[i] * (xs[i] * scale);
        }
    }
    __syncthreads();
}

// Dynamic shared memory: cols rounded up to 256, floats. A block owns one 4-row group at a time and
// its warps split the columns: warp w takes chunks w, w + W, w + 2W, ... (W warps), accumulating in
// chunk order; the warps' partial sums are then added in warp order. The weights of a warp's first
// UNROLL chunks are fetched before the input is staged / the previous group is reduced, so the memory
// system stays busy. Blocks loop over groups (grid-stride).
template <class Dec>
__device__ void matvec(const MatvecParams& p)
{
    extern __shared__ float xs[];
    __shared__ float red[32];
    __shared__ float part[32][4];
    const int U = Dec::UNROLL;
    int padded = (p.cols + MV_CHUNK - 1) / MV_CHUNK * MV_CHUNK;
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
    int nchunks = padded / MV_CHUNK;
    int mine = warp < nchunks ? (nchunks - warp + nw - 1) / nw : 0;   // chunks of this warp
    int g = blockIdx.x;

    typename Dec::Frag f[U];
    if (MV_PREFETCH && g < p.total_groups)
    {
        MvSeg sg = mv_seg(p, g);
        Dec d(sg, p.cols, (g - sg.group_start) * MV_ROWS);
#pragma unroll
        for (int u = 0; u < U; ++u)
            if (u < mine) d.fetch(warp + u * nw, lane, f[u]);
    }
    // Programmatic dependent launch: the weights never depend on the previous kernel, the input does.
    // (Both are no-ops for an ordinary launch.)
    asm volatile("griddepcontrol.launch_dependents;");
    asm volatile("griddepcontrol.wait;" ::: "memory");

    mv_stage(p, xs, red, padded);
    __syncthreads();

    for (; g < p.total_groups; g += gridDim.x)
    {
        MvSeg sg = mv_seg(p, g);
        int row0 = (g - sg.group_start) * MV_ROWS;
        Dec d(sg, p.cols, row0);
        if (!MV_PREFETCH)
        {
#pragma unroll
            for (int u = 0; u < U; ++u)
                if (u < mine) d.fetch(warp + u * nw, lane, f[u]);
        }
        float acc[4] = {0.f, 0.f, 0.f, 0.f};
        for (int k = 0; k < mine;)
        {
#pragma unroll
            for (int u = 0; u < U; ++u)
                if (k + u < mine) mv_fma(d, f[u], xs, warp + (k + u) * nw, lane, acc);
            k += U;
            if (k >= mine) break;
#pragma unroll
            for (int u = 0; u < U; ++u)
                if (k + u < mine) d.fetch(warp + (k + u) * nw, lane, f[u]);
        }
        int gn = g + gridDim.x;
        if (MV_PREFETCH && gn < p.total_groups)
        {
            MvSeg sn = mv_seg(p, gn);
            Dec dn(sn, p.cols, (gn - sn.group_start) * MV_ROWS);
#pragma unroll
            for (int u = 0; u < U; ++u)
                if (u < mine) dn.fetch(warp + u * nw, lane, f[u]);
        }
#pragma unroll
        for (int r = 0; r < 4; ++r) acc[r] = warp_sum(acc[r]);
        if (lane < 4) part[warp][lane] = lane == 0 ? acc[0] : lane == 1 ? acc[1] : lane == 2 ? acc[2] : acc[3];
        __syncthreads();
        int row = row0 + lane;
        if (warp == 0 && lane < 4 && row < sg.rows)
        {
            float v = part[0][lane];
            for (int w = 1; w < nw; ++w) v += part[w][lane];
            if (sg.bias) v += sg.bias[row];
            if (p.resid) v += p.resid[row];
            sg.out[row] = v;
        }
        __syncthreads();
    }
}

// Raw row-major weights. VEC: rows are 16-byte aligned and cols % 8 == 0, so a lane's 8 columns are
// one or two 16-byte loads; otherwise element loads with bounds checks. Out-of-range weights are 0.
template <int DT, bool VEC>
struct RawDec
{
    static const int BYTES = DT == DT_F32 ? 4 : 2;
    static const int WORDS = 8 * BYTES / 4;   // 32-bit words per row per lane
#ifndef MV_UNROLL16
#define MV_UNROLL16 2
#endif
    static const int UNROLL = DT == DT_F32 ? 2 : MV_UNROLL16;
    struct Frag { u32 v[4][WORDS]; };

    const u8* w;
    int cols, rows, row0;

    __device__ RawDec(const MvSeg& s, int cols_, int row0_) : w((const u8*)s.w), cols(cols_), rows(s.rows), row0(row0_) {}

    __device__ __forceinline__ void fetch(int chunk, int lane, Frag& f) const
    {
        int col = chunk * MV_CHUNK + lane * 8;
#pragma unroll
        for (int r = 0; r < 4; ++r)
        {
            int row = row0 + r;
            if (VEC)
            {
                if (row < rows && col < cols)
                {
                    const uint4* src = (const uint4*)(w + ((long long)row * cols + col) * BYTES);
#pragma unroll
                    for (int q = 0; q < WORDS / 4; ++q)
                    {
                        uint4 t = __ldg(src + q);
                        f.v[r][4 * q] = t.x; f.v[r][4 * q + 1] = t.y; f.v[r][4 * q + 2] = t.z; f.v[r][4 * q + 3] = t.w;
                    }
                }
                else
                {
#pragma unroll
                    for (int q = 0; q < WORDS; ++q) f.v[r][q] = 0u;
                }
            }
            else
            {
#pragma unroll
                for (int j = 0; j < 8; ++j)
                {
                    u32 e = 0u;
                    if (row < rows && col + j < cols)
                    {
                        long long i = (long long)row * cols + col + j;
                        e = BYTES == 4 ? ((const u32*)w)[i] : (u32)((const u16*)w)[i];
                    }
                    if (BYTES == 4) f.v[r][j] = e;
                    else if (j & 1) f.v[r][j >> 1] |= e << 16;
                    else f.v[r][j >> 1] = e;
                }
            }
        }
    }

    __device__ __forceinline__ void decode(const Frag& f, float w8[4][8]) const
    {
#pragma unroll
        for (int r = 0; r < 4; ++r)
#pragma unroll
            for (int j = 0; j < 8; ++j)
            {
                if (DT == DT_F32) w8[r][j] = __uint_as_float(f.v[r][j]);
                else
                {
                    u16 h = (u16)((j & 1) ? f.v[r][j >> 1] >> 16 : f.v[r][j >> 1] & 0xffffu);
                    w8[r][j] = DT == DT_BF16 ? bf16_to_f32(h) : f16_to_f32(h);
                }
            }
    }
};
