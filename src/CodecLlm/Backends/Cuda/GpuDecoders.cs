using System.Buffers.Binary;
using System.Runtime.InteropServices;
using CodecLlm.Codecs;
using CodecLlm.Model;

namespace CodecLlm.Backends.Cuda;

[StructLayout(LayoutKind.Sequential)]
internal struct EntropyTensorParams
{
    public ulong Blob, Table, Out;
    public int Groups, GroupStart, FirstGroup;
}

[StructLayout(LayoutKind.Sequential)]
internal struct EntropyParams
{
    public EntropyTensorParams T0, T1, T2, T3;
    public int Count, TotalGroups;
}

/// <summary>
/// Host side of the GPU decoders of the `fixed` and `entropy` codecs (layouts in docs/FORMAT.md): header
/// checks, the entropy decode table, and the decode launches into a scratch buffer.
/// </summary>
internal static class GpuDecoders
{
    /// <summary>Whether a GPU decoder reads this tensor's blob: `fixed` and `entropy` of BF16, F16 and F32.</summary>
    public static bool CanDecode(ModelTensor t) => t.Codec is ("fixed" or "entropy") && t.DType is (TensorDType.BF16 or TensorDType.F16 or TensorDType.F32);

    /// <summary>Checks the blob header against the tensor; returns the entropy group count (0 for fixed).</summary>
    public static int Validate(ModelTensor t, int rows, int cols) => Validate(t, rows, cols, out _);

    /// <summary>The same, with a fixed blob's sections as read for the check (null for entropy).</summary>
    public static int Validate(ModelTensor t, int rows, int cols, out FixedCodec.Sections? fixedSections)
    {
        ReadOnlySpan<byte> h = t.StoredBytes;
        fixedSections = null;
        if (t.Codec == "fixed")
        {
            FixedCodec.Sections f = FixedSections(t, rows, cols);
            fixedSections = f;
            long tileCount = (long)((rows + 7) / 8) * ((cols + 127) / 128);
            FixedTileLayout.CheckEscapeOffsets(rows, cols,
                MemoryMarshal.Cast<byte, uint>(h.Slice((int)f.OffsetsOffset, checked((int)((tileCount + 1) * 4)))), f.EscapeCount, t.Name);
            return 0;
        }
        if (h.Length < 192 || BinaryPrimitives.ReadUInt32LittleEndian(h) != 0x4E454C43u)
            throw new CorruptTensorException(t.Name, "not an entropy blob (magic CLEN missing)");
        if (BinaryPrimitives.ReadUInt16LittleEndian(h[4..]) != 1) throw new UnsupportedModelException($"tensor '{t.Name}': entropy blob version is not supported");
        if (h[6] != (byte)t.DType) throw new CorruptTensorException(t.Name, $"entropy blob dtype code {h[6]} does not match the tensor's {t.DType}");
        if (h[7] is < 1 or > 15) throw new CorruptTensorException(t.Name, $"entropy code length cap {h[7]} out of range");
        long n = (long)BinaryPrimitives.ReadUInt64LittleEndian(h[8..]);
        int k = (int)BinaryPrimitives.ReadUInt32LittleEndian(h[16..]);
        if (n != (long)rows * cols || k <= 0) throw new CorruptTensorException(t.Name, "entropy blob element count differs from the tensor");
        if ((long)BinaryPrimitives.ReadUInt64LittleEndian(h[56..]) != h.Length) throw new CorruptTensorException(t.Name, "entropy blob length differs from its header");
        return (int)((n + 32L * k - 1) / (32L * k));
    }

    /// <summary>The sections of a fixed blob (header checked against the tensor, viewed as [rows, cols]).</summary>
    public static FixedCodec.Sections FixedSections(ModelTensor t, int rows, int cols)
    {
        if (t.DType is not (TensorDType.BF16 or TensorDType.F16 or TensorDType.F32))
            throw new UnsupportedModelException($"tensor '{t.Name}': the GPU decodes fixed blobs of BF16, F16 and F32, not {t.DType}");
        return FixedCodec.ReadSections(t.StoredBytes, new TensorLayout(t.DType, [rows, cols]), t.Name);
    }

