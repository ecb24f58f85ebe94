namespace CodecLlm.Formats.Gguf;

/// <summary>
/// One GGUF metadata value. <see cref="Value"/> holds the CLR value of a scalar (byte, sbyte, ushort, short,
/// uint, int, float, bool, string, ulong, long, double) or, for an array, a typed CLR array of its elements
/// (string[], float[], int[] ...; arrays of arrays are object[] of <see cref="GgufValue"/>).
/// </summary>
public sealed record GgufValue(GgufValueType Type, object Value, GgufValueType? ElementType = null)
{
    public bool IsArray => Type == GgufValueType.Array;

    /// <summary>Number of elements when an array, else 1.</summary>
    public int Count => Value is Array a ? a.Length : 1;

    public override string ToString() => IsArray ? $"[{ElementType} x {Count}]" : Value.ToString() ?? "";
}
