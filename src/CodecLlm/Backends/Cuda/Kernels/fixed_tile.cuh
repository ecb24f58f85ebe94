// The `fixed` BF16 tile as the GPU reads it (docs/FORMAT.md, "fixed", layout version 3): the sections, the loads
// that bypass L1, and the per-lane decode of a tile into shared-memory staging words (fm_decode_fixed), shared by
// the fused matvec (fused_matvec.cu) and the decoders to scratch and the embedding gather (fixed_decode.cu).
#pragma once
#include "common.cuh"

#define FM_TILE_BYTES 1408

struct FmFixed {  // `fixed` layout sections
    const u8* tiles;       // G*T tiles of 1408 bytes
    const u32* tile_off;   // G*T + 1 escape offsets
    const u8* esc;         // escape bytes (+ 8 padding bytes)
    int rows, cols;
    u32 base;              // exponent of code 0 (<= 248)
};

__device__ __forceinline__ uint4 fm_ld16(const void* p) {
    uint4 r;
    asm("ld.global.nc.L1::no_allocate.v4.u32 {%0,%1,%2,%3}, [%4];" : "=r"(r.x), "=r"(r.y), "=r"(r.z), "=r"(r.w) : "l"(p));
    return r;
}
__device__ __forceinline__ u32 fm_ld4(const void* p) {
    u32 r;
    asm("ld.global.nc.L1::no_allocate.u32 %0, [%1];" : "=r"(r) : "l"(p));
    return r;
}

// ------------------------------------------------------------------ fixed decoder
struct FmFixedFrag { uint4 s0, s1; u32 c0, c1, c2; };

__device__ __forceinline__ void fm_load(const FmFixed& d, long long tile, int lane, FmFixedFrag& f) {
    const u8* tp = d.tiles + tile * FM_TILE_BYTES;
    f.s0 = fm_ld16(tp + 16 * lane);        // weights 0..15: the warp's load reads bytes 0..511, whole sectors
    f.s1 = fm_ld16(tp + 512 + 16 * lane);  // weights 16..31
    f.c0 = fm_ld4(tp + 1024 + 4 * lane);
    f.c1 = fm_ld4(tp + 1152 + 4 * lane);
    f.c2 = fm_ld4(tp + 1280 + 4 * lane);
}

// Bit e = h*16 + p set when weight (pair p, half h) has code 7 (escape).
__device__ __forceinline__ u32 fm_escape_mask(u32 c0, u32 c1, u32 c2) {
    const u32 F = 0x12491249u;
    const u32 e0 = c0 & (c0 >> 1) & (c0 >> 2) & F;
    const u32 e1 = c1 & (c1 >> 1) & (c1 >> 2) & F;
    const u32 e2 = c2 & (c2 >> 1) & (c2 >> 2) & F;
    return e0 | (e1 << 1) | (e2 << 2) | (c0 & c1 & c2 & 0x80008000u);
}

// Pair P's two codes moved to bits 7..9 and 23..25.
template <int P>
__device__ __forceinline__ u32 fm_pair_codes(u32 c0, u32 c1, u32 c2) {
    if (P == 15) return ((c0 >> 8) & 0x00800080u) | ((c1 >> 7) & 0x01000100u) | ((c2 >> 6) & 0x02000200u);
    const int W = P % 3, F = 3 * (P / 3);
    const u32 c = W == 0 ? c0 : (W == 1 ? c1 : c2);
    const u32 s = F <= 7 ? (c << ((7 - F) & 31)) : (c >> ((F - 7) & 31));
    return s & 0x03800380u;
}

// bf16x2 word of pair P: sign/mantissa bytes placed by PRMT, exponents = codes + base (no carries).
template <int P>
__device__ __forceinline__ u32 fm_pair(const u32 (&s)[8], u32 c0, u32 c1, u32 c2, u32 base2) {
    const u32 w = s[P >> 1], m = w & 0x7f7f7f7fu, g = w & 0x80808080u;
    const u32 sm = __byte_perm(m, g, (P & 1) ? 0x7362 : 0x5140);
    return sm + fm_pair_codes<P>(c0, c1, c2) + base2;
}

