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

    private static ModelTensor Encode(string codec, ushort[] data, int rows, int cols, List<IDisposable> owned)
    {
        byte[] raw = MemoryMarshal.AsBytes(data.AsSpan()).ToArray();
        EncodedTensor e = CodecRegistry.Get(codec).Encode(raw, new TensorLayout(TensorDType.BF16, [rows, cols]));
        NativeBuffer blob = NativeBuffer.CopyOf(e.Blob);
        owned.Add(blob);
        return new ModelTensor("w", TensorDType.BF16, [rows, cols], blob, 0, blob.Length, codec, e.Params);
    }

    private static ushort[] GpuDecode(CudaContext c, CudaStream s, ModelTensor t, List<IDisposable> owned)
    {
        int groups = GpuDecoders.Validate(t, t.Rows, t.Cols);
        DeviceBuffer blob = c.Allocator.Allocate(t.StoredLength + 16, MemoryCategory.CompressedWeights, "blob");
        owned.Add(blob);
        s.Upload(blob, t.StoredBytes);
        DeviceBuffer? table = t.Codec == "entropy" ? s.UploadNew<ushort>(c.Allocator, GpuDecoders.EntropyTable(t.StoredBytes, t.Name), MemoryCategory.Workspace, "table") : null;
        if (table != null) owned.Add(table);
        int k = t.Codec == "entropy" ? (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(t.StoredBytes[16..]) : 0;
        using var m = new GpuMatrix("w", t.Rows, t.Cols, TensorDType.BF16, t.Codec, blob, table, groups, k);
        DeviceBuffer output = c.Allocator.Allocate(Math.Max(2, t.ByteLength), MemoryCategory.Scratch, "out");
        owned.Add(output);
        s.Fill(output, 0xAB);
        GpuDecoders.Decode(c.Kernels, s, m, output.Pointer, smCount: c.MultiprocessorCount);
        ushort[] result = s.Download<ushort>(output, t.ElementCount);
        GC.KeepAlive(m);
        return result;
    }

    [Theory]
    [InlineData("fixed", 4, 256)]
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

    [Theory]
    [InlineData(64, 2048)]
    [InlineData(30, 300)]
    [InlineData(5, 5632)]
    public void FusedFixedMatvecIsBitIdenticalToRawBf16(int rows, int cols)
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
            for (int r = 0; r < Math.Min(rows, 4); r++)
                for (int k = 0; k < Math.Min(cols, 8); k++) data[r * cols + k] = GpuTest.ToBf16(1e-12f * MathF.Pow(2, r * 8 + k)); // lane 0 of tile 0: all escapes
            ModelTensor t = Encode("fixed", data, rows, cols, owned);
            DeviceBuffer raw = s.UploadNew<ushort>(c.Allocator, data, MemoryCategory.Weights, "raw");
            DeviceBuffer blob = c.Allocator.Allocate(t.StoredLength + 16, MemoryCategory.CompressedWeights, "blob");
            s.Upload(blob, t.StoredBytes);
            float[] x = GpuTest.Gaussian(new Random(9), cols);
            float[] resid = GpuTest.Gaussian(new Random(10), rows);
            DeviceBuffer xd = s.UploadNew<float>(c.Allocator, x, MemoryCategory.Activations, "x");
            DeviceBuffer rd = s.UploadNew<float>(c.Allocator, resid, MemoryCategory.Activations, "r");
            DeviceBuffer nw = s.UploadNew<float>(c.Allocator, x.Select(v => 1 + v / 10).ToArray(), MemoryCategory.Activations, "n");
            DeviceBuffer y1 = c.Allocator.Allocate(rows * 4L, MemoryCategory.Activations, "y1"), y2 = c.Allocator.Allocate(rows * 4L, MemoryCategory.Activations, "y2");
            owned.AddRange([raw, blob, xd, rd, nw, y1, y2]);
            ops.Matvec(s, [new(new MatvecWeight(WeightEncoding.BF16, raw.Pointer, rows, cols), y1.Pointer)], xd.Pointer, cols, nw.Pointer, 1e-5f, rd.Pointer);
            ops.Matvec(s, [new(new MatvecWeight(WeightEncoding.Fixed, blob.Pointer, rows, cols), y2.Pointer)], xd.Pointer, cols, nw.Pointer, 1e-5f, rd.Pointer);
            uint[] a = s.Download<uint>(y1, rows), b = s.Download<uint>(y2, rows);
            Assert.Equal(a, b);
            // and the values are right (not just equally wrong)
            float[] af = a.Select(BitConverter.UInt32BitsToSingle).ToArray();
            double ss = x.Sum(v => (double)v * v);
            double scale = 1 / Math.Sqrt(ss / cols + 1e-5);
            var expected = new float[rows];
            for (int r = 0; r < rows; r++)
            {
                double acc = 0;
                for (int k = 0; k < cols; k++) acc += GpuTest.FromBf16(data[r * cols + k]) * (double)(1 + x[k] / 10) * x[k] * scale;
                expected[r] = (float)(acc + resid[r]);
            }
            Assert.True(GpuTest.RelErr(af, expected) < 1e-5, $"rel err {GpuTest.RelErr(af, expected)}");
        }
        finally
        {
            owned.ForEach(o => o.Dispose());
        }
    }
}
