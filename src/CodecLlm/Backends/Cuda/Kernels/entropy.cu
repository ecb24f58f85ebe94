// GPU decoder for the `entropy` codec (docs/FORMAT.md): canonical Huffman exponent codes in 32 interleaved
// lane streams per group, raw sign/mantissa plane. BF16 (F16 and F32: en_decode_wide, at the end of the file).
// One warp per block and group; the decode
// table (2^L u32 entries, built by the host from the code lengths: GpuDecoders.EntropyTable) sits in
// shared memory. One launch decodes up to four tensors (their groups numbered one after another).
//
// A lane's stream is a serial chain (table lookup -> shift -> next lookup), and a [5632, 2048] tensor has
// only 11,264 of them, so every memory access is kept off that chain, and no register that a global load
// writes is read by a per-symbol instruction: the warp's loads are issued together once per chunk and used
// a chunk later (a per-lane load in the symbol loop, issued by a few lanes at a time, made every lane wait
// for it: the register scoreboard is the warp's).
// - The group is decoded in chunks of 1024 elements (32 symbols per lane). Each lane writes its decoded
//   table entries to shared memory; the warp then joins the chunk with its sign/mantissa bytes (loaded,
//   8 per lane and coalesced, before the chunk's decode): each lane builds 8 consecutive BF16 at a time
//   and writes them with one 16-byte store.
// - Stream words come from a per-lane window in shared memory (64 words): a chunk of 32 symbols needs at
//   most L <= 15 refills, so the words [p, p + 33) from the lane's next word p at a chunk's start cover
//   that chunk and the next; they are loaded (9 x 16 bytes per lane) at the chunk's start and stored into
//   the window at its end. A refill takes the word loaded from the window at the previous refill and
//   loads the next one (a shared-memory load, finished long before a lane's next refill).
// - The next table index is taken from the shifted buffer before the refill (the refill only adds bits
//   below the L bits that the index reads).
// - EN_PAIRS (default): one table lookup decodes two symbols whenever both codes fit in the L bits it reads
//   (the host's table holds the pair), so a lane's chain of lookups is about half as long. A lane decodes
//   exactly 32 symbols a chunk: it takes a pair only while it has room for two.
// Partial chunks (the last group's tail, K not a multiple of 32) and outputs not 16-byte aligned take
// element-by-element paths.
#include "common.cuh"

// Groups [first_group, first_group + groups) of a tensor; out points where element 0 would go.
struct EntropyTensor { const u8* blob; const u32* table; u16* out; int groups; int group_start; int first_group; };
struct EntropyParams { EntropyTensor t[4]; int count; int total_groups; };

#define EN_CHUNK 1024  // elements per chunk: 32 symbols of each of the 32 lanes
#define EN_WIN_VECS 9   // 16-byte loads per lane and chunk: words [p & ~3, (p & ~3) + 36) include [p, p + 2·15 + 3)
#define EN_RING_VECS 16 // the window: 16 x 4 words per lane, 16-byte granule g of lane t at [g][t]

// One lane's bit reader: hi:lo holds the next stream bits, most significant first; avail of them are valid.
// nw = stream word k, the next refill, loaded from the window (ring) at the previous refill.
struct EnLane
{
    u32 hi, lo;
    int avail;
    u32 nw, k;
};

// Word k of this lane's window (ring points at the lane's first word: granule 0 of lane t).
__device__ __forceinline__ u32 en_ring_word(const u32* ring, u32 k)
{
    return ring[((k >> 2) & (EN_RING_VECS - 1)) * 128 + (k & 3)];
}

