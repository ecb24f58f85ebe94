// fixed_decode.h — the per-lane decode steps of the `fixed` layout, shared by the CUDA kernel and a
// host emulation (so the bit tricks are checked on the CPU before any GPU time is spent).
#pragma once
#include <cstdint>

#if defined(__CUDACC__)
#define FX_HD __host__ __device__ __forceinline__
#else
#define FX_HD inline
#endif

namespace fx {

// PRMT: result byte k = byte ((sel >> 4k) & 7) of the 8-byte value {b:a}.
FX_HD uint32_t prmt(uint32_t a, uint32_t b, uint32_t sel) {
#if defined(__CUDA_ARCH__)
    return __byte_perm(a, b, sel);
#else
    uint64_t v = ((uint64_t)b << 32) | a;
    uint32_t r = 0;
    for (int k = 0; k < 4; k++) r |= (uint32_t)((v >> (8 * ((sel >> (4 * k)) & 7))) & 0xff) << (8 * k);
    return r;
#endif
}

FX_HD uint32_t funnel_r(uint32_t lo, uint32_t hi, uint32_t sh) {
#if defined(__CUDA_ARCH__)
    return __funnelshift_r(lo, hi, sh);
#else
    return (uint32_t)((((uint64_t)hi << 32) | lo) >> (sh & 31));
#endif
}

FX_HD int popc(uint32_t v) {
#if defined(__CUDA_ARCH__)
    return __popc(v);
#else
    return __builtin_popcount(v);
#endif
}

FX_HD int lowest_bit(uint32_t v) {  // v != 0
#if defined(__CUDA_ARCH__)
    return __ffs(v) - 1;
#else
    return __builtin_ctz(v);
#endif
}

// Bit e = h*16 + p set when weight (pair p, half h) is an escape (code 7).
FX_HD uint32_t escape_mask(uint32_t c0, uint32_t c1, uint32_t c2) {
    const uint32_t F = 0x12491249u;  // field starts 0,3,6,9,12 of each half
    uint32_t e0 = c0 & (c0 >> 1) & (c0 >> 2) & F;
    uint32_t e1 = c1 & (c1 >> 1) & (c1 >> 2) & F;
    uint32_t e2 = c2 & (c2 >> 1) & (c2 >> 2) & F;
    return e0 | (e1 << 1) | (e2 << 2) | (c0 & c1 & c2 & 0x80008000u);
}

// Pair p's two codes moved to bits 7..9 and 23..25.
template <int P>
FX_HD uint32_t pair_codes(uint32_t c0, uint32_t c1, uint32_t c2) {
    if constexpr (P == 15) {
        return ((c0 >> 8) & 0x00800080u) | ((c1 >> 7) & 0x01000100u) | ((c2 >> 6) & 0x02000200u);
    } else {
        constexpr int W = P % 3, F = 3 * (P / 3);
        uint32_t c = W == 0 ? c0 : (W == 1 ? c1 : c2);
        uint32_t s = F <= 7 ? (c << (7 - F)) : (c >> (F - 7));
        return s & 0x03800380u;
    }
}

// Sign/mantissa bytes of weights 4k..4k+3 (word k of the lane's 32 bytes) -> pairs 2k, 2k+1
// with sign at bits 15/31, mantissa at 0..6 / 16..22, exponent fields zero.
FX_HD void sm_pairs(uint32_t s, uint32_t& lo, uint32_t& hi) {
    uint32_t m = s & 0x7f7f7f7fu, g = s & 0x80808080u;
    lo = prmt(m, g, 0x5140);
    hi = prmt(m, g, 0x7362);
}

template <int P>
FX_HD uint32_t pair_value(const uint32_t s[8], uint32_t c0, uint32_t c1, uint32_t c2, uint32_t base2) {
    uint32_t lo, hi;
    sm_pairs(s[P >> 1], lo, hi);
    return ((P & 1) ? hi : lo) + pair_codes<P>(c0, c1, c2) + base2;
}

// Escape patch: for escape number k of the lane (ascending bit of E), XOR the pair word so that
// the exponent base+7 becomes the escape byte.  X = the lane's first 4 escape bytes; later ones
// come from esc_lane[k] (rare).  St: st(p, xor_mask).
template <class St>
FX_HD void patch_escapes(uint32_t E, uint32_t X, const uint8_t* esc_lane, uint32_t base, St st) {
    int k = 0;
    while (E) {
        int b = lowest_bit(E);
        E &= E - 1;
        uint32_t e = X & 0xffu;
        X >>= 8;
        if (k >= 4) e = esc_lane[k];
        k++;
        st(b & 15, (e ^ (base + 7)) << ((b & 16) | 7));
    }
}

}  // namespace fx
