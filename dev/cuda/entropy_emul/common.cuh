// Host stand-ins for the CUDA built-ins that entropy.cu uses, so that entropy_emul.cpp can run the kernel
// source on the CPU: one std::thread per lane, __syncwarp = a barrier of the 32 lanes, blocks one after another.
#pragma once
#include <algorithm>
#include <barrier>
#include <cstdint>
#include <cstring>

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(x)
#define __align__(x) __attribute__((aligned(x)))

struct dim3 { unsigned x = 0, y = 0, z = 0; };
inline thread_local dim3 threadIdx;
inline dim3 blockIdx, gridDim;
inline std::barrier<>* emul_warp_barrier;

struct alignas(16) uint4 { u32 x, y, z, w; };
struct alignas(8) uint2 { u32 x, y; };
inline uint2 make_uint2(u32 x, u32 y) { return {x, y}; }

template <typename T> inline T __ldg(const T* p) { return *p; }
template <typename T> inline T min(T a, T b) { return a < b ? a : b; }
inline void __syncwarp(unsigned = 0xffffffffu) { emul_warp_barrier->arrive_and_wait(); }
inline bool emul_votes[32];
inline bool __any_sync(unsigned, bool p)
{
    emul_votes[threadIdx.x & 31] = p;
    __syncwarp();
    bool any = false;
    for (bool v : emul_votes) any |= v;
    __syncwarp();
    return any;
}
inline u32 __funnelshift_l(u32 lo, u32 hi, u32 s) { return (u32)((((u64)hi << 32) | lo) << (s & 31) >> 32); }
inline u32 __byte_perm(u32 x, u32 y, u32 s)
{
    u64 b = ((u64)y << 32) | x;
    u32 r = 0;
    for (int k = 0; k < 4; k++) r |= (u32)((b >> (8 * ((s >> (4 * k)) & 7))) & 0xff) << (8 * k);
    return r;
}

// Kernels/common.cuh's F16/F32 join (the F16/F32 entropy kernels compile here; the emulator runs the BF16 one).
template <int R> inline u32 join_wide(u32 e, u32 r)
{
    if (R == 2) return (((r >> 10) & 1u) << 15) | ((e & 0x1fu) << 10) | (r & 0x3ffu);
    return (((r >> 23) & 1u) << 31) | ((e & 0xffu) << 23) | (r & 0x7fffffu);
}

// Kernels/common.cuh's cp.async helpers. EMUL_CP_LATE (the default): a copy lands as late as the PTX rules allow -- a
// thread's groups are applied only when cp_async_wait<N> leaves at most N of them in flight (or at wait_all), the
// uncommitted copies with the next commit's group -- so a word read before its wait, or requested too late, is read
// stale; -DEMUL_CP_LATE=0: every copy lands at once (a word requested too early overwrites one still needed).
#ifndef EMUL_CP_LATE
#define EMUL_CP_LATE 1
#endif
#include <deque>
#include <vector>
struct EmulCopy { void* dst; const void* src; int bytes; };
inline thread_local std::vector<EmulCopy> emul_open;
inline thread_local std::deque<std::vector<EmulCopy>> emul_groups;
inline void emul_copy(void* smem, const void* gmem, int bytes)
{
    if (EMUL_CP_LATE) emul_open.push_back({smem, gmem, bytes});
    else memcpy(smem, gmem, bytes);
}
inline void cp_async16(void* smem, const void* gmem) { emul_copy(smem, gmem, 16); }
inline void cp_async_commit()
{
    emul_groups.push_back(std::move(emul_open));
    emul_open.clear();
}
inline void emul_land(size_t keep)
{
    while (emul_groups.size() > keep)
    {
        for (auto& c : emul_groups.front()) memcpy(c.dst, c.src, c.bytes);
        emul_groups.pop_front();
    }
}
template <int N> inline void cp_async_wait() { emul_land(N); }
inline void cp_async_wait_all()
{
    cp_async_commit();
    emul_land(0);
}
