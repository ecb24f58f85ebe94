// decode_emul.cpp — host emulation of the kernel's per-lane decode path (fixed_decode.h pair words, then the
// layout-version-4 exception entries) against the reference decoder (fixed_format.h), on realistic and adversarial
// matrices of odd sizes.
// g++ -O2 -std=c++17 decode_emul.cpp -o /tmp/decode_emul && /tmp/decode_emul
#include "fixed_format.h"
#include "fixed_decode.h"
#include <cstdio>
#include <cmath>
#include <random>

static uint16_t bf16_of(float f) { uint32_t u; memcpy(&u, &f, 4); return (uint16_t)((u + 0x7fff + ((u >> 16) & 1)) >> 16); }

template <int... P> struct Seq {};
template <int P>
static void all_pairs(const uint32_t s[8], uint32_t c0, uint32_t c1, uint32_t c2, uint32_t base2, uint32_t v[16]) {
    v[P] = fx::pair_value<P>(s, c0, c1, c2, base2);
    if constexpr (P < 15) all_pairs<P + 1>(s, c0, c1, c2, base2, v);
}

// Layout version 4: every code is an exponent (base + code, no escapes in the code planes); then the tile's
// entries [tile_off[t], tile_off[t+1]) each XOR table[slot] into the exponent field of the weight at their
// position (32*lane + i), i.e. table[slot] << (16*(i&1) + 7) into pair word i>>1 of that lane.
static int check(const std::vector<uint16_t>& w, int rows, int cols, const char* what) {
    auto e = fixedfmt::encode(w.data(), rows, cols);
    std::vector<uint16_t> ref((size_t)rows * cols);
    fixedfmt::decode(e, ref.data());
    if (memcmp(ref.data(), w.data(), w.size() * 2)) { printf("%s: reference round trip FAILED\n", what); return 1; }
    int bad = 0;
    uint32_t base2 = ((uint32_t)e.base << 7) | ((uint32_t)e.base << 23);
    const uint8_t* table = e.escapes.data();  // the section starts with the 64-byte delta table
    for (int g = 0; g < e.G; g++)
        for (int t = 0; t < e.T; t++) {
            size_t tile = (size_t)g * e.T + t;
            const uint8_t* tp = &e.tiles[tile * fixedfmt::kTileBytes];
            uint32_t v[32][16];
            for (int l = 0; l < 32; l++) {
                uint32_t c[3];
                for (int j = 0; j < 3; j++) memcpy(&c[j], tp + 1024 + 128 * j + 4 * l, 4);
                uint32_t s[8]; memcpy(s, tp + 16 * l, 16); memcpy(s + 4, tp + 512 + 16 * l, 16);  // rest halves
                all_pairs<0>(s, c[0], c[1], c[2], base2, v[l]);
            }
            for (uint32_t k = e.tile_off[tile]; k < e.tile_off[tile + 1]; k++) {
                uint32_t x = (uint32_t)e.escapes[64 + 2 * k] | (uint32_t)e.escapes[64 + 2 * k + 1] << 8;
                uint32_t pos = x & 1023u, i = pos & 31u;
                v[pos >> 5][i >> 1] ^= (uint32_t)table[x >> 10] << (16 * (i & 1) + 7);
            }
            for (int l = 0; l < 32; l++)
                for (int i = 0; i < 32; i++) {
                    int r = i >> 2, cc = i & 3, row = g * 8 + r, col = t * 128 + 4 * l + cc;
                    if (row >= rows || col >= cols) continue;
                    uint16_t got = (uint16_t)(v[l][i >> 1] >> (16 * (i & 1)));
                    if (got != w[(size_t)row * cols + col] && bad++ < 5)
                        printf("%s: (%d,%d) got %04x want %04x\n", what, row, col, got, w[(size_t)row * cols + col]);
                }
        }
    size_t exceptions = 0;
    for (uint16_t x : w) exceptions += ((x >> 7) & 0xff) < e.base || ((x >> 7) & 0xff) > e.base + 7;
    printf("%-28s %5d x %-5d base %3d exceptions %6zu (%.2f%%) entries %6zu %s\n", what, rows, cols, e.base, exceptions,
           100.0 * exceptions / std::max<size_t>(w.size(), 1), e.entry_count(), bad ? "FAIL" : "ok");
    return bad != 0;
}

int main() {
    std::mt19937_64 rng(12345);
    std::normal_distribution<float> nd(0.f, 0.02f);
    int fails = 0;
    int shapes[][2] = {{8, 128}, {13, 200}, {1, 1}, {9, 130}, {37, 1000}, {300, 333}, {256, 2048}, {64, 5632}};
    for (auto& s : shapes) {
        std::vector<uint16_t> w((size_t)s[0] * s[1]);
        for (auto& x : w) x = bf16_of(nd(rng));
        fails += check(w, s[0], s[1], "gaussian");
        for (auto& x : w) x = (uint16_t)rng();
        fails += check(w, s[0], s[1], "random bits");
        for (auto& x : w) x = (rng() % 3 == 0) ? (uint16_t)rng() : bf16_of(nd(rng));
        fails += check(w, s[0], s[1], "one third random bits");
    }
    printf(fails ? "EMULATION FAILED\n" : "emulation ok\n");
    return fails != 0;
}
