using CodecLlm.Model;

namespace CodecLlm.Formats.Gguf;

/// <summary>
/// A memory-mapped GGUF file (versions 2 and 3, little-endian): the header, every metadata key/value, the
/// tensor infos and the data section. Layout: magic "GGUF", uint32 version, uint64 tensor count, uint64
/// metadata count, the key/values, the tensor infos, padding to <c>general.alignment</c> (default 32), data.
/// Tensor data is not copied: tensors point into <see cref="File"/>.
/// </summary>
public sealed class GgufFile : IDisposable
{
    public const uint Magic = 0x46554747; // "GGUF" read as a little-endian uint32
    public const int DefaultAlignment = 32;

    private GgufFile(string path, MappedFile file, uint version, Dictionary<string, GgufValue> metadata,
        List<GgufTensorInfo> tensors, int alignment, long dataStart)
    {
        Path = path;
        File = file;
        Version = version;
        Metadata = metadata;
        Tensors = tensors;
        Alignment = alignment;
        DataStart = dataStart;
    }

    public string Path { get; }

    public MappedFile File { get; }

    public uint Version { get; }

    /// <summary>Every metadata key/value, in file order.</summary>
    public IReadOnlyDictionary<string, GgufValue> Metadata { get; }

    public IReadOnlyList<GgufTensorInfo> Tensors { get; }

    public int Alignment { get; }

    /// <summary>Absolute file offset of the data section (tensor offsets in the header are relative to it).</summary>
    public long DataStart { get; }

