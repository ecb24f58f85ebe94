using System.Runtime.InteropServices;
using CodecLlm.Backends.Cuda;
using CodecLlm.Codecs;
using CodecLlm.Formats.Safetensors;
using CodecLlm.Model;

namespace CodecLlm.Tests.Backends.Cuda;

/// <summary>The GPU decoders against the CPU codecs, bit for bit; the fused fixed matvec against the raw BF16 matvec.</summary>
[Collection("gpu")]
public class GpuDecoderTests
{
    private static ushort[] RandomBf16(int n, int seed, bool specials, int cols = 0)
    {
        var rnd = new Random(seed);
        ushort[] w = GpuTest.Gaussian(rnd, n, 0.02).Select(GpuTest.ToBf16).ToArray();
        if (specials && n > 8)
        {
            ushort[] sp = [0x7FC1, 0xFF80, 0x7F80, 0x8000, 0x0000, 0x0001, 0x8077, 0x7F81];
            for (int i = 0; i < sp.Length; i++) w[rnd.Next(n)] = sp[i];
            for (int i = 0; i < n / 50; i++) w[rnd.Next(n)] = (ushort)rnd.Next(65536); // rare exponents: escapes
            for (int r = 0; r < 4 && cols > 0 && (r + 1) * cols <= n; r++)
                for (int k = 0; k < Math.Min(cols, 8); k++) w[r * cols + k] = (ushort)rnd.Next(65536); // a lane with many escapes
        }
        return w;
    }

    private static ModelTensor Encode(string codec, ushort[] data, int rows, int cols, List<IDisposable> owned, int laneSymbols = EntropyCodec.DefaultLaneSymbols)
    {
        byte[] raw = MemoryMarshal.AsBytes(data.AsSpan()).ToArray();
        IWeightCodec encoder = codec == "entropy" ? new EntropyCodec(laneSymbols) : CodecRegistry.Get(codec);
        EncodedTensor e = encoder.Encode(raw, new TensorLayout(TensorDType.BF16, [rows, cols]));
        NativeBuffer blob = NativeBuffer.CopyOf(e.Blob);
        owned.Add(blob);
        return new ModelTensor("w", TensorDType.BF16, [rows, cols], blob, 0, blob.Length, codec, e.Params);
    }

