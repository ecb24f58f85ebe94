// Fused decompress + matvec for decode steps (issue #5). Compiled by NVRTC without system headers; includes
// fixed_tile.cuh (the `fixed` tile decoder) and common.cuh (-arch=sm_90 or newer for the griddepcontrol instructions;
// they are no-ops without a PDL launch). The decoders to scratch and the embedding gather: fixed_decode.cu.
//
// y[b][row] = sum_col W[row][col] * x[b][col]; W [rows, cols] BF16, raw or in the `fixed` tile layout
// (docs/FORMAT.md, "fixed"); x [B][cols] and y [B][rows] FP32; B = 1, 2, 4, 8.
//
// Accumulation contract, identical for both decoders, hence bit-identical outputs (raw over the
// decoded tensor == fixed over the encoded one):
//   block = 8-row group g (grid = ceil(rows/8)); warp w of W owns column tiles [w*T/W, (w+1)*T/W) of
//   128 columns (T = ceil(cols/128), host guarantees T <= 31*W); lane l owns columns 4l..4l+3 of each
//   tile; one FP32 accumulator per (batch row, matrix row) and lane, FMAs in tile order then column
//   order; then an xor butterfly 16,8,4,2,1 across lanes (its pairs summed with the work split across the lanes:
//   FmSplitSum); then warps 0..W-1 summed in order.
// Dev harness, timings and the analysis: dev/cuda/ and docs/PERFORMANCE.md ("Fused matvec").

#include "fixed_tile.cuh"

struct FmRaw {  // raw row-major BF16
    const u16* w;
    int rows, cols;
};

__device__ __forceinline__ uint2 fm_ld8(const void* p) {
    uint2 r;
    asm("ld.global.nc.L1::no_allocate.v2.u32 {%0,%1}, [%2];" : "=r"(r.x), "=r"(r.y) : "l"(p));
    return r;
}

// ------------------------------------------------------------------ raw decoder
struct FmRawFrag { u32 v[16]; };  // pair p = row p>>1, columns 2(p&1), 2(p&1)+1 (lo, hi)

__device__ __forceinline__ void fm_load(const FmRaw& d, int g, int t, int lane, FmRawFrag& f) {
    const int col = t * 128 + lane * 4;
    const bool edge = (g * 8 + 8 > d.rows) || (t * 128 + 128 > d.cols) || (d.cols & 3) || ((u64)d.w & 7);
    if (!edge) {
        const u16* p = d.w + (long long)(g * 8) * d.cols + col;
#pragma unroll
        for (int r = 0; r < 8; r++) {
            uint2 q = fm_ld8(p + (long long)r * d.cols);
            f.v[2 * r] = q.x;
            f.v[2 * r + 1] = q.y;
        }
    } else {
#pragma unroll
        for (int r = 0; r < 8; r++)
#pragma unroll
            for (int c = 0; c < 4; c++) {
                const int row = g * 8 + r, cc = col + c;
                const u32 b = (row < d.rows && cc < d.cols) ? d.w[(long long)row * d.cols + cc] : 0u;
                const int p = 2 * r + (c >> 1);
                if (c & 1) f.v[p] |= b << 16; else f.v[p] = b;
            }
    }
}

// ------------------------------------------------------------------ shared FMA step
__device__ __forceinline__ float fm_lo(u32 v) { return __uint_as_float(v << 16); }
__device__ __forceinline__ float fm_hi(u32 v) { return __uint_as_float(v & 0xffff0000u); }

// pairs 4q..4q+3 = rows 2q and 2q+1, columns 0..3 each
template <int B>
__device__ __forceinline__ void fm_fma_quad(uint4 u, int q, const float4 (&xv)[B], float (&acc)[B][8]) {
    const float w0 = fm_lo(u.x), w1 = fm_hi(u.x), w2 = fm_lo(u.y), w3 = fm_hi(u.y);
    const float w4 = fm_lo(u.z), w5 = fm_hi(u.z), w6 = fm_lo(u.w), w7 = fm_hi(u.w);
#pragma unroll
    for (int b = 0; b < B; b++) {
        float a = acc[b][2 * q];
        a = __fmaf_rn(w0, xv[b].x, a); a = __fmaf_rn(w1, xv[b].y, a);
        a = __fmaf_rn(w2, xv[b].z, a); a = __fmaf_rn(w3, xv[b].w, a);
        acc[b][2 * q] = a;
        float c = acc[b][2 * q + 1];
        c = __fmaf_rn(w4, xv[b].x, c); c = __fmaf_rn(w5, xv[b].y, c);
        c = __fmaf_rn(w6, xv[b].z, c); c = __fmaf_rn(w7, xv[b].w, c);
        acc[b][2 * q + 1] = c;
    }
}

template <int B>
__device__ __forceinline__ void fm_tile(const FmRaw&, const FmRawFrag& f, u32, u32*, int, const float4 (&xv)[B], float (&acc)[B][8]) {
#pragma unroll
    for (int q = 0; q < 4; q++) fm_fma_quad<B>(make_uint4(f.v[4 * q], f.v[4 * q + 1], f.v[4 * q + 2], f.v[4 * q + 3]), q, xv, acc);
}

// The FMAs of a tile decoded into staging words sw (fm_tile's second half; the predecoded tiles' on their own).
template <int B>
__device__ __forceinline__ void fm_fma_staged(const u32* sw, int lane, const float4 (&xv)[B], float (&acc)[B][8]) {
    const u32* sl = sw + 4 * lane;
#pragma unroll
    for (int q = 0; q < 4; q++) fm_fma_quad<B>(*reinterpret_cast<const uint4*>(sl + q * 128), q, xv, acc);
}

// Decodes (fm_decode_fixed: the tile's entries as fetched with it, the warp's staging words sw), then runs the same
// FMAs as the raw decoder.
template <int B, class Tbl>
__device__ __forceinline__ void fm_tile(const FmFixed& d, const FmFixedFrag& f, Tbl tw, u32* sw, int lane, const float4 (&xv)[B], float (&acc)[B][8]) {
    fm_decode_fixed(d, f, tw, sw, lane);
    fm_fma_staged<B>(sw, lane, xv, acc);
}

