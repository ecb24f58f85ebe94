using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using CodecLlm.Model;

namespace CodecLlm.Formats.Safetensors;

/// <summary>One entry of a safetensors header.</summary>
public sealed record SafetensorsEntry(string Name, string DType, long[] Shape, long Begin, long End)
{
    public long Length => End - Begin;
}

/// <summary>
/// A memory-mapped safetensors file: 8-byte little-endian header length, a JSON header
/// (name → {dtype, shape, data_offsets}, plus an optional "__metadata__" string map), then the data.
/// Tensor offsets are relative to the start of the data section.
/// </summary>
public sealed class SafetensorsFile : IDisposable
{
    private const long MaxHeaderBytes = 100L * 1024 * 1024;

    private SafetensorsFile(string path, MappedFile file, long dataStart, IReadOnlyList<SafetensorsEntry> entries, IReadOnlyDictionary<string, string> metadata)
    {
        Path = path;
        File = file;
        DataStart = dataStart;
        Entries = entries;
        Metadata = metadata;
    }

    public string Path { get; }

    public MappedFile File { get; }

    /// <summary>Absolute file offset of the data section.</summary>
    public long DataStart { get; }

    public IReadOnlyList<SafetensorsEntry> Entries { get; }

    public IReadOnlyDictionary<string, string> Metadata { get; }

