using CodecLlm.Model;

namespace CodecLlm.Codecs;

/// <summary>Stores the elements as they are: the baseline every other codec is measured against.</summary>
public sealed class RawCodec : IWeightCodec
{
    public string Name => "raw";

    public bool HasGpuDecoder => true;

    public EncodedTensor Encode(ReadOnlySpan<byte> data, TensorLayout layout)
    {
        if (data.Length != layout.ByteLength)
            throw new ArgumentException($"{data.Length} bytes given for a tensor of {layout.ByteLength}");
        return new EncodedTensor(data.ToArray(), new Dictionary<string, string>());
    }

    public void Decode(ReadOnlySpan<byte> blob, TensorLayout layout, IReadOnlyDictionary<string, string> parameters, Span<byte> destination, string tensorName)
    {
        if (blob.Length != layout.ByteLength || destination.Length != layout.ByteLength)
            throw new CorruptTensorException(tensorName, $"raw blob has {blob.Length} bytes, expected {layout.ByteLength}");
        blob.CopyTo(destination);
    }
}
