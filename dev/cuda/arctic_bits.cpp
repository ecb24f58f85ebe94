// arctic_bits.cpp — encodes every BF16 tensor of a safetensors file with the `fixed` layout, version 4
// (fixed_format.h), checks the round trip bit for bit, and prints bits/weight and the FNV-1a hash of all
// sections that tests/CodecLlm.Tests/Codecs/FixedTileLayoutTests.cs compares with the C# encoder.
// Build: g++ -O2 -std=c++17 arctic_bits.cpp -o /tmp/arctic_bits && /tmp/arctic_bits FILE
#include "fixed_format.h"
#include <cstdio>
#include <string>
#include <fstream>
#include <iterator>

static size_t find_num(const std::string& s, size_t pos, long long& v) {
    while (pos < s.size() && !(s[pos] >= '0' && s[pos] <= '9')) pos++;
    v = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') v = v * 10 + (s[pos++] - '0');
    return pos;
}

int main(int argc, char** argv) {
    std::ifstream f(argv[1], std::ios::binary);
    std::vector<char> all((std::istreambuf_iterator<char>(f)), {});
    uint64_t hlen; memcpy(&hlen, all.data(), 8);
    std::string h(all.data() + 8, hlen);
    const char* data = all.data() + 8 + hlen;
    uint64_t fnv = 1469598103934665603ull;
    auto mixb = [&](const void* p, size_t n) { const uint8_t* b = (const uint8_t*)p; for (size_t i = 0; i < n; i++) { fnv ^= b[i]; fnv *= 1099511628211ull; } };
    size_t pos = 0; double tot_w = 0, tot_b = 0, mat_w = 0, mat_b = 0, entries = 0, exceptions = 0;
    int ntens = 0, bad = 0;
    while ((pos = h.find("\"dtype\"", pos)) != std::string::npos) {
        size_t name_end = h.rfind("\":{", pos);
        size_t name_start = h.rfind('"', name_end - 1);
        std::string name = h.substr(name_start + 1, name_end - name_start - 1);
        bool bf16 = h.compare(h.find('"', pos + 7) + 1, 4, "BF16") == 0;
        size_t sp = h.find("\"shape\"", pos), se = h.find(']', sp);
        std::vector<long long> shape;
        size_t q = h.find('[', sp) + 1;
        while (true) { size_t nq = q; while (nq < se && !(h[nq] >= '0' && h[nq] <= '9')) nq++; if (nq >= se) break; long long v; q = find_num(h, nq, v); shape.push_back(v); }
        size_t op = h.find("\"data_offsets\"", pos);
        long long a, b; size_t q2 = find_num(h, h.find('[', op), a); find_num(h, q2, b);
        pos = op;
        if (!bf16) continue;
        long long n = (b - a) / 2; ntens++;
        int rows, cols;
        std::vector<uint16_t> w(n);
        memcpy(w.data(), data + a, n * 2);
        if (shape.size() == 2) { rows = (int)shape[0]; cols = (int)shape[1]; }
        else { cols = 128; rows = (int)((n + 127) / 128); w.resize((size_t)rows * cols, 0); }
        auto e = fixedfmt::encode(w.data(), (size_t)n, rows, cols);  // flat tails past n are padding
        std::vector<uint16_t> back((size_t)rows * cols, 0xdead);
        fixedfmt::decode(e, back.data(), (size_t)n);
        for (long long i = 0; i < n; i++) if (back[i] != w[i]) { bad++; printf("MISMATCH %s at %lld\n", name.c_str(), i); break; }
        mixb(e.tiles.data(), e.tiles.size()); mixb(e.tile_off.data(), e.tile_off.size() * 4); mixb(e.escapes.data(), e.escapes.size());
        double bits = e.bytes() * 8.0 + 16 * 8;  // + 16-byte blob header
        tot_w += n; tot_b += bits; entries += e.entry_count();
        for (long long i = 0; i < n; i++) { int x = (w[i] >> 7) & 0xff; exceptions += x < e.base || x > e.base + 7; }
        if (shape.size() == 2) { mat_w += n; mat_b += bits; }
    }
    printf("tensors %d  round-trip mismatches %d\n", ntens, bad);
    printf("all tensors: %.0f weights  %.4f bits/weight  exceptions %.4f%%  entries %.4f%% of weights\n", tot_w, tot_b / tot_w,
           100 * exceptions / tot_w, 100 * entries / tot_w);
    printf("FNV-1a of all sections, all BF16 tensors in file order: %016llx\n", (unsigned long long)fnv);
    printf("2-D tensors: %.0f weights  %.4f bits/weight\n", mat_w, mat_b / mat_w);
    return bad != 0;
}
