// matvec.cu — phase A experiment: one kernel template, two decoders (raw BF16, `fixed`).
// y[b][row] = sum_col W[row][col] * x[b][col], W [rows, cols] BF16, x and y FP32, batch B in 1..8.
// Accumulation contract (identical for every decoder => bit-identical outputs):
//   block = row group of 8 rows; warp w of W owns tiles [w*T/W, (w+1)*T/W) of 128 columns;
//   lane l owns columns 4l..4l+3 of each tile; per row one accumulator per lane, FMAs in tile order then
//   column order; then an xor-butterfly (16,8,4,2,1) over lanes; then warps 0..W-1 summed in order.
// Build: nvcc -O3 -std=c++17 -arch=sm_90 -Xcompiler -fopenmp -Xptxas -v matvec.cu -o matvec
#include <cuda_runtime.h>
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <vector>
#include <algorithm>
#include <string>
#include "fixed_format.h"
#include "fixed_decode.h"

#define CK(x) do { cudaError_t err_ = (x); if (err_ != cudaSuccess) { \
    fprintf(stderr, "%s:%d %s: %s\n", __FILE__, __LINE__, #x, cudaGetErrorString(err_)); exit(1); } } while (0)

__device__ __forceinline__ uint4 ld_stream16(const void* p) {
    uint4 r;
    asm("ld.global.nc.L1::no_allocate.v4.u32 {%0,%1,%2,%3}, [%4];" : "=r"(r.x), "=r"(r.y), "=r"(r.z), "=r"(r.w) : "l"(p));
    return r;
}
__device__ __forceinline__ uint2 ld_stream8(const void* p) {
    uint2 r;
    asm("ld.global.nc.L1::no_allocate.v2.u32 {%0,%1}, [%2];" : "=r"(r.x), "=r"(r.y) : "l"(p));
    return r;
}
__device__ __forceinline__ uint32_t ld_stream4(const void* p) {
    uint32_t r;
    asm("ld.global.nc.L1::no_allocate.u32 %0, [%1];" : "=r"(r) : "l"(p));
    return r;
}

// ---------------------------------------------------------------- decoders
struct RawDec {
    static constexpr bool kFixed = false;
    const uint16_t* w;
    int rows, cols;
    struct Frag { uint32_t v[16]; };
    __device__ __forceinline__ void load(int g, int t, int lane, Frag& f) const {
        int col = t * 128 + lane * 4;
        bool edge = (g * 8 + 8 > rows) || (t * 128 + 128 > cols) || (cols & 3);
        if (!edge) {
            const uint16_t* p = w + (size_t)(g * 8) * cols + col;
#pragma unroll
            for (int r = 0; r < 8; r++) {
                uint2 q = ld_stream8(p + (size_t)r * cols);
                f.v[2 * r] = q.x;
                f.v[2 * r + 1] = q.y;
            }
        } else {
#pragma unroll
            for (int r = 0; r < 8; r++)
#pragma unroll
                for (int c = 0; c < 4; c++) {
                    int row = g * 8 + r, cc = col + c;
                    uint32_t b = (row < rows && cc < cols) ? w[(size_t)row * cols + cc] : 0u;
                    int p = 2 * r + (c >> 1);
                    if (c & 1) f.v[p] |= b << 16; else f.v[p] = b;
                }
        }
    }
};

struct FixedDec {
    static constexpr bool kFixed = true;
    const uint8_t* tiles;
    const uint32_t* tile_off;
    const uint8_t* esc;
    int rows, cols;
    uint32_t base;
    struct Frag { uint4 s0, s1; uint32_t c0, c1, c2; };
    __device__ __forceinline__ void load(size_t tile, int lane, Frag& f) const {
        const uint8_t* tp = tiles + tile * fixedfmt::kTileBytes;
        f.s0 = ld_stream16(tp + 16 * lane);        // layout version 3: weights 0..15
        f.s1 = ld_stream16(tp + 512 + 16 * lane);  // weights 16..31
        f.c0 = ld_stream4(tp + 1024 + 4 * lane);
        f.c1 = ld_stream4(tp + 1152 + 4 * lane);
        f.c2 = ld_stream4(tp + 1280 + 4 * lane);
    }
};

template <int B>
__device__ __forceinline__ void load_x(const float* __restrict__ x, int cols, bool xvec, int col, float4 (&xv)[B]) {
    if (xvec) {  // cols % 4 == 0: a lane's 4 columns are all in or all out
#pragma unroll
        for (int b = 0; b < B; b++)
            xv[b] = col < cols ? __ldg(reinterpret_cast<const float4*>(x + (size_t)b * cols + col)) : make_float4(0.f, 0.f, 0.f, 0.f);
    } else {
#pragma unroll
        for (int b = 0; b < B; b++) {
            const float* xb = x + (size_t)b * cols;
            xv[b].x = col < cols ? xb[col] : 0.f;
            xv[b].y = col + 1 < cols ? xb[col + 1] : 0.f;
            xv[b].z = col + 2 < cols ? xb[col + 2] : 0.f;
            xv[b].w = col + 3 < cols ? xb[col + 3] : 0.f;
        }
    }
}

__device__ __forceinline__ float lo_f(uint32_t v) { return __uint_as_float(v << 16); }
__device__ __forceinline__ float hi_f(uint32_t v) { return __uint_as_float(v & 0xffff0000u); }

// pairs 4q..4q+3 = rows 2q (cols 0..3) and 2q+1 (cols 0..3)
template <int B>
__device__ __forceinline__ void fma_quad(uint4 u, int q, const float4 (&xv)[B], float (&acc)[B][8]) {
    float w0 = lo_f(u.x), w1 = hi_f(u.x), w2 = lo_f(u.y), w3 = hi_f(u.y);
    float w4 = lo_f(u.z), w5 = hi_f(u.z), w6 = lo_f(u.w), w7 = hi_f(u.w);
#pragma unroll
    for (int b = 0; b < B; b++) {
        float a = acc[b][2 * q];
        a = __fmaf_rn(w0, xv[b].x, a); a = __fmaf_rn(w1, xv[b].y, a);
        a = __fmaf_rn(w2, xv[b].z, a); a = __fmaf_rn(w3, xv[b].w, a);
        acc[b][2 * q] = a;
        float c = acc[b][2 * q + 1];
        c = __fmaf_rn(w4, xv[b].x, c); c = __fmaf_rn(w5, xv[b].y, c);
        c = __fmaf_rn(w6, xv[b].z, c); c = __fmaf_rn(w7, xv[b].w, c);
        acc[b][2 * q + 1] = c;
    }
}

__device__ __forceinline__ void prefetch_l1(const void* p) { asm volatile("prefetch.global.L1 [%0];" :: "l"(p)); }

// Inclusive warp scan with the shuffle's own in-range predicate (2 instructions a step).
__device__ __forceinline__ uint32_t warp_incl_scan(uint32_t v) {
#pragma unroll
    for (int d = 1; d < 32; d <<= 1)
        asm("{ .reg .u32 fxr; .reg .pred fxp; shfl.sync.up.b32 fxr|fxp, %1, %2, 0, 0xffffffff; @fxp add.u32 fxr, fxr, %1; mov.u32 %0, fxr; }"
            : "=r"(v) : "r"(v), "r"(d));
    return v;
}

// Per-tile work of one decoder: fixed decodes into a per-warp shared staging area (pairs, so that escapes
// can be patched at run-time positions), raw keeps its pairs in registers.
template <class Dec, int B>
struct TileWork;

template <int B>
struct TileWork<RawDec, B> {
    __device__ __forceinline__ static void run(const RawDec&, const RawDec::Frag& f, uint32_t, uint32_t*, int,
                                               const float4 (&xv)[B], float (&acc)[B][8]) {
#pragma unroll
        for (int q = 0; q < 4; q++) fma_quad<B>(make_uint4(f.v[4 * q], f.v[4 * q + 1], f.v[4 * q + 2], f.v[4 * q + 3]), q, xv, acc);
    }
};

template <int B>
struct TileWork<FixedDec, B> {
    __device__ __forceinline__ static void run(const FixedDec& dec, const FixedDec::Frag& f, uint32_t toff, uint32_t* st, int lane,
                                               const float4 (&xv)[B], float (&acc)[B][8]) {
        const uint32_t c0 = f.c0, c1 = f.c1, c2 = f.c2;
        const uint32_t E = fx::escape_mask(c0, c1, c2);
        const uint32_t cnt = fx::popc(E);
        const uint32_t off = toff + warp_incl_scan(cnt) - cnt;
        const uint32_t s[8] = {f.s0.x, f.s0.y, f.s0.z, f.s0.w, f.s1.x, f.s1.y, f.s1.z, f.s1.w};
        const uint32_t base2 = (dec.base << 7) | (dec.base << 23);
        uint32_t* sl = st + lane * 4;  // pair p of this lane at sl[(p>>2)*128 + (p&3)]
        *reinterpret_cast<uint4*>(sl + 0) = make_uint4(
            fx::pair_value<0>(s, c0, c1, c2, base2), fx::pair_value<1>(s, c0, c1, c2, base2),
            fx::pair_value<2>(s, c0, c1, c2, base2), fx::pair_value<3>(s, c0, c1, c2, base2));
        *reinterpret_cast<uint4*>(sl + 128) = make_uint4(
            fx::pair_value<4>(s, c0, c1, c2, base2), fx::pair_value<5>(s, c0, c1, c2, base2),
            fx::pair_value<6>(s, c0, c1, c2, base2), fx::pair_value<7>(s, c0, c1, c2, base2));
        *reinterpret_cast<uint4*>(sl + 256) = make_uint4(
            fx::pair_value<8>(s, c0, c1, c2, base2), fx::pair_value<9>(s, c0, c1, c2, base2),
            fx::pair_value<10>(s, c0, c1, c2, base2), fx::pair_value<11>(s, c0, c1, c2, base2));
        *reinterpret_cast<uint4*>(sl + 384) = make_uint4(
            fx::pair_value<12>(s, c0, c1, c2, base2), fx::pair_value<13>(s, c0, c1, c2, base2),
            fx::pair_value<14>(s, c0, c1, c2, base2), fx::pair_value<15>(s, c0, c1, c2, base2));
        if (E) {
            const uint32_t a = off & ~3u;
            const uint32_t w0 = __ldg(reinterpret_cast<const uint32_t*>(dec.esc + a));
            const uint32_t w1 = __ldg(reinterpret_cast<const uint32_t*>(dec.esc + a + 4));
            if (cnt <= 4) {
                // escape bytes XOR (base+7), 4 of them, consumed low byte first
                uint32_t X = fx::funnel_r(w0, w1, (off & 3) * 8) ^ ((dec.base + 7) * 0x01010101u);
                uint32_t e = E;
                do {
                    const int b = fx::lowest_bit(e);
                    e &= e - 1;
                    sl[((b & 12) << 5) + (b & 3)] ^= (X & 0xffu) << ((b & 16) | 7);
                    X >>= 8;
                } while (e);
            } else {
                fx::patch_escapes(E, fx::funnel_r(w0, w1, (off & 3) * 8), dec.esc + off, dec.base,
                                  [&](int p, uint32_t m) { sl[(p >> 2) * 128 + (p & 3)] ^= m; });
            }
        }
#pragma unroll
        for (int q = 0; q < 4; q++) fma_quad<B>(*reinterpret_cast<const uint4*>(sl + q * 128), q, xv, acc);
    }
};

__device__ __forceinline__ void pdl_wait() { asm volatile("griddepcontrol.wait;" ::: "memory"); }
__device__ __forceinline__ void pdl_launch_dependents() { asm volatile("griddepcontrol.launch_dependents;" :::); }

// Host guarantees T <= 31 * W (a warp's tile offsets fit in one register across the warp).
template <class Dec, int B, int W>
__global__ void __launch_bounds__(W * 32) matvec(const Dec dec, const float* __restrict__ x, float* __restrict__ y, int T) {
    __shared__ __align__(16) uint32_t stage[W][Dec::kFixed ? 512 : 4];
    __shared__ float red[W][B * 8];
    pdl_launch_dependents();  // weights never depend on the previous kernel: let the next one start early
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, g = blockIdx.x;
    const int rows = dec.rows, cols = dec.cols;
    const bool xvec = (cols & 3) == 0;
    const int t0 = warp * T / W, t1 = (warp + 1) * T / W, n = t1 - t0;
    float acc[B][8];
#pragma unroll
    for (int b = 0; b < B; b++)
#pragma unroll
        for (int r = 0; r < 8; r++) acc[b][r] = 0.f;

    if (n > 0) {
        uint32_t myoff = 0;
        const size_t tb = (size_t)g * T + t0;
        auto load = [&](int t, typename Dec::Frag& f) {
            if constexpr (Dec::kFixed) dec.load(tb + (t - t0), lane, f);
            else dec.load(g, t, lane, f);
        };
        typename Dec::Frag fa, fb;
        load(t0, fa);
        if constexpr (Dec::kFixed) {
            if (lane <= n) myoff = __ldg(dec.tile_off + tb + lane);
            const uint32_t s0 = __shfl_sync(0xffffffffu, myoff, 0), s1 = __shfl_sync(0xffffffffu, myoff, n);
            for (uint32_t a = (s0 & ~127u) + 128u * lane; a < s1; a += 4096u) prefetch_l1(dec.esc + a);
        }
        uint32_t* st = &stage[warp][0];
        bool waited = false;
        auto work = [&](int t, const typename Dec::Frag& f) {
            uint32_t toff = 0;
            if constexpr (Dec::kFixed) toff = __shfl_sync(0xffffffffu, myoff, t - t0);
            if (!waited) { pdl_wait(); waited = true; }  // x is the previous kernel's output
            float4 xv[B];
            load_x<B>(x, cols, xvec, t * 128 + lane * 4, xv);
            TileWork<Dec, B>::run(dec, f, toff, st, lane, xv, acc);
        };
        int t = t0;
#pragma unroll 1
        while (true) {
            if (t + 1 < t1) load(t + 1, fb);
            work(t, fa);
            if (++t >= t1) break;
            if (t + 1 < t1) load(t + 1, fa);
            work(t, fb);
            if (++t >= t1) break;
        }
    } else {
        pdl_wait();
    }
#pragma unroll
    for (int b = 0; b < B; b++)
#pragma unroll
        for (int r = 0; r < 8; r++) {
            float v = acc[b][r];
            v += __shfl_xor_sync(0xffffffffu, v, 16);
            v += __shfl_xor_sync(0xffffffffu, v, 8);
            v += __shfl_xor_sync(0xffffffffu, v, 4);
            v += __shfl_xor_sync(0xffffffffu, v, 2);
            v += __shfl_xor_sync(0xffffffffu, v, 1);
            if (lane == 0) red[warp][b * 8 + r] = v;
        }
    __syncthreads();
    if (threadIdx.x < B * 8) {
        int b = threadIdx.x >> 3, r = threadIdx.x & 7, row = g * 8 + r;
        float s = red[0][threadIdx.x];
#pragma unroll
        for (int w = 1; w < W; w++) s += red[w][threadIdx.x];
        if (row < rows) y[(size_t)b * rows + row] = s;
    }
}

// ---------------------------------------------------------------- host side
static uint64_t mix64(uint64_t z) {
    z += 0x9e3779b97f4a7c15ull; z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull; return z ^ (z >> 31);
}
static double unif(uint64_t k) { return ((mix64(k) >> 11) + 0.5) * (1.0 / 9007199254740992.0); }
static float gauss(uint64_t k) { return (float)(std::sqrt(-2.0 * std::log(unif(2 * k))) * std::cos(6.283185307179586 * unif(2 * k + 1))); }
static uint16_t bf16_of(float f) { uint32_t u; memcpy(&u, &f, 4); return (uint16_t)((u + 0x7fff + ((u >> 16) & 1)) >> 16); }
static float f_of(uint16_t h) { uint32_t u = (uint32_t)h << 16; float f; memcpy(&f, &u, 4); return f; }

enum Kind { kGauss, kRandomBits, kThird };
static std::vector<uint16_t> make_weights(int rows, int cols, Kind kind, uint64_t seed) {
    std::vector<uint16_t> w((size_t)rows * cols);
#pragma omp parallel for schedule(static)
    for (int r = 0; r < rows; r++) {
        // per-row scale 0.02 * 2^u, u in [-0.5, 0.5]: rows of a trained matrix differ in scale
        float scale = 0.02f * std::exp2((float)unif(seed * 7919 + r) - 0.5f);
        for (int c = 0; c < cols; c++) {
            uint64_t k = seed * 0x100000000ull + (uint64_t)r * cols + c + 1;
            uint16_t v = bf16_of(scale * gauss(k));
            if (kind == kRandomBits || (kind == kThird && mix64(k ^ 0x55) % 3 == 0)) v = (uint16_t)mix64(k ^ 0xabc);
            w[(size_t)r * cols + c] = v;
        }
    }
    return w;
}

struct DevFixed { uint8_t* tiles; uint32_t* off; uint8_t* esc; };
struct Shape { int rows, cols; const char* name; };

static bool g_pdl = false;  // launch with programmatic stream serialization (PDL)

template <class Dec, int B, int W>
static void launch(const Dec& d, const float* x, float* y, int T, cudaStream_t s) {
    cudaLaunchConfig_t cfg = {};
    cfg.gridDim = dim3((d.rows + 7) / 8); cfg.blockDim = dim3(W * 32); cfg.dynamicSmemBytes = 0; cfg.stream = s;
    cudaLaunchAttribute at[1];
    at[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
    at[0].val.programmaticStreamSerializationAllowed = 1;
    cfg.attrs = at; cfg.numAttrs = g_pdl ? 1 : 0;
    CK(cudaLaunchKernelEx(&cfg, matvec<Dec, B, W>, d, x, y, T));
}

static bool w_ok(int T, int W) { return T <= 31 * W; }

template <class Dec>
static void launch_bw(const Dec& d, const float* x, float* y, int T, int B, int W, cudaStream_t s) {
    if (!w_ok(T, W)) { fprintf(stderr, "T=%d too large for W=%d\n", T, W); exit(1); }
#define L_(BB, WW) if (B == BB && W == WW) { launch<Dec, BB, WW>(d, x, y, T, s); return; }
    L_(1, 4) L_(1, 8) L_(1, 16) L_(2, 4) L_(2, 8) L_(2, 16) L_(4, 4) L_(4, 8) L_(4, 16) L_(8, 4) L_(8, 8) L_(8, 16)
#undef L_
    fprintf(stderr, "no kernel for B=%d W=%d\n", B, W); exit(1);
}

static RawDec raw_dec(const uint16_t* w, int rows, int cols) { RawDec d; d.w = w; d.rows = rows; d.cols = cols; return d; }
static FixedDec fixed_dec(const DevFixed& f, const fixedfmt::Encoded& e) {
    FixedDec d; d.tiles = f.tiles; d.tile_off = f.off; d.esc = f.esc; d.rows = e.rows; d.cols = e.cols; d.base = (uint32_t)e.base; return d;
}
static DevFixed upload_fixed(const fixedfmt::Encoded& e) {
    DevFixed f;
    CK(cudaMalloc(&f.tiles, e.tiles.size())); CK(cudaMemcpy(f.tiles, e.tiles.data(), e.tiles.size(), cudaMemcpyHostToDevice));
    CK(cudaMalloc(&f.off, e.tile_off.size() * 4)); CK(cudaMemcpy(f.off, e.tile_off.data(), e.tile_off.size() * 4, cudaMemcpyHostToDevice));
    CK(cudaMalloc(&f.esc, e.escapes.size())); CK(cudaMemcpy(f.esc, e.escapes.data(), e.escapes.size(), cudaMemcpyHostToDevice));
    return f;
}
static void free_fixed(DevFixed& f) { cudaFree(f.tiles); cudaFree(f.off); cudaFree(f.esc); }

static std::vector<double> ref_matvec(const std::vector<uint16_t>& w, const std::vector<float>& x, int rows, int cols, int B) {
    std::vector<double> y((size_t)B * rows);
#pragma omp parallel for schedule(static)
    for (int r = 0; r < rows; r++)
        for (int b = 0; b < B; b++) {
            double s = 0;
            for (int c = 0; c < cols; c++) s += (double)f_of(w[(size_t)r * cols + c]) * x[(size_t)b * cols + c];
            y[(size_t)b * rows + r] = s;
        }
    return y;
}

static std::vector<float> run_once(bool fixed, const RawDec& rd, const FixedDec& fd, const float* dx, int rows, int cols, int B, int W) {
    float* dy; size_t ny = (size_t)B * rows;
    CK(cudaMalloc(&dy, ny * 4));
    CK(cudaMemset(dy, 0xff, ny * 4));  // poison: NaN pattern
    int T = (cols + 127) / 128;
    if (fixed) launch_bw(fd, dx, dy, T, B, W, 0); else launch_bw(rd, dx, dy, T, B, W, 0);
    CK(cudaGetLastError()); CK(cudaDeviceSynchronize());
    std::vector<float> y(ny);
    CK(cudaMemcpy(y.data(), dy, ny * 4, cudaMemcpyDeviceToHost));
    CK(cudaFree(dy));
    return y;
}

static int g_fail = 0;
// Checks raw == fixed bit for bit for every (B, W); raw vs double reference when finite data.
static void check_shape(int rows, int cols, Kind kind, uint64_t seed, bool verbose) {
    auto w = make_weights(rows, cols, kind, seed);
    auto e = fixedfmt::encode(w.data(), rows, cols);
    std::vector<uint16_t> back((size_t)rows * cols);
    fixedfmt::decode(e, back.data());
    if (memcmp(back.data(), w.data(), w.size() * 2)) { printf("FAIL host round trip %dx%d\n", rows, cols); g_fail++; }
    uint16_t* dw; CK(cudaMalloc(&dw, w.size() * 2 + 16)); CK(cudaMemcpy(dw, w.data(), w.size() * 2, cudaMemcpyHostToDevice));
    DevFixed df = upload_fixed(e);
    RawDec rd = raw_dec(dw, rows, cols); FixedDec fd = fixed_dec(df, e);
    const int Bs[] = {1, 2, 4, 8}, Ws[] = {4, 8, 16};
    for (int B : Bs) {
        std::vector<float> x((size_t)B * cols);
        for (size_t i = 0; i < x.size(); i++) x[i] = gauss(seed * 31 + 1000003ull * B + i);
        float* dx; CK(cudaMalloc(&dx, x.size() * 4 + 16)); CK(cudaMemcpy(dx, x.data(), x.size() * 4, cudaMemcpyHostToDevice));
        std::vector<double> ref;
        if (kind == kGauss) ref = ref_matvec(w, x, rows, cols, B);
        for (int W : Ws) {
            if (!w_ok((cols + 127) / 128, W)) continue;
            auto yr = run_once(false, rd, fd, dx, rows, cols, B, W);
            auto yf = run_once(true, rd, fd, dx, rows, cols, B, W);
            bool same = memcmp(yr.data(), yf.data(), yr.size() * 4) == 0;
            double num = 0, den = 0; bool nan = false;
            if (kind == kGauss) {
                for (size_t i = 0; i < yr.size(); i++) {
                    if (std::isnan(yr[i])) nan = true;
                    num += (yr[i] - ref[i]) * (yr[i] - ref[i]); den += ref[i] * ref[i];
                }
            }
            double rel = den > 0 ? std::sqrt(num / den) : 0;
            bool ok = same && !nan && rel < 1e-5;
            if (!ok) g_fail++;
            if (verbose || !ok)
                printf("check %5d x %-5d %-11s B=%d W=%d raw==fixed %s  rel err vs fp64 %.2e %s\n", rows, cols,
                       kind == kGauss ? "gaussian" : kind == kRandomBits ? "random-bits" : "third-random", B, W,
                       same ? "yes" : "NO", rel, ok ? "ok" : "FAIL");
        }
        CK(cudaFree(dx));
    }
    CK(cudaFree(dw)); free_fixed(df);
}

static float median(std::vector<float> v) { std::sort(v.begin(), v.end()); return v[v.size() / 2]; }

int main(int argc, char** argv) {
    cudaDeviceProp prop; CK(cudaGetDeviceProperties(&prop, 0));
    printf("device %s, %d SMs, L2 %d MB\n", prop.name, prop.multiProcessorCount, prop.l2CacheSize >> 20);
    cudaStream_t s; CK(cudaStreamCreate(&s));
    cudaEvent_t e0, e1; CK(cudaEventCreate(&e0)); CK(cudaEventCreate(&e1));

    // copy bandwidth (bytes read + written)
    {
        size_t nb = 1ull << 30; void *a, *b; CK(cudaMalloc(&a, nb)); CK(cudaMalloc(&b, nb));
        CK(cudaMemset(a, 1, nb));
        std::vector<float> ts;
        for (int i = 0; i < 12; i++) {
            CK(cudaEventRecord(e0, s)); CK(cudaMemcpyAsync(b, a, nb, cudaMemcpyDeviceToDevice, s)); CK(cudaEventRecord(e1, s));
            CK(cudaEventSynchronize(e1)); float ms; CK(cudaEventElapsedTime(&ms, e0, e1)); if (i >= 2) ts.push_back(ms);
        }
        printf("copy bandwidth: %.0f GB/s (read+write, 1 GiB, median of 10)\n", 2.0 * nb / median(ts) / 1e6);
        CK(cudaFree(a)); CK(cudaFree(b));
    }

    // correctness: odd sizes and adversarial data, then the benchmark shapes
    const int odd[][2] = {{1, 1}, {8, 128}, {13, 200}, {9, 130}, {37, 1000}, {300, 333}, {64, 4100}, {7, 4096}};
    for (auto& o : odd)
        for (int k = 0; k < 3; k++) check_shape(o[0], o[1], (Kind)k, 100 + k + o[0] * 7 + o[1], false);
    printf("odd-size checks done: %d failures\n", g_fail);

    std::vector<Shape> shapes = {{2048, 2048, "tl q/o"}, {256, 2048, "tl k/v"}, {5632, 2048, "tl gate/up"},
                                 {2048, 5632, "tl down"}, {32000, 2048, "tl head"}, {4096, 4096, "l2 q/k/v/o"},
                                 {11008, 4096, "l2 gate/up"}, {4096, 11008, "l2 down"}, {32000, 4096, "l2 head"}};
    if (argc > 1) shapes.resize(atoi(argv[1]));
    FILE* full = fopen(argc > 2 ? argv[2] : "timings_full.txt", "w");
    fprintf(full, "matrix shape dec B W pdl time_us GBps effGBps\n");
    printf("\nbest W per row; serial = graph of plain launches, pdl = graph of PDL launches; GB/s = bytes read / time\n");
    printf("%-11s %-12s %-5s %2s | %3s %8s %7s %6s | %3s %8s %7s %6s | %6s\n", "matrix", "shape", "dec", "B", "W", "us", "GB/s", "%copy",
           "W", "us(pdl)", "GB/s", "%copy", "bits");
    // per-token matvec time sums: [dec][B][pdl]
    double tl_sum[2][9][2] = {}, l2_sum[2][9][2] = {};
    for (auto& sh : shapes) {
        int rows = sh.rows, cols = sh.cols, T = (cols + 127) / 128;
        auto w = make_weights(rows, cols, kGauss, 7 + rows + cols);
        auto e = fixedfmt::encode(w.data(), rows, cols);
        size_t raw_bytes = w.size() * 2, fx_bytes = e.bytes();
        int ncopy = (int)std::max<size_t>(2, (512ull << 20) / raw_bytes + 1);
        std::vector<uint16_t*> dws(ncopy); std::vector<DevFixed> dfs(ncopy);
        CK(cudaMalloc(&dws[0], raw_bytes)); CK(cudaMemcpy(dws[0], w.data(), raw_bytes, cudaMemcpyHostToDevice));
        dfs[0] = upload_fixed(e);
        for (int i = 1; i < ncopy; i++) {
            CK(cudaMalloc(&dws[i], raw_bytes)); CK(cudaMemcpy(dws[i], dws[0], raw_bytes, cudaMemcpyDeviceToDevice));
            CK(cudaMalloc(&dfs[i].tiles, e.tiles.size())); CK(cudaMemcpy(dfs[i].tiles, dfs[0].tiles, e.tiles.size(), cudaMemcpyDeviceToDevice));
            CK(cudaMalloc(&dfs[i].off, e.tile_off.size() * 4)); CK(cudaMemcpy(dfs[i].off, dfs[0].off, e.tile_off.size() * 4, cudaMemcpyDeviceToDevice));
            CK(cudaMalloc(&dfs[i].esc, e.escapes.size())); CK(cudaMemcpy(dfs[i].esc, dfs[0].esc, e.escapes.size(), cudaMemcpyDeviceToDevice));
        }
        float *dx, *dy; CK(cudaMalloc(&dx, (size_t)8 * cols * 4)); CK(cudaMalloc(&dy, (size_t)8 * rows * 4));
        { std::vector<float> x((size_t)8 * cols); for (size_t i = 0; i < x.size(); i++) x[i] = gauss(99 + i); CK(cudaMemcpy(dx, x.data(), x.size() * 4, cudaMemcpyHostToDevice)); }
        for (int B : {1, 8}) {  // bit identity at this shape
            RawDec rd = raw_dec(dws[0], rows, cols); FixedDec fd = fixed_dec(dfs[0], e);
            auto yr = run_once(false, rd, fd, dx, rows, cols, B, 8), yf = run_once(true, rd, fd, dx, rows, cols, B, 8);
            if (memcmp(yr.data(), yf.data(), yr.size() * 4)) { printf("FAIL raw != fixed at %s B=%d\n", sh.name, B); g_fail++; }
        }
        char shp[32]; snprintf(shp, sizeof shp, "%dx%d", rows, cols);
        for (int B : {1, 2, 4, 8})
            for (int fixed = 0; fixed < 2; fixed++) {
                float best[2] = {1e30f, 1e30f}; int bestW[2] = {0, 0};
                for (int pdl = 0; pdl < 2; pdl++)
                    for (int W : {4, 8, 16}) {
                        if (!w_ok(T, W)) continue;
                        g_pdl = pdl;
                        cudaGraph_t graph; cudaGraphExec_t ge;
                        CK(cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal));
                        for (int i = 0; i < ncopy; i++) {
                            if (fixed) launch_bw(fixed_dec(dfs[i], e), dx, dy, T, B, W, s);
                            else launch_bw(raw_dec(dws[i], rows, cols), dx, dy, T, B, W, s);
                        }
                        CK(cudaStreamEndCapture(s, &graph)); CK(cudaGraphInstantiate(&ge, graph, 0));
                        std::vector<float> ts;
                        for (int it = 0; it < 33; it++) {
                            CK(cudaEventRecord(e0, s)); CK(cudaGraphLaunch(ge, s)); CK(cudaEventRecord(e1, s));
                            CK(cudaEventSynchronize(e1)); float ms; CK(cudaEventElapsedTime(&ms, e0, e1));
                            if (it >= 3) ts.push_back(ms * 1000.f / ncopy);
                        }
                        CK(cudaGetLastError());
                        CK(cudaGraphExecDestroy(ge)); CK(cudaGraphDestroy(graph));
                        float us = median(ts);
                        size_t bytes = fixed ? fx_bytes : raw_bytes;
                        fprintf(full, "%s %s %s %d %d %d %.2f %.0f %.0f\n", sh.name, shp, fixed ? "fixed" : "raw", B, W, pdl, us, bytes / us / 1e3, raw_bytes / us / 1e3);
                        if (us < best[pdl]) { best[pdl] = us; bestW[pdl] = W; }
                    }
                g_pdl = false;
                size_t bytes = fixed ? fx_bytes : raw_bytes;
                printf("%-11s %-12s %-5s %2d | %3d %8.2f %7.0f %5.1f%% | %3d %8.2f %7.0f %5.1f%% | %6.3f\n", sh.name, shp, fixed ? "fixed" : "raw", B,
                       bestW[0], best[0], bytes / best[0] / 1e3, 100.0 * bytes / best[0] / 1e3 / 2850.0,
                       bestW[1], best[1], bytes / best[1] / 1e3, 100.0 * bytes / best[1] / 1e3 / 2850.0, 8.0 * bytes / w.size());
                // TinyLlama layer: q,o (2048x2048) x2, k,v (256x2048) x2, gate,up x2, down x1; 22 layers + head
                std::string nm = sh.name; int mult = 0; bool tl = nm.rfind("tl", 0) == 0;
                if (nm == "tl q/o") mult = 2 * 22; else if (nm == "tl k/v") mult = 2 * 22; else if (nm == "tl gate/up") mult = 2 * 22;
                else if (nm == "tl down") mult = 22; else if (nm == "tl head") mult = 1;
                else if (nm == "l2 q/k/v/o") mult = 4 * 32; else if (nm == "l2 gate/up") mult = 2 * 32; else if (nm == "l2 down") mult = 32;
                else if (nm == "l2 head") mult = 1;
                for (int pdl = 0; pdl < 2; pdl++) (tl ? tl_sum : l2_sum)[fixed][B][pdl] += mult * best[pdl];
            }
        for (int i = 0; i < ncopy; i++) { CK(cudaFree(dws[i])); free_fixed(dfs[i]); }
        CK(cudaFree(dx)); CK(cudaFree(dy));
        fflush(stdout);
    }
    fclose(full);
    printf("\nper-token matvec time (sum of best-W kernel times over all matrices of the model), us:\n");
    printf("%-10s %2s %10s %10s %7s | %10s %10s %7s\n", "model", "B", "raw", "fixed", "speedup", "raw(pdl)", "fixed(pdl)", "speedup");
    for (int B : {1, 2, 4, 8}) {
        printf("%-10s %2d %10.1f %10.1f %6.3fx | %10.1f %10.1f %6.3fx\n", "tinyllama", B, tl_sum[0][B][0], tl_sum[1][B][0], tl_sum[0][B][0] / tl_sum[1][B][0],
               tl_sum[0][B][1], tl_sum[1][B][1], tl_sum[0][B][1] / tl_sum[1][B][1]);
        printf("%-10s %2d %10.1f %10.1f %6.3fx | %10.1f %10.1f %6.3fx\n", "llama-2-7b", B, l2_sum[0][B][0], l2_sum[1][B][0], l2_sum[0][B][0] / l2_sum[1][B][0],
               l2_sum[0][B][1], l2_sum[1][B][1], l2_sum[0][B][1] / l2_sum[1][B][1]);
    }
    printf("\n%s: %d failures\n", g_fail ? "FAILED" : "ALL CHECKS PASSED", g_fail);
    return g_fail != 0;
}
