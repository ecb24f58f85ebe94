// GPU decoder for the `entropy` codec (docs/FORMAT.md): canonical Huffman exponent codes in 32 interleaved
// lane streams per group, raw sign/mantissa plane. BF16 (F16 and F32: en_decode_wide, at the end of the file).
// One warp per block and group; the decode
// table (2^L u32 entries, built by the host from the code lengths: GpuDecoders.EntropyTable) sits in
// shared memory. One launch decodes up to four tensors (their groups numbered one after another).
//
// A lane's stream is a serial chain (table lookup -> shift -> next lookup), and a [5632, 2048] tensor has
// only 11,264 of them: with ~3 warps a SM, a warp's step takes as long as its dependent instructions, so the
// step is kept short and every memory access off the chain. No global load is read by a per-symbol
// instruction: the loads go to shared memory once per chunk and are used one or two chunks later (a per-lane
// load in the symbol loop, issued by a few lanes at a time, made every lane wait for it: the register
// scoreboard is the warp's).
// - Up to three symbols a lookup: the table (GpuDecoders.EntropyTable) holds as many whole codes (three at most)
//   as the L bits it is indexed by contain, so a lane's chain of lookups is a third to half as long.
// - The group is decoded in chunks of 1024 elements (32 symbols per lane). Each lane writes its symbols to
//   its column of shared memory (ebuf, row r = symbol r of the chunk); the warp then joins the chunk with its
//   sign/mantissa bytes: each lane builds 8 consecutive BF16 at a time and writes them with one 16-byte
//   store. An entry that ends past row 31 puts its last symbols in rows 32 and 33, which become rows 0 and 1
//   of the next chunk (the lane carries them), so every step consumes its whole entry.
// - A lane reads its stream at bit bp of three words w0 w1 w2 (stream words k, k+1, k+2): the next L bits are
//   one funnel shift of w0:w1 or w1:w2, no bit buffer is shifted or refilled on the chain. bp += entry (the
//   entry's low 5 bits are the bits it consumes, bit 5 is 0, the higher bits only carry upwards); when
//   bit 5 of bp flips the words move down and w2 takes word k+3, read from the lane's window in shared
//   memory (64 words, word j in slot j & 63) the step before it is needed.
// - Loads run two chunks ahead, by cp.async (global -> shared, no registers; one commit group a chunk), so that
//   with ~3 warps a SM a chunk's decode never waits for memory: a chunk consumes at most 34 symbols (510 bits
//   at L = 15: the words move 16 times at most), so chunk c reads window words below k + 20 (k: w0's word at
//   its start) and chunk c + 2 below k + 52; at chunk c's start the lane requests the 16-byte granules up to
//   word k + 51 that it has not requested yet (each granule once; its slots' previous words lie below k - 9,
//   consumed) and the sign/mantissa bytes of chunk c + 1 (a 2 x 1 KiB buffer; each lane copies 2 x 16 bytes,
//   which other lanes join after the wait and a __syncwarp).
// Partial chunks (the last group's tail, K not a multiple of 32) run the per-lane loop only; outputs not
// 16-byte aligned take an element-by-element join.
#include "common.cuh"

// Groups [first_group, first_group + groups) of a tensor; out points where element 0 would go.
struct EntropyTensor { const u8* blob; const u32* table; u16* out; int groups; int group_start; int first_group; };
struct EntropyParams { EntropyTensor t[4]; int count; int total_groups; };

#define EN_CHUNK 1024  // elements per chunk: 32 symbols of each of the 32 lanes
#define EN_ROWS 34      // ebuf rows: 32 symbols and the two an entry may carry into the next chunk
#define EN_AHEAD 51     // at a chunk's start, the window is requested through word k + 51 (chunk c + 2's last word)
#define EN_RING 64      // window slots (words) per lane: word j of lane t at wring[t * 64 + (j & 63)]
#define EN_RING_BYTES (4 * EN_RING)

// Table entry (u32, GpuDecoders.EntropyTable): bits 0..4 the bits the entry consumes (its one to three codes), bit 5
// zero, 6..7 the number of symbols, 8..15 the first symbol, 16..23 the second, 24..31 the third.

// One lane's reader: the stream bits from bit (bp & 31) of w0 (stream word k), then w1, w2 (words k + 1, k + 2);
// nw = word k + 3, kb = 4 (k + 3) (its window slot's byte offset is kb & 252).
struct EnLane
{
    u32 w0, w1, w2, nw, bp, kb;
};

