using CodecLlm.Model;

namespace CodecLlm.Backends.Cuda;

/// <summary>
/// A weight matrix [rows, cols] in device memory: raw elements (F32/F16/BF16), or a `fixed` / `entropy`
/// blob (BF16) that the GPU decodes on the fly.
/// </summary>
internal sealed class GpuMatrix : IDisposable
{
    public GpuMatrix(string name, int rows, int cols, TensorDType dtype, string codec, DeviceBuffer buffer, DeviceBuffer? table = null, int entropyGroups = 0,
        int entropyLaneSymbols = 0)
    {
        EntropyLaneSymbols = entropyLaneSymbols;
        Name = name;
        Rows = rows;
        Cols = cols;
        DType = dtype;
        Codec = codec;
        Buffer = buffer;
        Table = table;
        EntropyGroups = entropyGroups;
    }

    public string Name { get; }

    public int Rows { get; }

    public int Cols { get; }

    /// <summary>The decoded element type.</summary>
    public TensorDType DType { get; }

    /// <summary>"raw", "fixed" or "entropy".</summary>
    public string Codec { get; }

    public DeviceBuffer Buffer { get; }

    /// <summary>Entropy: the 2^L-entry decode table.</summary>
    public DeviceBuffer? Table { get; }

    public int EntropyGroups { get; }

    /// <summary>Entropy: symbols per lane stream (K); a group is 32·K elements.</summary>
    public int EntropyLaneSymbols { get; }

    public bool IsCompressed => Codec != "raw";

    public long DecodedBytes => (long)Rows * Cols * DType.ByteSize();

    /// <summary>The matvec operand over the raw elements (this matrix raw, or its decoded copy at <paramref name="decoded"/>).</summary>
    public MatvecWeight RawOperand(ulong decoded = 0) =>
        new(MatvecWeight.EncodingOf(DType), IsCompressed ? decoded : Buffer.Pointer, Rows, Cols);

    /// <summary>The fused-decode operand (fixed only).</summary>
    public MatvecWeight FixedOperand() => new(WeightEncoding.Fixed, Buffer.Pointer, Rows, Cols);

    public void Dispose()
    {
        Buffer.Dispose();
        Table?.Dispose();
    }
}
