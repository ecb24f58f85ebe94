using CodecLlm.Model;

namespace CodecLlm.Codecs;

/// <summary>The logical description of a tensor handed to a codec.</summary>
public readonly record struct TensorLayout(TensorDType DType, long[] Shape)
{
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (long d in Shape) n *= d;
            return n;
        }
    }

    public long ByteLength => ElementCount * DType.ByteSize();
}

/// <summary>The output of encoding one tensor: the blob and the parameters needed to decode it.</summary>
public sealed record EncodedTensor(byte[] Blob, IReadOnlyDictionary<string, string> Params);

/// <summary>
/// A lossless weight codec. Decode(Encode(x)) returns x bit for bit, for every F32, F16 and BF16 tensor,
/// including NaN payloads, infinities, -0 and subnormals. Each codec documents its blob layout in
/// docs/FORMAT.md.
/// </summary>
public interface IWeightCodec
{
    /// <summary>Name stored in the compressed file ("raw", "zstd", "entropy", "fixed").</summary>
    string Name { get; }

    /// <summary>True when a GPU decoder for this codec exists in Backends/Cuda.</summary>
    bool HasGpuDecoder { get; }

    EncodedTensor Encode(ReadOnlySpan<byte> data, TensorLayout layout);

    /// <summary>
    /// Decodes <paramref name="blob"/> into <paramref name="destination"/> (exactly layout.ByteLength bytes).
    /// Throws <see cref="CorruptTensorException"/> naming <paramref name="tensorName"/> when the blob is malformed.
    /// </summary>
    void Decode(ReadOnlySpan<byte> blob, TensorLayout layout, IReadOnlyDictionary<string, string> parameters, Span<byte> destination, string tensorName);
}
