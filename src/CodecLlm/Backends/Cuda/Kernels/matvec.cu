// Batch-1 matrix-vector kernels over raw F32/F16 weights (see matvec.cuh for the shared template). BF16 and
// `fixed` weights go through fused_matvec.cu (one template for both: bit-identical by construction).
#include "matvec.cuh"

extern "C" __global__ void __launch_bounds__(128) matvec_f32_vec(const MatvecParams p) { matvec<RawDec<DT_F32, true>>(p); }
extern "C" __global__ void __launch_bounds__(128) matvec_f16_vec(const MatvecParams p) { matvec<RawDec<DT_F16, true>>(p); }
extern "C" __global__ void __launch_bounds__(128) matvec_f32_scalar(const MatvecParams p) { matvec<RawDec<DT_F32, false>>(p); }
extern "C" __global__ void __launch_bounds__(128) matvec_f16_scalar(const MatvecParams p) { matvec<RawDec<DT_F16, false>>(p); }
