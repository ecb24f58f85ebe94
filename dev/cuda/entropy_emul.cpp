// entropy_emul.cpp: runs Kernels/entropy.cu on the CPU (one thread per lane, __syncwarp a barrier: see
// entropy_emul/common.cuh) on blobs written by our C# encoder, and checks every element against the original
// weights: whole tensors, outputs 2 bytes past 16-byte alignment, group ranges, the last group alone, four
// tensors per launch. From dev/cuda:
//   dotnet run -c Release --project entropy_cases -- /tmp/entcases
//   sed -e 's/extern __shared__/extern/' -e 's/__shared__/static/' ../../src/CodecLlm/Backends/Cuda/Kernels/entropy.cu > /tmp/entropy_emul_kernel.inc
//   g++ -O2 -std=c++20 -pthread -I entropy_emul entropy_emul.cpp -o /tmp/entropy_emul && /tmp/entropy_emul /tmp/entcases/*.bin
// (-DEMUL_CP_LATE=0 lands every cp.async at once instead of as late as PTX allows: entropy_emul/common.cuh). A case
// file: u64 rows, u64 cols, u64 blob bytes, the u16 weights, the blob.
#include "common.cuh"
alignas(16) u32 tab[1 << 15];
#include "/tmp/entropy_emul_kernel.inc"
#include <cstdio>
#include <thread>
#include <vector>

// The host table (GpuDecoders.EntropyTable): 2^L u32 entries of canonical codes, each holding the whole codes (three at
// most) its L index bits begin with: bits 0..4 their bits, 6..7 how many, then the symbols from bit 8 on.
static std::vector<u32> table_of(const u8* blob)
{
    int L = blob[7], len[256];
    for (int i = 0; i < 256; i++) len[i] = (blob[64 + i / 2] >> (i % 2 * 4)) & 15;
    std::vector<int> cl((size_t)1 << L), cs((size_t)1 << L);
    int code = 0, prev = 0;
    for (int l = 1; l <= L; l++)
        for (int s = 0; s < 256; s++)
            if (len[s] == l)
            {
                code <<= l - prev;
                prev = l;
                for (int i = 0; i < 1 << (L - l); i++) cl[(code << (L - l)) + i] = l, cs[(code << (L - l)) + i] = s;
                code++;
            }
    std::vector<u32> t((size_t)1 << L);
    const size_t mask = t.size() - 1;
    for (size_t i = 0; i < t.size(); i++)
    {
        u32 used = 0, n = 0, syms = 0;
        for (; n < 3; n++)
        {
            size_t j = (i << used) & mask;
            if (used >= (u32)L || cl[j] == 0 || used + cl[j] > (u32)L) break;
            syms |= (u32)cs[j] << (8 * n);
            used += cl[j];
        }
        t[i] = n ? used | n << 6 | syms << 8 : 0;
    }
    return t;
}

static void launch(const EntropyParams& p, int grid)
{
    gridDim.x = grid;
    for (int b = 0; b < grid; b++)
    {
        blockIdx.x = b;
        std::barrier<> bar(32);
        emul_warp_barrier = &bar;
        std::vector<std::thread> lanes;
        for (int t = 0; t < 32; t++) lanes.emplace_back([&p, t] { threadIdx.x = t; entropy_decode(p); });
        for (auto& l : lanes) l.join();
    }
}

struct Case { long rows, cols, n, K, groups; std::vector<u16> raw; u8* blob; std::vector<u32> table; };

