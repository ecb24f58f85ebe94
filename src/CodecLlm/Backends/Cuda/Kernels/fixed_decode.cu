// Decoding `fixed` tiles outside the matvec (docs/FORMAT.md, "fixed"): BF16 tiles to scratch (fixed_decode), F16 and
// F32 tiles to scratch (fixed_decode_f16/f32) and embedding rows (fixed_embed). Compiled by NVRTC without system
// headers; the per-lane decode is fixed_tile.cuh's, the same as the fused matvec's.

#include "fixed_tile.cuh"

// ------------------------------------------------------------------ decode to scratch
// Row groups [rg0, rg1) of a fixed matrix into out as row-major BF16 (row 8*rg0 at out[0]); one warp
// per tile, the same per-lane decode as the fused matvec (fm_decode_fixed).
struct FmDecodeParams {
    FmFixed m;  // the matrix
    u16* out;
    int rg0, rg1;
};

#define FM_DECODE_WARPS 8

// FM_DECODE_OUT_MASK (a measurement, CODECLLM_NVRTC_DEFINES=-DFM_DECODE_OUT_MASK=0x3ffffc): every tile is stored at its
// offset & mask, so the output (mask + 8 rows of elements) stays in L2 and the decoder's rate is bounded by its own
// instructions and its reads of the tiles only. The output is then not the matrix. 0 (default): off.
#ifndef FM_DECODE_OUT_MASK
#define FM_DECODE_OUT_MASK 0
#endif

// FM_DECODE_NULL (a measurement of what bounds a decode to scratch, CODECLLM_NVRTC_DEFINES=-DFM_DECODE_NULL=N; the output
// is then not the matrix): 1 = a decoder that costs only its bytes: each tile's 1408 bytes read and 2048 bytes written
// where the decoded tile goes, no decode work (the fastest kernel a decoder of this layout could be); 2 = no decoder at
// all (the launch returns at once and the scratch keeps what it held). 0 (default): off.
#ifndef FM_DECODE_NULL
#define FM_DECODE_NULL 0
#endif

#if FM_DECODE_NULL == 1
// Tile t of row group g: lane l reads 16-byte words l, l + 32 and (l < 24) l + 64 of the tile (88 words, 1408 bytes) and
// writes their XOR as the 16 bytes at column 8 (l & 15) of rows (l >> 4) + 2k (k = 0..3) of the tile's 8 x 128 block.
__device__ __forceinline__ void fm_null_tile(const FmFixed& d, u16* out, int rg0, int g, int t, int lane) {
    const uint4* src = reinterpret_cast<const uint4*>(d.tiles + ((long long)g * ((d.cols + 127) / 128) + t) * FM_TILE_BYTES);
    uint4 v = fm_ld16(src + lane), u = fm_ld16(src + lane + 32);
    v.x ^= u.x; v.y ^= u.y; v.z ^= u.z; v.w ^= u.w;
    if (lane < 24) { u = fm_ld16(src + lane + 64); v.x ^= u.x; v.y ^= u.y; v.z ^= u.z; v.w ^= u.w; }
    const int col = t * 128 + (lane & 15) * 8;
    if (col + 8 > d.cols) return;
#pragma unroll
    for (int k = 0; k < 4; k++) {
        const int r = (lane >> 4) + 2 * k;
        if (g * 8 + r < d.rows) *reinterpret_cast<uint4*>(out + (long long)((g - rg0) * 8 + r) * d.cols + col) = v;
    }
}
#endif

// Stores a decoded tile (the warp's staging words, lane l's pair p at sl[(p >> 2) * 128 + (p & 3)]) as 8 rows of 4
// columns a lane: row r of the tile at dst + r * cols. Interior tiles of a matrix whose rows start 8-byte aligned store
// each row with one 8-byte store; the others check every row and column.
__device__ __forceinline__ void fm_store_tile(const u32* sl, u16* dst, int cols, int rows_left, int cols_left, bool whole) {
    if (whole) {
#pragma unroll
        for (int r = 0; r < 8; r++)
            *reinterpret_cast<uint2*>(dst + (long long)r * cols) = *reinterpret_cast<const uint2*>(sl + (r >> 1) * 128 + 2 * (r & 1));
        return;
    }
#pragma unroll
    for (int r = 0; r < 8; r++) {
        if (r >= rows_left || cols_left <= 0) continue;
        const u32 lo = sl[(r >> 1) * 128 + 2 * (r & 1)], hi = sl[(r >> 1) * 128 + 2 * (r & 1) + 1];
        u16* o = dst + (long long)r * cols;
        o[0] = (u16)lo;
        if (cols_left > 1) o[1] = (u16)(lo >> 16);
        if (cols_left > 2) o[2] = (u16)hi;
        if (cols_left > 3) o[3] = (u16)(hi >> 16);
    }
}

