// Declarations of the CUDA built-ins our kernels use, so that clang can syntax-check Kernels/*.cu (device side,
// -nocudainc) on a machine without a CUDA install: tests/CodecLlm.Tests/Backends/Cuda/KernelSourceTests.cs.
// Inline PTX is not checked (clang does not assemble it); NVRTC on the GPU machine remains the real compiler.
// A kernel that uses a new built-in needs its declaration here.
#define __device__ __attribute__((device))
#define __global__ __attribute__((global))
#define __shared__ __attribute__((shared))
#define __constant__ __attribute__((constant))
#define __forceinline__ __inline__ __attribute__((always_inline))
#define __launch_bounds__(...) __attribute__((launch_bounds(__VA_ARGS__)))
#define __restrict__ __restrict
#include "__clang_cuda_builtin_vars.h"
struct __attribute__((aligned(16))) uint4 { unsigned x, y, z, w; };
struct __attribute__((aligned(8))) uint2 { unsigned x, y; };
struct __attribute__((aligned(16))) float4 { float x, y, z, w; };
struct __attribute__((aligned(8))) float2 { float x, y; };
struct __attribute__((aligned(16))) int4 { int x, y, z, w; };
__device__ uint4 make_uint4(unsigned, unsigned, unsigned, unsigned);
__device__ uint2 make_uint2(unsigned, unsigned);
__device__ float4 make_float4(float, float, float, float);
__device__ float2 make_float2(float, float);
__device__ float __shfl_xor_sync(unsigned, float, int, int = 32);
__device__ unsigned __shfl_xor_sync(unsigned, unsigned, int, int = 32);
__device__ int __shfl_xor_sync(unsigned, int, int, int = 32);
__device__ float __shfl_sync(unsigned, float, int, int = 32);
__device__ unsigned __shfl_sync(unsigned, unsigned, int, int = 32);
__device__ int __shfl_sync(unsigned, int, int, int = 32);
__device__ unsigned __shfl_up_sync(unsigned, unsigned, unsigned, int = 32);
__device__ unsigned __ballot_sync(unsigned, int);
__device__ int __any_sync(unsigned, int);
__device__ float4 __ldg(const float4*);
__device__ uint4 __ldg(const uint4*);
__device__ float __ldg(const float*);
__device__ unsigned __ldg(const unsigned*);
__device__ unsigned long long __ldg(const unsigned long long*);
__device__ unsigned char __ldg(const unsigned char*);
__device__ unsigned short __ldg(const unsigned short*);
__device__ int __ldg(const int*);
__device__ unsigned __byte_perm(unsigned, unsigned, unsigned);
__device__ unsigned __funnelshift_r(unsigned, unsigned, unsigned);
__device__ unsigned __funnelshift_l(unsigned, unsigned, unsigned);
__device__ float __fmaf_rn(float, float, float);
__device__ int __popc(unsigned);
__device__ int __ffs(int);
__device__ int __clz(int);
__device__ float __uint_as_float(unsigned);
__device__ unsigned __float_as_uint(float);
__device__ int __float_as_int(float);
__device__ float __int_as_float(int);
__device__ void __syncthreads();
__device__ void __threadfence();
__device__ float __ldcg(const float*);
__device__ void __syncwarp(unsigned = 0xffffffffu);
__device__ float expf(float);
__device__ float sqrtf(float);
__device__ float rsqrtf(float);
__device__ float fmaxf(float, float);
__device__ float fminf(float, float);
__device__ float __expf(float);
__device__ float __sinf(float);
__device__ float __cosf(float);
__device__ float sinf(float);
__device__ float cosf(float);
__device__ void sincosf(float, float*, float*);
__device__ unsigned atomicAdd(unsigned*, unsigned);
__device__ int atomicAdd(int*, int);
__device__ float atomicAdd(float*, float);
__device__ unsigned atomicXor(unsigned*, unsigned);
__device__ unsigned short __float2bfloat16_rn_bits(float);
__device__ int min(int, int);
__device__ int max(int, int);
__device__ long long min(long long, long long);
__device__ long long max(long long, long long);
__device__ unsigned min(unsigned, unsigned);
__device__ unsigned long long min(unsigned long long, unsigned long long);
#define __align__(n) __attribute__((aligned(n)))
__device__ uint2 __ldg(const uint2*);
__device__ unsigned __match_any_sync(unsigned, unsigned);
__device__ unsigned __match_any_sync(unsigned, int);
__device__ float __fdiv_rn(float, float);
__device__ float __fadd_rn(float, float);
__device__ float __fmul_rn(float, float);
__device__ float logf(float);
__device__ float cospif(float);
__device__ float sinpif(float);
__device__ float fmaf(float, float, float);