// The delta table a `fixed` tile's decode reads: the copy in shared memory at t (SMEM, fm_table_to_smem) or the warp's
// copy in its lanes (tw).
template <bool SMEM>
__device__ __forceinline__ auto fm_table(u32 tw, const u32* t) {
    if constexpr (SMEM) return FmSmemTable{reinterpret_cast<const u8*>(t)};
    else return tw;
}

// FM_PREDECODE: a bit mask of the ACTs whose batch-1 `fixed` kernels decode their first two tiles (the SwiGLU kernel:
// the gate's and the up projection's first) into two staging slots before griddepcontrol.wait -- the decode needs only
// the weights -- and multiply them from there once the input is ready, so that the decode of those tiles overlaps the
// previous kernel instead of lengthening this one's path after the wait. The same decoded values and FMAs in the same
// order: the same bits. Default 11 = ACTs 0, 1 and 3 (W <= 8; ACT 2, down without the SwiGLU epilogue, keeps none) (H100
// TinyLlama `fixed`, session 17: 1107-1108 -> 1191-1199 tok/s against main in the same run, with FM_TABLE_SMEM; ACT 1
// alone -2-3 %; 0 = off).
#ifndef FM_PREDECODE
#define FM_PREDECODE 11
#endif
__device__ __forceinline__ void fm_predecode(const FmFixed& d, const FmFixedFrag& f, u32 tw, u32* sw, int lane) { fm_decode_fixed(d, f, tw, sw, lane); }
__device__ __forceinline__ void fm_predecode(const FmRaw&, const FmRawFrag&, u32, u32*, int) {}

// A warp's walk along its tiles t0 .. t0 + n - 1 of row group g (fm_begin), and tile t0 + k of it (fm_fetch; all 32
// lanes call both). Fixed: FmFixedWarp (fixed_tile.cuh).
struct FmRawWarp { int g, t0; };
template <class Dec> struct FmWarpOf;
template <> struct FmWarpOf<FmRaw> { typedef FmRawWarp type; };
template <> struct FmWarpOf<FmFixed> { typedef FmFixedWarp type; };
__device__ __forceinline__ void fm_begin(const FmRaw&, long long, int g, int t0, int, int, FmRawWarp& c) { c.g = g; c.t0 = t0; }
__device__ __forceinline__ void fm_begin(const FmFixed& d, long long tb, int, int, int n, int lane, FmFixedWarp& c) { fm_warp_begin(d, tb, n, lane, c); }
__device__ __forceinline__ void fm_fetch(const FmRaw& d, const FmRawWarp& c, int k, int lane, FmRawFrag& f) { fm_load(d, c.g, c.t0 + k, lane, f); }
__device__ __forceinline__ void fm_fetch(const FmFixed& d, const FmFixedWarp& c, int k, int lane, FmFixedFrag& f) { fm_warp_load(d, c, k, lane, f); }

// ------------------------------------------------------------------ engine entry points
// The decode-step matvecs of the CUDA engine (CudaOps.Matvec): up to three matrices sharing the input
// (q/k/v, gate/up) in one launch, block g working on 8-row group g - group_start of its segment; the input
// transformed on the fly (ACT 0: x; 1: RMSNorm(x) * norm_w; 2: silu(x) * x2, SwiGLU); the output
// out = W x (+ bias) (+ resid). The accumulation contract above, so raw == fixed bit for bit.
struct FmSeg {
    const void* w;            // raw BF16 [rows, cols] row-major, or the fixed tiles
    const u32* tile_off;   // fixed only
    const u8* esc;         // fixed only
    const float* bias;        // [rows] or null
    float* out;               // [rows]
    int rows;
    u32 base;              // fixed only
    int group_start;          // first 8-row group of this segment in the launch's numbering
    int pad;
};

struct FmParams {
    FmSeg seg[3];
    const float* x;       // [cols]
    const float* x2;      // ACT 2: the up projection (x is the gate)
    const float* norm_w;  // ACT 1: RMSNorm weights
    const float* resid;   // added to the output when set (may alias a segment's out)
    int nseg, cols;
    float eps;
    int groups;           // 8-row groups of all segments (fm_engine_persistent: the grid may be smaller)
};

// The segment that launch group g belongs to (segment i's groups start at seg[i].group_start), and segment si itself.
__device__ __forceinline__ int fm_seg_index(const FmParams& p, int g) {
    return (p.nseg > 2 && g >= p.seg[2].group_start) ? 2 : (p.nseg > 1 && g >= p.seg[1].group_start) ? 1 : 0;
}
__device__ __forceinline__ const FmSeg& fm_seg(const FmParams& p, int si) { return si == 0 ? p.seg[0] : si == 1 ? p.seg[1] : p.seg[2]; }

__device__ __forceinline__ void fm_make(const FmSeg& s, int cols, FmRaw& d) { d.w = (const u16*)s.w; d.rows = s.rows; d.cols = cols; }
__device__ __forceinline__ void fm_make(const FmSeg& s, int cols, FmFixed& d) {
    d.tiles = (const u8*)s.w; d.tile_off = s.tile_off; d.esc = s.esc; d.rows = s.rows; d.cols = cols; d.base = s.base;
}

// The arithmetic around the matvec input, its rounding pinned by the _rn intrinsics (never contracted into an FMA):
// the raw and `fixed` kernels are separate instantiations, and a multiply-add contracted in one and not in the other
// (expf's last multiply with the 1 + ..., the sum of squares) would break their bit identity for some inputs.
__device__ __forceinline__ float fm_silu_mul(float g, float u) { return __fmul_rn(__fdiv_rn(g, __fadd_rn(1.0f, expf(-g))), u); }
__device__ __forceinline__ float fm_sumsq4(float4 v) {
    return __fadd_rn(__fadd_rn(__fadd_rn(__fmul_rn(v.x, v.x), __fmul_rn(v.y, v.y)), __fmul_rn(v.z, v.z)), __fmul_rn(v.w, v.w));
}