extern "C" __global__ void __launch_bounds__(FM_DECODE_WARPS * 32) fixed_decode(const FmDecodeParams p) {
    __shared__ __align__(16) u32 stage[FM_DECODE_WARPS][512];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const FmFixed& d = p.m;
    const int T = (d.cols + 127) / 128;
    const int total = (p.rg1 - p.rg0) * T;  // tiles of the launch (the host checks that they fit an int)
    const int stride = (int)gridDim.x * FM_DECODE_WARPS, sg = stride / T, st = stride % T;
    u32* sw = &stage[warp][0];
    const u32* sl = sw + lane * 4;
    const u32 tw = fm_table_word(d, lane);
    const bool vec = (d.cols & 3) == 0;
#if FM_DECODE_NULL == 2
    return;
#endif
    // The warp's tiles w, w + stride, ...: tile t of row group g (walked without divisions). Its next tile (words,
    // entry offsets, entry `lane`) is fetched while the current one is decoded and stored, in two register sets.
    int w = (int)blockIdx.x * FM_DECODE_WARPS + warp;
    if (w >= total) return;
    int g = p.rg0 + w / T, t = w % T;
#if FM_DECODE_NULL == 1
    for (; w < total; w += stride) {
        fm_null_tile(d, p.out, p.rg0, g, t, lane);
        g += sg;
        t += st;
        if (t >= T) { t -= T; g++; }
    }
    return;
#endif
    int ng = g, nt = t;  // the tile after the one fetched last
    auto advance = [&]() {
        ng += sg;
        nt += st;
        if (nt >= T) { nt -= T; ng++; }
    };
    auto fetch = [&](FmFixedFrag& f) {
        const long long tile = (long long)ng * T + nt;
        u32 first, n;
        fm_tile_entries(d, tile, first, n);
        fm_load(d, tile, lane, first, n, f);
        advance();
    };
    // one tile: fetch the next into nxt, decode and store cur; false after the warp's last tile
    auto step = [&](FmFixedFrag& cur, FmFixedFrag& nxt) {
        const bool more = w + stride < total;
        if (more) fetch(nxt);
        fm_decode_fixed(d, cur, tw, sw, lane);
        const int col = t * 128 + lane * 4, rows_left = d.rows - g * 8, cols_left = d.cols - col;
        const long long off = (long long)((g - p.rg0) * 8) * d.cols + col;
        u16* dst = p.out + (FM_DECODE_OUT_MASK ? (off & (long long)FM_DECODE_OUT_MASK) : off);
        fm_store_tile(sl, dst, d.cols, rows_left, cols_left, vec && rows_left >= 8 && t * 128 + 128 <= d.cols);
        __syncwarp();
        w += stride;
        g += sg;
        t += st;
        if (t >= T) { t -= T; g++; }
        return more;
    };
    FmFixedFrag fa, fb;
    fetch(fa);
#pragma unroll 1
    while (step(fa, fb) && step(fb, fa)) {
    }
}

// ------------------------------------------------------------------ decode to scratch: F16 and F32 tiles
// The same geometry with R = 2 (F16) or 3 (F32) rest bytes per weight (docs/FORMAT.md, "fixed"): tiles of
// 1024*R + 384 bytes, the rest of weight i of lane l at bytes R*(512(i>>4) + 16l + (i&15)) of the tile (LE), the code planes
// after them. Exponent = (base + code) XOR the deltas of the tile's exception entries at the weight's position (a
// per-warp shared array of XOR bytes, 32 a lane, filled by the whole warp); element = FloatFields.Join (F16: exponent
// masked to its 5 bits, rest bits above the field ignored), so the output equals the CPU FixedCodec decode bit for bit.
// Row groups [rg0, rg1) into out as row-major F16/F32 (row 8*rg0 at out[0]); grid and block as fixed_decode, one warp
// per tile.

