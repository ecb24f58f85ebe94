// GPU decoder for the `entropy` codec (docs/FORMAT.md): canonical Huffman exponent codes in 32 interleaved
// lane streams per group, raw sign/mantissa plane. BF16 only. One warp per block and group; the decode
// table (2^L u16 entries, built by the host from the code lengths) sits in shared memory. One launch
// decodes up to four tensors (their groups numbered one after another), so that the few long lane
// streams of each tensor run side by side.
#include "common.cuh"

// Groups [first_group, first_group + groups) of a tensor; out points where element 0 would go.
struct EntropyTensor { const u8* blob; const u16* table; u16* out; int groups; int group_start; int first_group; };
struct EntropyParams { EntropyTensor t[4]; int count; int total_groups; };

extern "C" __global__ void __launch_bounds__(32) entropy_decode(const EntropyParams p)
{
    extern __shared__ u16 tab[];
    int lane = threadIdx.x & 31;
    int prev = -1;
    for (int gg = blockIdx.x; gg < p.total_groups; gg += gridDim.x)
    {
        int ti = 0;
        if (p.count > 1 && gg >= p.t[1].group_start) ti = 1;
        if (p.count > 2 && gg >= p.t[2].group_start) ti = 2;
        if (p.count > 3 && gg >= p.t[3].group_start) ti = 3;
        const EntropyTensor et = ti == 0 ? p.t[0] : ti == 1 ? p.t[1] : ti == 2 ? p.t[2] : p.t[3];
        const u8* blob = et.blob;
        int L = blob[7];
        if (ti != prev)
        {
            __syncwarp();
            const uint4* src = (const uint4*)et.table;
            uint4* dst = (uint4*)tab;
            int n16 = (1 << L) * 2 / 16;
#pragma unroll 8
            for (int i = lane; i < n16; i += 32) dst[i] = __ldg(src + i);
            if (n16 == 0 && lane < (1 << L)) tab[lane] = et.table[lane];
            __syncwarp();
            prev = ti;
        }
        long long n = (long long)__ldg((const u64*)(blob + 8));
        int K = (int)__ldg((const u32*)(blob + 16));
        const u8* rest = blob + __ldg((const u64*)(blob + 32));
        const u32* offsets = (const u32*)(blob + __ldg((const u64*)(blob + 40)));
        const u32* words = (const u32*)(blob + __ldg((const u64*)(blob + 48)));
        u16* out = et.out;
        int g = gg - et.group_start + et.first_group;
        long long G = 32LL * K;
        long long first = g * G, limit = min(n, first + G);
        long long count = limit - first - lane;
        count = count > 0 ? (count + 31) / 32 : 0;
        u32 off = __ldg(offsets + 32 * g + lane);
        u32 w = off >> 5;
        u64 buf = ((u64)__ldg(words + w) << 32) | __ldg(words + w + 1);
        buf <<= (off & 31);
        int avail = 64 - (int)(off & 31);
        u32 next = w + 2;
        u32 pre = __ldg(words + next); // the next word, loaded ahead of its refill
        long long idx = first + lane;
        long long i = 0;
#define CL_DECODE_ONE(r, o)                                              \
        {                                                                \
            u16 entry = tab[(u32)(buf >> (64 - L))];                     \
            int len = entry >> 8;                                        \
            u32 e = entry & 0xffu;                                       \
            buf <<= len;                                                 \
            avail -= len;                                                \
            if (avail <= 32)                                             \
            {                                                            \
                buf |= (u64)pre << (32 - avail);                         \
                avail += 32;                                             \
                pre = __ldg(words + ++next);                             \
            }                                                            \
            out[o] = (u16)((((r) & 0x80u) << 8) | (e << 7) | ((r) & 0x7fu)); \
        }
        for (; i + 4 <= count; i += 4, idx += 128)
        {
            u32 r0 = __ldg(rest + idx), r1 = __ldg(rest + idx + 32), r2 = __ldg(rest + idx + 64), r3 = __ldg(rest + idx + 96);
            CL_DECODE_ONE(r0, idx)
            CL_DECODE_ONE(r1, idx + 32)
            CL_DECODE_ONE(r2, idx + 64)
            CL_DECODE_ONE(r3, idx + 96)
        }
        for (; i < count; ++i, idx += 32)
        {
            u32 r0 = __ldg(rest + idx);
            CL_DECODE_ONE(r0, idx)
        }
#undef CL_DECODE_ONE
    }
}