// Input columns col..col+3 of batch row b (zero beyond cols), transformed as ACT says.
template <int ACT>
__device__ __forceinline__ float4 fm_input(const FmParams& p, int col, float scale, int b = 0) {
    float4 v = make_float4(0.f, 0.f, 0.f, 0.f), u = v;
    const int cols = p.cols;
    const float* x = p.x + (long long)b * cols;
    const float* x2 = p.x2 + (long long)b * cols;
    if ((cols & 3) == 0) {
        if (col < cols) {
            v = __ldg(reinterpret_cast<const float4*>(x + col));
            if (ACT == 1) u = __ldg(reinterpret_cast<const float4*>(p.norm_w + col));
            if (ACT == 2) u = __ldg(reinterpret_cast<const float4*>(x2 + col));
        }
    } else {
        const float* o = ACT == 1 ? p.norm_w : x2;
        if (col < cols) { v.x = x[col]; if (ACT) u.x = o[col]; }
        if (col + 1 < cols) { v.y = x[col + 1]; if (ACT) u.y = o[col + 1]; }
        if (col + 2 < cols) { v.z = x[col + 2]; if (ACT) u.z = o[col + 2]; }
        if (col + 3 < cols) { v.w = x[col + 3]; if (ACT) u.w = o[col + 3]; }
    }
    if (ACT == 1) v = make_float4(u.x * (v.x * scale), u.y * (v.y * scale), u.z * (v.z * scale), u.w * (v.w * scale));
    if (ACT == 2) v = make_float4(fm_silu_mul(v.x, u.x), fm_silu_mul(v.y, u.y), fm_silu_mul(v.z, u.z), fm_silu_mul(v.w, u.w));
    return v;
}

// FM_GLU_INTERLEAVE = 1: the batch-1 `fixed` SwiGLU epilogue kernels interleave the gate's and the up projection's tiles
// (fm_engine_glu_fixed below); 0: the same kernels through fm_engine, all of the gate's tiles and then the up projection's.
#ifndef FM_GLU_INTERLEAVE
#define FM_GLU_INTERLEAVE 1
#endif

// Loads a thread of fm_rms_scale issues before it uses the first (its columns are W * 128 apart): one round trip to L2
// for up to FM_RMS_BATCH of them instead of one each. These are the first loads after griddepcontrol.wait, where the
// RMSNorm-input kernels' warps waited most (H100, Nsight Compute source counters, session 13: 29-39 % of the TinyLlama
// q/k/v kernels' stall samples, raw and `fixed`, at the first use of each load of a loop that issued them one by one).
#ifndef FM_RMS_BATCH
#define FM_RMS_BATCH 4
#endif

// 1 / sqrt(mean(x^2) + eps) of batch row b, every thread of the block; a fixed summation order (deterministic): a thread
// sums columns 4i..4i+3 for i = threadIdx.x, threadIdx.x + W * 32, ... in that order (a zero beyond cols adds nothing).
template <int W>
__device__ __forceinline__ float fm_rms_scale(const FmParams& p, float* ssw, int b = 0) {
    constexpr int U = FM_RMS_BATCH, STEP = W * 32 * 4;
    const int cols = p.cols;
    float ss = 0.f;
    if ((cols & 3) == 0) {
        const float* x = p.x + (long long)b * cols;
        for (int i0 = threadIdx.x * 4; i0 < cols; i0 += U * STEP) {
            float4 v[U];
#pragma unroll
            for (int u = 0; u < U; u++) {
                const int i = i0 + u * STEP;
                v[u] = i < cols ? __ldg(reinterpret_cast<const float4*>(x + i)) : make_float4(0.f, 0.f, 0.f, 0.f);
            }
#pragma unroll
            for (int u = 0; u < U; u++) ss = __fadd_rn(ss, fm_sumsq4(v[u]));
        }
    } else {
        for (int i = threadIdx.x * 4; i < cols; i += STEP) ss = __fadd_rn(ss, fm_sumsq4(fm_input<0>(p, i, 1.f, b)));
    }
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) ss += __shfl_xor_sync(0xffffffffu, ss, o);
    if ((threadIdx.x & 31) == 0) ssw[threadIdx.x >> 5] = ss;
    __syncthreads();
    float t = ssw[0];
#pragma unroll
    for (int w = 1; w < W; w++) t += ssw[w];
    return 1.0f / sqrtf(t / (float)p.cols + p.eps);
}

// warp_sum (xor butterfly 16, 8, 4, 2, 1) of each of a lane's C values v[0..C-1], the work split across the lanes: at
// offset O, while a lane holds more than one value, it keeps the half that bit O of its lane selects (the upper half when
// set), sends its partner the other half and adds the partner's copy of the half it keeps -- the pairs that warp_sum
// adds, in the same order -- so every sum has warp_sum's bits, in 9 shuffles for 8 values instead of 40. On return a
// lane holds the sums of values fm_split_first<K>(lane) + i, i < max(K / 32, 1), in v[i] (K: the values at the start).
template <int C, int O>
struct FmSplitSum {
    static __device__ __forceinline__ void run(float* v, int lane) {
        if constexpr (C > 1) {
            const bool up = (lane & O) != 0;
#pragma unroll
            for (int i = 0; i < C / 2; i++) {
                const float keep = up ? v[i + C / 2] : v[i], send = up ? v[i] : v[i + C / 2];
                v[i] = keep + __shfl_xor_sync(0xffffffffu, send, O);
            }
            FmSplitSum<C / 2, O / 2>::run(v, lane);
        } else {
            v[0] = v[0] + __shfl_xor_sync(0xffffffffu, v[0], O);
            FmSplitSum<1, O / 2>::run(v, lane);
        }
    }
};
template <int C>
struct FmSplitSum<C, 0> {
    static __device__ __forceinline__ void run(float*, int) {}
};
template <int K>
__device__ __forceinline__ int fm_split_first(int lane) {
    int k = 0;
#pragma unroll
    for (int j = 0; j < 5; j++)
        if ((K >> j) > 1 && (lane & (16 >> j))) k += (K >> j) / 2;
    return k;
}
// The lanes that hold each sum: those with (lane & FM_SPLIT_MASK(K)) == 0 hold every sum once (all lanes from K = 32 on).
#define FM_SPLIT_MASK(K) ((K) >= 32 ? 0 : 32 / (K) - 1)

