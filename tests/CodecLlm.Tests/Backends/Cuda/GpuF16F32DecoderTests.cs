using System.Runtime.InteropServices;
using CodecLlm.Backends.Cuda;
using CodecLlm.Codecs;
using CodecLlm.Formats;
using CodecLlm.Formats.Llama2c;
using CodecLlm.Model;
using CodecLlm.Tests.Codecs;

namespace CodecLlm.Tests.Backends.Cuda;

/// <summary>
/// The GPU decoders of F16 and F32 blobs (fixed_decode_f16/_f32, entropy_decode_f16/_f32) against the original weights,
/// which the CPU codecs also reproduce: random tensors of odd shapes with escapes / rare exponents and special values,
/// every F16 bit pattern, row-group and lane-stream-group ranges, misaligned outputs, several entropy tensors of mixed
/// types in one call, and stories260K's matrices (F32 as published, and rounded to F16).
/// </summary>
[Collection("gpu")]
public class GpuF16F32DecoderTests
{
    /// <summary>Gaussian weights with every special value, 2% random bit patterns (rare exponents) and lane 0 of tile 0 all random.</summary>
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

    private static ModelTensor Encode(string codec, byte[] data, TensorDType dt, int rows, int cols, List<IDisposable> owned,
        int laneSymbols = EntropyCodec.DefaultLaneSymbols)
    {
        IWeightCodec encoder = codec == "entropy" ? new EntropyCodec(laneSymbols) : CodecRegistry.Get(codec);
        EncodedTensor e = encoder.Encode(data, new TensorLayout(dt, [rows, cols]));
        NativeBuffer blob = NativeBuffer.CopyOf(e.Blob);
        owned.Add(blob);
        return new ModelTensor("w", dt, [rows, cols], blob, 0, blob.Length, codec, e.Params);
    }

