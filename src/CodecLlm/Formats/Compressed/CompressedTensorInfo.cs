using System.Text.Json.Serialization;
using CodecLlm.Model;

namespace CodecLlm.Formats.Compressed;

/// <summary>One tensor's entry in the compressed file's <c>codecllm.tensors</c> metadata (docs/FORMAT.md).</summary>
public sealed record CompressedTensorInfo
{
    [JsonPropertyName("name")]
    public required string Name { get; init; }

    /// <summary>Original dtype: "F32", "F16" or "BF16".</summary>
    [JsonPropertyName("dtype")]
    public required string DType { get; init; }

    [JsonPropertyName("shape")]
    public required long[] Shape { get; init; }

    [JsonPropertyName("codec")]
    public required string Codec { get; init; }

    [JsonPropertyName("params")]
    public required Dictionary<string, string> Params { get; init; }

    [JsonPropertyName("original_bytes")]
    public required long OriginalBytes { get; init; }

    [JsonPropertyName("compressed_bytes")]
    public required long CompressedBytes { get; init; }

    /// <summary>CRC-32 (IEEE, as System.IO.Hashing.Crc32) of the stored blob, 8 hex digits.</summary>
    [JsonPropertyName("crc32")]
    public required string Crc32 { get; init; }

    /// <summary>XxHash64 (seed 0) of the original little-endian element bytes, 16 hex digits.</summary>
    [JsonPropertyName("xxhash64")]
    public required string XxHash64 { get; init; }

    [JsonIgnore]
    public TensorDType TensorDType => TensorDTypeExtensions.ParseSafetensorsName(DType);

    [JsonIgnore]
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
}
