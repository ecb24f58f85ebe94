// fixed_format.h — host reference encoder/decoder of the `fixed` BF16 layout (tile 8 rows x 128 cols).
// Plain C++17, no CUDA: used by the device benchmark (matvec.cu) and by the local arctic tool.
//
// Layout (docs/FORMAT.md, section `fixed`, is the normative text):
//   matrix view [rows, cols]; G = ceil(rows/8) row groups, T = ceil(cols/128) column tiles,
//   tile (g,t) at index g*T+t, 1408 bytes each, row-group-major.
//   lane l (0..31) of a tile owns the 32 weights i = r*4+c (r 0..7, c 0..3) at
//   row 8g+r, col 128t+4l+c; pair p = i>>1 (lo = even column, hi = odd column).
//   bytes [0,1024): sign/mantissa byte of weight i of lane l at 512(i>>4)+16l+(i&15) (layout version 3):
//   (bf16>>8 & 0x80) | (bf16 & 0x7f)
//   bytes [1024,1408): three code planes; word w of lane l at 1024 + 128w + 4l.
//     pair p < 15, half h: code bits at word p%3, bit h*16 + 3*(p/3) (3 bits, lsb first)
//     pair 15, half h: code bit j (0..2) at word j, bit h*16 + 15
//   code c < 7: exponent = base + c (base <= 248); c == 7: escape, exponent byte in the escape stream.
//   escape order inside a lane: ascending e = h*16 + p; lanes 0..31; tiles in index order.
//   tile_off[g*T+t] = number of escape bytes before tile (g,t); tile_off[G*T] = total.
//   Padding weights (rows/cols beyond the matrix) use code 0 and byte 0.
#pragma once
#include <cstdint>
#include <cstring>
#include <vector>
#include <stdexcept>