// Rest field of weight i from the lane's 8*R words (bytes R*i .. R*i + R - 1, little-endian).
template <int R>
__device__ __forceinline__ u32 fm_wide_rest(const u32 (&rw)[8 * R], int i) {
    if (R == 2) return (rw[i >> 1] >> ((i & 1) * 16)) & 0xffffu;
    u32 r = 0;
#pragma unroll
    for (int k = 0; k < 3; k++) {
        const int b = 3 * i + k;
        r |= ((rw[b >> 2] >> ((b & 3) * 8)) & 0xffu) << (8 * k);
    }
    return r;
}

// Code (0..7) of weight i = pair p, half h: for p < 15 three adjacent bits of word p % 3 at h*16 + 3*(p/3);
// for p = 15 bit h*16 + 15 of words 0, 1, 2.
__device__ __forceinline__ u32 fm_code(u32 c0, u32 c1, u32 c2, int i) {
    const int p = i >> 1, h = i & 1;
    if (p == 15) {
        const int b = h * 16 + 15;
        return ((c0 >> b) & 1u) | (((c1 >> b) & 1u) << 1) | (((c2 >> b) & 1u) << 2);
    }
    const u32 c = p % 3 == 0 ? c0 : (p % 3 == 1 ? c1 : c2);
    return (c >> (h * 16 + 3 * (p / 3))) & 7u;
}

// Output element of R rest bytes (F16 or F32) and a store of four consecutive columns.
template <int R> struct fm_wide_out;
template <> struct fm_wide_out<2> {
    typedef u16 type;
    static __device__ __forceinline__ void store4(u16* d, const u32 (&v)[4]) {
        *reinterpret_cast<uint2*>(d) = make_uint2(v[0] | (v[1] << 16), v[2] | (v[3] << 16));
    }
};
template <> struct fm_wide_out<3> {
    typedef u32 type;
    static __device__ __forceinline__ void store4(u32* d, const u32 (&v)[4]) {
        *reinterpret_cast<uint4*>(d) = make_uint4(v[0], v[1], v[2], v[3]);
    }
};

