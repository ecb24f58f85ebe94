// What the attention kernels share (attention.cu: RoPE, the cache append, prefill fallback and decode;
// attention_prefill.cu: tiled causal prefill): their parameters and the cache-row loads.
#pragma once
#include "common.cuh"

// 8 (or 4) consecutive cache elements from a 16-byte (8-byte) aligned index: f32 as float4s, f16/bf16 as 16-bit lanes.
template <int KV> __device__ __forceinline__ void load4(const void* p, long long i, float* v)
{
    if (KV == DT_F32)
    {
        float4 a = *(const float4*)((const float*)p + i);
        v[0] = a.x; v[1] = a.y; v[2] = a.z; v[3] = a.w;
    }
    else
    {
        uint2 a = *(const uint2*)((const u16*)p + i);
        u32 w[2] = {a.x, a.y};
#pragma unroll
        for (int k = 0; k < 2; ++k)
        {
            u16 lo = (u16)(w[k] & 0xffffu), hi = (u16)(w[k] >> 16);
            v[2 * k] = KV == DT_F16 ? f16_to_f32(lo) : bf16_to_f32(lo);
            v[2 * k + 1] = KV == DT_F16 ? f16_to_f32(hi) : bf16_to_f32(hi);
        }
    }
}
template <int KV> __device__ __forceinline__ void load8(const void* p, long long i, float* v)
{
    load4<KV>(p, i, v);
    load4<KV>(p, i + 4, v + 4);
}
struct AttnParams
{
    float* q; void* kcache; void* vcache; float* out;
    const int* pos0;
    int T; int n_heads; int n_kv_heads; int head_dim; float scale;
    // Decode (T == 1) with RoPE fused: q, k of the new token come unrotated; every block rotates q and
    // the new k itself, uses the new k/v (rounded to the cache type) for the last position, and the
    // first block of each kv head appends them to the cache.
    float* k_new; const float* v_new; const float* inv_freq; int style; int fuse_rope;
    // Batched decode (seq_bytes != 0; fused RoPE, T = batch): query t is sequence t at position pos0[t], with its
    // q/k/v/out rows at row t and its cache seq_bytes * t bytes further on.
    long long seq_bytes;
    // Decode: positions whose key and value rows are copied into shared memory before the wait (the host sizes the
    // dynamic shared memory for them); 0 for prefill.
    int stage_rows;
    // Prefill (rope_kv): bit 0/1/2 set when q/k_new/v_new are still a prefill GEMM's [hi | lo] output (T rows of W·hi,
    // then T rows of W·lo); rope_kv sums them as it reads them. 0 everywhere else.
    int halves;
    // Decode (attention_decode) split over positions: a block (grid z) takes split_len positions (0: all of them, one
    // block a head); with more than one block holding positions, each writes its partial output, max and exp sum to
    // split_ws ([batch][heads][split_max][head_dim + 2] floats) and the last to finish (split_count, [batch][heads] ints,
    // zero between launches) combines them in block order.
    float* split_ws; int* split_count; int split_len; int split_max;
    // Sliding-window attention (Mistral, Qwen2): a query at position q attends to positions max(0, q - window + 1) .. q;
    // 0: to every earlier position.
    int window;
};

// The first position a query at position q attends to.
__device__ __forceinline__ int attn_first(const AttnParams& p, int q) { return p.window > 0 ? max(0, q - p.window + 1) : 0; }
