// GPU decoder for the `fixed` codec (docs/FORMAT.md): 4x256 tiles, 3-bit exponent codes in three bit
// planes, raw sign/mantissa bytes, escapes in a per-tensor byte stream. BF16 only.
// FixedDec is a matvec decoder policy (fused decode + matvec, bit-identical to the raw BF16 path over
// the decoded tensor); fixed_decode writes the decoded rows to a scratch buffer.
#include "matvec.cuh"

#define FX_TILE_BYTES 1408   // 32 lanes x (32 rest bytes + 3 plane words)

struct FixedDec
{
#ifndef MV_UNROLL_FX
#define MV_UNROLL_FX 4
#endif
    static const int UNROLL = MV_UNROLL_FX;
    struct Frag { uint4 a, b; u32 p0, p1, p2, esc_start; };

    const u8* group;        // first tile of this row group
    const u32* esc_starts;  // per tile
    const u8* esc;
    u64 table;
    int tiles;              // tiles per row group
    int last_lanes;
    int tile0;              // index of this row group's first tile

    __device__ FixedDec(const MvSeg& s, int cols, int row0)
    {
        const u8* blob = (const u8*)s.w;
        tiles = (int)__ldg((const u32*)(blob + 24));
        last_lanes = (int)__ldg((const u32*)(blob + 28));
        long long rg_bytes = (long long)__ldg((const u64*)(blob + 32));
        long long tiles_off = (long long)__ldg((const u64*)(blob + 40));
        esc_starts = (const u32*)(blob + __ldg((const u64*)(blob + 48)));
        esc = blob + __ldg((const u64*)(blob + 56));
        table = __ldg((const u64*)(blob + 80));
        int rg = row0 / 4;
        group = blob + tiles_off + rg * rg_bytes;
        tile0 = rg * tiles;
    }

    __device__ __forceinline__ void fetch(int t, int lane, Frag& f) const
    {
        int lanes = t == tiles - 1 ? last_lanes : 32;
        f.esc_start = 0;
        if (t >= tiles || lane >= lanes)
        {
            f.a = make_uint4(0, 0, 0, 0); f.b = f.a; f.p0 = f.p1 = f.p2 = 0;
            if (t < tiles) f.esc_start = __ldg(esc_starts + tile0 + t);
            return;
        }
        const u8* tile = group + (long long)t * FX_TILE_BYTES;
        f.a = __ldg((const uint4*)(tile + 32 * lane));
        f.b = __ldg((const uint4*)(tile + 32 * lane + 16));
        const u32* planes = (const u32*)(tile + 32 * lanes);
        f.p0 = __ldg(planes + lane);
        f.p1 = __ldg(planes + lanes + lane);
        f.p2 = __ldg(planes + 2 * lanes + lane);
        f.esc_start = __ldg(esc_starts + tile0 + t);
    }

    // Calls f(j, bits32) for the lane's 32 weights, j = row * 8 + column, with bits32 the weight as F32 bits
    // (= BF16 bits << 16). All 32 lanes must call this together (warp prefix sum of escape counts).
    // Exponents come from the code table by byte permutes, four at a time; a lane's escapes (usually
    // 0..2) are read as one 8-byte window and selected by byte permute too; beyond 8 it reads bytes.
    template <class F>
    __device__ __forceinline__ void decode_each(const Frag& f, F&& emit) const
    {
        u32 mask = f.p0 & f.p1 & f.p2;
        int count = __popc(mask);
        int lane = threadIdx.x & 31;
        int incl = count;
        if (__any_sync(0xffffffffu, count != 0))
        {
#pragma unroll
            for (int o = 1; o < 32; o <<= 1)
            {
                int v = __shfl_up_sync(0xffffffffu, incl, o);
                if (lane >= o) incl += v;
            }
        }
        const u8* my_esc = esc + f.esc_start + (incl - count);
        u32 e_lo = 0, e_hi = 0;
        if (count > 0)
        {
            const u32* w = (const u32*)((u64)my_esc & ~(u64)3);
            u32 sh = ((u32)(u64)my_esc & 3u) * 8u;
            u32 w0 = w[0], w1 = w[1], w2 = w[2];
            e_lo = __funnelshift_r(w0, w1, sh);
            e_hi = __funnelshift_r(w1, w2, sh);
        }
        u32 t_lo = (u32)table, t_hi = (u32)(table >> 32) & 0x00ffffffu; // code 7 reads 0; escapes are patched in
        u32 rest[8] = {f.a.x, f.a.y, f.a.z, f.a.w, f.b.x, f.b.y, f.b.z, f.b.w};
#pragma unroll
        for (int q = 0; q < 8; ++q)
        {
            // Weights j = 4q .. 4q+3: their 3-bit codes become the four nibbles of a byte-permute selector
            // that picks their four exponent bytes out of the 8-byte table at once.
            const int j0 = 4 * q;
            u32 sel = spread4(f.p0 >> j0) | (spread4(f.p1 >> j0) << 1) | (spread4(f.p2 >> j0) << 2);
            u32 e4 = __byte_perm(t_lo, t_hi, sel);
            u32 m4 = (mask >> j0) & 0xfu;
            if (m4)
            {
#pragma unroll
                for (int k = 0; k < 4; ++k)
                    if ((m4 >> k) & 1u)
                    {
                        u32 idx = __popc(mask & ((1u << (j0 + k)) - 1u));
                        u32 e = idx < 8 ? __byte_perm(e_lo, e_hi, idx) & 0xffu : (u32)my_esc[idx];
                        e4 = (e4 & ~(0xffu << (8 * k))) | (e << (8 * k));
                    }
            }
            // Two BF16 weights per 32-bit word: sign | exponent | mantissa.
            u32 ea = __byte_perm(e4, 0u, 0x5150u), ra = __byte_perm(rest[q], 0u, 0x5150u);
            u32 eb = __byte_perm(e4, 0u, 0x5352u), rb = __byte_perm(rest[q], 0u, 0x5352u);
            u32 pa = ((ra & 0x00800080u) << 8) | (ea << 7) | (ra & 0x007f007fu);
            u32 pb = ((rb & 0x00800080u) << 8) | (eb << 7) | (rb & 0x007f007fu);
            emit(j0, pa << 16);
            emit(j0 + 1, pa & 0xffff0000u);
            emit(j0 + 2, pb << 16);
            emit(j0 + 3, pb & 0xffff0000u);
        }
    }