template <int R>
__device__ __forceinline__ void fm_decode_wide(const FmDecodeParams& p) {
    typedef typename fm_wide_out<R>::type elem;
    __shared__ __align__(16) u32 xb[FM_DECODE_WARPS][256];  // lane l's XOR bytes of weights 4k .. 4k + 3 at word 8 l + k
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const FmFixed& d = p.m;
    const u32 tw = fm_table_word(d, lane);
    u32* xw = &xb[warp][0];
    const int T = (d.cols + 127) / 128;
    const long long total = (long long)(p.rg1 - p.rg0) * T;
    const long long warps = (long long)gridDim.x * FM_DECODE_WARPS;
    elem* out = reinterpret_cast<elem*>(p.out);
    // 4 consecutive columns in one store when every row start is aligned for it
    const bool vec = (d.cols & 3) == 0 && ((u64)p.out & (4 * sizeof(elem) - 1)) == 0;
    for (long long w = (long long)blockIdx.x * FM_DECODE_WARPS + warp; w < total; w += warps) {
        const int g = p.rg0 + (int)(w / T), t = (int)(w % T);
        const long long tile = (long long)g * T + t;
        const u8* tp = d.tiles + tile * (1024 * R + 384);
        const u32 c0 = fm_ld4(tp + 1024 * R + 4 * lane), c1 = fm_ld4(tp + 1024 * R + 128 + 4 * lane), c2 = fm_ld4(tp + 1024 * R + 256 + 4 * lane);
        u32 first, n;
        fm_tile_entries(d, tile, first, n);
        *reinterpret_cast<uint4*>(xw + 8 * lane) = make_uint4(0u, 0u, 0u, 0u);
        *reinterpret_cast<uint4*>(xw + 8 * lane + 4) = make_uint4(0u, 0u, 0u, 0u);
        __syncwarp();
        for (u32 k = 0; k < n; k += 32) {  // entry k + lane: its delta into byte i of lane L's words
            const bool v = k + lane < n;
            const u32 e = v ? (u32)__ldg(fm_entries(d) + first + k + lane) : 0u;
            const u32 slot = e >> 10, L = (e & 1023u) >> 5, i = e & 31u;
            const u32 delta = fm_table_delta(tw, slot);
            if (v) atomicXor(xw + 8 * L + (i >> 2), delta << ((i & 3u) * 8u));
        }
        __syncwarp();
        const uint4 x0 = *reinterpret_cast<const uint4*>(xw + 8 * lane), x1 = *reinterpret_cast<const uint4*>(xw + 8 * lane + 4);
        const u32 xr[8] = {x0.x, x0.y, x0.z, x0.w, x1.x, x1.y, x1.z, x1.w};
        u32 rw[8 * R];
#pragma unroll
        for (int k = 0; k < 2 * R; k++) {  // weights 0..15 at 16R*lane, 16..31 at 512R + 16R*lane
            const uint4 q = fm_ld16(tp + 512 * R * (k / R) + 16 * R * lane + 16 * (k % R));
            rw[4 * k] = q.x; rw[4 * k + 1] = q.y; rw[4 * k + 2] = q.z; rw[4 * k + 3] = q.w;
        }
        const int col = t * 128 + lane * 4;
#pragma unroll
        for (int r = 0; r < 8; r++) {
            u32 v[4];
#pragma unroll
            for (int c = 0; c < 4; c++) {
                const int i = r * 4 + c;
                const u32 ex = (d.base + fm_code(c0, c1, c2, i)) ^ ((xr[i >> 2] >> ((i & 3) * 8)) & 0xffu);
                v[c] = join_wide<R>(ex, fm_wide_rest<R>(rw, i));
            }
            const int row = g * 8 + r;
            if (row >= d.rows || col >= d.cols) continue;
            elem* dst = out + (long long)(row - p.rg0 * 8) * d.cols + col;
            if (vec) {
                fm_wide_out<R>::store4(dst, v);
            } else {
#pragma unroll
                for (int c = 0; c < 4; c++)
                    if (col + c < d.cols) dst[c] = (elem)v[c];
            }
        }
    }
}

extern "C" __global__ void __launch_bounds__(FM_DECODE_WARPS * 32) fixed_decode_f16(const FmDecodeParams p) { fm_decode_wide<2>(p); }
extern "C" __global__ void __launch_bounds__(FM_DECODE_WARPS * 32) fixed_decode_f32(const FmDecodeParams p) { fm_decode_wide<3>(p); }

// ------------------------------------------------------------------ embedding rows from fixed tiles
// out[i][:] = W[tokens[i]][:] as FP32 (i < count): the embedding stays compressed. grid (T, count), one warp
// per block: it decodes tile t of the token's 8-row group (fm_decode_fixed) and keeps the token's row.
struct FmEmbedParams {
    FmFixed m;  // the embedding table
    const int* tokens;
    float* out;
    int count;
};

extern "C" __global__ void __launch_bounds__(32) fixed_embed(const FmEmbedParams p) {
    __shared__ __align__(16) u32 stage[512];
    const int lane = threadIdx.x, t = blockIdx.x, i = blockIdx.y;
    const FmFixed& d = p.m;
    const int tok = p.tokens[i], T = (d.cols + 127) / 128, r = tok & 7;
    const long long tile = (long long)(tok >> 3) * T + t;
    u32 first, n;
    fm_tile_entries(d, tile, first, n);
    FmFixedFrag f;
    fm_load(d, tile, lane, first, n, f);
    fm_decode_fixed(d, f, first, n, fm_table_word(d, lane), stage, lane);
    const u32* sl = stage + lane * 4;
    const u32 lo = sl[(r >> 1) * 128 + 2 * (r & 1)], hi = sl[(r >> 1) * 128 + 2 * (r & 1) + 1];
    const int col = t * 128 + lane * 4;
    float* o = p.out + (long long)i * d.cols + col;
    if (col < d.cols) o[0] = __uint_as_float(lo << 16);
    if (col + 1 < d.cols) o[1] = __uint_as_float(lo & 0xffff0000u);
    if (col + 2 < d.cols) o[2] = __uint_as_float(hi << 16);
    if (col + 3 < d.cols) o[3] = __uint_as_float(hi & 0xffff0000u);
}
