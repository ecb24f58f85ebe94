namespace CodecLlm.Model;

/// <summary>Element types of stored tensors. Weights are F32, F16 or BF16; U8 holds opaque byte blobs.</summary>
public enum TensorDType
{
    F32,
    F16,
    BF16,
    U8,
}

public static class TensorDTypeExtensions
{
    public static int ByteSize(this TensorDType dtype) => dtype switch
    {
        TensorDType.F32 => 4,
        TensorDType.F16 => 2,
        TensorDType.BF16 => 2,
        TensorDType.U8 => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    /// <summary>The safetensors / GGUF-style upper-case name ("F32", "F16", "BF16", "U8").</summary>
    public static string ToSafetensorsName(this TensorDType dtype) => dtype.ToString();

    public static TensorDType ParseSafetensorsName(string name) => name switch
    {
        "F32" => TensorDType.F32,
        "F16" => TensorDType.F16,
        "BF16" => TensorDType.BF16,
        "U8" => TensorDType.U8,
        _ => throw new UnsupportedModelException($"unsupported tensor dtype '{name}' (supported: F32, F16, BF16)"),
    };
}
