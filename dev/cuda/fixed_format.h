// fixed_format.h — host reference encoder/decoder of the `fixed` BF16 layout (tile 8 rows x 128 cols),
// layout version 4. Plain C++17, no CUDA: used by the device checks (prod_check.cu, decode_emul.cpp) and by
// the local arctic tool (arctic_bits.cpp). Written from the specification, independently of the C# encoder
// (src/CodecLlm/Codecs/FixedTileLayout.cs), so that the two can be compared byte for byte.
// (matvec.cu, the phase-A experiment, and fixed_decode.h's escape_mask / patch_escapes still implement the
// version-3 escapes: their fixed path does not decode what this encoder writes.)
//
// Layout (docs/FORMAT.md, section `fixed`, is the normative text):
//   matrix view [rows, cols]; G = ceil(rows/8) row groups, T = ceil(cols/128) column tiles,
//   tile (g,t) at index g*T+t, 1408 bytes each, row-group-major.
//   lane l (0..31) of a tile owns the 32 weights i = r*4+c (r 0..7, c 0..3) at
//   row 8g+r, col 128t+4l+c; pair p = i>>1 (lo = even column, hi = odd column).
//   bytes [0,1024): sign/mantissa byte of weight i of lane l at 512(i>>4)+16l+(i&15):
//   (bf16>>8 & 0x80) | (bf16 & 0x7f)
//   bytes [1024,1408): three code planes; word w of lane l at 1024 + 128w + 4l.
//     pair p < 15, half h: code bits at word p%3, bit h*16 + 3*(p/3) (3 bits, lsb first)
//     pair 15, half h: code bit j (0..2) at word j, bit h*16 + 15
//   code c (0..7): exponent = base + c; base (0..248) = start of the first window of 8 consecutive
//   exponents holding the most weights.
//   exceptions: a weight whose exponent e lies outside [base, base+7] gets code 0 and entries in the
//   escape section whose table deltas XOR together to d = e ^ base.
//   escape section: table[64] (bytes), then u16 entries (LE) tile after tile, then 8 zero bytes.
//     entry = position | slot << 10, position = 32*lane + i; meaning: exponent of that weight ^= table[slot].
//     table[56+b] = 1 << b (always); table[0..55] = the most frequent deltas of the tensor's exceptions,
//     by decreasing count, ties by the smaller delta; unused slots 0.
//     an exception whose d is in slots 0..55: one entry with that slot; otherwise one entry per set bit b
//     of d (slot 56+b, ascending b). Entries of a tile by ascending position, then ascending slot.
//   tile_off[k] = entries before tile k (u32); tile_off[G*T] = total entry count.
//   Padding weights (outside the matrix, or past the element count) use code 0, rest 0, no entries.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>
#include <stdexcept>

