// Random weights for benchmarks, made on the GPU: a counter-based hash feeds Box-Muller.
#include "common.cuh"

__device__ __forceinline__ u32 hash32(u64 x)
{
    x ^= x >> 33; x *= 0xff51afd7ed558ccdull; x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ull; x ^= x >> 33;
    return (u32)x;
}

// out[i] = bf16(mean + std * N(0,1)), the normal drawn from (seed, i) alone.
struct SynthParams { void* out; long long n; u64 seed; float mean; float std; int dtype; };

extern "C" __global__ void synth_normal(const SynthParams p)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < p.n; i += (long long)gridDim.x * blockDim.x)
    {
        u64 key = p.seed * 0x9e3779b97f4a7c15ull + (u64)i;
        float u1 = ((hash32(key) >> 8) + 1) * (1.0f / 16777217.0f);
        float u2 = (hash32(key ^ 0xa5a5a5a5a5a5a5a5ull) >> 8) * (1.0f / 16777216.0f);
        float z = sqrtf(-2.0f * logf(u1)) * cospif(2.0f * u2);
        float v = p.mean + p.std * z;
        if (p.dtype == DT_F32) ((float*)p.out)[i] = v;
        else if (p.dtype == DT_F16) ((u16*)p.out)[i] = f32_to_f16(v);
        else ((u16*)p.out)[i] = f32_to_bf16(v);
    }
}
