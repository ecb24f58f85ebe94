// GPU decoder for the `entropy` codec (docs/FORMAT.md): canonical Huffman exponent codes in 32 interleaved
// lane streams per group, raw sign/mantissa plane. BF16 only. One warp per group; the decode table
// (2^L u16 entries, built by the host from the code lengths) sits in shared memory.
#include "common.cuh"

struct EntropyParams { const u8* blob; const u16* table; u16* out; int groups; };

extern "C" __global__ void entropy_decode(const EntropyParams p)
{
    extern __shared__ u16 tab[];
    const u8* blob = p.blob;
    int L = blob[7];
    long long n = (long long)__ldg((const u64*)(blob + 8));
    int K = (int)__ldg((const u32*)(blob + 16));
    const u8* rest = blob + __ldg((const u64*)(blob + 32));
    const u32* offsets = (const u32*)(blob + __ldg((const u64*)(blob + 40)));
    const u32* words = (const u32*)(blob + __ldg((const u64*)(blob + 48)));
    for (int i = threadIdx.x; i < (1 << L); i += blockDim.x) tab[i] = p.table[i];
    __syncthreads();
    int lane = threadIdx.x & 31;
    long long G = 32LL * K;
    int warps = gridDim.x * (blockDim.x >> 5);
    for (int g = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5); g < p.groups; g += warps)
    {
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
            p.out[o] = (u16)((((r) & 0x80u) << 8) | (e << 7) | ((r) & 0x7fu)); \
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