// EN_LOOKUP_AHEAD=1 (default): a symbol's step issues the next symbol's table lookup before its refill, so that the
// lookup latency overlaps the refill instead of following it (checked bit for bit by dev/cuda/entropy_emul.cpp; H100,
// session 20: one tensor a launch 281 -> 344-348 GB/s, four 519 -> 632-635 on TinyLlama's [5632, 2048]; TinyLlama
// `entropy` decode to scratch 206 -> 240 tok/s). 0 (CODECLLM_NVRTC_DEFINES=-DEN_LOOKUP_AHEAD=0): the lookup after it.
#ifndef EN_LOOKUP_AHEAD
#define EN_LOOKUP_AHEAD 1
#endif
// EN_PAIRS=1 (default): full chunks take two symbols a lookup where the table entry holds two (0: one symbol a step).
#ifndef EN_PAIRS
#define EN_PAIRS 1
#endif
// EN_BRANCHLESS=1 (default): the refill is computed at every step and selected (no divergent branch); 0: a branch.
#ifndef EN_BRANCHLESS
#define EN_BRANCHLESS 1
#endif

// Table entry (u32, GpuDecoders.EntropyTable): bits 0..4 the bits that the whole entry consumes (one code, or both
// codes of a pair), 8..15 the first symbol, 16..23 the second, 24..27 the first code's length, bit 31 = a pair.
// The bit buffer is shifted by the entry itself (a funnel shift uses the low 5 bits of its shift amount).

// Shifts the lane's bit buffer by sh & 31 bits, takes the next table index (EN_LOOKUP_AHEAD: entry), refills.
__device__ __forceinline__ void en_advance(EnLane& s, const u32* tab, const u32* ring, u32& nxt, u32 shr, u32 sh)
{
    s.hi = __funnelshift_l(s.lo, s.hi, sh);
    s.lo = __funnelshift_l(0u, s.lo, sh);
    nxt = s.hi >> shr;                        // top L bits: valid (avail >= 18 >= L) before the refill
    if (EN_LOOKUP_AHEAD) nxt = tab[nxt];
    s.avail -= (int)(sh & 31u);
    if (EN_BRANCHLESS)
    {
        const u32 rf = s.avail <= 32 ? 1u : 0u;
        const u32 w = rf ? s.nw : 0u;
        const u32 rs = (32u - (u32)s.avail) & 31u;
        s.lo |= w << rs;
        s.hi |= __funnelshift_l(w, 0u, rs);
        s.avail += (int)(rf << 5);
        s.k += rf;
        s.nw = en_ring_word(ring, s.k);
    }
    else if (s.avail <= 32)
    {
        const u32 rs = 32u - (u32)s.avail;    // the word goes right below the valid bits
        s.lo |= s.nw << rs;
        s.hi |= __funnelshift_l(s.nw, 0u, rs);
        s.avail += 32;
        s.nw = en_ring_word(ring, ++s.k);
    }
}

// Decodes one symbol; returns its table entry (the symbol in bits 8..15).
__device__ __forceinline__ u32 en_step(EnLane& s, const u32* tab, const u32* ring, u32& nxt, u32 shr)
{
    const u32 ent = EN_LOOKUP_AHEAD ? nxt : tab[nxt];
    en_advance(s, tab, ring, nxt, shr, ent >> 24);
    return ent;
}

// Decodes one or two symbols of a full chunk into rows r (and r + 1) of this lane's ebuf column and advances r: two
// when the entry holds a pair and room (two or more of the lane's 32 symbols left), none when !act.
__device__ __forceinline__ void en_step2(EnLane& s, const u32* tab, const u32* ring, u32& nxt, u32 shr, u16* ebuf,
                                         u32 lane, u32& r, bool act, bool room)
{
    const u32 ent = EN_LOOKUP_AHEAD ? nxt : tab[nxt];
    const bool two = (int)ent < 0 && room;
    const u32 sh = act ? (two ? ent : ent >> 24) : 0u;
    en_advance(s, tab, ring, nxt, shr, sh);
    if (act) ebuf[32 * r + lane] = (u16)ent;                    // the first symbol in the high byte
    if (act && two) ebuf[32 * r + 32 + lane] = (u16)(ent >> 8); // the second
    r += act ? (two ? 2u : 1u) : 0u;
}

