using CodecLlm.Model;

namespace CodecLlm.Formats.Gguf;

/// <summary>
/// Typed access to GGUF metadata. Integers of any width convert to each other (writers differ: llama.cpp
/// stores counts as uint32, some tools as int32 or uint64); a value of the wrong kind is a
/// <see cref="ModelFormatException"/> naming the key.
/// </summary>
public static class GgufMetadata
{
    public static bool Has(this GgufFile f, string key) => f.Metadata.ContainsKey(key);

    public static string? GetString(this GgufFile f, string key) =>
        f.Metadata.TryGetValue(key, out GgufValue? v)
            ? v.Value as string ?? throw WrongType(f.Path, key, v, "a string")
            : null;

    public static long? GetInt(this GgufFile f, string key) =>
        f.Metadata.TryGetValue(key, out GgufValue? v) ? ToInt64(f.Path, key, v) : null;

    public static long RequireInt(this GgufFile f, string key) =>
        f.GetInt(key) ?? throw new ModelFormatException($"{f.Path}: GGUF metadata '{key}' is missing");

    public static float? GetFloat(this GgufFile f, string key) =>
        f.Metadata.TryGetValue(key, out GgufValue? v)
            ? v.Value switch
            {
                float x => x,
                double x => (float)x,
                _ => throw WrongType(f.Path, key, v, "a float"),
            }
            : null;

    public static bool? GetBool(this GgufFile f, string key) =>
        f.Metadata.TryGetValue(key, out GgufValue? v)
            ? v.Value as bool? ?? throw WrongType(f.Path, key, v, "a bool")
            : null;

    public static string[]? GetStringArray(this GgufFile f, string key) =>
        f.Metadata.TryGetValue(key, out GgufValue? v)
            ? v.Value as string[] ?? throw WrongType(f.Path, key, v, "an array of strings")
            : null;

    public static float[]? GetFloatArray(this GgufFile f, string key) =>
        f.Metadata.TryGetValue(key, out GgufValue? v)
            ? v.Value switch
            {
                float[] a => a,
                double[] a => a.Select(x => (float)x).ToArray(),
                _ => throw WrongType(f.Path, key, v, "an array of floats"),
            }
            : null;

    public static int[]? GetIntArray(this GgufFile f, string key)
    {
        if (!f.Metadata.TryGetValue(key, out GgufValue? v)) return null;
        if (v.Value is int[] ints) return ints;
        if (v.Value is not Array a || v.ElementType is GgufValueType.Float32 or GgufValueType.Float64 or GgufValueType.String
            or GgufValueType.Bool or GgufValueType.Array)
            throw WrongType(f.Path, key, v, "an array of integers");
        int[] result = new int[a.Length];
        for (int i = 0; i < a.Length; i++)
            result[i] = checked((int)Convert.ToInt64(a.GetValue(i), System.Globalization.CultureInfo.InvariantCulture));
        return result;
    }

    internal static long ToInt64(string path, string key, GgufValue v) => v.Value switch
    {
        byte x => x,
        sbyte x => x,
        ushort x => x,
        short x => x,
        uint x => x,
        int x => x,
        long x => x,
        ulong x when x <= long.MaxValue => (long)x,
        _ => throw WrongType(path, key, v, "an integer"),
    };

    private static ModelFormatException WrongType(string path, string key, GgufValue v, string expected) =>
        new($"{path}: GGUF metadata '{key}' is {v.Type}{(v.IsArray ? $" of {v.ElementType}" : "")}, expected {expected}");
}
