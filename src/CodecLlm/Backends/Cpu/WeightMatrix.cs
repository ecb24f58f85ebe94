using CodecLlm.Model;

namespace CodecLlm.Backends.Cpu;

/// <summary>
/// A row-major [Rows, Cols] matrix of F32, F16 or BF16 elements at a fixed address (the mapped file or a
/// decoded native buffer). The CPU backend computes from it directly, widening one row at a time.
/// </summary>
public readonly unsafe struct WeightMatrix
{
    public WeightMatrix(byte* data, TensorDType dtype, int rows, int cols)
    {
        if (dtype is not (TensorDType.F32 or TensorDType.F16 or TensorDType.BF16))
            throw new UnsupportedModelException($"cannot compute with {dtype} weights (supported: F32, F16, BF16)");
        Data = data;
        DType = dtype;
        Rows = rows;
        Cols = cols;
    }

    public byte* Data { get; }

    public TensorDType DType { get; }

    public int Rows { get; }

    public int Cols { get; }

    public long RowBytes => (long)Cols * DType.ByteSize();

    public long ByteLength => RowBytes * Rows;

    public byte* Row(int row) => Data + row * RowBytes;

    /// <summary>Row <paramref name="row"/> widened to float32 (the embedding lookup).</summary>
    public void ReadRow(int row, Span<float> destination)
    {
        if ((uint)row >= (uint)Rows) throw new ArgumentOutOfRangeException(nameof(row), $"row {row} outside [0, {Rows})");
        RowConversion.ToSingle(Row(row), DType, Cols, destination);
    }
}
