using CodecLlm.Backends.Cuda;
using CodecLlm.Codecs;
using CodecLlm.Model;
using CodecLlm.Tests.Codecs;

namespace CodecLlm.Tests.Backends.Cuda;

/// <summary>Which blobs the GPU decodes and which stay compressed in VRAM (host-side rules: no GPU needed).</summary>
public class GpuDecoderPolicyTests
{
    private static ModelTensor Tensor(TensorDType dt, string codec, int rows, int cols, List<IDisposable> owned)
    {
        byte[] data = TensorData.Make(dt, (long)rows * cols, BitMode.Gaussian, rows + cols);
        if (codec == "raw")
        {
            NativeBuffer raw = NativeBuffer.CopyOf(data);
            owned.Add(raw);
            return new ModelTensor("model.layers.0.mlp.up_proj.weight", dt, [rows, cols], raw, 0, raw.Length);
        }
        EncodedTensor e = CodecRegistry.Get(codec).Encode(data, new TensorLayout(dt, [rows, cols]));
        NativeBuffer blob = NativeBuffer.CopyOf(e.Blob);
        owned.Add(blob);
        return new ModelTensor("model.layers.0.mlp.up_proj.weight", dt, [rows, cols], blob, 0, blob.Length, codec, e.Params);
    }

    [Theory]
    [InlineData("fixed", TensorDType.BF16, true)]
    [InlineData("fixed", TensorDType.F16, true)]
    [InlineData("fixed", TensorDType.F32, true)]
    [InlineData("entropy", TensorDType.BF16, true)]
    [InlineData("entropy", TensorDType.F16, true)]
    [InlineData("entropy", TensorDType.F32, true)]
    [InlineData("zstd", TensorDType.F16, false)]
    [InlineData("raw", TensorDType.F16, false)]
    public void CanDecodeFixedAndEntropyOfEveryFloatType(string codec, TensorDType dt, bool expected)
    {
        var owned = new List<IDisposable>();
        try
        {
            Assert.Equal(expected, GpuDecoders.CanDecode(Tensor(dt, codec, 16, 256, owned)));
        }
        finally
        {
            owned.ForEach(o => o.Dispose());
        }
    }

    /// <summary>
    /// An F32 matrix (fixed: 27 bits a weight, entropy: about 26.5) stays compressed; an F16 one (sign and mantissa
    /// in two whole bytes: fixed 19 bits, entropy about 18.5, against 16 raw) is decoded at load; BF16 stays compressed
    /// as before; an unselected group never does.
    /// </summary>
    [Theory]
    [InlineData("fixed", TensorDType.F32, true, true)]
    [InlineData("fixed", TensorDType.F16, true, false)]
    [InlineData("fixed", TensorDType.BF16, true, true)]
    [InlineData("fixed", TensorDType.F32, false, false)]
    [InlineData("entropy", TensorDType.F32, true, true)]
    [InlineData("entropy", TensorDType.F16, true, false)]
    [InlineData("entropy", TensorDType.BF16, true, true)]
    public void MatricesStayCompressedWhereTheBlobIsSmaller(string codec, TensorDType dt, bool selected, bool expected)
    {
        var owned = new List<IDisposable>();
        try
        {
            ModelTensor t = Tensor(dt, codec, 64, 512, owned);
            double bitsPerWeight = 8.0 * t.StoredLength / t.ElementCount;
            int restBits = 8 * FloatFields.RestBytes(dt);
            if (codec == "fixed") Assert.InRange(bitsPerWeight, restBits + 3, restBits + 4.5);  // + the 3-bit code, escapes, offsets
            else Assert.InRange(bitsPerWeight, restBits + 1, restBits + 4);                  // + the Huffman-coded exponent
            Assert.Equal(expected, CudaWeights.StaysCompressed(t, _ => selected));
        }
        finally
        {
            owned.ForEach(o => o.Dispose());
        }
    }

    [Theory]
    [InlineData(TensorDType.F16, 13, 1001)]
    [InlineData(TensorDType.F32, 9, 130)]
    public void FixedSectionsOfF16AndF32Blobs(TensorDType dt, int rows, int cols)
    {
        var owned = new List<IDisposable>();
        try
        {
            ModelTensor t = Tensor(dt, "fixed", rows, cols, owned);
            FixedCodec.Sections s = GpuDecoders.FixedSections(t, rows, cols);
            long tiles = (long)((rows + 7) / 8) * ((cols + 127) / 128);
            Assert.Equal((rows, cols), (s.Rows, s.Cols));
            Assert.Equal(64, s.TilesOffset);
            Assert.Equal(64 + tiles * FixedTileLayout.TileBytesOf(FloatFields.RestBytes(dt)), s.OffsetsOffset);
        }
        finally
        {
            owned.ForEach(o => o.Dispose());
        }
    }

    /// <summary>
    /// A fixed blob whose tile offsets run past its exception entries is refused at upload (before a GPU decoder reads a
    /// tile's entries from them without bounds checks).
    /// </summary>
    [Theory]
    [InlineData(TensorDType.BF16)]
    [InlineData(TensorDType.F32)]
    public void FixedBlobWhoseTileOffsetsOverrunItsEntriesIsRefused(TensorDType dt)
    {
        var owned = new List<IDisposable>();
        try
        {
            ModelTensor t = Tensor(dt, "fixed", 16, 256, owned);
            Assert.Equal(0, GpuDecoders.Validate(t, 16, 256));
            FixedCodec.Sections f = GpuDecoders.FixedSections(t, 16, 256);
            byte[] blob = t.StoredBytes.ToArray();
            int tile1 = (int)f.OffsetsOffset + 4;  // tile 1's first entry: past the section's entries
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(blob.AsSpan(tile1), (uint)((f.EscapeCount - FixedTileLayout.TableBytes) / 2 + 100));
            NativeBuffer bad = NativeBuffer.CopyOf(blob);
            owned.Add(bad);
            var corrupt = new ModelTensor(t.Name, dt, [16, 256], bad, 0, bad.Length, "fixed", t.CodecParams);
            var e = Assert.Throws<CorruptTensorException>(() => GpuDecoders.Validate(corrupt, 16, 256));
            Assert.Contains("escape", e.Message);
        }
        finally
        {
            owned.ForEach(o => o.Dispose());
        }
    }
}