    public static SafetensorsFile Open(string path)
    {
        MappedFile file = new(path);
        try
        {
            (long dataStart, List<SafetensorsEntry> entries, Dictionary<string, string> metadata) = ParseHeader(path, file);
            return new SafetensorsFile(path, file, dataStart, entries, metadata);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// True when the file starts like a safetensors file (plausible header length, then '{'), even when it is cut short
    /// (<see cref="Open"/> then says so).
    /// </summary>
    public static bool LooksLikeSafetensors(string path)
    {
        try
        {
            using FileStream fs = System.IO.File.OpenRead(path);
            Span<byte> head = stackalloc byte[9];
            if (fs.Read(head) < 9) return false;
            long n = BinaryPrimitives.ReadInt64LittleEndian(head);
            return n > 1 && n < MaxHeaderBytes && head[8] == (byte)'{';
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static (long, List<SafetensorsEntry>, Dictionary<string, string>) ParseHeader(string path, MappedFile file)
    {
        if (file.Length < 8) throw new ModelFormatException($"{path}: truncated safetensors file ({file.Length} bytes, no header)");
        long headerLen = BinaryPrimitives.ReadInt64LittleEndian(file.Slice(0, 8));
        if (headerLen <= 0 || headerLen > MaxHeaderBytes)
            throw new ModelFormatException($"{path}: not a safetensors file (header length {headerLen})");
        if (8 + headerLen > file.Length)
            throw new ModelFormatException($"{path}: truncated safetensors file (header claims {headerLen} bytes, file has {file.Length})");
        long dataStart = 8 + headerLen;
        long dataLength = file.Length - dataStart;
        List<SafetensorsEntry> entries = [];
        Dictionary<string, string> metadata = new(StringComparer.Ordinal);
        try
        {
            using JsonDocument doc = JsonDocument.Parse(file.Slice(8, headerLen).ToArray());
            foreach (JsonProperty p in doc.RootElement.EnumerateObject())
            {
                if (p.Name == "__metadata__")
                {
                    foreach (JsonProperty m in p.Value.EnumerateObject())
                        metadata[m.Name] = m.Value.GetString() ?? "";
                    continue;
                }
                string dtype = p.Value.GetProperty("dtype").GetString() ?? "";
                long[] shape = p.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                JsonElement offs = p.Value.GetProperty("data_offsets");
                long begin = offs[0].GetInt64(), end = offs[1].GetInt64();
                if (begin < 0 || end < begin || end > dataLength)
                    throw new ModelFormatException($"{path}: tensor '{p.Name}' data [{begin}, {end}) lies beyond the end of the file (data section has {dataLength} bytes)");
                entries.Add(new SafetensorsEntry(p.Name, dtype, shape, begin, end));
            }
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"{path}: corrupt safetensors header: {e.Message}", e);
        }
        catch (KeyNotFoundException e)
        {
            throw new ModelFormatException($"{path}: corrupt safetensors header: {e.Message}", e);
        }
        catch (InvalidOperationException e)
        {
            throw new ModelFormatException($"{path}: corrupt safetensors header: {e.Message}", e);
        }
        return (dataStart, entries, metadata);
    }

    /// <summary>A <see cref="ModelTensor"/> over an entry's raw bytes (dtype must be F32, F16 or BF16).</summary>
    public ModelTensor GetRawTensor(SafetensorsEntry e, string? canonicalName = null)
    {
        TensorDType dt = TensorDTypeExtensions.ParseSafetensorsName(e.DType);
        return new ModelTensor(canonicalName ?? e.Name, dt, e.Shape, File, DataStart + e.Begin, e.Length);
    }

    public void Dispose() => File.Dispose();
}

/// <summary>
/// Writes a safetensors file. Tensors are written in the order added; each data offset is aligned to
/// <see cref="Alignment"/> bytes from the start of the file (the header is padded with spaces, as the
/// format allows). Writes to a temporary file and renames it into place on <see cref="Commit"/>.
/// </summary>
public sealed class SafetensorsWriter
{
    private readonly List<(string Name, string DType, long[] Shape, Func<Stream, long> Write, long Length)> _tensors = [];
    private readonly Dictionary<string, string> _metadata = new(StringComparer.Ordinal);

    public int Alignment { get; init; } = 64;

    public void AddMetadata(string key, string value) => _metadata[key] = value;

    public void Add(string name, string dtype, long[] shape, ReadOnlyMemory<byte> data) =>
        _tensors.Add((name, dtype, shape, s => { s.Write(data.Span); return data.Length; }, data.Length));

    /// <summary>Adds a tensor whose bytes are produced while writing (to avoid holding every blob in memory).</summary>
    public void Add(string name, string dtype, long[] shape, long length, Action<Stream> write) =>
        _tensors.Add((name, dtype, shape, s => { write(s); return length; }, length));

    public void Add(string name, TensorDType dtype, long[] shape, ReadOnlyMemory<byte> data) => Add(name, dtype.ToSafetensorsName(), shape, data);

    /// <summary>Writes everything to <paramref name="path"/> atomically (temp file, then rename).</summary>
    public void WriteTo(string path)
    {
        string tmp = path + ".tmp-" + Environment.ProcessId;
        try
        {
            using (FileStream fs = new(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            {
                Write(fs);
            }
            System.IO.File.Move(tmp, path, overwrite: true);
        }
        catch
        {
            try { System.IO.File.Delete(tmp); } catch (IOException) { }
            throw;
        }
    }

    public void Write(Stream output)
    {
        // Offsets relative to the data section; pad each tensor start to Alignment relative to the data start,
        // and pad the header so the data section itself starts aligned.
        long[] begins = new long[_tensors.Count];
        long pos = 0;
        for (int i = 0; i < _tensors.Count; i++)
        {
            pos = AlignUp(pos, Alignment);
            begins[i] = pos;
            pos += _tensors[i].Length;
        }
        byte[] header = BuildHeader(begins);
        int padded = (int)(AlignUp(8 + header.Length, Alignment) - 8);
        Span<byte> len = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(len, padded);
        output.Write(len);
        output.Write(header);
        for (int i = header.Length; i < padded; i++) output.WriteByte((byte)' ');
        long written = 0;
        for (int i = 0; i < _tensors.Count; i++)
        {
            while (written < begins[i]) { output.WriteByte(0); written++; }
            long n = _tensors[i].Write(output);
            if (n != _tensors[i].Length) throw new InvalidOperationException($"tensor '{_tensors[i].Name}' wrote {n} bytes, declared {_tensors[i].Length}");
            written += n;
        }
    }

    private byte[] BuildHeader(long[] begins)
    {
        using MemoryStream ms = new();
        using (Utf8JsonWriter w = new(ms))
        {
            w.WriteStartObject();
            if (_metadata.Count > 0)
            {
                w.WriteStartObject("__metadata__");
                foreach ((string k, string v) in _metadata) w.WriteString(k, v);
                w.WriteEndObject();
            }
            for (int i = 0; i < _tensors.Count; i++)
            {
                (string name, string dtype, long[] shape, _, long length) = _tensors[i];
                w.WriteStartObject(name);
                w.WriteString("dtype", dtype);
                w.WriteStartArray("shape");
                foreach (long d in shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(begins[i]);
                w.WriteNumberValue(begins[i] + length);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        return ms.ToArray();
    }

    private static long AlignUp(long x, int a) => (x + a - 1) / a * a;
}
