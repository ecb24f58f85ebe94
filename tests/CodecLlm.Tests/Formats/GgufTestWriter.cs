using System.Text;

namespace CodecLlm.Tests.Formats;

/// <summary>
/// Writes small GGUF v3 files for tests, following the published layout (ggml docs/gguf.md): magic, version,
/// tensor count, metadata count, key/values, tensor infos, padding to the alignment, data.
/// Values are written by their CLR type: byte u8, sbyte i8, ushort u16, short i16, uint u32, int i32,
/// float f32, bool, string, ulong u64, long i64, double f64, and arrays of those.
/// </summary>
internal sealed class GgufTestWriter
{
    private readonly List<(string Key, object Value)> _kv = [];
    private readonly List<(string Name, long[] Dims, uint Type, byte[] Data, ulong? OffsetOverride)> _tensors = [];

    public uint Version { get; init; } = 3;

    public int Alignment { get; init; } = 32;

    /// <summary>When set, the tensor count written in the header (to make a lying header).</summary>
    public ulong? TensorCountOverride { get; init; }

    public GgufTestWriter Meta(string key, object value)
    {
        _kv.Add((key, value));
        return this;
    }

    /// <summary>Adds a tensor; <paramref name="dims"/> in GGUF order (innermost first); type is the ggml_type number.</summary>
    public GgufTestWriter Tensor(string name, long[] dims, uint type, byte[] data, ulong? offsetOverride = null)
    {
        _tensors.Add((name, dims, type, data, offsetOverride));
        return this;
    }

    public GgufTestWriter Without(string tensorName)
    {
        _tensors.RemoveAll(t => t.Name == tensorName);
        return this;
    }

    public GgufTestWriter F32Tensor(string name, long[] dims, float[] values)
    {
        byte[] bytes = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        return Tensor(name, dims, 0, bytes);
    }

    public byte[] ToArray()
    {
        using MemoryStream ms = new();
        using BinaryWriter w = new(ms, Encoding.UTF8, leaveOpen: true);
        w.Write("GGUF"u8);
        w.Write(Version);
        w.Write(TensorCountOverride ?? (ulong)_tensors.Count);
        w.Write((ulong)_kv.Count);
        foreach ((string key, object value) in _kv)
        {
            WriteString(w, key);
            WriteTyped(w, value);
        }
        ulong offset = 0;
        List<ulong> offsets = [];
        foreach ((string name, long[] dims, uint type, byte[] data, ulong? over) in _tensors)
        {
            WriteString(w, name);
            w.Write((uint)dims.Length);
            foreach (long d in dims) w.Write((ulong)d);
            w.Write(type);
            w.Write(over ?? offset);
            offsets.Add(offset);
            offset = AlignUp(offset + (ulong)data.Length, Alignment);
        }
        w.Flush();
        while (ms.Length % Alignment != 0) ms.WriteByte(0);
        long dataStart = ms.Length;
        for (int i = 0; i < _tensors.Count; i++)
        {
            while ((ulong)(ms.Length - dataStart) < offsets[i]) ms.WriteByte(0);
            ms.Write(_tensors[i].Data);
        }
        return ms.ToArray();
    }

    public string WriteTo(string path)
    {
        File.WriteAllBytes(path, ToArray());
        return path;
    }

    private static ulong AlignUp(ulong x, int a) => (x + (ulong)a - 1) / (ulong)a * (ulong)a;

    private static void WriteString(BinaryWriter w, string s)
    {
        byte[] b = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)b.Length);
        w.Write(b);
    }

    private static uint TypeOf(Type t) => t switch
    {
        _ when t == typeof(byte) => 0,
        _ when t == typeof(sbyte) => 1,
        _ when t == typeof(ushort) => 2,
        _ when t == typeof(short) => 3,
        _ when t == typeof(uint) => 4,
        _ when t == typeof(int) => 5,
        _ when t == typeof(float) => 6,
        _ when t == typeof(bool) => 7,
        _ when t == typeof(string) => 8,
        _ when t.IsArray => 9,
        _ when t == typeof(ulong) => 10,
        _ when t == typeof(long) => 11,
        _ when t == typeof(double) => 12,
        _ => throw new ArgumentException($"no GGUF type for {t}"),
    };

    private static void WriteTyped(BinaryWriter w, object v)
    {
        w.Write(TypeOf(v.GetType()));
        WriteBare(w, v);
    }

    private static void WriteBare(BinaryWriter w, object v)
    {
        switch (v)
        {
            case byte x: w.Write(x); break;
            case sbyte x: w.Write(x); break;
            case ushort x: w.Write(x); break;
            case short x: w.Write(x); break;
            case uint x: w.Write(x); break;
            case int x: w.Write(x); break;
            case float x: w.Write(x); break;
            case bool x: w.Write((byte)(x ? 1 : 0)); break;
            case string x: WriteString(w, x); break;
            case ulong x: w.Write(x); break;
            case long x: w.Write(x); break;
            case double x: w.Write(x); break;
            case Array a:
                Type et = a.GetType().GetElementType()!;
                w.Write(TypeOf(et));
                w.Write((ulong)a.Length);
                foreach (object? e in a) WriteBare(w, e!); // a nested array is (element type, count, elements) again
                break;
            default: throw new ArgumentException($"no GGUF type for {v.GetType()}");
        }
    }
}
