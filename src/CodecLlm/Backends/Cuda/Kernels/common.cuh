// Shared helpers for every CodecLLM kernel. Compiled by NVRTC without system headers:
// bf16/f16 are handled as raw 16-bit patterns and converted here.
#pragma once

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

// Weight / cache element types, as the host's TensorDType-like codes.
#define DT_F32 0
#define DT_F16 1
#define DT_BF16 2

__device__ __forceinline__ float bf16_to_f32(u16 v) { return __uint_as_float(((u32)v) << 16); }

// Round to nearest even; NaN stays NaN (quiet bit set), as torch and the C# reference do.
__device__ __forceinline__ u16 f32_to_bf16(float f)
{
    u32 u = __float_as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (u16)((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (u16)(u >> 16);
}

__device__ __forceinline__ float f16_to_f32(u16 h)
{
    float f;
    asm("{ .reg .b16 t; mov.b16 t, %1; cvt.f32.f16 %0, t; }" : "=f"(f) : "h"(h));
    return f;
}

__device__ __forceinline__ u16 f32_to_f16(float f)
{
    u16 h;
    asm("{ .reg .b16 t; cvt.rn.f16.f32 t, %1; mov.b16 %0, t; }" : "=h"(h) : "f"(f));
    return h;
}

template <int DT> __device__ __forceinline__ float load_elem(const void* p, long long i)
{
    if (DT == DT_F32) return ((const float*)p)[i];
    if (DT == DT_F16) return f16_to_f32(((const u16*)p)[i]);
    return bf16_to_f32(((const u16*)p)[i]);
}

// Element i of a prefill GEMM's f32 output: with `halves` the GEMM ran over the activations' [hi | lo] halves and wrote
// W·hi, then W·lo `lo` elements further on; the value is their sum (hi + lo, in that order).
__device__ __forceinline__ float gemm_out(const float* x, long long i, long long lo, bool halves)
{
    const float v = x[i];
    return halves ? v + x[lo + i] : v;
}

template <int DT> __device__ __forceinline__ void store_elem(void* p, long long i, float v)
{
    if (DT == DT_F32) ((float*)p)[i] = v;
    else if (DT == DT_F16) ((u16*)p)[i] = f32_to_f16(v);
    else ((u16*)p)[i] = f32_to_bf16(v);
}

// FloatFields.Join of an exponent e and the R-byte rest r of a wider float (the codecs' F16: R = 2, e masked to its 5
// bits; F32: R = 3): the rest holds the sign above the mantissa.
template <int R> __device__ __forceinline__ u32 join_wide(u32 e, u32 r)
{
    if (R == 2) return (((r >> 10) & 1u) << 15) | ((e & 0x1fu) << 10) | (r & 0x3ffu);
    return (((r >> 23) & 1u) << 31) | ((e & 0xffu) << 23) | (r & 0x7fffffu);
}

// Global -> shared copies without registers (cp.async, sm_80+) of 16 bytes; a thread's copies since its last commit
// form a group, cp_async_wait<N> waits until at most its N latest groups are in flight, cp_async_wait_all for all.
__device__ __forceinline__ unsigned smem_addr(const void* p)
{
    unsigned s;
    asm("{ .reg .u64 t; cvta.to.shared.u64 t, %1; cvt.u32.u64 %0, t; }" : "=r"(s) : "l"(p));
    return s;
}
__device__ __forceinline__ void cp_async16(void* smem, const void* gmem)
{
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" ::"r"(smem_addr(smem)), "l"(gmem) : "memory");
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;" ::: "memory"); }
template <int N> __device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;" ::"n"(N) : "memory"); }
__device__ __forceinline__ void cp_async_wait_all() { asm volatile("cp.async.wait_all;" ::: "memory"); }

// Reduction operators (one struct per operation).
struct OpSum { __device__ __forceinline__ float operator()(float a, float b) const { return a + b; } };
struct OpMax { __device__ __forceinline__ float operator()(float a, float b) const { return fmaxf(a, b); } };
struct OpMinInt { __device__ __forceinline__ int operator()(int a, int b) const { return min(a, b); } };

// Butterfly over the warp (xor 16, 8, 4, 2, 1): every lane ends with the same result, in the same order on every run.
template <class T, class Op> __device__ __forceinline__ T warp_reduce(T v, Op op)
{
    for (int o = 16; o > 0; o >>= 1) v = op(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}
__device__ __forceinline__ float warp_sum(float v) { return warp_reduce(v, OpSum()); }

// Deterministic block reduction (fixed tree: each warp's butterfly, then one over the warps' results; lanes beyond the
// warps hold `identity`); blockDim.x a multiple of 32, at most 1024. Every thread gets the result; scratch32 may be
// reused by the next reduction (it waits before writing).
template <class T, class Op> __device__ __forceinline__ T block_reduce(T v, T* scratch32, T identity, Op op)
{
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
    v = warp_reduce(v, op);
    __syncthreads();
    if (lane == 0) scratch32[warp] = v;
    __syncthreads();
    T t = lane < nwarps ? scratch32[lane] : identity;
    return warp_reduce(t, op);
}
__device__ __forceinline__ float block_sum(float v, float* scratch32) { return block_reduce(v, scratch32, 0.f, OpSum()); }
__device__ __forceinline__ float block_max(float v, float* scratch32) { return block_reduce(v, scratch32, __int_as_float(0xff800000), OpMax()); }
__device__ __forceinline__ int block_min_int(int v, int* scratch32) { return block_reduce(v, scratch32, 0x7fffffff, OpMinInt()); }

// Kernel timeline (a diagnostic; -DTIMELINE=1 in CODECLLM_NVRTC_DEFINES, read back by KernelTimeline when
// CODECLLM_TIMELINE names a file): thread 0 of every block of the instrumented kernels records its block's start, the
// moment it passed griddepcontrol.wait and its end (%globaltimer, ns) into this module's ring tl_buf. Off (the default),
// every mark compiles to nothing.
#ifndef TIMELINE
#define TIMELINE 0
#endif
#define TL_CAP (1 << 18)
struct TlRec {
    u64 t0;         // block start
    u32 dwait, dend;  // ns from t0 to past the wait, to the end
    u32 kid, block, smid, grid;
};
#if TIMELINE
__device__ TlRec tl_buf[TL_CAP];
__device__ u32 tl_n;
#endif
struct TlMark { u64 t0, tw; };
__device__ __forceinline__ u64 tl_now() {
    u64 t = 0;
#if TIMELINE
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
#endif
    return t;
}
__device__ __forceinline__ void tl_start(TlMark& m) { m.t0 = m.tw = tl_now(); }
__device__ __forceinline__ void tl_wait(TlMark& m) { m.tw = tl_now(); }
// kid: the kernel's identity (KernelTimeline's table names them).
__device__ __forceinline__ void tl_end(const TlMark& m, u32 kid) {
#if TIMELINE
    if (threadIdx.x == 0) {
        const u64 te = tl_now();
        u32 sm;
        asm volatile("mov.u32 %0, %%smid;" : "=r"(sm));
        const u32 i = atomicAdd(&tl_n, 1u) % TL_CAP;
        tl_buf[i] = TlRec{m.t0, (u32)(m.tw - m.t0), (u32)(te - m.t0), kid, blockIdx.x + gridDim.x * blockIdx.y, sm, gridDim.x * gridDim.y};
    }
#else
    (void)m;
    (void)kid;
#endif
}