__device__ __forceinline__ u32 fm_incl_scan(u32 v) {
#pragma unroll
    for (int d = 1; d < 32; d <<= 1)
        asm("{ .reg .u32 fxr; .reg .pred fxp; shfl.sync.up.b32 fxr|fxp, %1, %2, 0, 0xffffffff; @fxp add.u32 fxr, fxr, %1; mov.u32 %0, fxr; }"
            : "=r"(v) : "r"(v), "r"(d));
    return v;
}

// Decodes a lane's 32 weights into its staging words (pair p at sl[(p>>2)*128 + (p&3)]) and patches the
// escapes there (their positions are known only at run time). All 32 lanes call it together (warp scan).
__device__ __forceinline__ void fm_decode_fixed(const FmFixed& d, const FmFixedFrag& f, u32 toff, u32* sl) {
    const u32 c0 = f.c0, c1 = f.c1, c2 = f.c2;
#ifdef FM_TIMING_NO_ESC  // timing only (wrong results): the escape mask, scan and patch skipped
    const u32 E = 0u;
    const u32 off = toff;
#else
    const u32 E = fm_escape_mask(c0, c1, c2);
    const u32 cnt = __popc(E);
    const u32 off = toff + fm_incl_scan(cnt) - cnt;  // this lane's first escape byte
#endif
    const u32 s[8] = {f.s0.x, f.s0.y, f.s0.z, f.s0.w, f.s1.x, f.s1.y, f.s1.z, f.s1.w};
    const u32 base2 = (d.base << 7) | (d.base << 23);
    *reinterpret_cast<uint4*>(sl + 0) = make_uint4(fm_pair<0>(s, c0, c1, c2, base2), fm_pair<1>(s, c0, c1, c2, base2),
                                                   fm_pair<2>(s, c0, c1, c2, base2), fm_pair<3>(s, c0, c1, c2, base2));
    *reinterpret_cast<uint4*>(sl + 128) = make_uint4(fm_pair<4>(s, c0, c1, c2, base2), fm_pair<5>(s, c0, c1, c2, base2),
                                                     fm_pair<6>(s, c0, c1, c2, base2), fm_pair<7>(s, c0, c1, c2, base2));
    *reinterpret_cast<uint4*>(sl + 256) = make_uint4(fm_pair<8>(s, c0, c1, c2, base2), fm_pair<9>(s, c0, c1, c2, base2),
                                                     fm_pair<10>(s, c0, c1, c2, base2), fm_pair<11>(s, c0, c1, c2, base2));
    *reinterpret_cast<uint4*>(sl + 384) = make_uint4(fm_pair<12>(s, c0, c1, c2, base2), fm_pair<13>(s, c0, c1, c2, base2),
                                                     fm_pair<14>(s, c0, c1, c2, base2), fm_pair<15>(s, c0, c1, c2, base2));
    if (E) {
        const u32 a = off & ~3u;
        const u32 w0 = __ldg(reinterpret_cast<const u32*>(d.esc + a));
        const u32 w1 = __ldg(reinterpret_cast<const u32*>(d.esc + a + 4));
        // escape bytes XOR (base+7): XOR-ing the field turns exponent base+7 (code 7) into the escape byte
        u32 X = __funnelshift_r(w0, w1, (off & 3) * 8) ^ ((d.base + 7) * 0x01010101u);
        u32 e = E;
        int k = 0;
        do {
            const int b = __ffs(e) - 1;
            e &= e - 1;
            u32 byte = X & 0xffu;
            X >>= 8;
            if (k >= 4) byte = d.esc[off + k] ^ (d.base + 7);  // more than 4 escapes in a lane: rare
            k++;
            sl[((b & 12) << 5) + (b & 3)] ^= byte << ((b & 16) | 7);
        } while (e);
    }
}
