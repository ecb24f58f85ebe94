// Token choice on the GPU: argmax (lowest index on ties) and temperature / top-k / top-p sampling.
#include "common.cuh"

struct ArgmaxParams { const float* logits; int* out; int n; };

__device__ __forceinline__ void better(float& v, int& i, float v2, int i2)
{
    if (v2 > v || (v2 == v && i2 < i) || (v != v && v2 == v2)) { v = v2; i = i2; }
}

// One block of 1024 threads.
extern "C" __global__ void argmax(const ArgmaxParams p)
{
    __shared__ float sv[32];
    __shared__ int si[32];
    float v = __int_as_float(0xff800000);
    int idx = 0x7fffffff;
#pragma unroll 8
    for (int i = threadIdx.x; i < p.n; i += blockDim.x) better(v, idx, p.logits[i], i);
    for (int o = 16; o > 0; o >>= 1)
    {
        float v2 = __shfl_xor_sync(0xffffffffu, v, o);
        int i2 = __shfl_xor_sync(0xffffffffu, idx, o);
        better(v, idx, v2, i2);
    }
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) { sv[warp] = v; si[warp] = idx; }
    __syncthreads();
    if (warp == 0)
    {
        int nw = blockDim.x >> 5;
        v = lane < nw ? sv[lane] : __int_as_float(0xff800000);
        idx = lane < nw ? si[lane] : 0x7fffffff;
        for (int o = 16; o > 0; o >>= 1)
        {
            float v2 = __shfl_xor_sync(0xffffffffu, v, o);
            int i2 = __shfl_xor_sync(0xffffffffu, idx, o);
            better(v, idx, v2, i2);
        }
        if (lane == 0) *p.out = idx == 0x7fffffff ? 0 : idx;
    }
}