    /// <summary>The matrix on the device as CudaWeights keeps it compressed.</summary>
    private static GpuMatrix Upload(CudaContext c, CudaStream s, ModelTensor t, List<IDisposable> owned)
    {
        int groups = GpuDecoders.Validate(t, t.Rows, t.Cols);
        DeviceBuffer blob = c.Allocator.Allocate(t.StoredLength + 16, MemoryCategory.CompressedWeights, "blob");
        s.Upload(blob, t.StoredBytes);
        bool entropy = t.Codec == "entropy";
        DeviceBuffer? table = entropy ? s.UploadNew<uint>(c.Allocator, GpuDecoders.EntropyTable(t.StoredBytes, t.Name), MemoryCategory.Workspace, "table") : null;
        int k = entropy ? (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(t.StoredBytes[16..]) : 0;
        var m = new GpuMatrix("w", t.Rows, t.Cols, t.DType, t.Codec, blob, table, groups, k, entropy ? null : GpuDecoders.FixedSections(t, t.Rows, t.Cols));
        owned.Add(m);
        return m;
    }

    /// <summary>Output buffers with 64 guard bytes (0xAB) before and after <paramref name="bytes"/> bytes at <paramref name="shift"/> past alignment.</summary>
    private sealed class Guarded
    {
        private readonly CudaStream _s;
        private readonly DeviceBuffer _b;
        private readonly long _lead, _bytes;

        public Guarded(CudaContext c, CudaStream s, long bytes, int shift, List<IDisposable> owned)
        {
            (_s, _lead, _bytes) = (s, 64 + shift, bytes);
            _b = c.Allocator.Allocate(_lead + bytes + 64, MemoryCategory.Scratch, "out");
            owned.Add(_b);
            s.Fill(_b, 0xAB);
        }

        public ulong Pointer => _b.Pointer + (ulong)_lead;

        /// <summary>The output; fails if the decoder wrote into the guard bytes.</summary>
        public byte[] Read()
        {
            byte[] all = _s.Download<byte>(_b, _lead + _bytes + 64);
            Assert.True(all.AsSpan(0, (int)_lead).IndexOfAnyExcept((byte)0xAB) < 0, "the decoder wrote before its output");
            Assert.True(all.AsSpan((int)(_lead + _bytes)).IndexOfAnyExcept((byte)0xAB) < 0, "the decoder wrote past its output");
            return all.AsSpan((int)_lead, (int)_bytes).ToArray();
        }
    }

    /// <summary>Decodes row groups [rg0, rg1) (fixed) or lane-stream groups [rg0, rg1) (entropy) of the matrix; -1 = to the end.</summary>
    private static byte[] GpuDecode(CudaContext c, CudaStream s, ModelTensor t, List<IDisposable> owned, int rg0 = 0, int rg1 = -1, int shift = 0)
    {
        GpuMatrix m = Upload(c, s, t, owned);
        long n = t.ElementCount, first, end;
        if (t.Codec == "entropy")
        {
            long ge = GpuDecoders.EntropyGroupElements(m);
            (first, end) = (rg0 * ge, rg1 < 0 ? n : Math.Min(n, rg1 * ge));
        }
        else
        {
            (first, end) = (8L * rg0 * t.Cols, rg1 < 0 ? n : Math.Min(n, 8L * rg1 * t.Cols));
        }
        var output = new Guarded(c, s, (end - first) * t.DType.ByteSize(), shift, owned);
        GpuDecoders.Decode(c.Kernels, s, m, output.Pointer, rg0, rg1, c.MultiprocessorCount);
        return output.Read();
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
    public void GpuFixedDecodeEqualsCpuDecodeOnRandomTensors(TensorDType dt, int rows, int cols)
    {
        CudaContext c = GpuTest.Context();
        using var s = new CudaStream(c);
        var owned = new List<IDisposable>();
        try
        {
            byte[] data = RandomWeights(dt, rows, cols, rows * 7 + cols);
            ModelTensor t = Encode("fixed", data, dt, rows, cols, owned);
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

    /// <summary>
    /// Entropy: lane streams of K symbols (K = 7 and 48 give many groups, the last one partial), group ranges as the
    /// prefill slices and the sliced head decode them, and outputs past alignment.
    /// </summary>
    [Theory]
    [InlineData(TensorDType.F16, 1, 5, 1024)]
    [InlineData(TensorDType.F16, 37, 1000, 48)]
    [InlineData(TensorDType.F16, 37, 1000, 7)]
    [InlineData(TensorDType.F16, 300, 1500, 1024)]
    [InlineData(TensorDType.F32, 1, 5, 1024)]
    [InlineData(TensorDType.F32, 37, 1000, 48)]
    [InlineData(TensorDType.F32, 37, 1000, 7)]
    [InlineData(TensorDType.F32, 130, 2048, 1024)]
    public void GpuEntropyDecodeEqualsCpuDecodeOnRandomTensors(TensorDType dt, int rows, int cols, int laneSymbols)
    {
        CudaContext c = GpuTest.Context();
        using var s = new CudaStream(c);
        var owned = new List<IDisposable>();
        try
        {
            byte[] data = RandomWeights(dt, rows, cols, rows * 31 + laneSymbols);
            ModelTensor t = Encode("entropy", data, dt, rows, cols, owned, laneSymbols);
            Assert.Equal(data, t.DecodeToArray());
            int eb = dt.ByteSize(), ge = 32 * laneSymbols, groups = GpuDecoders.Validate(t, rows, cols);
            AssertElementsEqual(dt, data, GpuDecode(c, s, t, owned), "whole tensor");
            AssertElementsEqual(dt, data, GpuDecode(c, s, t, owned, shift: eb), "output one element past alignment");
            if (groups >= 3) AssertElementsEqual(dt, data.AsSpan(ge * eb, (groups - 2) * ge * eb), GpuDecode(c, s, t, owned, 1, groups - 1), "groups [1, G-1)");
            if (groups >= 2) AssertElementsEqual(dt, data.AsSpan((groups - 1) * ge * eb), GpuDecode(c, s, t, owned, groups - 1, groups, shift: 2 * eb), "the last group");
        }
        finally
        {
            owned.ForEach(o => o.Dispose());
        }
    }

    /// <summary>Six entropy tensors of BF16, F16 and F32 with different K in one DecodeEntropy call (one launch per type).</summary>
    [Fact]
    public void GpuEntropyDecodesTensorsOfMixedTypesInOneCall()
    {
        CudaContext c = GpuTest.Context();
        using var s = new CudaStream(c);
        var owned = new List<IDisposable>();
        try
        {
            (TensorDType Dt, int Rows, int Cols, int K)[] shapes =
                [(TensorDType.F32, 64, 2048, 1024), (TensorDType.F16, 37, 1000, 48), (TensorDType.BF16, 30, 300, 1024),
                 (TensorDType.F16, 1, 5, 1024), (TensorDType.F32, 33, 1024, 100), (TensorDType.F16, 130, 2048, 1024)];
            var datas = new List<byte[]>();
            var outputs = new List<Guarded>();
            var items = new List<(GpuMatrix M, ulong Out, int G0, int G1)>();
            foreach (var (dt, rows, cols, k) in shapes)
            {
                byte[] data = RandomWeights(dt, rows, cols, rows + 3 * cols + k);
                datas.Add(data);
                GpuMatrix m = Upload(c, s, Encode("entropy", data, dt, rows, cols, owned, k), owned);
                var output = new Guarded(c, s, data.Length, 0, owned);
                outputs.Add(output);
                items.Add((m, output.Pointer, 0, -1));
            }
            GpuDecoders.DecodeEntropy(c.Kernels, s, items, c.MultiprocessorCount);
            for (int i = 0; i < shapes.Length; i++)
                AssertElementsEqual(shapes[i].Dt, datas[i], outputs[i].Read(), $"tensor {i} {shapes[i]}");
        }
        finally
        {
            owned.ForEach(o => o.Dispose());
        }
    }

    /// <summary>Every F16 bit pattern once ([256, 256]: ±0, subnormals, ±Inf, NaN payloads; most of them escapes for fixed).</summary>
    [Theory]
    [InlineData("fixed")]
    [InlineData("entropy")]
    public void GpuDecodesEveryF16BitPattern(string codec)
    {
        CudaContext c = GpuTest.Context();
        using var s = new CudaStream(c);
        var owned = new List<IDisposable>();
        try
        {
            byte[] data = TensorData.All16BitPatterns();
            ModelTensor t = Encode(codec, data, TensorDType.F16, 256, 256, owned);
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
    [InlineData("fixed", TensorDType.F32)]
    [InlineData("fixed", TensorDType.F16)]
    [InlineData("entropy", TensorDType.F32)]
    [InlineData("entropy", TensorDType.F16)]
    public void GpuDecodeEqualsCpuDecodeOnStories260KMatrices(string codec, TensorDType dt)
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
                ModelTensor t = Encode(codec, data, dt, w.Rows, w.Cols, owned);
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