// Word kb / 4 of this lane's window (kb: its byte offset before the wrap; wring + laneRing: the lane's 64 words).
__device__ __forceinline__ u32 en_window_word(const u32* wring, u32 laneRing, u32 kb)
{
    return *(const u32*)((const char*)wring + ((kb & (EN_RING_BYTES - 4)) | laneRing));
}

// The entry at bit position bpn (moved: bpn's bit 5 differs from bp's, the position is in w1).
__device__ __forceinline__ u32 en_lookup(const EnLane& s, const u32* tab, u32 shr, u32 bpn, bool moved)
{
    const u32 x = moved ? __funnelshift_l(s.w2, s.w1, bpn) : __funnelshift_l(s.w1, s.w0, bpn);
    return tab[x >> shr];
}

// Consumes entry ent (act: else nothing) and returns the next one; the symbols go to rows r, r + 1, r + 2 of this lane's
// ebuf column (po = its byte offset, 64 r + 2 lane; rows past the entry's symbols are overwritten by the next step), and
// po moves down as many rows as the entry has symbols (64 bytes each: ent & 0xc0). wring + laneRing: this lane's window.
__device__ __forceinline__ u32 en_step(EnLane& s, const u32* tab, const u32* wring, u32 laneRing, u32 shr, u32 ent, u16* ebuf,
                                       u32& po, bool act)
{
    const u32 bpn = s.bp + (act ? ent : 0u);
    const bool moved = ((bpn ^ s.bp) & 32u) != 0;
    const u32 next = en_lookup(s, tab, shr, bpn, moved);
    s.bp = bpn;
    if (moved)
    {
        s.w0 = s.w1;
        s.w1 = s.w2;
        s.w2 = s.nw;
        s.kb += 4;
    }
    s.nw = en_window_word(wring, laneRing, s.kb);
    if (act)
    {
        *(u16*)((char*)ebuf + po) = (u16)ent;               // the first symbol in the high byte
        *(u16*)((char*)ebuf + po + 64) = (u16)(ent >> 8);   // the second
        *(u16*)((char*)ebuf + po + 128) = (u16)(ent >> 16); // the third
        po += ent & 0xc0u;
    }
    return next;
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

// Requests this lane's window granules [g, g1) (words 4g .. 4g + 3 into slots (4g) & 63; granules past the stream's last
// whole vector, lastG, read that vector): at most four (a chunk's start: the window's end moves by four granules at most,
// 16 words, so four keep it at k + 51), or any number (MANY: a group's start).
__device__ __forceinline__ void en_request_granule(u32* wring, u32 laneRing, const uint4* wvec, u32 g, u32 lastG)
{
    cp_async16((char*)wring + (((g * 16) & (EN_RING_BYTES - 1)) | laneRing), wvec + min(g, lastG));
}

template <bool MANY>
__device__ __forceinline__ u32 en_request(u32* wring, u32 laneRing, const uint4* wvec, u32 g, u32 g1, u32 lastG)
{
    if (MANY)
    {
        for (; g < g1; g++) en_request_granule(wring, laneRing, wvec, g, lastG);
        return g1;
    }
    g1 = min(g1, g + 4);
#pragma unroll
    for (u32 i = 0; i < 4; i++)
        if (g + i < g1) en_request_granule(wring, laneRing, wvec, g + i, lastG);
    return g1;
}

// Requests one chunk's 1024 sign/mantissa bytes into buf (2 x 16 bytes a lane; the join reads other lanes' bytes after
// the wait and a __syncwarp).
__device__ __forceinline__ void en_request_rest(u8* buf, const u8* src, u32 lane)
{
#pragma unroll
    for (int j = 0; j < 2; j++) cp_async16(buf + 16 * lane + 512 * j, src + 16 * lane + 512 * j);
}

extern "C" __global__ void __launch_bounds__(32) entropy_decode(const EntropyParams p)
{
    extern __shared__ u32 tab[];
    __shared__ __align__(16) u16 ebuf[EN_ROWS * 32];
    __shared__ __align__(16) u32 wring[32 * EN_RING];
    __shared__ __align__(16) u8 rbuf[2][EN_CHUNK];
    const u32 lane = threadIdx.x & 31;
    const u32 laneRing = lane * EN_RING_BYTES; // byte offset of this lane's window
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
        // before word ceil(total_bits / 32). Window granules past it are clamped: those words are only ever read
        // as bits after the last code of a stream (a lane's last entry may decode them; their rows are not stored).
        const u32 lastG = (u32)((eg.total_bits + 31) / 32) / 4;
        const uint4* wvec = (const uint4*)eg.words;
        const u32 shr = 32 - eg.L;

        EnLane s;
        const u32 k = off >> 5;
        s.bp = off & 31;
        s.kb = (k + 3) * 4;
        u32 g = en_request<true>(wring, laneRing, wvec, (k + 3) >> 2, ((k + EN_AHEAD) >> 2) + 1, lastG);
        if (nfull > 0 && vec) en_request_rest(rbuf[0], rst, lane);
        cp_async_commit();
        s.w0 = __ldg(eg.words + k);
        s.w1 = __ldg(eg.words + k + 1);
        s.w2 = __ldg(eg.words + k + 2);
        u32 ent = en_lookup(s, tab, shr, s.bp, false);
        cp_async_wait_all();
        s.nw = en_window_word(wring, laneRing, s.kb);
        u32 carry = 0; // symbols carried from the previous chunk (rows 32, 33 -> 0, 1)

        // Iteration c decodes chunk c (the last one may be partial: tail elements) and joins it.
        for (int c = 0; c < nfull + (tail > 0); ++c)
        {
            const bool full = c < nfull;
            g = en_request<false>(wring, laneRing, wvec, g, (((s.kb >> 2) - 3 + EN_AHEAD) >> 2) + 1, lastG);
            if (c + 1 < nfull && vec) en_request_rest(rbuf[(c + 1) & 1], rst + (c + 1) * EN_CHUNK, lane);
            cp_async_commit();
            // Chunk c's window words were requested two chunks ago or before; the previous chunk's wait<1> has already
            // seen them land (this wait only states it: the emulator reads the right words even with wait<8> here).
            cp_async_wait<2>();
            u32 po = 2 * lane + 64 * carry;
            // This lane's symbols of the chunk: 32, or those of its column in the partial chunk.
            const int nsym = full ? 32 : (tail - (int)lane + 31) / 32;
            const u32 end = 2 * lane + 64 * nsym;
            if (full)
            {
                // 10 steps: step j starts at row 2 + 3 j <= 29 at most, so it writes rows <= 31 and no lane is done
                // before the last.
#pragma unroll
                for (int j = 0; j < 10; j++) ent = en_step(s, tab, wring, laneRing, shr, ent, ebuf, po, true);
            }
            while (__any_sync(0xffffffffu, po < end)) ent = en_step(s, tab, wring, laneRing, shr, ent, ebuf, po, po < end);
            cp_async_wait<1>(); // chunk c's sign/mantissa bytes: requested a chunk ago
            __syncwarp();
            if (full && vec)
            {
#pragma unroll
                for (int j = 0; j < 4; j++)
                    *(uint4*)(out + c * EN_CHUNK + 8 * lane + 256 * j) =
                        en_join8(*(const uint4*)(ebuf + 8 * lane + 256 * j), *(const uint2*)(rbuf[c & 1] + 8 * lane + 256 * j));
            }
            else
            {
                en_store_scalar(out, rst, ebuf, c * EN_CHUNK, full ? EN_CHUNK : tail, lane);
            }
            __syncwarp();
            // An entry that ended in row 32 or 33: those symbols are rows 0 and 1 of the next chunk.
            carry = po > end ? (po - end) / 64 : 0;
            if (carry > 0) ebuf[lane] = ebuf[32 * 32 + lane];
            if (carry > 1) ebuf[32 + lane] = ebuf[33 * 32 + lane];
        }
        cp_async_wait_all(); // no copy of this group lands in the next one's window
    }
}

// ------------------------------------------------------------------ F16 and F32 (R = 2 or 3 rest bytes)
// A plain decoder after the warp sketch in docs/FORMAT.md (not tuned like the BF16 one above): each lane walks its
// stream entry by entry (one to three symbols each), peeking L bits from the two stream words around its bit position (the 4 zero words after
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
        for (long long idx = first + lane; idx < end;)
        {
            const u32 w = (u32)(pos >> 5);
            const u64 bits = (((u64)__ldg(eg.words + w) << 32) | __ldg(eg.words + w + 1)) << (pos & 31);
            const u32 ent = tab[(u32)(bits >> (64 - eg.L))]; // one to three symbols (bits 6..7), from bit 8 on
            pos += ent & 31u;
            // The lane's last entry may hold symbols past its stream: they are not written.
            for (u32 j = 0, count = (ent >> 6) & 3u; j < count && idx < end; j++, idx += 32)
            {
                const u32 e = (ent >> (8 + 8 * j)) & 0xffu;
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
