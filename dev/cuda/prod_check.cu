// prod_check.cu — builds the production kernel source (src/.../Kernels/fused_matvec.cu) with nvcc and checks
// raw == fixed bit for bit and raw vs an FP64 reference, on odd and real shapes, every entry point.
// nvcc -O3 -std=c++17 -arch=sm_90 -Xcompiler -fopenmp prod_check.cu -o prod_check -lgomp
#include <cuda_runtime.h>
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <vector>
#include "fixed_format.h"
#define FM_STANDALONE_ENTRIES
#include "../../src/CodecLlm/Backends/Cuda/Kernels/fused_matvec.cu"

#define CK(x) do { cudaError_t err_ = (x); if (err_ != cudaSuccess) { \
    fprintf(stderr, "%s:%d %s: %s\n", __FILE__, __LINE__, #x, cudaGetErrorString(err_)); exit(1); } } while (0)

static uint64_t mix64(uint64_t z) {
    z += 0x9e3779b97f4a7c15ull; z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull; return z ^ (z >> 31);
}
static double unif(uint64_t k) { return ((mix64(k) >> 11) + 0.5) * (1.0 / 9007199254740992.0); }
static float gauss(uint64_t k) { return (float)(std::sqrt(-2.0 * std::log(unif(2 * k))) * std::cos(6.283185307179586 * unif(2 * k + 1))); }
static uint16_t bf16_of(float f) { uint32_t u; memcpy(&u, &f, 4); return (uint16_t)((u + 0x7fff + ((u >> 16) & 1)) >> 16); }
static float f_of(uint16_t h) { uint32_t u = (uint32_t)h << 16; float f; memcpy(&f, &u, 4); return f; }

typedef void (*RawK)(FmRaw, const float*, float*);
typedef void (*FixK)(FmFixed, const float*, float*);
struct Entry { int B, W; RawK raw; FixK fix; };
#define E_(B, W) {B, W, fused_matvec_raw_b##B##_w##W, fused_matvec_fixed_b##B##_w##W}
static Entry entries[] = {E_(1, 4), E_(1, 8), E_(1, 16), E_(2, 4), E_(2, 8), E_(4, 4), E_(4, 8), E_(8, 4), E_(8, 8)};

int main() {
    int fails = 0, checks = 0;
    const int shapes[][2] = {{1, 1}, {13, 200}, {9, 130}, {37, 1000}, {300, 333}, {7, 4096}, {256, 2048}, {2048, 5632}, {4096, 11008}};
    for (auto& sh : shapes)
        for (int kind = 0; kind < 2; kind++) {
            int rows = sh[0], cols = sh[1], T = (cols + 127) / 128;
            std::vector<uint16_t> w((size_t)rows * cols);
#pragma omp parallel for
            for (long long i = 0; i < (long long)w.size(); i++) {
                w[i] = bf16_of(0.02f * gauss(i + 77 * rows + cols));
                if (kind == 1 && mix64(i) % 4 == 0) w[i] = (uint16_t)mix64(i ^ 0x99);  // many exceptions (multi-entry ones too), NaN/Inf
            }
            auto e = fixedfmt::encode(w.data(), rows, cols);
            uint16_t* dw; CK(cudaMalloc(&dw, w.size() * 2 + 16)); CK(cudaMemcpy(dw, w.data(), w.size() * 2, cudaMemcpyHostToDevice));
            uint8_t *dt, *de; uint32_t* doff;
            CK(cudaMalloc(&dt, e.tiles.size())); CK(cudaMemcpy(dt, e.tiles.data(), e.tiles.size(), cudaMemcpyHostToDevice));
            CK(cudaMalloc(&doff, e.tile_off.size() * 4)); CK(cudaMemcpy(doff, e.tile_off.data(), e.tile_off.size() * 4, cudaMemcpyHostToDevice));
            CK(cudaMalloc(&de, e.escapes.size())); CK(cudaMemcpy(de, e.escapes.data(), e.escapes.size(), cudaMemcpyHostToDevice));
            FmRaw rd{dw, rows, cols};
            FmFixed fd{dt, doff, de, rows, cols, (u32)e.base};
            for (auto& en : entries) {
                if (T > 31 * en.W) continue;
                int B = en.B;
                std::vector<float> x((size_t)B * cols);
                for (size_t i = 0; i < x.size(); i++) x[i] = gauss(5 + i * 3 + B);
                float *dx, *dy1, *dy2;
                CK(cudaMalloc(&dx, x.size() * 4)); CK(cudaMemcpy(dx, x.data(), x.size() * 4, cudaMemcpyHostToDevice));
                CK(cudaMalloc(&dy1, (size_t)B * rows * 4)); CK(cudaMalloc(&dy2, (size_t)B * rows * 4));
                CK(cudaMemset(dy1, 0xff, (size_t)B * rows * 4)); CK(cudaMemset(dy2, 0xff, (size_t)B * rows * 4));
                int G = (rows + 7) / 8;
                en.raw<<<G, 32 * en.W>>>(rd, dx, dy1); CK(cudaGetLastError());
                en.fix<<<G, 32 * en.W>>>(fd, dx, dy2); CK(cudaGetLastError());
                CK(cudaDeviceSynchronize());
                std::vector<float> y1((size_t)B * rows), y2((size_t)B * rows);
                CK(cudaMemcpy(y1.data(), dy1, y1.size() * 4, cudaMemcpyDeviceToHost)); CK(cudaMemcpy(y2.data(), dy2, y2.size() * 4, cudaMemcpyDeviceToHost));
                bool same = memcmp(y1.data(), y2.data(), y1.size() * 4) == 0;
                double num = 0, den = 0;
                if (kind == 0) {
                    std::vector<double> ref(y1.size());
#pragma omp parallel for
                    for (int r = 0; r < rows; r++)
                        for (int b = 0; b < B; b++) {
                            double sum = 0;
                            for (int c = 0; c < cols; c++) sum += (double)f_of(w[(size_t)r * cols + c]) * x[(size_t)b * cols + c];
                            ref[(size_t)b * rows + r] = sum;
                        }
                    for (size_t i = 0; i < y1.size(); i++) { num += (y1[i] - ref[i]) * (y1[i] - ref[i]); den += ref[i] * ref[i]; }
                }
                double rel = den > 0 ? std::sqrt(num / den) : 0;
                bool ok = same && (kind == 1 || (rel < 1e-5 && std::isfinite(rel)));
                checks++;
                if (!ok) { fails++; printf("FAIL %dx%d kind %d B=%d W=%d raw==fixed %d rel %.2e\n", rows, cols, kind, B, en.W, same, rel); }
                CK(cudaFree(dx)); CK(cudaFree(dy1)); CK(cudaFree(dy2));
            }
            CK(cudaFree(dw)); CK(cudaFree(dt)); CK(cudaFree(doff)); CK(cudaFree(de));
        }
    printf("production kernel: %d checks, %d failures\n", checks, fails);
    return fails != 0;
}