// x = bytes [r0, ent0 symbol, r1, ent1 symbol] -> two BF16: sign = r bit 7, exponent, mantissa = r bits 0..6.
__device__ __forceinline__ u32 en_join2(u32 x)
{
    return ((x >> 1) & 0x7f807f80u) | (x & 0x007f007fu) | ((x << 8) & 0x80008000u);
}

// 8 table entries (u16, symbol in the high byte) + their 8 sign/mantissa bytes -> 8 BF16.
__device__ __forceinline__ uint4 en_join8(uint4 e, uint2 r)
{
    uint4 o;
    o.x = en_join2(__byte_perm(r.x, e.x, 0x7150));
    o.y = en_join2(__byte_perm(r.x, e.y, 0x7352));
    o.z = en_join2(__byte_perm(r.y, e.z, 0x7150));
    o.w = en_join2(__byte_perm(r.y, e.w, 0x7352));
    return o;
}

// Group gg of a launch: its tensor (index ti), that tensor's header fields (docs/FORMAT.md, entropy blob layout) and the
// group's index g within the tensor.
struct EnGroup
{
    int ti, g;
    EntropyTensor et;
    u32 L;
    long long n, K;
    u64 total_bits;
    const u8* rest;
    const u32* offsets;
    const u32* words;
};

__device__ __forceinline__ EnGroup en_group(const EntropyParams& p, int gg)
{
    EnGroup r;
    r.ti = 0;
    if (p.count > 1 && gg >= p.t[1].group_start) r.ti = 1;
    if (p.count > 2 && gg >= p.t[2].group_start) r.ti = 2;
    if (p.count > 3 && gg >= p.t[3].group_start) r.ti = 3;
    r.et = r.ti == 0 ? p.t[0] : r.ti == 1 ? p.t[1] : r.ti == 2 ? p.t[2] : p.t[3];
    const uint4* hp = (const uint4*)r.et.blob;
    const uint4 h0 = __ldg(hp), h1 = __ldg(hp + 1), h2 = __ldg(hp + 2), h3 = __ldg(hp + 3);
    r.L = h0.y >> 24;
    r.n = (long long)(((u64)h0.w << 32) | h0.z);
    r.K = h1.x;
    r.total_bits = ((u64)h1.w << 32) | h1.z;
    r.rest = r.et.blob + (((u64)h2.y << 32) | h2.x);
    r.offsets = (const u32*)(r.et.blob + (((u64)h2.w << 32) | h2.z));
    r.words = (const u32*)(r.et.blob + (((u64)h3.y << 32) | h3.x));
    r.g = gg - r.et.group_start + r.et.first_group;
    return r;
}

// Element-by-element join of elements [base, base + count) of a group (count <= EN_CHUNK) from the chunk's entries.
__device__ __forceinline__ void en_store_scalar(u16* out, const u8* rest, const u16* eb, int base, int count, u32 lane)
{
    for (int k = (int)lane; k < count; k += 32)
    {
        u32 r = __ldg(rest + base + k), e = (u32)eb[k] >> 8;
        out[base + k] = (u16)(((r & 0x80u) << 8) | (e << 7) | (r & 0x7fu));
    }
}