// The warp sums of a lane's K values v (lane l's share of the block's partial sums), each handed to store(k, sum) by
// one lane, as FmSplitSum leaves them.
template <int K, class Store>
__device__ __forceinline__ void fm_warp_sums_to(float (&v)[K], int lane, Store store) {
    FmSplitSum<K, 16>::run(v, lane);
    if ((lane & FM_SPLIT_MASK(K)) == 0) {
        const int k = fm_split_first<K>(lane);
#pragma unroll
        for (int i = 0; i < (K >= 32 ? K / 32 : 1); i++) store(k + i, v[i]);
    }
}

// The block's sum of slot k: the warps' partial sums in warp order (the accumulation contract's last step).
template <int W, int K>
__device__ __forceinline__ float fm_warp_sums(const float (&red)[W][K], int k) {
    float s = red[0][k];
#pragma unroll
    for (int w = 1; w < W; w++) s += red[w][k];
    return s;
}

// Stores output o (matrix row `row`) of segment sg from its sum s: + bias, then + resid or (GLU: s is the gate's
// sum, `up` the up projection's warp sums) h = silu(gate) * up.
template <bool GLU, int W, int K>
__device__ __forceinline__ void fm_store_row(const FmParams& p, const FmSeg& sg, float s, const float (&up)[W][K], int k, int row, long long o) {
    if (sg.bias) s += sg.bias[row];
    if (GLU) {
        float u = fm_warp_sums<W>(up, k);
        if (p.seg[1].bias) u += p.seg[1].bias[row];
        s = fm_silu_mul(s, u);
    } else if (p.resid) {
        s += p.resid[o];
    }
    sg.out[o] = s;
}

// FM_TABLE_SMEM = 1 (default): the batch-1 `fixed` kernels read an exception's delta from a copy of the table in shared
// memory (beside the warp's staging words) instead of a shuffle from the lanes that hold it (the same byte either way;
// 2 registers fewer, which the predecode slots' kernels spend; alone it measured no change, session 16 run 3).
#ifndef FM_TABLE_SMEM
#define FM_TABLE_SMEM 1
#endif

// FM_TWO_AHEAD_ACTS: a bit mask of the ACTs (bit ACT) whose per-group kernels fetch a warp's first two tiles before
// griddepcontrol.wait and then refill the set just multiplied with the tile two ahead; the others fetch one tile before
// the wait and the next tile before multiplying the current one. Default 3 = ACT 0 and 1 (H100 TinyLlama `fixed`, session
// 10 run 6, one ACT at a time: ACT 0 +2-3 %, ACT 1 +1 %, ACT 3 -9 % -- through a register cliff: under the SwiGLU
// kernels' cap, mask 11 measured within noise of 3, session 13; none fetched before the wait: -20 %). The tiles and the
// FMAs keep their order: the results are the same bits either way.
#ifndef FM_TWO_AHEAD_ACTS
#define FM_TWO_AHEAD_ACTS 3
#endif

// FM_SPLIT_SUM_BATCHES (raw) and FM_SPLIT_SUM_FIXED_BATCHES (`fixed`): bit masks of the batch sizes B (bit B) whose
// fm_engine kernels sum the warps' partial sums with fm_warp_sums_to; the others run one warp_sum per value (the same
// bits either way). Default: all of them but the `fixed` B = 4 kernels (H100 TinyLlama batch 4, session 15 run 3: raw
// 1797 -> 1945 tok/s with the split sums, `fixed` 2106 -> 1955; B = 2 and 8 gained in both).
#ifndef FM_SPLIT_SUM_BATCHES
#define FM_SPLIT_SUM_BATCHES 0x116
#endif
#ifndef FM_SPLIT_SUM_FIXED_BATCHES
#define FM_SPLIT_SUM_FIXED_BATCHES 0x106
#endif

