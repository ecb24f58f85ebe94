using System.Runtime.InteropServices;
using CodecLlm.Backends.Cuda;
using CodecLlm.Codecs;
using CodecLlm.Formats;
using CodecLlm.Formats.Llama2c;
using CodecLlm.Model;
using CodecLlm.Tests.Codecs;

namespace CodecLlm.Tests.Backends.Cuda;

/// <summary>
/// The GPU decoder of `fixed` F16 and F32 tiles (fixed_decode_f16/_f32) against the original weights, which the CPU
/// FixedCodec also reproduces: random tensors of odd shapes with escapes and special values, every F16 bit pattern,
/// row-group ranges, misaligned outputs, and stories260K's matrices (F32 as published, and rounded to F16).
/// </summary>
[Collection("gpu")]
public class GpuFixedWideDecoderTests
{
    /// <summary>Gaussian weights with every special value, 2% random bit patterns (escapes) and lane 0 of tile 0 all random.</summary>
    private static byte[] RandomWeights(TensorDType dt, int rows, int cols, int seed)
    {
        int eb = dt.ByteSize(), n = rows * cols;
        byte[] data = TensorData.Make(dt, n, BitMode.Gaussian, seed);
        var rnd = new Random(seed);
        uint RandomBits() => (uint)rnd.NextInt64(0, 1L << 32) & (eb == 2 ? 0xFFFFu : 0xFFFFFFFFu);
        uint[] specials = TensorData.Specials(dt);
        if (n >= 4 * specials.Length)
            foreach (uint s in specials) FloatFields.Store(data, rnd.Next(n), eb, s);
        for (int i = 0; i < n / 50; i++) FloatFields.Store(data, rnd.Next(n), eb, RandomBits());
        for (int r = 0; r < Math.Min(rows, 8); r++)
            for (int k = 0; k < Math.Min(cols, 4); k++) FloatFields.Store(data, (long)r * cols + k, eb, RandomBits());
        return data;
    }

    private static ModelTensor Encode(byte[] data, TensorDType dt, int rows, int cols, List<IDisposable> owned)
    {
        EncodedTensor e = CodecRegistry.Get("fixed").Encode(data, new TensorLayout(dt, [rows, cols]));
        NativeBuffer blob = NativeBuffer.CopyOf(e.Blob);
        owned.Add(blob);
        return new ModelTensor("w", dt, [rows, cols], blob, 0, blob.Length, "fixed", e.Params);
    }

    /// <summary>
    /// Decodes row groups [rg0, rg1) on the GPU, written <paramref name="shift"/> bytes into a 256-byte-aligned buffer
    /// filled with 0xAB; checks that the 64 bytes before and after the output are untouched.
    /// </summary>
    private static byte[] GpuDecode(CudaContext c, CudaStream s, ModelTensor t, List<IDisposable> owned, int rg0 = 0, int rg1 = -1, int shift = 0)
    {
        DeviceBuffer blob = c.Allocator.Allocate(t.StoredLength + 16, MemoryCategory.CompressedWeights, "blob");
        s.Upload(blob, t.StoredBytes);
        var m = new GpuMatrix("w", t.Rows, t.Cols, t.DType, "fixed", blob, fixedSections: GpuDecoders.FixedSections(t, t.Rows, t.Cols));
        owned.Add(m);
        int r0 = 8 * rg0, r1 = rg1 < 0 ? t.Rows : Math.Min(t.Rows, 8 * rg1);
        long bytes = (long)(r1 - r0) * t.Cols * t.DType.ByteSize(), lead = 64 + shift;
        DeviceBuffer output = c.Allocator.Allocate(lead + bytes + 64, MemoryCategory.Scratch, "out");
        owned.Add(output);
        s.Fill(output, 0xAB);
        GpuDecoders.Decode(c.Kernels, s, m, output.Pointer + (ulong)lead, rg0, rg1, c.MultiprocessorCount);
        byte[] all = s.Download<byte>(output, lead + bytes + 64);
        Assert.True(all.AsSpan(0, (int)lead).IndexOfAnyExcept((byte)0xAB) < 0, "the decoder wrote before its output");
        Assert.True(all.AsSpan((int)(lead + bytes)).IndexOfAnyExcept((byte)0xAB) < 0, "the decoder wrote past its output");
        return all.AsSpan((int)lead, (int)bytes).ToArray();
    }

    private static void AssertElementsEqual(TensorDType dt, ReadOnlySpan<byte> expected, ReadOnlySpan<byte> gpu, string what)
    {
        Assert.Equal(expected.Length, gpu.Length);
        int eb = dt.ByteSize();
        for (long i = 0; i < expected.Length / eb; i++)
        {
            uint e = FloatFields.Load(expected, i, eb), g = FloatFields.Load(gpu, i, eb);
            if (e != g) Assert.Fail($"{what}: element {i}: GPU {g:X}, expected {e:X}");
        }
    }