    private static GpuMatrix Upload(CudaContext c, CudaStream s, ModelTensor t, List<IDisposable> owned)
    {
        int groups = GpuDecoders.Validate(t, t.Rows, t.Cols);
        DeviceBuffer blob = c.Allocator.Allocate(t.StoredLength + 16, MemoryCategory.CompressedWeights, "blob");
        s.Upload(blob, t.StoredBytes);
        DeviceBuffer? table = t.Codec == "entropy" ? s.UploadNew<uint>(c.Allocator, GpuDecoders.EntropyTable(t.StoredBytes, t.Name), MemoryCategory.Workspace, "table") : null;
        int k = t.Codec == "entropy" ? (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(t.StoredBytes[16..]) : 0;
        FixedCodec.Sections? sections = t.Codec == "fixed" ? GpuDecoders.FixedSections(t, t.Rows, t.Cols) : null;
        var m = new GpuMatrix("w", t.Rows, t.Cols, TensorDType.BF16, t.Codec, blob, table, groups, k, sections);
        owned.Add(m); // frees the blob and the table
        return m;
    }

    /// <summary>Decodes the whole tensor (fixed, entropy) or its entropy groups [g0, g1), written <paramref name="shift"/> bytes into a 256-byte-aligned buffer.</summary>
    private static ushort[] GpuDecode(CudaContext c, CudaStream s, ModelTensor t, List<IDisposable> owned, int g0 = 0, int g1 = -1, int shift = 0)
    {
        GpuMatrix m = Upload(c, s, t, owned);
        long ge = GpuDecoders.EntropyGroupElements(m);
        long count = (g1 < 0 ? t.ElementCount : Math.Min(t.ElementCount, g1 * ge)) - g0 * ge;
        DeviceBuffer output = c.Allocator.Allocate(Math.Max(2, 2 * count + shift), MemoryCategory.Scratch, "out");
        owned.Add(output);
        s.Fill(output, 0xAB);
        GpuDecoders.Decode(c.Kernels, s, m, output.Pointer + (ulong)shift, g0, g1, smCount: c.MultiprocessorCount);
        return s.Download<ushort>(output, count, shift);
    }

    private static void AssertElementsEqual(ReadOnlySpan<ushort> expected, ReadOnlySpan<ushort> gpu, string what)
    {
        Assert.Equal(expected.Length, gpu.Length);
        for (int i = 0; i < expected.Length; i++)
            if (gpu[i] != expected[i]) Assert.Fail($"{what}: element {i}: GPU {gpu[i]:X4}, expected {expected[i]:X4}");
    }

    [Theory]
    [InlineData("fixed", 4, 256)]
    [InlineData("fixed", 8, 128)]
    [InlineData("fixed", 9, 130)]
    [InlineData("fixed", 37, 1000)]
    [InlineData("fixed", 64, 2048)]
    [InlineData("fixed", 7, 300)]
    [InlineData("fixed", 13, 1001)]
    [InlineData("fixed", 1, 5)]
    [InlineData("entropy", 64, 2048)]
    [InlineData("entropy", 7, 300)]
    [InlineData("entropy", 1, 5)]
    [InlineData("entropy", 300, 1500)]
    public void GpuDecodeEqualsCpuDecodeOnRandomTensors(string codec, int rows, int cols)
    {
        CudaContext c = GpuTest.Context();
        using var s = new CudaStream(c);
        var owned = new List<IDisposable>();
        try
        {
            ushort[] data = RandomBf16(rows * cols, rows * 7 + cols, specials: true, cols);
            ModelTensor t = Encode(codec, data, rows, cols, owned);
            ushort[] cpu = MemoryMarshal.Cast<byte, ushort>(t.DecodeToArray()).ToArray();
            Assert.Equal(data, cpu);
            ushort[] gpu = GpuDecode(c, s, t, owned);
            for (int i = 0; i < data.Length; i++)
                if (gpu[i] != data[i]) Assert.Fail($"element {i}: GPU {gpu[i]:X4}, CPU {data[i]:X4}");
        }
        finally
        {
            owned.ForEach(o => o.Dispose());
        }
    }

    /// <summary>
    /// The fixed decoder's walk when each warp decodes several tiles: a grid of 16 blocks (smCount 1), so a warp's
    /// tiles lie 128 apart and cross row groups; edge tiles in both directions; row-group ranges as the sliced decode
    /// steps ask for them. Expected: the original weights, and nothing written past the range.
    /// </summary>
    [Theory]
    [InlineData(300, 1500, 0, -1)]
    [InlineData(333, 1001, 3, 40)]
    [InlineData(64, 2048, 1, 7)]
    public void GpuFixedDecodeWalksSeveralTilesPerWarp(int rows, int cols, int g0, int g1)
    {
        CudaContext c = GpuTest.Context();
        using var s = new CudaStream(c);
        var owned = new List<IDisposable>();
        try
        {
            ushort[] data = RandomBf16(rows * cols, rows + cols, specials: true, cols);
            GpuMatrix m = Upload(c, s, Encode("fixed", data, rows, cols, owned), owned);
            int end = g1 < 0 ? (rows + 7) / 8 : g1, r0 = g0 * 8, r1 = Math.Min(end * 8, rows);
            int count = (r1 - r0) * cols, guard = 64;
            DeviceBuffer output = c.Allocator.Allocate(2L * (count + guard), MemoryCategory.Scratch, "out");
            owned.Add(output);
            s.Fill(output, 0xAB);
            GpuDecoders.Decode(c.Kernels, s, m, output.Pointer, g0, end, smCount: 1);
            ushort[] gpu = s.Download<ushort>(output, count + guard);
            AssertElementsEqual(data.AsSpan(r0 * cols, count), gpu.AsSpan(0, count), $"{rows} x {cols}, groups {g0}..{end}");
            AssertElementsEqual(Enumerable.Repeat((ushort)0xABAB, guard).ToArray(), gpu.AsSpan(count), "past the range");
        }
        finally
        {
            owned.ForEach(o => o.Dispose());
        }
    }

    /// <summary>
    /// The entropy decoder's edge paths: lane streams whose length K is not a multiple of the kernel's
    /// 32-symbol chunk (partial chunks in every group), a partial last group, outputs that are not 16-byte
    /// aligned (element-by-element join), and group ranges [G0, G1) as the prefill slices and the sliced
    /// head decode them. Expected: the original weights.
    /// </summary>
    [Theory]
    [InlineData(37, 1000, 48)]
    [InlineData(37, 1000, 7)]
    [InlineData(33, 1024, 1024)]
    [InlineData(3, 700, 1024)]
    [InlineData(130, 2048, 1024)]
    [InlineData(300, 1500, 100)]
    public void GpuEntropyDecodeHandlesPartialChunksRangesAndMisalignedOutput(int rows, int cols, int laneSymbols)
    {
        CudaContext c = GpuTest.Context();
        using var s = new CudaStream(c);
        var owned = new List<IDisposable>();
        try
        {
            ushort[] data = RandomBf16(rows * cols, rows * 31 + laneSymbols, specials: true, cols);
            ModelTensor t = Encode("entropy", data, rows, cols, owned, laneSymbols);
            Assert.Equal(data, MemoryMarshal.Cast<byte, ushort>(t.DecodeToArray()).ToArray());
            AssertElementsEqual(data, GpuDecode(c, s, t, owned), "whole tensor");
            AssertElementsEqual(data, GpuDecode(c, s, t, owned, shift: 2), "output 2 bytes past alignment");
            AssertElementsEqual(data, GpuDecode(c, s, t, owned, shift: 8), "output 8 bytes past alignment");
            int groups = GpuDecoders.Validate(t, rows, cols);
            int ge = 32 * laneSymbols;
            if (groups >= 3) AssertElementsEqual(data.AsSpan(ge, (groups - 2) * ge), GpuDecode(c, s, t, owned, 1, groups - 1), "groups [1, G-1)");
            if (groups >= 2) AssertElementsEqual(data.AsSpan((groups - 1) * ge), GpuDecode(c, s, t, owned, groups - 1, groups), "the last group alone");
        }
        finally
        {
            owned.ForEach(o => o.Dispose());
        }
    }

    /// <summary>Five entropy tensors of different shapes, K and code tables in one DecodeEntropy call (a launch of four, then one).</summary>
    [Fact]
    public void GpuEntropyDecodesSeveralTensorsPerLaunch()
    {
        CudaContext c = GpuTest.Context();
        using var s = new CudaStream(c);
        var owned = new List<IDisposable>();
        try
        {
            (int Rows, int Cols, int K)[] shapes = [(64, 2048, 1024), (37, 1000, 48), (1, 5, 1024), (300, 1500, 1024), (130, 2048, 1024)];
            var datas = new List<ushort[]>();
            var items = new List<(GpuMatrix M, ulong Out, int G0, int G1)>();
            var outputs = new List<DeviceBuffer>();
            foreach (var (rows, cols, k) in shapes)
            {
                ushort[] data = RandomBf16(rows * cols, rows + 3 * cols + k, specials: true, cols);
                if (datas.Count == 1)
                    for (int i = 0; i < data.Length; i++) data[i] = (ushort)(data[i] & 0x80FF | 0x3C00); // a narrow exponent histogram: another table
                datas.Add(data);
                GpuMatrix m = Upload(c, s, Encode("entropy", data, rows, cols, owned, k), owned);
                DeviceBuffer output = c.Allocator.Allocate(2L * data.Length, MemoryCategory.Scratch, "out");
                owned.Add(output);
                s.Fill(output, 0xAB);
                outputs.Add(output);
                items.Add((m, output.Pointer, 0, -1));
            }
            GpuDecoders.DecodeEntropy(c.Kernels, s, items, c.MultiprocessorCount);
            for (int i = 0; i < shapes.Length; i++)
                AssertElementsEqual(datas[i], s.Download<ushort>(outputs[i], datas[i].Length), $"tensor {i} {shapes[i]}");
        }
        finally
        {
            owned.ForEach(o => o.Dispose());
        }
    }

    [Fact]
    public void GpuDecodeEqualsCpuDecodeOnRealTensors()
    {
        CudaContext c = GpuTest.Context();
        if (!File.Exists(TestPaths.ArcticBf16)) Assert.Skip("arctic-embed-xs not present: " + TestPaths.ArcticBf16);
        using var s = new CudaStream(c);
        using var file = SafetensorsFile.Open(TestPaths.ArcticBf16);
        var owned = new List<IDisposable>();
        try
        {
            int checkedTensors = 0;
            foreach (SafetensorsEntry info in file.Entries.Where(t => t.Shape.Length == 2 && t.DType == "BF16").OrderByDescending(t => t.Shape[0] * t.Shape[1]).Take(4))
            {
                ushort[] data = MemoryMarshal.Cast<byte, ushort>(file.GetRawTensor(info).StoredBytes).ToArray();
                foreach (string codec in new[] { "fixed", "entropy" })
                {
                    ModelTensor t = Encode(codec, data, (int)info.Shape[0], (int)info.Shape[1], owned);
                    Assert.Equal(data, GpuDecode(c, s, t, owned));
                    checkedTensors++;
                }
            }
            Assert.True(checkedTensors >= 2);
        }
        finally
        {
            owned.ForEach(o => o.Dispose());
        }
    }

    /// <summary>
    /// A launch whose dynamic shared memory fits 48 KiB but not beside the kernel's static shared memory (fixed_decode
    /// holds 16 KiB of its own) needs the function's dynamic-shared-memory attribute raised first: the launch works
    /// and decodes as usual. (Before, only launches of more than 48 KiB of dynamic memory raised it, and this one
    /// failed with CUDA_ERROR_INVALID_VALUE; attention in a session of ~10k positions asks for such amounts.)
    /// </summary>
    [Fact]
    public void LaunchWithStaticPlusDynamicSharedMemoryOver48KiBWorks()
    {
        CudaContext c = GpuTest.Context();
        using var s = new CudaStream(c);
        var owned = new List<IDisposable>();
        try
        {
            const int rows = 16, cols = 256;
            ushort[] data = RandomBf16(rows * cols, 5, specials: true, cols);
            ModelTensor t = Encode("fixed", data, rows, cols, owned);
            DeviceBuffer blob = c.Allocator.Allocate(t.StoredLength + 16, MemoryCategory.CompressedWeights, "blob");
            DeviceBuffer output = c.Allocator.Allocate(rows * cols * 2L, MemoryCategory.Scratch, "out");
            owned.AddRange([blob, output]);
            s.Upload(blob, t.StoredBytes);
            FixedCodec.Sections f = GpuDecoders.FixedSections(t, rows, cols);
            var p = new FmDecodeParams
            {
                M = new FmFixed
                {
                    Tiles = blob.Pointer + (ulong)f.TilesOffset,
                    TileOffsets = blob.Pointer + (ulong)f.OffsetsOffset,
                    Escapes = blob.Pointer + (ulong)f.EscapesOffset,
                    Base = (uint)f.Base,
                    Rows = rows,
                    Cols = cols,
                },
                Out = output.Pointer,
                Rg0 = 0,
                Rg1 = rows / 8,
            };
            c.Kernels.Function(GpuDecoders.FixedModule, "fixed_decode").Launch(s, 1u, 256, 40 * 1024, p);
            Assert.Equal(data, s.Download<ushort>(output, rows * cols));
        }
        finally
        {
            owned.ForEach(o => o.Dispose());
        }
    }

    /// <summary>A matrix uploaded raw and as `fixed` tiles, and the fused matvec's inputs: x, the up projection, RMSNorm weights.</summary>
    private sealed record FusedOperands(MatvecWeight Raw, MatvecWeight Fixed, float[] X, float[] X2, float[] Norm, ulong XPtr, ulong X2Ptr, ulong NormPtr)
    {
        public delegate MatvecWeight Pick(FusedOperands o);
    }

    private static FusedOperands UploadFused(CudaContext c, CudaStream s, ushort[] data, int rows, int cols, List<IDisposable> owned)
    {
        ModelTensor t = Encode("fixed", data, rows, cols, owned);
        DeviceBuffer raw = s.UploadNew<ushort>(c.Allocator, data, MemoryCategory.Weights, "raw");
        DeviceBuffer blob = c.Allocator.Allocate(t.StoredLength + 16, MemoryCategory.CompressedWeights, "blob");
        s.Upload(blob, t.StoredBytes);
        var fm = new GpuMatrix("w", rows, cols, TensorDType.BF16, "fixed", blob, fixedSections: GpuDecoders.FixedSections(t, rows, cols));
        float[] x = GpuTest.Gaussian(new Random(9), cols);
        float[] x2 = GpuTest.Gaussian(new Random(11), cols);
        float[] norm = x.Select(v => 1 + v / 10).ToArray();
        DeviceBuffer xd = s.UploadNew<float>(c.Allocator, x, MemoryCategory.Activations, "x");
        DeviceBuffer x2d = s.UploadNew<float>(c.Allocator, x2, MemoryCategory.Activations, "x2");
        DeviceBuffer nw = s.UploadNew<float>(c.Allocator, norm, MemoryCategory.Activations, "n");
        owned.AddRange([raw, fm, xd, x2d, nw]);
        return new FusedOperands(new MatvecWeight(WeightEncoding.BF16, raw.Pointer, rows, cols), fm.FixedOperand(), x, x2, norm, xd.Pointer, x2d.Pointer, nw.Pointer);
    }

    /// <summary>
    /// Escape-heavy tiles (two rows in three mostly escapes: exponents spread over 51 values, many lanes with more than
    /// four escapes): the fused `fixed` matvec equals the raw one bit for bit, and so does the raw one with each
    /// persistent block looping over many 8-row groups.
    /// </summary>
    [Theory]
    [InlineData(40, 4100, 1)]
    [InlineData(24, 2048, 0)]
    [InlineData(17, 640, 2)]
    public void FusedFixedMatvecWithEscapeHeavyTilesIsBitIdenticalToRawBf16(int rows, int cols, int act)
    {
        CudaContext c = GpuTest.Context();
        using var s = new CudaStream(c);
        var ops = new CudaOps(c);
        var owned = new List<IDisposable>();
        try
        {
            var rnd = new Random(rows * cols);
            ushort[] data = new ushort[rows * cols];
            for (int i = 0; i < data.Length; i++)
            {
                // a third of the rows ordinary Gaussian weights, the rest sign, exponent 100..150 and mantissa at random
                data[i] = (i / cols) % 3 == 0 ? GpuTest.ToBf16((float)(rnd.NextDouble() - 0.5) * 0.04f)
                    : (ushort)((rnd.Next(2) << 15) | (rnd.Next(100, 151) << 7) | rnd.Next(128));
            }
            FusedOperands m = UploadFused(c, s, data, rows, cols, owned);
            DeviceBuffer y = c.Allocator.Allocate(rows * 4L, MemoryCategory.Activations, "y");
            owned.Add(y);
            ulong normW = act == 1 ? m.NormPtr : 0, up = act == 2 ? m.X2Ptr : 0;
            uint[] Run(MatvecWeight w)
            {
                s.Upload(y, new uint[rows]);
                ops.Matvec(s, [new(w, y.Pointer)], m.XPtr, cols, normW, 1e-5f, 0, up);
                return s.Download<uint>(y, rows);
            }
            uint[] expected = Run(m.Raw);
            Assert.Equal(expected, Run(m.Fixed));
            ops.FusedGridLimit = 2;
            Assert.Equal(expected, Run(m.Raw));
        }
        finally
        {
            owned.ForEach(o => o.Dispose());
        }
    }

    /// <summary>
    /// The gate/up matvec with the SwiGLU epilogue (h = silu(gate) * up into the gate output) gives the down projection
    /// the same input as the gate and up outputs did through its silu(x) * up transform: the down outputs are equal bit
    /// for bit, for raw and `fixed` weights, batch 1 (persistent raw blocks, also over many groups each) and batch 3.
    /// </summary>
    [Theory]
    [InlineData(40, 300, 1)]
    [InlineData(64, 2048, 1)]
    [InlineData(24, 640, 3)]
    public void SwiGluEpilogueGivesTheDownProjectionTheSameBits(int inter, int hidden, int batch)
    {
        CudaContext c = GpuTest.Context();
        using var s = new CudaStream(c);
        var ops = new CudaOps(c);
        var owned = new List<IDisposable>();
        try
        {
            FusedOperands gate = UploadFused(c, s, RandomBf16(inter * hidden, 1, specials: false), inter, hidden, owned);
            FusedOperands up = UploadFused(c, s, RandomBf16(inter * hidden, 2, specials: false), inter, hidden, owned);
            FusedOperands down = UploadFused(c, s, RandomBf16(hidden * inter, 3, specials: false), hidden, inter, owned);
            float[] x = GpuTest.Gaussian(new Random(4), batch * hidden);
            DeviceBuffer xd = s.UploadNew<float>(c.Allocator, x, MemoryCategory.Activations, "x");
            DeviceBuffer g = c.Allocator.Allocate(batch * inter * 4L, MemoryCategory.Activations, "gate");
            DeviceBuffer u = c.Allocator.Allocate(batch * inter * 4L, MemoryCategory.Activations, "up");
            DeviceBuffer y = c.Allocator.Allocate(batch * hidden * 4L, MemoryCategory.Activations, "y");
            owned.AddRange([xd, g, u, y]);
            uint[] Run(FusedOperands.Pick pick, bool glu)
            {
                s.Upload(g, new uint[batch * inter]);
                s.Upload(u, new uint[batch * inter]);
                s.Upload(y, new uint[batch * hidden]);
                ops.Matvec(s, [new(pick(gate), g.Pointer), new(pick(up), u.Pointer)], xd.Pointer, hidden, gate.NormPtr, 1e-5f, batch: batch, glu: glu);
                ops.Matvec(s, [new(pick(down), y.Pointer)], g.Pointer, inter, up: glu ? 0 : u.Pointer, batch: batch);
                return s.Download<uint>(y, batch * hidden);
            }
            foreach (FusedOperands.Pick pick in new FusedOperands.Pick[] { o => o.Raw, o => o.Fixed })
            {
                uint[] expected = Run(pick, glu: false);
                Assert.Equal(expected, Run(pick, glu: true));
                ops.FusedGridLimit = 2;
                Assert.Equal(expected, Run(pick, glu: true));
                ops.FusedGridLimit = null;
            }
            Assert.Equal(Run(o => o.Raw, glu: true), Run(o => o.Fixed, glu: true));
        }
        finally
        {
            owned.ForEach(o => o.Dispose());
        }
    }

    /// <summary>
    /// The fused matvec over `fixed` tiles == the same template over the raw BF16 matrix, bit for bit, for each
    /// input transform (0: x, 1: RMSNorm(x) * w, 2: silu(x) * up) with bias and residual, two segments in one
    /// launch; and both equal an FP64 reference within 1e-5.
    /// </summary>
    [Theory]
    [InlineData(64, 2048, 1)]
    [InlineData(30, 300, 0)]
    [InlineData(5, 5632, 2)]
    [InlineData(13, 200, 1)]
    [InlineData(256, 11008, 2)]
    public void FusedFixedMatvecIsBitIdenticalToRawBf16(int rows, int cols, int act)
    {
        CudaContext c = GpuTest.Context();
        using var s = new CudaStream(c);
        var ops = new CudaOps(c);
        var owned = new List<IDisposable>();
        try
        {
            ushort[] data = RandomBf16(rows * cols, rows + cols, specials: false);
            var rnd = new Random(rows);
            for (int i = 0; i < data.Length / 40; i++) data[rnd.Next(data.Length)] = GpuTest.ToBf16((float)(rnd.NextDouble() * 1e-9)); // escapes
            for (int r = 0; r < Math.Min(rows, 8); r++)
                for (int k = 0; k < Math.Min(cols, 4); k++) data[r * cols + k] = GpuTest.ToBf16(1e-12f * MathF.Pow(2, r * 4 + k)); // lane 0 of tile 0: all escapes
            FusedOperands m = UploadFused(c, s, data, rows, cols, owned);
            (float[] x, float[] x2, float[] norm) = (m.X, m.X2, m.Norm);
            float[] resid = GpuTest.Gaussian(new Random(10), rows);
            float[] bias = GpuTest.Gaussian(new Random(12), rows);
            DeviceBuffer rd = s.UploadNew<float>(c.Allocator, resid, MemoryCategory.Activations, "r");
            DeviceBuffer bd = s.UploadNew<float>(c.Allocator, bias, MemoryCategory.Activations, "b");
            DeviceBuffer y1 = c.Allocator.Allocate(rows * 8L, MemoryCategory.Activations, "y1"), y2 = c.Allocator.Allocate(rows * 8L, MemoryCategory.Activations, "y2");
            owned.AddRange([rd, bd, y1, y2]);
            ulong normW = act == 1 ? m.NormPtr : 0, up = act == 2 ? m.X2Ptr : 0;
            // two segments: the matrix with bias, then the matrix again without
            MatvecWeight rawW = m.Raw, fixedW = m.Fixed;
            ops.Matvec(s, [new(rawW, y1.Pointer, bd.Pointer), new(rawW, y1.Pointer + (ulong)rows * 4)], m.XPtr, cols, normW, 1e-5f, rd.Pointer, up);
            ops.Matvec(s, [new(fixedW, y2.Pointer, bd.Pointer), new(fixedW, y2.Pointer + (ulong)rows * 4)], m.XPtr, cols, normW, 1e-5f, rd.Pointer, up);
            uint[] a = s.Download<uint>(y1, 2 * rows), b = s.Download<uint>(y2, 2 * rows);
            Assert.Equal(a, b);
            // raw runs persistent blocks: the same bits when each block loops over many 8-row groups
            ops.FusedGridLimit = 3;
            ops.Matvec(s, [new(rawW, y1.Pointer, bd.Pointer), new(rawW, y1.Pointer + (ulong)rows * 4)], m.XPtr, cols, normW, 1e-5f, rd.Pointer, up);
            Assert.Equal(b, s.Download<uint>(y1, 2 * rows));
            // and the values are right (not just equally wrong)
            float[] af = a.Select(BitConverter.UInt32BitsToSingle).ToArray();
            double ss = x.Sum(v => (double)v * v);
            double scale = 1 / Math.Sqrt(ss / cols + 1e-5);
            double In(int k) => act switch
            {
                1 => norm[k] * x[k] * scale,
                2 => x[k] / (1 + Math.Exp(-x[k])) * x2[k],
                _ => x[k],
            };
            var expected = new float[2 * rows];
            for (int r = 0; r < rows; r++)
            {
                double acc = 0;
                for (int k = 0; k < cols; k++) acc += GpuTest.FromBf16(data[r * cols + k]) * In(k);
                expected[r] = (float)(acc + bias[r] + resid[r]);
                expected[rows + r] = (float)(acc + resid[r]);
            }
            Assert.True(GpuTest.RelErr(af, expected) < 1e-5, $"rel err {GpuTest.RelErr(af, expected)}");
        }
        finally
        {
            owned.ForEach(o => o.Dispose());
        }
    }
}
