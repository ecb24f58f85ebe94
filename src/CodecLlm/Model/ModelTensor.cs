using CodecLlm.Codecs;

namespace CodecLlm.Model;

/// <summary>
/// One named tensor of a model: its logical dtype and shape, and its stored bytes, which are either the raw
/// little-endian elements (<see cref="Codec"/> == "raw") or a codec's blob. The bytes live in a
/// <see cref="NativeBytes"/> owned by the <see cref="LoadedModel"/>.
/// </summary>
public sealed unsafe class ModelTensor
{
    public ModelTensor(string name, TensorDType dtype, long[] shape, NativeBytes storage, long offset, long storedLength,
        string codec = "raw", IReadOnlyDictionary<string, string>? codecParams = null, ulong? originalXxHash64 = null)
    {
        Name = name;
        DType = dtype;
        Shape = shape;
        Storage = storage;
        Offset = offset;
        StoredLength = storedLength;
        Codec = codec;
        CodecParams = codecParams ?? new Dictionary<string, string>();
        OriginalXxHash64 = originalXxHash64;
        if (offset < 0 || storedLength < 0 || offset + storedLength > storage.Length)
            throw new ModelFormatException($"tensor '{name}': data [{offset}, {offset + storedLength}) lies outside the file ({storage.Length} bytes)");
        if (codec == "raw" && storedLength != ByteLength)
            throw new ModelFormatException($"tensor '{name}': {storedLength} bytes stored but shape [{string.Join(", ", shape)}] of {dtype} needs {ByteLength}");
    }

    public string Name { get; }

    public TensorDType DType { get; }

    /// <summary>Row-major shape; matrices are [out_features, in_features].</summary>
    public long[] Shape { get; }

    public NativeBytes Storage { get; }

    public long Offset { get; }

    public long StoredLength { get; }

    /// <summary>"raw" for plain elements, otherwise the codec name ("zstd", "entropy", "fixed").</summary>
    public string Codec { get; }

    public IReadOnlyDictionary<string, string> CodecParams { get; }

    /// <summary>xxHash64 of the original (decoded) bytes, when the file records it.</summary>
    public ulong? OriginalXxHash64 { get; }

    public bool IsRaw => Codec == "raw";

    public TensorLayout Layout => new(DType, Shape);

    public long ElementCount => Layout.ElementCount;

    /// <summary>Size of the decoded tensor in bytes.</summary>
    public long ByteLength => ElementCount * DType.ByteSize();

    public int Rows => Shape.Length == 0 ? 1 : (int)Shape[0];

    public int Cols => Shape.Length <= 1 ? (int)(Shape.Length == 0 ? 1 : Shape[0]) : (int)(ElementCount / Shape[0]);

    public byte* StoredPointer => Storage.Pointer + Offset;

    /// <summary>The stored bytes (the raw elements when <see cref="IsRaw"/>).</summary>
    public ReadOnlySpan<byte> StoredBytes => Storage.Slice(Offset, StoredLength);

    /// <summary>Decodes (or copies, when raw) the tensor's elements into <paramref name="destination"/>.</summary>
    public void DecodeTo(Span<byte> destination)
    {
        if (destination.Length != ByteLength)
            throw new ArgumentException($"tensor '{Name}': destination has {destination.Length} bytes, need {ByteLength}");
        if (IsRaw)
        {
            StoredBytes.CopyTo(destination);
            return;
        }
        CodecRegistry.Get(Codec).Decode(StoredBytes, Layout, CodecParams, destination, Name);
    }

    public byte[] DecodeToArray()
    {
        byte[] result = new byte[ByteLength];
        DecodeTo(result);
        return result;
    }

    public override string ToString() => $"{Name} {DType}[{string.Join(",", Shape)}] {Codec}";
}
