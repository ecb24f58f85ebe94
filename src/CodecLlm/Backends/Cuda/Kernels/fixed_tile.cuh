// The `fixed` BF16 tile as the GPU reads it (docs/FORMAT.md, "fixed", layout version 4): the sections, the loads
// that bypass L1, and the per-lane decode of a tile into shared-memory staging words (fm_decode_fixed) with the
// tile's exception entries applied by the whole warp (fm_patch), shared by the fused matvec (fused_matvec.cu) and the
// decoders to scratch and the embedding gather (fixed_decode.cu).
#pragma once
#include "common.cuh"

#define FM_TILE_BYTES 1408

struct FmFixed {  // `fixed` layout sections
    const u8* tiles;       // G*T tiles of 1408 bytes
    const u32* tile_off;   // G*T + 1 exception entry offsets (entries before each tile)
    const u8* esc;         // the exception section: 64-byte XOR delta table, then u16 entries (+ 8 padding bytes)
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
// ent: entry number `lane` of the tile's exceptions (0 when the tile has no more than `lane` entries); first, n: the
// tile's exception entries (entries first .. first + n - 1 of the matrix), the same in every lane.
struct FmFixedFrag { uint4 s0, s1; u32 c0, c1, c2, ent, first, n; };

__device__ __forceinline__ const u16* fm_entries(const FmFixed& d) { return reinterpret_cast<const u16*>(d.esc + 64); }

// The warp's copy of the delta table: lane l < 16 holds table bytes 4l .. 4l + 3 (read by shuffle in fm_patch).
__device__ __forceinline__ u32 fm_table_word(const FmFixed& d, int lane) {
    return lane < 16 ? __ldg(reinterpret_cast<const u32*>(d.esc) + lane) : 0u;
}

// Tile `tile`'s exception entries: entries first .. first + n - 1 of the matrix (the tile offsets are entry counts).
__device__ __forceinline__ void fm_tile_entries(const FmFixed& d, long long tile, u32& first, u32& n) {
    first = __ldg(d.tile_off + tile);
    n = __ldg(d.tile_off + tile + 1) - first;
}

// A tile's words of this lane (p16 = the tile's first byte + 16 lane, p4 = the same + 4 lane), and entry first + lane of
// its n exception entries (ent = the matrix's entries + lane).
__device__ __forceinline__ void fm_load_at(const u8* p16, const u8* p4, const u16* ent, int lane, u32 first, u32 n, FmFixedFrag& f) {
    f.s0 = fm_ld16(p16);        // weights 0..15: the warp's load reads bytes 0..511, whole sectors
    f.s1 = fm_ld16(p16 + 512);  // weights 16..31
    f.c0 = fm_ld4(p4 + 1024);
    f.c1 = fm_ld4(p4 + 1152);
    f.c2 = fm_ld4(p4 + 1280);
    f.ent = (u32)lane < n ? (u32)__ldg(ent + first) : 0u;
    f.first = first;
    f.n = n;
}

// Tile `tile`'s words of this lane, and entry first + lane of its n exception entries.
__device__ __forceinline__ void fm_load(const FmFixed& d, long long tile, int lane, u32 first, u32 n, FmFixedFrag& f) {
    const u8* tp = d.tiles + tile * FM_TILE_BYTES;
    fm_load_at(tp + 16 * lane, tp + 4 * lane, fm_entries(d) + lane, lane, first, n, f);
}

// A warp's walk along its tiles t0, t0 + 1, ... of one row group (the fused matvec): one pointer and lane k <= n holding
// the entry offset of tile t0 + k (`off`), so a tile's entry range is two shuffles and its words an offset from p16.
struct FmFixedWarp {
    const u8* p16;  // tile t0's first byte + 16 lane
    u32 off;
};

__device__ __forceinline__ void fm_warp_begin(const FmFixed& d, long long tile0, int n, int lane, FmFixedWarp& c) {
    c.p16 = d.tiles + tile0 * FM_TILE_BYTES + 16 * lane;
    c.off = lane <= n ? __ldg(d.tile_off + tile0 + lane) : 0u;
}

// Tile t0 + k of the warp's walk (k < n; all 32 lanes call it: shuffles).
__device__ __forceinline__ void fm_warp_load(const FmFixed& d, const FmFixedWarp& c, int k, int lane, FmFixedFrag& f) {
    const u32 first = __shfl_sync(0xffffffffu, c.off, k);
    const u32 n = __shfl_sync(0xffffffffu, c.off, k + 1) - first;
    const u8* p16 = c.p16 + k * FM_TILE_BYTES;
    fm_load_at(p16, p16 - 12 * lane, fm_entries(d) + lane, lane, first, n, f);
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

// Byte `slot` of the delta table: from the warp's copy in the lanes (fm_table_word; all 32 lanes call it: a shuffle) or
// from a copy in shared memory (FmSmemTable, fm_table_to_smem).
__device__ __forceinline__ u32 fm_table_delta(u32 tw, u32 slot) {
    return (__shfl_sync(0xffffffffu, tw, (int)(slot >> 2)) >> ((slot & 3u) * 8u)) & 0xffu;
}
struct FmSmemTable { const u8* b; };
__device__ __forceinline__ u32 fm_table_delta(FmSmemTable t, u32 slot) { return t.b[slot]; }

// The warp's copy of the delta table (fm_table_word in lane l < 16) stored at dst (16 words); the warp's later reads see it.
__device__ __forceinline__ FmSmemTable fm_table_to_smem(u32 tw, u32* dst, int lane) {
    if (lane < 16) dst[lane] = tw;
    __syncwarp();
    return FmSmemTable{reinterpret_cast<const u8*>(dst)};
}

// Applies one exception entry (when `valid`) to the warp's staging words `sw` (lane L's pair p at
// sw[(p >> 2) * 128 + 4 L + (p & 3)]): the exponent field of weight i = 2p + h of lane L, bits 16h + 7 .. 16h + 14 of
// the pair word, XOR table[slot]. Shared-memory atomics: two entries may hit one word. All 32 lanes call it (shuffle).
template <class Tbl>
__device__ __forceinline__ void fm_patch(u32 e, bool valid, Tbl tw, u32* sw) {
    const u32 slot = e >> 10, pos = e & 1023u, L = pos >> 5, i = pos & 31u, p = i >> 1;
    const u32 delta = fm_table_delta(tw, slot);
    if (valid) atomicXor(sw + (p >> 2) * 128 + 4 * L + (p & 3), delta << (((i & 1u) << 4) + 7u));
}

// The tile's exception entries applied to the warp's staging words (entries first .. first + n - 1; the first 32 are
// in the lanes' f.ent). n is the same in every lane; all 32 lanes call it.
template <class Tbl>
__device__ __forceinline__ void fm_patch_tile(const FmFixed& d, u32 ent, u32 first, u32 n, Tbl tw, u32* sw, int lane) {
    if (n == 0) return;
    __syncwarp();  // every lane's staging words written
    fm_patch(ent, (u32)lane < n, tw, sw);
    for (u32 k = 32; k < n; k += 32) {  // more than 32 exceptions in a tile: rare
        const bool v = k + lane < n;
        fm_patch(v ? (u32)__ldg(fm_entries(d) + first + k + lane) : 0u, v, tw, sw);
    }
    __syncwarp();  // every entry applied before a lane reads its words back
}

// Decodes a lane's 32 weights into its staging words (pair p at sl[(p>>2)*128 + (p&3)], sl = sw + 4 lane) and applies
// the tile's exception entries there (entries first .. first + n - 1 of the matrix). All 32 lanes call it together.
template <class Tbl>
__device__ __forceinline__ void fm_decode_fixed(const FmFixed& d, const FmFixedFrag& f, u32 first, u32 n, Tbl tw, u32* sw, int lane) {
    const u32 c0 = f.c0, c1 = f.c1, c2 = f.c2;
    const u32 s[8] = {f.s0.x, f.s0.y, f.s0.z, f.s0.w, f.s1.x, f.s1.y, f.s1.z, f.s1.w};
    const u32 base2 = (d.base << 7) | (d.base << 23);
    u32* sl = sw + 4 * lane;
    *reinterpret_cast<uint4*>(sl + 0) = make_uint4(fm_pair<0>(s, c0, c1, c2, base2), fm_pair<1>(s, c0, c1, c2, base2),
                                                   fm_pair<2>(s, c0, c1, c2, base2), fm_pair<3>(s, c0, c1, c2, base2));
    *reinterpret_cast<uint4*>(sl + 128) = make_uint4(fm_pair<4>(s, c0, c1, c2, base2), fm_pair<5>(s, c0, c1, c2, base2),
                                                     fm_pair<6>(s, c0, c1, c2, base2), fm_pair<7>(s, c0, c1, c2, base2));
    *reinterpret_cast<uint4*>(sl + 256) = make_uint4(fm_pair<8>(s, c0, c1, c2, base2), fm_pair<9>(s, c0, c1, c2, base2),
                                                     fm_pair<10>(s, c0, c1, c2, base2), fm_pair<11>(s, c0, c1, c2, base2));
    *reinterpret_cast<uint4*>(sl + 384) = make_uint4(fm_pair<12>(s, c0, c1, c2, base2), fm_pair<13>(s, c0, c1, c2, base2),
                                                     fm_pair<14>(s, c0, c1, c2, base2), fm_pair<15>(s, c0, c1, c2, base2));
    fm_patch_tile(d, f.ent, first, n, tw, sw, lane);
}

// The same with the tile's entry range as its fragment carries it (the fused matvec, and the decoder to scratch since its
// two register sets replaced a fragment copy a tile in session 16; the embedding gather passes its range itself).
template <class Tbl>
__device__ __forceinline__ void fm_decode_fixed(const FmFixed& d, const FmFixedFrag& f, Tbl tw, u32* sw, int lane) {
    fm_decode_fixed(d, f, f.first, f.n, tw, sw, lane);
}