// B > 1 (batched decode): x (and x2) are [B][cols], out and resid [B][ld_out] (ld_out 0: the segment's rows);
// rows b >= nb are computed but not stored. Each batch row gets exactly the B = 1 summation order.
// ACT 3 (SwiGLU epilogue): the launch is gate (segment 0) and up (segment 1) of equal rows, the input RMSNorm(x) * norm_w
// as ACT 1, and block g computes group g of both, gate first, and stores h = silu(gate) * up (fm_silu_mul, each sum
// as the other ACTs form it) into segment 0's out: the down projection then reads h as it is (ACT 0) instead of
// recomputing silu per tile and row group. Grid = the gate's groups.
template <class Dec, class Frag, bool FIXED, int ACT, int W, int B = 1>
__device__ __forceinline__ void fm_engine(const FmParams& p, int ld_out = 0, int nb = 1) {
    constexpr bool GLU = ACT == 3;
    constexpr int IN = GLU ? 1 : ACT;  // the input transform
    constexpr bool TWO = (FM_TWO_AHEAD_ACTS >> ACT) & 1;
    constexpr bool SMT = FIXED && FM_TABLE_SMEM && B == 1;
    constexpr bool PRE = FIXED && B == 1 && !GLU && W <= 8 && ((FM_PREDECODE >> ACT) & 1);  // 2 slots of 2 KiB a warp
    constexpr int TBL = PRE ? 1024 : 512;  // SMT: the tables after the staging slots
    __shared__ __align__(16) u32 stage[W][FIXED ? TBL + (SMT ? 32 : 0) : 4];
    __shared__ float red[GLU ? 2 : 1][W][B * 8];
    __shared__ float ssw[B][W];
    TlMark tl;
    tl_start(tl);
    asm volatile("griddepcontrol.launch_dependents;" :::);  // weights never depend on the previous kernel
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int cols = p.cols, T = (cols + 127) / 128;
    const int t0 = warp * T / W, t1 = (warp + 1) * T / W, n = t1 - t0;
    float scale[B];
    int g = 0;
#pragma unroll 1
    for (int part = 0; part < (GLU ? 2 : 1); part++) {
        const FmSeg& sg = fm_seg(p, GLU ? part : fm_seg_index(p, (int)blockIdx.x));
        g = GLU ? (int)blockIdx.x : (int)blockIdx.x - sg.group_start;
        Dec d;
        fm_make(sg, p.cols, d);
        float acc[B][8];
#pragma unroll
        for (int b = 0; b < B; b++)
#pragma unroll
            for (int r = 0; r < 8; r++) acc[b][r] = 0.f;
        const long long tb = (long long)g * T + t0;
        u32 tw = 0;  // fixed: the delta table
        typename FmWarpOf<Dec>::type cur;
        Frag fa, fb;
        if (n > 0) {
            fm_begin(d, tb, g, t0, n, lane, cur);
            if (FIXED) tw = fm_table_word(reinterpret_cast<const FmFixed&>(d), lane);
            if constexpr (SMT) fm_table_to_smem(tw, &stage[warp][TBL + 16 * part], lane);
            fm_fetch(d, cur, 0, lane, fa);
            if ((TWO || PRE) && n > 1) fm_fetch(d, cur, 1, lane, fb);
        }
        int npre = 0;  // PRE: tiles t0 .. t0 + npre - 1 decoded into the staging slots before the wait
        if (PRE && n > 0) {
            fm_predecode(d, fa, tw, &stage[warp][0], lane);
            npre = 1;
            if (n > 1) {
                fm_predecode(d, fb, tw, &stage[warp][512], lane);
                npre = 2;
            }
            if (n > 2) fm_fetch(d, cur, 2, lane, fa);
            if (TWO && n > 3) fm_fetch(d, cur, 3, lane, fb);
        }
        if (part == 0) {
            asm volatile("griddepcontrol.wait;" ::: "memory");  // x comes from the previous kernel
            tl_wait(tl);
#pragma unroll
            for (int b = 0; b < B; b++) scale[b] = IN == 1 ? fm_rms_scale<W>(p, ssw[b], b) : 1.f;
        }
        if (n > 0) {
            u32* sw = &stage[warp][0];
            int t = t0;
            if (PRE) {
#pragma unroll
                for (int k = 0; k < 2; k++)
                    if (k < npre) {
                        float4 xv[B];
#pragma unroll
                        for (int b = 0; b < B; b++) xv[b] = fm_input<IN>(p, (t0 + k) * 128 + lane * 4, scale[b], b);
                        fm_fma_staged<B>(sw + 512 * k, lane, xv, acc);
                    }
                t = t0 + npre;
            }
            if (!PRE || t < t1) {
#pragma unroll 1
                while (true) {
#pragma unroll
                    for (int h = 0; h < 2; h++) {  // two register sets, no copies between tiles
                        Frag& fc = h == 0 ? fa : fb;
                        Frag& fn = h == 0 ? fb : fa;
                        if (!TWO && t + 1 < t1) fm_fetch(d, cur, t + 1 - t0, lane, fn);
                        float4 xv[B];
#pragma unroll
                        for (int b = 0; b < B; b++) xv[b] = fm_input<IN>(p, t * 128 + lane * 4, scale[b], b);
                        fm_tile<B>(d, fc, fm_table<SMT>(tw, sw + TBL + 16 * part), sw, lane, xv, acc);
                        // TWO: the set just multiplied takes tile t + 2 (tiles t0 and t0 + 1 were fetched before the wait)
                        if (TWO && t + 2 < t1) fm_fetch(d, cur, t + 2 - t0, lane, fc);
                        if (++t >= t1) break;
                    }
                    if (t >= t1) break;
                }
            }
        }
        if ((((FIXED ? FM_SPLIT_SUM_FIXED_BATCHES : FM_SPLIT_SUM_BATCHES) >> B) & 1) != 0) {
            float v[B * 8];
#pragma unroll
            for (int b = 0; b < B; b++)
#pragma unroll
                for (int r = 0; r < 8; r++) v[b * 8 + r] = acc[b][r];
            fm_warp_sums_to<B * 8>(v, lane, [&](int k, float s) { red[GLU ? part : 0][warp][k] = s; });
        } else {
#pragma unroll
            for (int b = 0; b < B; b++)
#pragma unroll
                for (int r = 0; r < 8; r++) {
                    const float v = warp_sum(acc[b][r]);
                    if (lane == 0) red[GLU ? part : 0][warp][b * 8 + r] = v;
                }
        }
    }
    __syncthreads();
    if (threadIdx.x < B * 8) {
        const FmSeg& sg = fm_seg(p, GLU ? 0 : fm_seg_index(p, (int)blockIdx.x));
        const int b = B == 1 ? 0 : threadIdx.x >> 3, row = g * 8 + (threadIdx.x & 7);
        const float s = fm_warp_sums<W>(red[0], threadIdx.x);
        if (row < sg.rows && b < nb) fm_store_row<GLU>(p, sg, s, red[GLU ? 1 : 0], threadIdx.x, row, B == 1 ? row : (long long)b * (ld_out ? ld_out : sg.rows) + row);
    }
    tl_end(tl, (FIXED ? 1000 : 0) + 100 * ACT + 10 * B + W / 4);
}

