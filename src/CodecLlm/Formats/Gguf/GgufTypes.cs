namespace CodecLlm.Formats.Gguf;

/// <summary>The type tag of a GGUF metadata value (gguf.h, <c>enum gguf_type</c>).</summary>
public enum GgufValueType : uint
{
    UInt8 = 0,
    Int8 = 1,
    UInt16 = 2,
    Int16 = 3,
    UInt32 = 4,
    Int32 = 5,
    Float32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    UInt64 = 10,
    Int64 = 11,
    Float64 = 12,
}

/// <summary>The element type of a GGUF tensor (ggml.h, <c>enum ggml_type</c>). Gaps are retired types.</summary>
public enum GgmlType : uint
{
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    IQ2_XXS = 16,
    IQ2_XS = 17,
    IQ3_XXS = 18,
    IQ1_S = 19,
    IQ4_NL = 20,
    IQ3_S = 21,
    IQ2_S = 22,
    IQ4_XS = 23,
    I8 = 24,
    I16 = 25,
    I32 = 26,
    I64 = 27,
    F64 = 28,
    IQ1_M = 29,
    BF16 = 30,
    TQ1_0 = 34,
    TQ2_0 = 35,
    MXFP4 = 39,
}

public static class GgmlTypeExtensions
{
    /// <summary>The name llama.cpp prints ("Q4_K"), or "type N" for a number this reader does not know.</summary>
    public static string DisplayName(this GgmlType type) =>
        Enum.IsDefined(type) ? type.ToString() : $"type {(uint)type}";

    /// <summary>The float element type this engine can use, or null for quantised and integer types.</summary>
    public static Model.TensorDType? ToFloatDType(this GgmlType type) => type switch
    {
        GgmlType.F32 => Model.TensorDType.F32,
        GgmlType.F16 => Model.TensorDType.F16,
        GgmlType.BF16 => Model.TensorDType.BF16,
        _ => null,
    };
}
