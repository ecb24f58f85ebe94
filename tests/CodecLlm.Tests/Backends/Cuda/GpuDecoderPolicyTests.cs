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
    [InlineData("entropy", TensorDType.F16, false)]
    [InlineData("entropy", TensorDType.F32, false)]
    [InlineData("zstd", TensorDType.F16, false)]
    [InlineData("raw", TensorDType.F16, false)]
    public void CanDecodeFixedOfEveryFloatTypeAndEntropyOfBf16(string codec, TensorDType dt, bool expected)
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
    /// A fixed F32 matrix (27 bits a weight) stays compressed; a fixed F16 one (19 bits: sign and mantissa in two whole
    /// bytes, against 16 raw) is decoded at load; BF16 stays compressed as before; an unselected group never does.
    /// </summary>
    [Theory]
    [InlineData(TensorDType.F32, true, true)]
    [InlineData(TensorDType.F16, true, false)]
    [InlineData(TensorDType.BF16, true, true)]
    [InlineData(TensorDType.F32, false, false)]
    public void FixedMatricesStayCompressedWhereTheBlobIsSmaller(TensorDType dt, bool selected, bool expected)
    {
        var owned = new List<IDisposable>();
        try
        {
            ModelTensor t = Tensor(dt, "fixed", 64, 512, owned);
            double bitsPerWeight = 8.0 * t.StoredLength / t.ElementCount;
            double expectedBits = dt switch { TensorDType.F16 => 19, TensorDType.F32 => 27, _ => 11 };  // rest bytes x 8 + 3-bit code
            Assert.InRange(bitsPerWeight, expectedBits, expectedBits + 1.5);
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
}