// Batch-1 `fixed` SwiGLU epilogue kernels with the gate's and the up projection's tiles interleaved (FM_GLU_INTERLEAVE):
// a warp multiplies gate tile t0, up tile t0, gate tile t0 + 1, ... with the next tile always in flight, across the
// two matrices too, and transforms each input column slice once for both. fm_engine's ACT 3 runs all of the gate's tiles
// and then all of the up projection's, so its warps wait at the switch for the up projection's entry offsets, first
// entries and first tile. Each row still sums its matrix's tiles in order with the same FMAs, then the same butterfly
// and warp order: the same bits as fm_engine and as raw.
template <int W>
__device__ __forceinline__ void fm_engine_glu_fixed(const FmParams& p) {
    constexpr bool PRE = ((FM_PREDECODE >> 3) & 1) && W <= 8;  // 2 slots of 2 KiB a warp
    constexpr int TBL = PRE ? 1024 : 512;                         // FM_TABLE_SMEM: the two tables after the slots
    __shared__ __align__(16) u32 stage[W][TBL + (FM_TABLE_SMEM ? 32 : 0)];
    __shared__ float red[2][W][8];
    __shared__ float ssw[W];
    TlMark tl;
    tl_start(tl);
    asm volatile("griddepcontrol.launch_dependents;" :::);  // weights never depend on the previous kernel
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int cols = p.cols, T = (cols + 127) / 128;
    const int t0 = warp * T / W, t1 = (warp + 1) * T / W, n = t1 - t0;
    const int g = (int)blockIdx.x;
    FmFixed dg, du;
    fm_make(p.seg[0], cols, dg);
    fm_make(p.seg[1], cols, du);
    float ag[1][8], au[1][8];
#pragma unroll
    for (int r = 0; r < 8; r++) ag[0][r] = au[0][r] = 0.f;
    const long long tb = (long long)g * T + t0;
    u32 twg = 0, twu = 0;
    FmFixedWarp cg, cu;
    FmFixedFrag fa, fb;  // fa: the gate's tiles, fb: the up projection's
    if (n > 0) {
        fm_warp_begin(dg, tb, n, lane, cg);
        fm_warp_begin(du, tb, n, lane, cu);
        twg = fm_table_word(dg, lane);
        twu = fm_table_word(du, lane);
        if (FM_TABLE_SMEM) {
            fm_table_to_smem(twg, &stage[warp][TBL], lane);
            fm_table_to_smem(twu, &stage[warp][TBL + 16], lane);
        }
        fm_warp_load(dg, cg, 0, lane, fa);
        if (PRE) {  // the gate's and the up projection's first tiles decoded into the two slots; their second ones fetched
            fm_warp_load(du, cu, 0, lane, fb);
            fm_decode_fixed(dg, fa, twg, &stage[warp][0], lane);
            fm_decode_fixed(du, fb, twu, &stage[warp][512], lane);
            if (n > 1) {
                fm_warp_load(dg, cg, 1, lane, fa);
                fm_warp_load(du, cu, 1, lane, fb);
            }
        }
    }
    asm volatile("griddepcontrol.wait;" ::: "memory");  // x comes from the previous kernel
    tl_wait(tl);
    const float scale = fm_rms_scale<W>(p, ssw);
    u32* sw = &stage[warp][0];
    int j0 = 0;
    if (PRE && n > 0) {
        float4 xv[1];
        xv[0] = fm_input<1>(p, t0 * 128 + lane * 4, scale);
        fm_fma_staged<1>(sw, lane, xv, ag);
        fm_fma_staged<1>(sw + 512, lane, xv, au);
        j0 = 1;
    }
#pragma unroll 1
    for (int j = j0; j < n; j++) {
        if (!PRE || j > 1) fm_warp_load(du, cu, j, lane, fb);  // PRE: the up projection's tile 1 came before the wait
        float4 xv[1];
        xv[0] = fm_input<1>(p, (t0 + j) * 128 + lane * 4, scale);
        fm_tile<1>(dg, fa, fm_table<FM_TABLE_SMEM>(twg, sw + TBL), sw, lane, xv, ag);
        if (j + 1 < n) fm_warp_load(dg, cg, j + 1, lane, fa);
        fm_tile<1>(du, fb, fm_table<FM_TABLE_SMEM>(twu, sw + TBL + 16), sw, lane, xv, au);
    }
    float v[16];  // the gate's rows, then the up projection's: red[0][warp] and red[1][warp] as one slot list
#pragma unroll
    for (int r = 0; r < 8; r++) {
        v[r] = ag[0][r];
        v[8 + r] = au[0][r];
    }
    fm_warp_sums_to<16>(v, lane, [&](int k, float s) { red[k >> 3][warp][k & 7] = s; });
    __syncthreads();
    if (threadIdx.x < 8) {
        const int row = g * 8 + (int)threadIdx.x;
        if (row < p.seg[0].rows) fm_store_row<true>(p, p.seg[0], fm_warp_sums<W>(red[0], threadIdx.x), red[1], threadIdx.x, row, row);
    }
    tl_end(tl, 1000 + 300 + 10 + W / 4);
}

// Batch-1 raw BF16, persistent blocks: block b works on groups b, b + grid, b + 2 grid, ... (grid: at most the blocks
// that fit on the GPU at once, CudaOps.PersistentGrid), each group exactly as fm_engine's one block per group does it (same warps, tiles per warp,
// FMAs and reduction), so its results equal fm_engine's -- and fixed's -- bit for bit, whatever the grid. The next
// two tiles are fetched while the current one is multiplied, across group boundaries too, so a block streams its rows
// without a gap, and RMSNorm's scale is computed once per block instead of once per group: no wave quantisation and
// no per-group prologue (H100 TinyLlama decode 682 -> 841 tok/s, docs/PERFORMANCE.md). The `fixed` decoder keeps one
// block per group: a persistent `fixed` block needs more registers (96 against 72: fewer warps per SM) and measured
// slower (sessions 3 and 6); so did `fixed` with two tiles in flight or with its tiles streamed through shared memory.
__device__ __forceinline__ int fm_group(const FmParams& p, int g, FmRaw& d) {
    const FmSeg& sg = fm_seg(p, fm_seg_index(p, g));
    fm_make(sg, p.cols, d);
    return g - sg.group_start;
}

