namespace CodecLlm.Formats.Gguf;

/// <summary>
/// One tensor of a GGUF file as its header describes it. <see cref="Dims"/> is in GGUF order (innermost,
/// fastest-varying dimension first); <see cref="Shape"/> is the row-major order the rest of the engine uses.
/// <see cref="Offset"/> is absolute in the file. <see cref="ByteLength"/> is null for quantised types,
/// whose block sizes this reader does not need.
/// </summary>
public sealed record GgufTensorInfo(string Name, long[] Dims, GgmlType Type, long Offset, long? ByteLength)
{
    public long[] Shape => Dims.Reverse().ToArray();

    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (long d in Dims) n *= d;
            return n;
        }
    }
}