extern "C" __global__ void __launch_bounds__(32) entropy_decode(const EntropyParams p)
{
    extern __shared__ u32 tab[];
    __shared__ __align__(16) u16 ebuf[EN_CHUNK];
    __shared__ uint4 wring[EN_RING_VECS * 32];
    const u32 lane = threadIdx.x & 31;
    const u32* ring = (const u32*)(wring + lane);
    int prev = -1;
    for (int gg = blockIdx.x; gg < p.total_groups; gg += gridDim.x)
    {
        // Header (docs/FORMAT.md, entropy blob layout), then this lane's stream offset, then the table.
        const EnGroup eg = en_group(p, gg);
        const u32 off = __ldg(eg.offsets + 32 * eg.g + lane);
        if (eg.ti != prev)
        {
            __syncwarp();
            const uint4* src = (const uint4*)eg.et.table;
            uint4* dst = (uint4*)tab;
            int n16 = (1 << eg.L) * 4 / 16;
#pragma unroll 8
            for (int i = (int)lane; i < n16; i += 32) dst[i] = __ldg(src + i);
            if (n16 == 0 && lane < (1u << eg.L)) tab[lane] = eg.et.table[lane];
            __syncwarp();
            prev = eg.ti;
        }

        const long long first = (long long)eg.g * 32 * eg.K;
        const int elems = (int)(min(eg.n, first + 32 * eg.K) - first); // elements of this group
        u16* out = eg.et.out + first;
        const u8* rst = eg.rest + first;
        const int nfull = elems / EN_CHUNK, tail = elems % EN_CHUNK;
        const bool vec = ((((u64)out) | ((u64)rst)) & 15) == 0;
        // The stream section holds ceil(total_bits / 32) + 4 words: the last whole 16-byte vector starts at or
        // before word ceil(total_bits / 32). Window loads past it are clamped: those words are only ever read
        // as bits below the last code of a stream, which do not change a table entry.
        const u32 lastVec = (u32)((eg.total_bits + 31) / 32) & ~3u;
        const uint4* wvec = (const uint4*)eg.words;

        EnLane s;
        const u32 w = off >> 5, skip = off & 31;
        s.hi = __ldg(eg.words + w);
        s.lo = __ldg(eg.words + w + 1);
        s.k = w + 2;
        s.hi = __funnelshift_l(s.lo, s.hi, skip);
        s.lo <<= skip;
        s.avail = 64 - (int)skip;
        const u32 shr = 32 - eg.L;
        u32 nxt = s.hi >> shr;
        if (EN_LOOKUP_AHEAD) nxt = tab[nxt];
        uint4 win[EN_WIN_VECS];
        u32 wbase = s.k & ~3u;
#pragma unroll
        for (int j = 0; j < EN_WIN_VECS; j++) win[j] = __ldg(wvec + (min(wbase + 4 * j, lastVec) >> 2));
#pragma unroll
        for (int j = 0; j < EN_WIN_VECS; j++) wring[(((wbase >> 2) + j) & (EN_RING_VECS - 1)) * 32 + lane] = win[j];
        s.nw = en_ring_word(ring, s.k);

        // Iteration c decodes chunk c (the last one may be partial: tail elements) and joins it.
        for (int c = 0; c < nfull + (tail > 0); ++c)
        {
            const bool full = c < nfull;
            uint2 rv[4];
            if (full && vec)
            {
#pragma unroll
                for (int j = 0; j < 4; j++) rv[j] = __ldg((const uint2*)(rst + c * EN_CHUNK + 8 * lane + 256 * j));
            }
            // The window for the next chunk: it starts at or after this chunk's first refill word.
            wbase = s.k & ~3u;
#pragma unroll
            for (int j = 0; j < EN_WIN_VECS; j++) win[j] = __ldg(wvec + (min(wbase + 4 * j, lastVec) >> 2));
            if (full && EN_PAIRS)
            {
                // 16 steps decode 16 to 32 symbols (room for two at each: r <= 30 before step 16), then the lanes
                // that took single symbols finish theirs.
                u32 r = 0;
#pragma unroll
                for (int j = 0; j < 16; j++) en_step2(s, tab, ring, nxt, shr, ebuf, lane, r, true, true);
                while (__any_sync(0xffffffffu, r < 32)) en_step2(s, tab, ring, nxt, shr, ebuf, lane, r, r < 32, r < 31);
            }
            else if (full)
            {
#pragma unroll
                for (int r = 0; r < 32; r++) ebuf[32 * r + lane] = (u16)en_step(s, tab, ring, nxt, shr);
            }
            else
            {
                for (int r = 0; 32 * r < tail; r++)
                    if (32 * r + (int)lane < tail) ebuf[32 * r + lane] = (u16)en_step(s, tab, ring, nxt, shr);
            }
            __syncwarp();
            if (full && vec)
            {
#pragma unroll
                for (int j = 0; j < 4; j++)
                    *(uint4*)(out + c * EN_CHUNK + 8 * lane + 256 * j) = en_join8(*(const uint4*)(ebuf + 8 * lane + 256 * j), rv[j]);
            }
            else
            {
                en_store_scalar(out, rst, ebuf, c * EN_CHUNK, full ? EN_CHUNK : tail, lane);
            }
#pragma unroll
            for (int j = 0; j < EN_WIN_VECS; j++) wring[(((wbase >> 2) + j) & (EN_RING_VECS - 1)) * 32 + lane] = win[j];
            __syncwarp();
        }
    }
}