    // Bits 0..3 of x moved to bits 0, 4, 8, 12.
    static __device__ __forceinline__ u32 spread4(u32 x)
    {
        x &= 0xfu;
        x = (x | (x << 6)) & 0x0303u;
        return (x | (x << 3)) & 0x1111u;
    }

    __device__ __forceinline__ void decode_bits(const Frag& f, u16 out[32]) const
    {
        decode_each(f, [&](int j, u32 bits) { out[j] = (u16)(bits >> 16); });
    }

    __device__ __forceinline__ void decode(const Frag& f, float w[4][8]) const
    {
        decode_each(f, [&](int j, u32 bits) { w[j >> 3][j & 7] = __uint_as_float(bits); });
    }
};

extern "C" __global__ void __launch_bounds__(128) matvec_fixed(const MatvecParams p) { matvec<FixedDec>(p); }

// Decodes row groups [rg0, rg1) of a fixed blob into out (row-major BF16, rows 4*rg0 .. of the tensor,
// unpadded: out[(row - 4*rg0) * cols + col]). One warp per tile.
struct FixedDecodeParams { const u8* blob; u16* out; int rows; int cols; int rg0; int rg1; };

extern "C" __global__ void fixed_decode(const FixedDecodeParams p)
{
    MvSeg s;
    s.w = p.blob;
    int tiles = (int)__ldg((const u32*)(p.blob + 24));
    int lane = threadIdx.x & 31;
    long long total = (long long)(p.rg1 - p.rg0) * tiles;
    long long warps = (long long)gridDim.x * (blockDim.x >> 5);
    bool vec = (p.cols & 7) == 0;
    for (long long w = blockIdx.x * (long long)(blockDim.x >> 5) + (threadIdx.x >> 5); w < total; w += warps)
    {
        int rg = p.rg0 + (int)(w / tiles), t = (int)(w % tiles);
        FixedDec d(s, p.cols, rg * 4);
        FixedDec::Frag f;
        d.fetch(t, lane, f);
        u16 bits[32];
        d.decode_bits(f, bits);
        int col = t * 256 + lane * 8;
#pragma unroll
        for (int r = 0; r < 4; ++r)
        {
            int row = rg * 4 + r;
            if (row >= p.rows || col >= p.cols) continue;
            u16* dst = p.out + (long long)(row - p.rg0 * 4) * p.cols + col;
            if (vec)
            {
                uint4 v;
                v.x = bits[r * 8 + 0] | ((u32)bits[r * 8 + 1] << 16);
                v.y = bits[r * 8 + 2] | ((u32)bits[r * 8 + 3] << 16);
                v.z = bits[r * 8 + 4] | ((u32)bits[r * 8 + 5] << 16);
                v.w = bits[r * 8 + 6] | ((u32)bits[r * 8 + 7] << 16);
                *(uint4*)dst = v;
            }
            else
            {
#pragma unroll
                for (int c = 0; c < 8; ++c)
                    if (col + c < p.cols) dst[c] = bits[r * 8 + c];
            }
        }
    }
}