int main(int argc, char** argv)
{
    std::vector<Case> cs;
    for (int a = 1; a < argc; a++)
    {
        FILE* f = fopen(argv[a], "rb");
        u64 h[3];
        if (!f || fread(h, 8, 3, f) != 3) { printf("%s: unreadable\n", argv[a]); return 2; }
        Case c{(long)h[0], (long)h[1], (long)(h[0] * h[1]), 0, 0, std::vector<u16>(h[0] * h[1]), (u8*)aligned_alloc(256, (h[2] + 16 + 255) / 256 * 256), {}};
        if (fread(c.raw.data(), 2, c.n, f) != (size_t)c.n || fread(c.blob, 1, h[2], f) != h[2]) { printf("%s: short\n", argv[a]); return 2; }
        fclose(f);
        memcpy(&c.K, c.blob + 16, 4);
        c.K &= 0xffffffff;
        c.groups = (c.n + 32 * c.K - 1) / (32 * c.K);
        c.table = table_of(c.blob);
        cs.push_back(std::move(c));
    }
    int bad = 0;
    auto check = [&](const char* what, const Case& c, const u16* got, long from, long count) {
        long errs = 0;
        for (long i = 0; i < count; i++)
            if (got[i] != c.raw[from + i] && errs++ < 3) printf("  %s: element %ld got %04x want %04x\n", what, from + i, got[i], c.raw[from + i]);
        printf("%-40s %5ld x %-5ld K %-4ld elements %8ld..%-8ld %s\n", what, c.rows, c.cols, c.K, from, from + count, errs ? "FAIL" : "ok");
        bad += errs != 0;
    };
    for (auto& c : cs)
    {
        // Whole tensor, aligned output, and output shifted by one element (the scalar join path).
        for (int shift = 0; shift < 2; shift++)
        {
            std::vector<u16> buf(c.n + 16, 0xABAB);
            u16* out = (u16*)(((uintptr_t)buf.data() + 15) & ~(uintptr_t)15) + shift;
            EntropyParams p{};
            p.t[0] = {c.blob, c.table.data(), out, (int)c.groups, 0, 0};
            p.count = 1;
            p.total_groups = (int)c.groups;
            launch(p, (int)std::min<long>(c.groups, 5)); // fewer blocks than groups: blocks loop
            check(shift ? "whole, output misaligned" : "whole", c, out, 0, c.n);
        }
        // Group range [g0, g1) as the prefill slices / sliced head use it.
        if (c.groups >= 3)
        {
            long g0 = 1, g1 = c.groups - 1, G = 32 * c.K;
            std::vector<u16> buf((g1 - g0) * G + 16, 0xABAB);
            u16* out = (u16*)(((uintptr_t)buf.data() + 15) & ~(uintptr_t)15);
            EntropyParams p{};
            p.t[0] = {c.blob, c.table.data(), out - g0 * G, (int)(g1 - g0), 0, (int)g0};
            p.count = 1;
            p.total_groups = (int)(g1 - g0);
            launch(p, (int)(g1 - g0));
            check("groups [1, G-1)", c, out, g0 * G, (g1 - g0) * G);
        }
        // The last group alone (partial when n is not a multiple of 32K).
        if (c.groups >= 2)
        {
            long g0 = c.groups - 1, G = 32 * c.K;
            std::vector<u16> buf(G + 16, 0xABAB);
            u16* out = (u16*)(((uintptr_t)buf.data() + 15) & ~(uintptr_t)15);
            EntropyParams p{};
            p.t[0] = {c.blob, c.table.data(), out - g0 * G, 1, 0, (int)g0};
            p.count = 1;
            p.total_groups = 1;
            launch(p, 1);
            check("the last group alone", c, out, g0 * G, c.n - g0 * G);
        }
    }
    // Four tensors per launch (different tables and K), one block looping over all of their groups.
    if (cs.size() >= 4)
    {
        EntropyParams p{};
        std::vector<std::vector<u16>> bufs;
        int total = 0;
        for (int i = 0; i < 4; i++)
        {
            Case& c = cs[cs.size() - 4 + i];
            bufs.emplace_back(c.n + 16, 0xABAB);
            u16* out = (u16*)(((uintptr_t)bufs.back().data() + 15) & ~(uintptr_t)15);
            p.t[i] = {c.blob, c.table.data(), out, (int)c.groups, total, 0};
            total += (int)c.groups;
        }
        p.count = 4;
        p.total_groups = total;
        launch(p, 3);
        for (int i = 0; i < 4; i++) check("four per launch", cs[cs.size() - 4 + i], p.t[i].out, 0, cs[cs.size() - 4 + i].n);
    }
    printf("%s\n", bad ? "FAILED" : "all ok");
    return bad != 0;
}