    /// <summary>True when the file starts with the GGUF magic.</summary>
    public static bool HasMagic(string path)
    {
        try
        {
            using FileStream fs = System.IO.File.OpenRead(path);
            Span<byte> head = stackalloc byte[4];
            return fs.Read(head) == 4 && head.SequenceEqual("GGUF"u8);
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    public static GgufFile Open(string path)
    {
        MappedFile file = new(path);
        try
        {
            return Parse(path, file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static GgufFile Parse(string path, MappedFile file)
    {
        GgufCursor c = new(path, file);
        if (file.Length < 4) throw new ModelFormatException($"{path}: truncated GGUF file ({file.Length} bytes)");
        uint magic = c.U32("magic");
        if (magic != Magic) throw new ModelFormatException($"{path}: not a GGUF file (magic 0x{magic:X8}, expected \"GGUF\")");
        uint version = c.U32("version");
        if (version is 2 or 3) { }
        else if (version == 1) throw new UnsupportedModelException($"{path}: GGUF version 1 is not supported (re-convert with a current llama.cpp)");
        else if ((version & 0xFFFF) == 0) throw new UnsupportedModelException($"{path}: big-endian GGUF files are not supported");
        else throw new UnsupportedModelException($"{path}: GGUF version {version} is not supported (supported: 2, 3)");

        // Each tensor info takes at least 8 (name) + 4 (n_dims) + 4 (type) + 8 (offset) bytes; each key/value 8 + 4.
        int tensorCount = c.Count("tensor count", 24);
        int kvCount = c.Count("metadata count", 12);

        Dictionary<string, GgufValue> metadata = new(StringComparer.Ordinal);
        for (int i = 0; i < kvCount; i++)
        {
            string key = c.String($"metadata key #{i}");
            GgufValueType type = (GgufValueType)c.U32($"type of '{key}'");
            metadata[key] = ReadValue(path, c, key, type, depth: 0);
        }

        int alignment = DefaultAlignment;
        if (metadata.TryGetValue("general.alignment", out GgufValue? al))
        {
            long a = GgufMetadata.ToInt64(path, "general.alignment", al);
            if (a <= 0 || a > 1 << 20 || (a & (a - 1)) != 0)
                throw new ModelFormatException($"{path}: general.alignment {a} is not a power of two");
            alignment = (int)a;
        }

        List<(string Name, long[] Dims, GgmlType Type, ulong Offset)> infos = [];
        for (int i = 0; i < tensorCount; i++)
        {
            string name = c.String($"name of tensor #{i}");
            if (name.Length == 0) throw new ModelFormatException($"{path}: tensor #{i} of {tensorCount} has an empty name (corrupt tensor table)");
            uint nDims = c.U32($"dimension count of '{name}'");
            if (nDims > 4) throw new ModelFormatException($"{path}: tensor '{name}' has {nDims} dimensions (GGUF allows at most 4)");
            long[] dims = new long[nDims];
            for (int d = 0; d < nDims; d++)
            {
                ulong v = c.U64($"dimension {d} of '{name}'");
                if (v > int.MaxValue) throw new ModelFormatException($"{path}: tensor '{name}' dimension {d} is {v}, too large");
                dims[d] = (long)v;
            }
            GgmlType type = (GgmlType)c.U32($"type of '{name}'");
            ulong offset = c.U64($"offset of '{name}'");
            infos.Add((name, dims, type, offset));
        }

        long dataStart = AlignUp(c.Position, alignment);
        if (tensorCount > 0 && dataStart > file.Length)
            throw new ModelFormatException($"{path}: truncated GGUF file: data section would start at {dataStart}, file has {file.Length} bytes");

        List<GgufTensorInfo> tensors = new(infos.Count);
        HashSet<string> seen = new(StringComparer.Ordinal);
        foreach ((string name, long[] dims, GgmlType type, ulong rel) in infos)
        {
            if (!seen.Add(name)) throw new ModelFormatException($"{path}: tensor '{name}' appears twice");
            if (rel % (ulong)alignment != 0)
                throw new ModelFormatException($"{path}: tensor '{name}' offset {rel} is not a multiple of the alignment {alignment}");
            if (rel > (ulong)(file.Length - dataStart))
                throw new ModelFormatException($"{path}: tensor '{name}' starts at data offset {rel}, beyond the end of the file ({file.Length - dataStart} data bytes)");
            long offset = dataStart + (long)rel;
            long? length = null;
            if (type.ToFloatDType() is TensorDType dt)
            {
                long elements = 1;
                foreach (long d in dims)
                {
                    if (d != 0 && elements > long.MaxValue / 8 / d)
                        throw new ModelFormatException($"{path}: tensor '{name}' dimensions [{string.Join(", ", dims)}] are too large");
                    elements *= d;
                }
                length = elements * dt.ByteSize();
                if (offset + length > file.Length)
                    throw new ModelFormatException($"{path}: tensor '{name}' data [{offset}, {offset + length}) lies beyond the end of the file ({file.Length} bytes)");
            }
            tensors.Add(new GgufTensorInfo(name, dims, type, offset, length));
        }
        return new GgufFile(path, file, version, metadata, tensors, alignment, dataStart);
    }

    private static GgufValue ReadValue(string path, GgufCursor c, string key, GgufValueType type, int depth) => type switch
    {
        GgufValueType.UInt8 => new GgufValue(type, c.U8(key)),
        GgufValueType.Int8 => new GgufValue(type, (sbyte)c.U8(key)),
        GgufValueType.UInt16 => new GgufValue(type, c.U16(key)),
        GgufValueType.Int16 => new GgufValue(type, (short)c.U16(key)),
        GgufValueType.UInt32 => new GgufValue(type, c.U32(key)),
        GgufValueType.Int32 => new GgufValue(type, (int)c.U32(key)),
        GgufValueType.Float32 => new GgufValue(type, c.F32(key)),
        GgufValueType.Bool => new GgufValue(type, c.U8(key) != 0),
        GgufValueType.String => new GgufValue(type, c.String(key)),
        GgufValueType.UInt64 => new GgufValue(type, c.U64(key)),
        GgufValueType.Int64 => new GgufValue(type, (long)c.U64(key)),
        GgufValueType.Float64 => new GgufValue(type, c.F64(key)),
        GgufValueType.Array => ReadArray(path, c, key, depth),
        _ => throw new ModelFormatException($"{path}: metadata '{key}' has unknown value type {(uint)type}"),
    };

    private static GgufValue ReadArray(string path, GgufCursor c, string key, int depth)
    {
        if (depth > 4) throw new ModelFormatException($"{path}: metadata '{key}' nests arrays too deeply");
        GgufValueType et = (GgufValueType)c.U32($"element type of '{key}'");
        int n = c.Count($"array '{key}'", ElementMinBytes(path, key, et));
        Array values = et switch
        {
            GgufValueType.UInt8 => Fill(n, () => c.U8(key)),
            GgufValueType.Int8 => Fill(n, () => (sbyte)c.U8(key)),
            GgufValueType.UInt16 => Fill(n, () => c.U16(key)),
            GgufValueType.Int16 => Fill(n, () => (short)c.U16(key)),
            GgufValueType.UInt32 => Fill(n, () => c.U32(key)),
            GgufValueType.Int32 => Fill(n, () => (int)c.U32(key)),
            GgufValueType.Float32 => Fill(n, () => c.F32(key)),
            GgufValueType.Bool => Fill(n, () => c.U8(key) != 0),
            GgufValueType.String => Fill(n, () => c.String(key)),
            GgufValueType.UInt64 => Fill(n, () => c.U64(key)),
            GgufValueType.Int64 => Fill(n, () => (long)c.U64(key)),
            GgufValueType.Float64 => Fill(n, () => c.F64(key)),
            GgufValueType.Array => Fill<object>(n, () => ReadArray(path, c, key, depth + 1)),
            _ => throw new ModelFormatException($"{path}: metadata '{key}' has unknown element type {(uint)et}"),
        };
        return new GgufValue(GgufValueType.Array, values, et);
    }

    private static long ElementMinBytes(string path, string key, GgufValueType et) => et switch
    {
        GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
        GgufValueType.UInt16 or GgufValueType.Int16 => 2,
        GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
        GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 or GgufValueType.String => 8,
        GgufValueType.Array => 12,
        _ => throw new ModelFormatException($"{path}: metadata '{key}' has unknown element type {(uint)et}"),
    };

    private static T[] Fill<T>(int n, Func<T> read)
    {
        T[] a = new T[n];
        for (int i = 0; i < n; i++) a[i] = read();
        return a;
    }

    private static long AlignUp(long x, int a) => (x + a - 1) / a * a;

    public void Dispose() => File.Dispose();
}