// ACT 3: the SwiGLU epilogue as in fm_engine (groups = the gate's; a block's unit 2k is gate group g, unit 2k + 1 up group g).
template <int ACT, int W>
__device__ __forceinline__ void fm_engine_persistent(const FmParams& p) {
    constexpr bool GLU = ACT == 3;
    constexpr int IN = GLU ? 1 : ACT;  // the input transform
    __shared__ float red[GLU ? 2 : 1][W][8];
    __shared__ float ssw[W];
    TlMark tl;
    tl_start(tl);
    asm volatile("griddepcontrol.launch_dependents;" :::);  // weights never depend on the previous kernel
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int cols = p.cols, T = (cols + 127) / 128;
    const int t0 = warp * T / W, t1 = (warp + 1) * T / W, n = t1 - t0;
    const int G = p.groups, stride = gridDim.x;
    const int nk = (int)blockIdx.x < G ? (G - 1 - (int)blockIdx.x) / stride + 1 : 0;  // groups of this block
    const int nu = GLU ? 2 * nk : nk;                                                  // its units (row groups to sum)
    // unit u's matrix into d; returns its group within that matrix
    auto unit = [&](int u, FmRaw& d) {
        if (!GLU) return fm_group(p, (int)blockIdx.x + u * stride, d);
        fm_make(p.seg[u & 1], p.cols, d);
        return (int)blockIdx.x + (u >> 1) * stride;
    };
    FmRawFrag cur, nxt, nxt2;  // two in flight (one: H100 TinyLlama uncompressed 850 tok/s; two: 873-883)
    int fk = 0, fj = 0;  // the next tile to fetch: tile t0 + fj of the block's unit fk
    auto fetch_next = [&](FmRawFrag& f) {
        if (fk < nu) {
            FmRaw d;
            const int gl = unit(fk, d);
            fm_load(d, gl, t0 + fj, lane, f);
            if (++fj == n) { fj = 0; fk++; }
        }
    };
    if (n > 0) { fetch_next(cur); fetch_next(nxt); }
    asm volatile("griddepcontrol.wait;" ::: "memory");  // x comes from the previous kernel
    tl_wait(tl);
    const float scale = IN == 1 ? fm_rms_scale<W>(p, ssw) : 1.f;
#pragma unroll 1
    for (int k = 0; k < nu; k++) {
        FmRaw d;
        const int gl = unit(k, d);
        const int part = GLU ? (k & 1) : 0;
        float acc[1][8];
#pragma unroll
        for (int r = 0; r < 8; r++) acc[0][r] = 0.f;
#pragma unroll 1
        for (int j = 0; j < n; j++) {
            fetch_next(nxt2);  // across group boundaries too
            float4 xv[1];
            xv[0] = fm_input<IN>(p, (t0 + j) * 128 + lane * 4, scale);
            fm_tile<1>(d, cur, 0u, nullptr, lane, xv, acc);
            cur = nxt;
            nxt = nxt2;
        }
        fm_warp_sums_to<8>(acc[0], lane, [&](int k, float s) { red[part][warp][k] = s; });
        if (GLU && part == 0) continue;  // the gate's sums wait for the up projection's
        __syncthreads();
        if (threadIdx.x < 8) {
            const int g = GLU ? gl : (int)blockIdx.x + k * stride;
            const FmSeg& sg = fm_seg(p, GLU ? 0 : fm_seg_index(p, g));
            const int row = gl * 8 + threadIdx.x;
            if (row < sg.rows) fm_store_row<GLU>(p, sg, fm_warp_sums<W>(red[0], threadIdx.x), red[GLU ? 1 : 0], threadIdx.x, row, row);
        }
        __syncthreads();  // red is reused by the next group
    }
    tl_end(tl, 2000 + 100 * ACT + 10 + W / 4);
}

// Register caps. FM_BOUNDS: blocks of W warps that fit SM_THREADS threads a SM (a kernel of the ACTs in the bit mask
// CAPS; 0 threads or an ACT outside the mask: no cap, the compiler's choice).
#define FM_BOUNDS(ACT, W, CAPS, SM_THREADS) \
    __launch_bounds__(W * 32, ((CAPS) >> (ACT)) & 1 && (SM_THREADS) / ((W) * 32) > 0 ? (SM_THREADS) / ((W) * 32) : 0)

// The `fixed` kernels of the ACTs in FM_FIXED_CAP_ACTS fit FM_FIXED_SM_THREADS threads a SM, the SwiGLU epilogue ones
// (ACT 3) FM_FIXED_GLU_SM_THREADS. Default: the RMSNorm-input kernels (ACT 1) fit 896 = 7 blocks of 4 warps (72
// registers instead of 80; H100 session 9: Llama-2-7B 211 -> 220 tok/s, TinyLlama 995 -> 1005); the SwiGLU epilogue
// kernels 768 = 6 blocks of 4 warps (80 registers), so TinyLlama's 704 gate/up blocks run in one wave of 792. Uncapped,
// that count was the compiler's: NVRTC 13 gave fm_fixed_a3_w4 80 registers on main and 96 (5 blocks a SM, a second wave
// of 44 blocks) after a one-line refactor elsewhere in this file, and TinyLlama `fixed` fell 1029 -> 884-891 tok/s
// (session 12, run 4). At 896 they spill (TinyLlama 941, session 9).
#ifndef FM_FIXED_SM_THREADS
#define FM_FIXED_SM_THREADS 896
#endif
#ifndef FM_FIXED_GLU_SM_THREADS
#define FM_FIXED_GLU_SM_THREADS 768
#endif
#ifndef FM_FIXED_CAP_ACTS
#define FM_FIXED_CAP_ACTS 10
#endif
#define FM_FIXED_BOUNDS(ACT, W) FM_BOUNDS(ACT, W, FM_FIXED_CAP_ACTS, (ACT) == 3 ? FM_FIXED_GLU_SM_THREADS : FM_FIXED_SM_THREADS)

// The persistent raw kernels of the ACTs in FM_RAWP_CAP_ACTS fit FM_RAWP_SM_THREADS threads a SM. Default: the
// RMSNorm-input kernels (ACT 1) and the SwiGLU epilogue ones (ACT 3) fit 768, 6 blocks of 4 warps (80 registers instead
// of 96) or 3 of 8 (H100 session 11, ACT 1: TinyLlama uncompressed 931 -> 967 tok/s, Llama-2-7B 184 -> 187). For ACT 3
// it lets TinyLlama's 704 gate/up pairs run at once, as its 1408 groups do without the epilogue (session 12).
#ifndef FM_RAWP_SM_THREADS
#define FM_RAWP_SM_THREADS 768
#endif
#ifndef FM_RAWP_CAP_ACTS
#define FM_RAWP_CAP_ACTS 10
#endif
#define FM_RAWP_BOUNDS(ACT, W) FM_BOUNDS(ACT, W, FM_RAWP_CAP_ACTS, FM_RAWP_SM_THREADS)