// ------------------------------------------------------------------ F16 and F32 (R = 2 or 3 rest bytes)
// A plain decoder after the warp sketch in docs/FORMAT.md (not tuned like the BF16 one above): each lane walks its
// stream symbol by symbol, peeking L bits from the two stream words around its bit position (the 4 zero words after
// the stream keep the second read inside the blob), and lane t of group g writes elements g·32K + 32i + t (coalesced
// across the warp). Element = FloatFields.Join of the symbol and the R-byte rest (F16: the exponent masked to its
// 5 bits), as the CPU EntropyCodec decodes it. Parameters, grid, block and table as entropy_decode; out (u16 for F16,
// u32 for F32) points where element 0 would go.
template <int R>
__device__ __forceinline__ void en_decode_wide(const EntropyParams& p, u32* tab)
{
    const u32 lane = threadIdx.x & 31;
    int prev = -1;
    for (int gg = blockIdx.x; gg < p.total_groups; gg += gridDim.x)
    {
        const EnGroup eg = en_group(p, gg);
        if (eg.ti != prev)
        {
            __syncwarp();
            for (int i = (int)lane; i < (1 << eg.L); i += 32) tab[i] = __ldg(eg.et.table + i);
            __syncwarp();
            prev = eg.ti;
        }

        const long long first = (long long)eg.g * 32 * eg.K, end = min(eg.n, first + 32 * eg.K);
        u64 pos = __ldg(eg.offsets + 32 * eg.g + lane);
        for (long long idx = first + lane; idx < end; idx += 32)
        {
            const u32 w = (u32)(pos >> 5);
            const u64 bits = (((u64)__ldg(eg.words + w) << 32) | __ldg(eg.words + w + 1)) << (pos & 31);
            const u32 ent = tab[(u32)(bits >> (64 - eg.L))];  // the first code: symbol bits 8..15, length 24..27
            pos += (ent >> 24) & 15u;
            const u32 e = (ent >> 8) & 0xffu;
            if (R == 2)
            {
                ((u16*)eg.et.out)[idx] = (u16)join_wide<2>(e, __ldg((const u16*)eg.rest + idx));
            }
            else
            {
                const u8* q = eg.rest + 3 * idx;
                ((u32*)eg.et.out)[idx] = join_wide<3>(e, (u32)__ldg(q) | ((u32)__ldg(q + 1) << 8) | ((u32)__ldg(q + 2) << 16));
            }
        }
    }
}

extern "C" __global__ void __launch_bounds__(32) entropy_decode_f16(const EntropyParams p)
{
    extern __shared__ u32 tab[];
    en_decode_wide<2>(p, tab);
}

extern "C" __global__ void __launch_bounds__(32) entropy_decode_f32(const EntropyParams p)
{
    extern __shared__ u32 tab[];
    en_decode_wide<3>(p, tab);
}
