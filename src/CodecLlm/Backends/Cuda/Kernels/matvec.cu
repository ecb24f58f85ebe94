// Batch-1 matrix-vector kernels over raw weights (see matvec.cuh for the shared template).
#include "matvec.cuh"

extern "C" __global__ void __launch_bounds__(128) matvec_f32_vec(const MatvecParams p) { matvec<RawDec<DT_F32, true>>(p); }
extern "C" __global__ void __launch_bounds__(128) matvec_f16_vec(const MatvecParams p) { matvec<RawDec<DT_F16, true>>(p); }
extern "C" __global__ void __launch_bounds__(128) matvec_bf16_vec(const MatvecParams p) { matvec<RawDec<DT_BF16, true>>(p); }
extern "C" __global__ void __launch_bounds__(128) matvec_f32_scalar(const MatvecParams p) { matvec<RawDec<DT_F32, false>>(p); }
extern "C" __global__ void __launch_bounds__(128) matvec_f16_scalar(const MatvecParams p) { matvec<RawDec<DT_F16, false>>(p); }
extern "C" __global__ void __launch_bounds__(128) matvec_bf16_scalar(const MatvecParams p) { matvec<RawDec<DT_BF16, false>>(p); }