template <int ACT, int W>
__device__ __forceinline__ void fm_fixed_entry(const FmParams& p) {
    if (FM_GLU_INTERLEAVE && ACT == 3) fm_engine_glu_fixed<W>(p);
    else fm_engine<FmFixed, FmFixedFrag, true, ACT, W>(p);
}

// fm_{raw,fixed}_a{ACT}_w{W} (fm_rawp_a{ACT}_w{W}: persistent, grid <= groups); grid = total 8-row groups of the segments, block 32*W, no dynamic smem.
#define FM_ENGINE(ACT, W)                                                                                                  \
    extern "C" __global__ void __launch_bounds__(W * 32) fm_raw_a##ACT##_w##W(const FmParams p) {                           \
        fm_engine<FmRaw, FmRawFrag, false, ACT, W>(p);                                                                      \
    }                                                                                                                       \
    extern "C" __global__ void FM_RAWP_BOUNDS(ACT, W) fm_rawp_a##ACT##_w##W(const FmParams p) {                           \
        fm_engine_persistent<ACT, W>(p);                                                                                    \
    }                                                                                                                       \
    extern "C" __global__ void FM_FIXED_BOUNDS(ACT, W) fm_fixed_a##ACT##_w##W(const FmParams p) {                         \
        fm_fixed_entry<ACT, W>(p);                                                                                          \
    }
FM_ENGINE(0, 4)
FM_ENGINE(0, 8)
FM_ENGINE(0, 16)
FM_ENGINE(1, 4)
FM_ENGINE(1, 8)
FM_ENGINE(1, 16)
FM_ENGINE(2, 4)
FM_ENGINE(2, 8)
FM_ENGINE(2, 16)
FM_ENGINE(3, 4)
FM_ENGINE(3, 8)
FM_ENGINE(3, 16)

#ifdef FM_BATCH_ENTRIES  // the batched decode step's module (KernelLibrary compiles this file again with the symbol)
// fm_{raw,fixed}_a{ACT}_w{W}_b{B}: fm_engine over B batch rows (nb of them stored); same grid and block as above.
struct FmBatchParams {
    FmParams p;
    int ld_out;  // out/resid row stride of a batch row (0: the segment's rows)
    int nb;      // batch rows to store (<= B)
};
#define FM_ENGINE_B(ACT, W, B)                                                                                             \
    extern "C" __global__ void __launch_bounds__(W * 32) fm_raw_a##ACT##_w##W##_b##B(const FmBatchParams q) {               \
        fm_engine<FmRaw, FmRawFrag, false, ACT, W, B>(q.p, q.ld_out, q.nb);                                                 \
    }                                                                                                                       \
    extern "C" __global__ void __launch_bounds__(W * 32) fm_fixed_a##ACT##_w##W##_b##B(const FmBatchParams q) {             \
        fm_engine<FmFixed, FmFixedFrag, true, ACT, W, B>(q.p, q.ld_out, q.nb);                                              \
    }
#define FM_ENGINE_BATCHES(ACT, W) FM_ENGINE_B(ACT, W, 2) FM_ENGINE_B(ACT, W, 4) FM_ENGINE_B(ACT, W, 8)
FM_ENGINE_BATCHES(0, 4)
FM_ENGINE_BATCHES(0, 8)
FM_ENGINE_BATCHES(0, 16)
FM_ENGINE_BATCHES(1, 4)
FM_ENGINE_BATCHES(1, 8)
FM_ENGINE_BATCHES(1, 16)
FM_ENGINE_BATCHES(2, 4)
FM_ENGINE_BATCHES(2, 8)
FM_ENGINE_BATCHES(2, 16)
FM_ENGINE_BATCHES(3, 4)
FM_ENGINE_BATCHES(3, 8)
FM_ENGINE_BATCHES(3, 16)
#endif

#ifdef FM_STANDALONE_ENTRIES  // dev/cuda harnesses (prod_check.cu defines it); the engine uses the entries above
// One matrix, the input as is: fm_engine over a one-segment FmParams (y = [B][rows]).
__device__ __forceinline__ FmParams fm_standalone(const void* w, const u32* tile_off, const u8* esc, u32 base, int rows, int cols, const float* x, float* y) {
    FmParams p = {};
    p.seg[0].w = w;
    p.seg[0].tile_off = tile_off;
    p.seg[0].esc = esc;
    p.seg[0].base = base;
    p.seg[0].out = y;
    p.seg[0].rows = rows;
    p.nseg = 1;
    p.cols = cols;
    p.x = x;
    p.groups = (rows + 7) / 8;
    return p;
}
template <int B, int W>
__device__ __forceinline__ void fm_matvec(const FmRaw& d, const float* x, float* y) {
    fm_engine<FmRaw, FmRawFrag, false, 0, W, B>(fm_standalone(d.w, nullptr, nullptr, 0, d.rows, d.cols, x, y), 0, B);
}
template <int B, int W>
__device__ __forceinline__ void fm_matvec(const FmFixed& d, const float* x, float* y) {
    fm_engine<FmFixed, FmFixedFrag, true, 0, W, B>(fm_standalone(d.tiles, d.tile_off, d.esc, d.base, d.rows, d.cols, x, y), 0, B);
}
// Entry points: fused_matvec_{raw,fixed}_b{B}_w{W}; grid ceil(rows/8), block 32*W, no dynamic smem.
#define FM_ENTRY(B, W)                                                                                                     \
    extern "C" __global__ void __launch_bounds__(W * 32) fused_matvec_raw_b##B##_w##W(FmRaw d, const float* x, float* y) {     \
        fm_matvec<B, W>(d, x, y);                                                                                            \
    }                                                                                                                       \
    extern "C" __global__ void __launch_bounds__(W * 32) fused_matvec_fixed_b##B##_w##W(FmFixed d, const float* x, float* y) { \
        fm_matvec<B, W>(d, x, y);                                                                                            \
    }
FM_ENTRY(1, 4)
FM_ENTRY(1, 8)
FM_ENTRY(1, 16)
FM_ENTRY(2, 4)
FM_ENTRY(2, 8)
FM_ENTRY(4, 4)
FM_ENTRY(4, 8)
FM_ENTRY(8, 4)
FM_ENTRY(8, 8)
#endif