    /// <summary>
    /// The GPU decode table of an entropy blob (canonical Huffman, indexed by the next L stream bits): 2^L u32
    /// entries, each holding every whole code (three at most) that those L bits begin with: bits 0..4 the bits they
    /// take, bit 5 zero, 6..7 how many, 8..15 the first symbol, 16..23 the second, 24..31 the third. The kernels add
    /// the entry to their bit position (bits 6 and up only carry upwards) and move their output row by bits 6..7.
    /// 0 = no code.
    /// </summary>
    public static uint[] EntropyTable(ReadOnlySpan<byte> blob, string name)
    {
        int cap = blob[7];
        var lengths = new int[256];
        for (int i = 0; i < 256; i++) lengths[i] = (blob[64 + i / 2] >> (i % 2 * 4)) & 0xF;
        var len = new int[1 << cap];
        var sym = new int[1 << cap];
        int code = 0, prevLen = 0;
        foreach (int s in Enumerable.Range(0, 256).Where(s => lengths[s] > 0).OrderBy(s => lengths[s]).ThenBy(s => s))
        {
            int l = lengths[s];
            if (l > cap) throw new CorruptTensorException(name, $"code length {l} above the cap {cap}");
            code <<= l - prevLen;
            prevLen = l;
            int first = code << (cap - l), count = 1 << (cap - l);
            if (first + count > len.Length) throw new CorruptTensorException(name, "Huffman code lengths oversubscribe the code space");
            len.AsSpan(first, count).Fill(l);
            sym.AsSpan(first, count).Fill(s);
            code++;
        }
        var table = new uint[len.Length];
        int mask = len.Length - 1;
        for (int i = 0; i < table.Length; i++)
        {
            int used = 0, n = 0;
            uint symbols = 0;
            // The code starting after `used` bits of the index is whole when its length fits in the remaining bits.
            while (n < 3 && len[(i << used) & mask] is int l && l > 0 && used + l <= cap)
            {
                symbols |= (uint)sym[(i << used) & mask] << (8 * n);
                used += l;
                n++;
            }
            table[i] = n == 0 ? 0 : (uint)used | (uint)n << 6 | symbols << 8;
        }
        return table;
    }

    /// <summary>
    /// Decodes entropy tensors, four of one element type per launch (their lane streams run side by side). An item's
    /// group range [G0, G1) (-1: to the end) selects elements [G0·32K, G1·32K), written from <c>Out</c> on.
    /// </summary>
    public static void DecodeEntropy(KernelLibrary kernels, CudaStream stream, IReadOnlyList<(GpuMatrix M, ulong Out, int G0, int G1)> items, int smCount)
    {
        if (items.Any(i => i.M.DType != items[0].M.DType))
        {
            foreach (var ofType in items.GroupBy(i => i.M.DType)) DecodeEntropy(kernels, stream, ofType.ToList(), smCount);
            return;
        }
        for (int first = 0; first < items.Count; first += 4)
        {
            var t = new EntropyTensorParams[4];
            int groups = 0, count = Math.Min(4, items.Count - first);
            uint shared = 0;
            for (int i = 0; i < count; i++)
            {
                var (m, output, g0, g1) = items[first + i];
                if (g1 < 0) g1 = m.EntropyGroups;
                long groupElements = EntropyGroupElements(m);
                t[i] = new EntropyTensorParams
                {
                    Blob = m.Buffer.Pointer,
                    Table = m.Table!.Pointer,
                    Out = output - (ulong)(g0 * groupElements * m.DType.ByteSize()),
                    Groups = g1 - g0,
                    GroupStart = groups,
                    FirstGroup = g0,
                };
                groups += g1 - g0;
                shared = Math.Max(shared, (uint)m.Table.Bytes);
            }
            // One warp per block: spread the groups over every SM.
            uint grid = (uint)Math.Clamp(groups, 1, smCount * 32);
            kernels.Function("entropy.cu", EntropyDecodeKernel(items[first].M.DType), EntropyCarveout).Launch(stream, grid, 32, shared,
                new EntropyParams { T0 = t[0], T1 = t[1], T2 = t[2], T3 = t[3], Count = count, TotalGroups = groups });
        }
    }