namespace fixedfmt {

constexpr int kTileRows = 8, kTileCols = 128, kTileBytes = 1408;

struct Encoded {
    int rows = 0, cols = 0, G = 0, T = 0, base = 0;
    std::vector<uint8_t> tiles;      // G*T*1408
    std::vector<uint32_t> tile_off;  // G*T + 1 (last = escape count)
    std::vector<uint8_t> escapes;    // escape bytes + 8 padding bytes
    size_t bytes() const { return tiles.size() + tile_off.size() * 4 + escapes.size() - 8; }
};

inline int code_bit_pos(int p, int h, int j, int& word) {
    if (p < 15) { word = p % 3; return h * 16 + 3 * (p / 3) + j; }
    word = j; return h * 16 + 15;
}

// Picks the window [base, base+6] of consecutive exponents covering most weights.
inline int choose_base(const uint16_t* w, size_t n) {
    uint64_t hist[256] = {0};
    for (size_t i = 0; i < n; i++) hist[(w[i] >> 7) & 0xff]++;
    int best = 0; uint64_t bestc = 0;
    for (int b = 0; b <= 248; b++) {
        uint64_t c = 0;
        for (int k = 0; k < 7; k++) c += hist[b + k];
        if (c > bestc) { bestc = c; best = b; }
    }
    return best;
}

// Encodes one row group g: its T tiles into e.tiles, its escape bytes appended to esc,
// tile_off[g*T+t] = escape bytes before tile (g,t) within this group.
inline void encode_group(Encoded& e, const uint16_t* w, int g, std::vector<uint8_t>& esc) {
    const int rows = e.rows, cols = e.cols;
    for (int t = 0; t < e.T; t++) {
        size_t tile = (size_t)g * e.T + t;
        e.tile_off[tile] = (uint32_t)esc.size();
        uint8_t* tp = &e.tiles[tile * kTileBytes];
        for (int l = 0; l < 32; l++) {
            uint32_t words[3] = {0, 0, 0};
            uint8_t escbyte[32];
            bool isesc[32] = {false};
            for (int i = 0; i < 32; i++) {
                int r = i >> 2, c = i & 3;
                int row = g * kTileRows + r, col = t * kTileCols + 4 * l + c;
                bool inside = row < rows && col < cols;
                uint16_t v = inside ? w[(size_t)row * cols + col] : 0;
                int ex = (v >> 7) & 0xff;
                tp[(i >> 4) * 512 + 16 * l + (i & 15)] = (uint8_t)(((v >> 8) & 0x80) | (v & 0x7f));
                int code = inside ? ex - e.base : 0;
                if (code < 0 || code > 6) { code = 7; isesc[i] = true; escbyte[i] = (uint8_t)ex; }
                int p = i >> 1, h = i & 1;
                for (int j = 0; j < 3; j++) {
                    int word; int pos = code_bit_pos(p, h, j, word);
                    if ((code >> j) & 1) words[word] |= 1u << pos;
                }
            }
            for (int ebit = 0; ebit < 32; ebit++) {  // escape order: e = h*16 + p ascending
                int h = ebit >> 4, p = ebit & 15, i = 2 * p + h;
                if (isesc[i]) esc.push_back(escbyte[i]);
            }
            for (int j = 0; j < 3; j++) memcpy(tp + 1024 + 128 * j + 4 * l, &words[j], 4);
        }
    }
}

inline Encoded encode(const uint16_t* w, int rows, int cols) {
    Encoded e;
    e.rows = rows; e.cols = cols;
    e.G = (rows + kTileRows - 1) / kTileRows; e.T = (cols + kTileCols - 1) / kTileCols;
    e.base = choose_base(w, (size_t)rows * cols);
    e.tiles.assign((size_t)e.G * e.T * kTileBytes, 0);
    e.tile_off.assign((size_t)e.G * e.T + 1, 0);
    std::vector<std::vector<uint8_t>> esc(e.G);
#pragma omp parallel for schedule(dynamic, 16)
    for (int g = 0; g < e.G; g++) encode_group(e, w, g, esc[g]);
    size_t total = 0;
    for (int g = 0; g < e.G; g++) total += esc[g].size();
    e.escapes.reserve(total + 8);
    for (int g = 0; g < e.G; g++) {
        uint32_t before = (uint32_t)e.escapes.size();
        for (int t = 0; t < e.T; t++) e.tile_off[(size_t)g * e.T + t] += before;
        e.escapes.insert(e.escapes.end(), esc[g].begin(), esc[g].end());
    }
    e.tile_off[(size_t)e.G * e.T] = (uint32_t)e.escapes.size();  // sentinel: total escape count
    for (int k = 0; k < 8; k++) e.escapes.push_back(0);
    return e;
}

// Reference decoder: back to row-major bf16 [rows, cols].
inline void decode(const Encoded& e, uint16_t* out) {
    for (int g = 0; g < e.G; g++)
        for (int t = 0; t < e.T; t++) {
            size_t tile = (size_t)g * e.T + t;
            const uint8_t* tp = &e.tiles[tile * kTileBytes];
            size_t eo = e.tile_off[tile];
            for (int l = 0; l < 32; l++) {
                uint32_t words[3];
                for (int j = 0; j < 3; j++) memcpy(&words[j], tp + 1024 + 128 * j + 4 * l, 4);
                int codes[32];
                for (int i = 0; i < 32; i++) {
                    int p = i >> 1, h = i & 1, c = 0;
                    for (int j = 0; j < 3; j++) { int word; int pos = code_bit_pos(p, h, j, word); c |= ((words[word] >> pos) & 1) << j; }
                    codes[i] = c;
                }
                int ex[32];
                for (int i = 0; i < 32; i++) ex[i] = e.base + codes[i];
                for (int ebit = 0; ebit < 32; ebit++) {
                    int h = ebit >> 4, p = ebit & 15, i = 2 * p + h;
                    if (codes[i] == 7) ex[i] = e.escapes[eo++];
                }
                for (int i = 0; i < 32; i++) {
                    int r = i >> 2, c = i & 3;
                    int row = g * kTileRows + r, col = t * kTileCols + 4 * l + c;
                    if (row >= e.rows || col >= e.cols) continue;
                    uint8_t sm = tp[(i >> 4) * 512 + 16 * l + (i & 15)];
                    out[(size_t)row * e.cols + col] = (uint16_t)(((sm & 0x80) << 8) | (ex[i] << 7) | (sm & 0x7f));
                }
            }
        }
}

}  // namespace fixedfmt
