using CodecLlm.Codecs;
using CodecLlm.Model;

namespace CodecLlm.Backends.Cuda;

/// <summary>
/// A weight matrix [rows, cols] in device memory: raw elements (F32/F16/BF16), or a `fixed` / `entropy` blob
/// (of BF16, F16 or F32) that the GPU decodes on the fly.
/// </summary>
internal sealed class GpuMatrix : IDisposable
{
    public GpuMatrix(string name, int rows, int cols, TensorDType dtype, string codec, DeviceBuffer buffer, DeviceBuffer? table = null, int entropyGroups = 0,
        int entropyLaneSymbols = 0, FixedCodec.Sections? fixedSections = null)
    {
        FixedSections = fixedSections;
        if (codec == "fixed" && fixedSections == null) throw new ArgumentException("a fixed matrix needs its blob's sections", nameof(fixedSections));
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

    /// <summary>Fixed: where the tiles, tile offsets and escape bytes are in <see cref="Buffer"/>, and the base exponent.</summary>
    public FixedCodec.Sections? FixedSections { get; }

    public bool IsCompressed => Codec != "raw";

    public long DecodedBytes => (long)Rows * Cols * DType.ByteSize();

    /// <summary>The matvec operand over the raw elements (this matrix raw, or its decoded copy at <paramref name="decoded"/>).</summary>
    public MatvecWeight RawOperand(ulong decoded = 0) =>
        new(MatvecWeight.EncodingOf(DType), IsCompressed ? decoded : Buffer.Pointer, Rows, Cols);

    /// <summary>The fused-decode operand (fixed BF16 only: the fused kernels read 1408-byte BF16 tiles; F16/F32 go through the decoder).</summary>
    public MatvecWeight FixedOperand()
    {
        if (DType != TensorDType.BF16) throw new InvalidOperationException($"{Name}: the fused fixed kernels read BF16 tiles, this matrix is {DType} (decode it to scratch)");
        var (tiles, offsets, escapes, exponentBase) = FixedPointers();
        return new(WeightEncoding.Fixed, tiles, Rows, Cols, offsets, escapes, exponentBase);
    }

    /// <summary>Fixed (any element type): the device addresses of the tiles, tile offsets and escape bytes, and the base exponent.</summary>
    public (ulong Tiles, ulong Offsets, ulong Escapes, uint Base) FixedPointers()
    {
        FixedCodec.Sections f = FixedSections ?? throw new InvalidOperationException($"{Name}: not a fixed matrix");
        ulong b = Buffer.Pointer;
        return (b + (ulong)f.TilesOffset, b + (ulong)f.OffsetsOffset, b + (ulong)f.EscapesOffset, (uint)f.Base);
    }

    public void Dispose()
    {
        Buffer.Dispose();
        Table?.Dispose();
    }
}