    /// <summary>
    /// The entropy decoders' shared-memory carveout: 100 unless CODECLLM_ENTROPY_CARVEOUT says another (every other kernel
    /// keeps <see cref="CudaModule"/>'s 50 %). A decoder block is one warp with ~21 KiB of shared memory (its 2^L-entry
    /// table, stream windows, a chunk of symbols and of sign/mantissa bytes), so at 50 % an SM holds 6 of them and a
    /// four-tensor launch of TinyLlama's [5632, 2048] (1408 blocks) runs in 1.8 waves (session 21, Nsight Compute;
    /// TinyLlama `entropy` 295 -> 344 tok/s on an H100).
    /// </summary>
    private static readonly int? EntropyCarveout = TuningEnvironment.Carveout(Environment.GetEnvironmentVariable("CODECLLM_ENTROPY_CARVEOUT"), 100);

    private static string EntropyDecodeKernel(TensorDType dtype) => dtype switch
    {
        TensorDType.BF16 => "entropy_decode",
        TensorDType.F16 => "entropy_decode_f16",
        TensorDType.F32 => "entropy_decode_f32",
        _ => throw new UnsupportedModelException($"the GPU decodes entropy blobs of BF16, F16 and F32, not {dtype}"),
    };

    /// <summary>Elements per entropy group (32 lanes × K symbols).</summary>
    public static long EntropyGroupElements(GpuMatrix m) => 32L * m.EntropyLaneSymbols;

    /// <summary>
    /// Blocks of fixed_decode a multiprocessor at most (CODECLLM_FIXED_DECODE_GRID; default 16). At 16 a TinyLlama
    /// matrix ([5632, 2048]: 11264 tiles, 1408 blocks) gives each warp one tile, so the kernel's fetch of its next tile
    /// while it decodes the current one never runs and every warp waits out its loads alone; the occupancy (~4 blocks a
    /// multiprocessor) would give each warp 2-3 tiles. A knob for that measurement (session 24's analysis, not yet run).
    /// </summary>
    private static readonly int FixedDecodeBlocksPerSm = (int)(TuningEnvironment.AtLeast("CODECLLM_FIXED_DECODE_GRID", 1) ?? 16);

    /// <summary>The kernel module of the `fixed` decoders to scratch and of the embedding gather (fixed_embed).</summary>
    internal const string FixedModule = "fixed_decode.cu";

    /// <summary>The decode-to-scratch kernel of a fixed matrix of this element type (in <see cref="FixedModule"/>).</summary>
    internal static string FixedDecodeKernel(TensorDType dtype) => dtype switch
    {
        TensorDType.BF16 => "fixed_decode",
        TensorDType.F16 => "fixed_decode_f16",
        TensorDType.F32 => "fixed_decode_f32",
        _ => throw new UnsupportedModelException($"the GPU decodes fixed blobs of BF16, F16 and F32, not {dtype}"),
    };

    /// <summary>
    /// Decodes rows [8·rg0, 8·rg1) (fixed) or groups [rg0, rg1) (entropy; -1 = to the end) into
    /// <paramref name="output"/> as the matrix's element type (BF16, F16 or F32).
    /// </summary>
    public static void Decode(KernelLibrary kernels, CudaStream stream, GpuMatrix m, ulong output, int rg0 = 0, int rg1 = -1, int smCount = 132)
    {
        if (m.Codec == "fixed")
        {
            if (rg1 < 0) rg1 = (m.Rows + 7) / 8;
            var (tileData, offsets, escapes, exponentBase) = m.FixedPointers();
            long tiles = (long)(rg1 - rg0) * ((m.Cols + 127) / 128);
            if (tiles > int.MaxValue)
                throw new UnsupportedModelException($"{m.Rows} x {m.Cols}: more than 2^31 tiles of 1024 weights in one decode");
            uint grid = (uint)Math.Clamp((tiles + 7) / 8, 1, smCount * FixedDecodeBlocksPerSm);  // 8 warps per block, a tile a warp at a time
            kernels.Function(FixedModule, FixedDecodeKernel(m.DType)).Launch(stream, grid, 256, 0,
                new FmDecodeParams
                {
                    M = new FmFixed { Tiles = tileData, TileOffsets = offsets, Escapes = escapes, Base = exponentBase, Rows = m.Rows, Cols = m.Cols },
                    Out = output,
                    Rg0 = rg0,
                    Rg1 = rg1,
                });
        }
        else if (m.Codec == "entropy")
        {
            DecodeEntropy(kernels, stream, [(m, output, rg0, rg1)], smCount);
        }
        else
        {
            throw new InvalidOperationException($"{m.Name}: codec {m.Codec} has no GPU decoder");
        }
    }
}