namespace fixedfmt {

constexpr int kTileRows = 8, kTileCols = 128, kTileBytes = 1408;
constexpr int kTableBytes = 64, kDeltaSlots = 56, kBasisSlot = 56, kPadBytes = 8;

struct Encoded {
    int rows = 0, cols = 0, G = 0, T = 0, base = 0;
    std::vector<uint8_t> tiles;      // G*T*1408
    std::vector<uint32_t> tile_off;  // G*T + 1 (last = entry count)
    std::vector<uint8_t> escapes;    // escape section: 64-byte table, 2-byte entries, 8 padding bytes
    size_t bytes() const { return tiles.size() + tile_off.size() * 4 + escapes.size() - kPadBytes; }
    size_t entry_count() const { return (escapes.size() - kTableBytes - kPadBytes) / 2; }
    const uint8_t* table() const { return escapes.data(); }
    uint16_t entry(size_t k) const { return (uint16_t)(escapes[kTableBytes + 2 * k] | escapes[kTableBytes + 2 * k + 1] << 8); }
};

inline int code_bit_pos(int p, int h, int j, int& word) {
    if (p < 15) { word = p % 3; return h * 16 + 3 * (p / 3) + j; }
    word = j; return h * 16 + 15;
}

inline int exponent_of(uint16_t v) { return (v >> 7) & 0xff; }

// Picks the first window [base, base+7] of consecutive exponents covering most of the n weights.
inline int choose_base(const uint16_t* w, size_t n) {
    uint64_t hist[256] = {0};
    for (size_t i = 0; i < n; i++) hist[exponent_of(w[i])]++;
    int best = 0; uint64_t bestc = 0;
    for (int b = 0; b <= 248; b++) {
        uint64_t c = 0;
        for (int k = 0; k < 8; k++) c += hist[b + k];
        if (c > bestc) { bestc = c; best = b; }
    }
    return best;
}

// The 64-byte delta table: the deltas d = e ^ base of the exceptions among the n weights, most frequent first
// (ties: smaller d first) in slots 0..55, the basis bits in slots 56..63.
inline void build_table(const uint16_t* w, size_t n, int base, uint8_t table[kTableBytes]) {
    uint64_t count[256] = {0};
    for (size_t i = 0; i < n; i++) {
        int e = exponent_of(w[i]);
        if (e < base || e > base + 7) count[e ^ base]++;
    }
    std::vector<int> deltas;
    for (int d = 0; d < 256; d++) if (count[d]) deltas.push_back(d);
    std::stable_sort(deltas.begin(), deltas.end(), [&](int a, int b) { return count[a] != count[b] ? count[a] > count[b] : a < b; });
    memset(table, 0, kTableBytes);
    for (size_t s = 0; s < deltas.size() && s < (size_t)kDeltaSlots; s++) table[s] = (uint8_t)deltas[s];
    for (int b = 0; b < 8; b++) table[kBasisSlot + b] = (uint8_t)(1u << b);
}

// Encodes one row group g: its T tiles into e.tiles, its entries appended to ent,
// tile_off[g*T+t] = entries before tile (g,t) within this group. slot_of[d] = table slot of delta d or -1.
inline void encode_group(Encoded& e, const uint16_t* w, size_t n, int g, const int slot_of[256], std::vector<uint16_t>& ent) {
    const int rows = e.rows, cols = e.cols;
    for (int t = 0; t < e.T; t++) {
        size_t tile = (size_t)g * e.T + t;
        e.tile_off[tile] = (uint32_t)ent.size();
        uint8_t* tp = &e.tiles[tile * kTileBytes];
        for (int l = 0; l < 32; l++) {
            uint32_t words[3] = {0, 0, 0};
            for (int i = 0; i < 32; i++) {
                int r = i >> 2, c = i & 3;
                int row = g * kTileRows + r, col = t * kTileCols + 4 * l + c;
                size_t idx = (size_t)row * cols + col;
                bool inside = row < rows && col < cols && idx < n;
                uint16_t v = inside ? w[idx] : 0;
                int ex = exponent_of(v);
                tp[(i >> 4) * 512 + 16 * l + (i & 15)] = (uint8_t)(((v >> 8) & 0x80) | (v & 0x7f));
                int code = 0;
                if (inside) {
                    if (ex >= e.base && ex <= e.base + 7) {
                        code = ex - e.base;
                    } else {
                        int d = ex ^ e.base, pos = 32 * l + i;
                        if (slot_of[d] >= 0) {
                            ent.push_back((uint16_t)(pos | slot_of[d] << 10));
                        } else {
                            for (int b = 0; b < 8; b++)
                                if ((d >> b) & 1) ent.push_back((uint16_t)(pos | (kBasisSlot + b) << 10));
                        }
                    }
                }
                int p = i >> 1, h = i & 1;
                for (int j = 0; j < 3; j++) {
                    int word; int bit = code_bit_pos(p, h, j, word);
                    if ((code >> j) & 1) words[word] |= 1u << bit;
                }
            }
            for (int j = 0; j < 3; j++) memcpy(tp + 1024 + 128 * j + 4 * l, &words[j], 4);
        }
    }
}

// Encodes the first n weights of the row-major [rows, cols] view (n <= rows*cols; the rest is padding).
inline Encoded encode(const uint16_t* w, size_t n, int rows, int cols) {
    if (n > (size_t)rows * cols) throw std::invalid_argument("more weights than the matrix view holds");
    Encoded e;
    e.rows = rows; e.cols = cols;
    e.G = (rows + kTileRows - 1) / kTileRows; e.T = (cols + kTileCols - 1) / kTileCols;
    e.base = choose_base(w, n);
    uint8_t table[kTableBytes];
    build_table(w, n, e.base, table);
    int slot_of[256];
    for (int d = 0; d < 256; d++) slot_of[d] = -1;
    for (int s = kDeltaSlots - 1; s >= 0; s--) if (table[s]) slot_of[table[s]] = s;  // deltas are never 0
    e.tiles.assign((size_t)e.G * e.T * kTileBytes, 0);
    e.tile_off.assign((size_t)e.G * e.T + 1, 0);
    std::vector<std::vector<uint16_t>> ent(e.G);
#pragma omp parallel for schedule(dynamic, 16)
    for (int g = 0; g < e.G; g++) encode_group(e, w, n, g, slot_of, ent[g]);
    size_t total = 0;
    for (int g = 0; g < e.G; g++) total += ent[g].size();
    if (total > 0xffffffffu) throw std::overflow_error("entry count does not fit the u32 tile offsets");
    e.escapes.assign(kTableBytes + 2 * total + kPadBytes, 0);
    memcpy(e.escapes.data(), table, kTableBytes);
    size_t k = 0;
    for (int g = 0; g < e.G; g++) {
        for (int t = 0; t < e.T; t++) e.tile_off[(size_t)g * e.T + t] += (uint32_t)k;
        for (uint16_t x : ent[g]) {
            e.escapes[kTableBytes + 2 * k] = (uint8_t)x;
            e.escapes[kTableBytes + 2 * k + 1] = (uint8_t)(x >> 8);
            k++;
        }
    }
    e.tile_off[(size_t)e.G * e.T] = (uint32_t)total;  // sentinel: total entry count
    return e;
}

inline Encoded encode(const uint16_t* w, int rows, int cols) { return encode(w, (size_t)rows * cols, rows, cols); }

// Reference decoder: back to row-major bf16 [rows, cols] (the first n values).
inline void decode(const Encoded& e, uint16_t* out, size_t n) {
    const uint8_t* table = e.table();
    for (int g = 0; g < e.G; g++)
        for (int t = 0; t < e.T; t++) {
            size_t tile = (size_t)g * e.T + t;
            const uint8_t* tp = &e.tiles[tile * kTileBytes];
            int ex[32][32];
            for (int l = 0; l < 32; l++) {
                uint32_t words[3];
                for (int j = 0; j < 3; j++) memcpy(&words[j], tp + 1024 + 128 * j + 4 * l, 4);
                for (int i = 0; i < 32; i++) {
                    int p = i >> 1, h = i & 1, c = 0;
                    for (int j = 0; j < 3; j++) { int word; int bit = code_bit_pos(p, h, j, word); c |= ((words[word] >> bit) & 1) << j; }
                    ex[l][i] = e.base + c;
                }
            }
            for (size_t k = e.tile_off[tile]; k < e.tile_off[tile + 1]; k++) {
                uint16_t x = e.entry(k);
                int pos = x & 1023, slot = x >> 10;
                ex[pos >> 5][pos & 31] ^= table[slot];
            }
            for (int l = 0; l < 32; l++)
                for (int i = 0; i < 32; i++) {
                    int r = i >> 2, c = i & 3;
                    int row = g * kTileRows + r, col = t * kTileCols + 4 * l + c;
                    size_t idx = (size_t)row * e.cols + col;
                    if (row >= e.rows || col >= e.cols || idx >= n) continue;
                    uint8_t sm = tp[(i >> 4) * 512 + 16 * l + (i & 15)];
                    out[idx] = (uint16_t)(((sm & 0x80) << 8) | ((ex[l][i] & 0xff) << 7) | (sm & 0x7f));
                }
        }
}

inline void decode(const Encoded& e, uint16_t* out) { decode(e, out, (size_t)e.rows * e.cols); }

}  // namespace fixedfmt