    [Theory]
    [InlineData(TensorDType.F16, 1, 5)]
    [InlineData(TensorDType.F16, 7, 300)]
    [InlineData(TensorDType.F16, 9, 130)]
    [InlineData(TensorDType.F16, 13, 1001)]
    [InlineData(TensorDType.F16, 37, 1000)]
    [InlineData(TensorDType.F16, 64, 2048)]
    [InlineData(TensorDType.F16, 203, 515)]
    [InlineData(TensorDType.F32, 1, 5)]
    [InlineData(TensorDType.F32, 7, 300)]
    [InlineData(TensorDType.F32, 9, 130)]
    [InlineData(TensorDType.F32, 13, 1001)]
    [InlineData(TensorDType.F32, 37, 1000)]
    [InlineData(TensorDType.F32, 64, 2048)]
    [InlineData(TensorDType.F32, 203, 515)]
    public void GpuDecodeEqualsCpuDecodeOnRandomTensors(TensorDType dt, int rows, int cols)
    {
        CudaContext c = GpuTest.Context();
        using var s = new CudaStream(c);
        var owned = new List<IDisposable>();
        try
        {
            byte[] data = RandomWeights(dt, rows, cols, rows * 7 + cols);
            ModelTensor t = Encode(data, dt, rows, cols, owned);
            Assert.Equal(data, t.DecodeToArray());  // the CPU decoder (the reference) reproduces the weights
            int eb = dt.ByteSize(), rowBytes = cols * eb, groups = (rows + 7) / 8;
            AssertElementsEqual(dt, data, GpuDecode(c, s, t, owned), "whole tensor");
            AssertElementsEqual(dt, data, GpuDecode(c, s, t, owned, shift: eb), "output one element past alignment");
            if (dt == TensorDType.F32) AssertElementsEqual(dt, data, GpuDecode(c, s, t, owned, shift: 8), "output 8 bytes past alignment");
            if (groups >= 3) AssertElementsEqual(dt, data.AsSpan(8 * rowBytes, 8 * (groups - 2) * rowBytes), GpuDecode(c, s, t, owned, 1, groups - 1), "row groups [1, G-1)");
            if (groups >= 2) AssertElementsEqual(dt, data.AsSpan(8 * (groups - 1) * rowBytes), GpuDecode(c, s, t, owned, groups - 1, groups, shift: 256 - eb), "the last row group");
        }
        finally
        {
            owned.ForEach(o => o.Dispose());
        }
    }

    /// <summary>Every F16 bit pattern once ([256, 256]: ±0, subnormals, ±Inf, NaN payloads; most of them escapes).</summary>
    [Fact]
    public void GpuDecodesEveryF16BitPattern()
    {
        CudaContext c = GpuTest.Context();
        using var s = new CudaStream(c);
        var owned = new List<IDisposable>();
        try
        {
            byte[] data = TensorData.All16BitPatterns();
            ModelTensor t = Encode(data, TensorDType.F16, 256, 256, owned);
            Assert.Equal(data, t.DecodeToArray());
            AssertElementsEqual(TensorDType.F16, data, GpuDecode(c, s, t, owned), "every F16 pattern");
        }
        finally
        {
            owned.ForEach(o => o.Dispose());
        }
    }

    /// <summary>stories260K's matrices (F32 as published; rounded to F16): the GPU decode is the original tensor.</summary>
    [Theory]
    [InlineData(TensorDType.F32)]
    [InlineData(TensorDType.F16)]
    public void GpuDecodeEqualsCpuDecodeOnStories260KMatrices(TensorDType dt)
    {
        CudaContext c = GpuTest.Context();
        if (!File.Exists(TestPaths.Stories260KBin)) Assert.Skip("stories260K not present: " + TestPaths.Stories260KBin);
        using LoadedModel model = new Llama2cFormat().Load(TestPaths.Stories260KBin, new ModelLoadOptions());
        using var s = new CudaStream(c);
        var owned = new List<IDisposable>();
        try
        {
            int matrices = 0;
            foreach (ModelTensor w in model.Tensors.Values.Where(t => t.Shape.Length == 2).OrderBy(t => t.Name, StringComparer.Ordinal))
            {
                Assert.Equal(TensorDType.F32, w.DType);
                byte[] data = dt == TensorDType.F32 ? w.DecodeToArray() : ToF16(w.DecodeToArray());
                ModelTensor t = Encode(data, dt, w.Rows, w.Cols, owned);
                Assert.Equal(data, t.DecodeToArray());
                AssertElementsEqual(dt, data, GpuDecode(c, s, t, owned), w.Name);
                matrices++;
            }
            Assert.True(matrices >= 36, $"{matrices} matrices"); // 5 layers x 7 + the embedding
        }
        finally
        {
            owned.ForEach(o => o.Dispose());
        }
    }

    internal static byte[] ToF16(ReadOnlySpan<byte> f32)
    {
        ReadOnlySpan<float> f = MemoryMarshal.Cast<byte, float>(f32);
        var h = new Half[f.Length];
        for (int i = 0; i < f.Length; i++) h[i] = (Half)f[i];
        return MemoryMarshal.AsBytes(h.AsSpan()).ToArray();
    }
}
