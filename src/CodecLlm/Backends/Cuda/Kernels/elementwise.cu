// Small per-element kernels: embedding lookup, RMSNorm, residual add, SwiGLU, bias, dtype conversion.
#include "common.cuh"

struct EmbedParams { const void* table; const int* tokens; float* out; int dim; int count; };

template <int DT> __device__ void embed(const EmbedParams& p)
{
    int t = blockIdx.y;
    long long row = p.tokens[t];
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < p.dim; i += gridDim.x * blockDim.x)
        p.out[(long long)t * p.dim + i] = load_elem<DT>(p.table, row * p.dim + i);
}
extern "C" __global__ void embed_f32(const EmbedParams p) { embed<DT_F32>(p); }
extern "C" __global__ void embed_f16(const EmbedParams p) { embed<DT_F16>(p); }
extern "C" __global__ void embed_bf16(const EmbedParams p) { embed<DT_BF16>(p); }

// x = hi + lo with hi, lo in f16/bf16 (hi = round(x), lo = round(x - hi)): hi at out[i], lo at out[n + i]. One prefill
// GEMM over [hi | lo] gives ~16 mantissa bits of the activations instead of 8 (prefill accuracy).
template <int DT> __device__ __forceinline__ void store_split(void* out, long long i, long long n, float x)
{
    const u16 hi = DT == DT_F16 ? f32_to_f16(x) : f32_to_bf16(x);
    ((u16*)out)[i] = hi;
    store_elem<DT>(out, n + i, x - (DT == DT_F16 ? f16_to_f32(hi) : bf16_to_f32(hi)));
}

// out[t, :] = x[t, :] * rsqrt(mean(x^2) + eps) * w ; one block per row; out in f32, f16 or bf16, or (SPLIT) the f16/bf16
// hi and lo halves of the f32 result (store_split, n = rows * dim: the prefill GEMM's input in one pass).
struct RmsNormParams { const float* x; const float* w; void* out; int dim; float eps; };

template <int DT, bool SPLIT = false> __device__ void rmsnorm(const RmsNormParams& p)
{
    __shared__ float red[32];
    const float* x = p.x + (long long)blockIdx.x * p.dim;
    float ss = 0.f;
    for (int i = threadIdx.x; i < p.dim; i += blockDim.x) ss += x[i] * x[i];
    ss = block_sum(ss, red);
    float scale = 1.0f / sqrtf(ss / (float)p.dim + p.eps);
    const long long n = (long long)gridDim.x * p.dim;
    for (int i = threadIdx.x; i < p.dim; i += blockDim.x)
    {
        const float v = p.w[i] * (x[i] * scale);
        if (SPLIT) store_split<DT>(p.out, (long long)blockIdx.x * p.dim + i, n, v);
        else store_elem<DT>(p.out, (long long)blockIdx.x * p.dim + i, v);
    }
}
extern "C" __global__ void rmsnorm_f32(const RmsNormParams p) { rmsnorm<DT_F32>(p); }
extern "C" __global__ void rmsnorm_f16(const RmsNormParams p) { rmsnorm<DT_F16>(p); }
extern "C" __global__ void rmsnorm_bf16(const RmsNormParams p) { rmsnorm<DT_BF16>(p); }
extern "C" __global__ void rmsnorm_split_f16(const RmsNormParams p) { rmsnorm<DT_F16, true>(p); }
extern "C" __global__ void rmsnorm_split_bf16(const RmsNormParams p) { rmsnorm<DT_BF16, true>(p); }

// y[i] += x[i], or (halves) y[i] += x[i] + x[n + i]: x is then a prefill GEMM's [2n] output over the [hi | lo]
// activation pairs (W·hi, then W·lo; one GEMM reads the weights once for ~16 mantissa bits of the activations), summed
// as it is read.
struct AddParams { float* y; const float* x; long long n; int halves; };
extern "C" __global__ void add_inplace(const AddParams p)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < p.n; i += (long long)gridDim.x * blockDim.x)
        p.y[i] += gemm_out(p.x, i, p.n, p.halves);
}

// out[i] = silu(gate[i]) * up[i] in f32, or (swiglu_split_*) its f16/bf16 hi and lo halves (store_split). With halves,
// gate and up are prefill GEMM outputs over [hi | lo] ([2n] each) and gate[i] + gate[n + i], up[i] + up[n + i] the values.
struct SwigluParams { const float* gate; const float* up; void* out; long long n; int halves; };
template <int DT, bool SPLIT> __device__ void swiglu_op(const SwigluParams& p)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < p.n; i += (long long)gridDim.x * blockDim.x)
    {
        const float g = gemm_out(p.gate, i, p.n, p.halves), u = gemm_out(p.up, i, p.n, p.halves);
        const float v = (g / (1.0f + expf(-g))) * u;
        if (SPLIT) store_split<DT>(p.out, i, p.n, v);
        else store_elem<DT>(p.out, i, v);
    }
}
extern "C" __global__ void swiglu(const SwigluParams p) { swiglu_op<DT_F32, false>(p); }
extern "C" __global__ void swiglu_split_f16(const SwigluParams p) { swiglu_op<DT_F16, true>(p); }
extern "C" __global__ void swiglu_split_bf16(const SwigluParams p) { swiglu_op<DT_BF16, true>(p); }

// x[t, i] += bias[i] for rows t, or (halves: x a prefill GEMM's [hi | lo] output, [2n]) x[i] = (x[i] + x[n + i]) + bias.
struct BiasParams { float* x; const float* bias; int dim; long long n; int halves; };
extern "C" __global__ void add_bias_rows(const BiasParams p)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < p.n; i += (long long)gridDim.x * blockDim.x)
        p.x[i] = gemm_out(p.x, i, p.n, p.halves) + p.bias[i % p.dim];
}

// f32 -> f16 / bf16 (GEMM inputs)
struct ConvertParams { const float* in; void* out; long long n; };
extern "C" __global__ void f32_to_f16_kernel(const ConvertParams p)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < p.n; i += (long long)gridDim.x * blockDim.x) store_elem<DT_F16>(p.out, i, p.in[i]);
}
extern "C" __global__ void f32_to_bf16_kernel(const ConvertParams p)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < p.n; i += (long long)gridDim.x * blockDim.x) store_elem<DT_BF16>(p.out, i, p.in[i]);
}
// f16 / bf16 -> f32 (norm weights, tests)
extern "C" __global__ void f16_to_f32_kernel(const ConvertParams p)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < p.n; i += (long long)gridDim.x * blockDim.x) ((float*)p.out)[i] = load_elem<DT_F16>(p.in, i);
}
extern "C" __global__ void bf16_to_f32_kernel(const ConvertParams p)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < p.n; i += (long long)gridDim.x * blockDim.x) ((float*)p.out)[i] = load_elem<DT_BF16>(p.in, i);
}

// in (f32) to its hi and lo halves (store_split): out[0..n) = hi, out[n..2n) = lo.
template <int DT> __device__ void split(const ConvertParams& p)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < p.n; i += (long long)gridDim.x * blockDim.x) store_split<DT>(p.out, i, p.n, p.in[i]);
}
extern "C" __global__ void split_f16(const ConvertParams p) { split<DT_F16>(p); }
extern "C" __global__ void split_bf16(const ConvertParams p) { split<DT_BF16>(p); }
