using System.Globalization;
using CodecLlm.Model;

namespace CodecLlm.Codecs;

/// <summary>Looks codecs up by the name stored in the compressed file.</summary>
public static class CodecRegistry
{
    private static readonly Dictionary<string, IWeightCodec> Codecs = new(StringComparer.Ordinal);

    static CodecRegistry()
    {
        Register(new RawCodec());
        Register(new ZstdCodec());
        Register(new EntropyCodec());
        Register(new FixedCodec());
    }

    public static void Register(IWeightCodec codec)
    {
        lock (Codecs) Codecs[codec.Name] = codec;
    }

    public static IReadOnlyCollection<string> Names
    {
        get { lock (Codecs) return Codecs.Keys.ToArray(); }
    }

    public static IWeightCodec Get(string name)
    {
        lock (Codecs)
        {
            if (Codecs.TryGetValue(name, out IWeightCodec? codec)) return codec;
        }
        throw new UnsupportedModelException($"unknown codec '{name}' (known: {string.Join(", ", Names)})");
    }

    /// <summary>
    /// An encoder configured from a spec "name" or "name:key=value,key=value", e.g. "zstd:grouping=none,level=9",
    /// "entropy:lane_symbols=512". Decoding needs no spec: each blob carries its parameters.
    /// </summary>
    public static IWeightCodec CreateEncoder(string spec)
    {
        int colon = spec.IndexOf(':');
        string name = colon < 0 ? spec : spec[..colon];
        Dictionary<string, string> p = new(StringComparer.Ordinal);
        if (colon >= 0)
        {
            foreach (string kv in spec[(colon + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                int eq = kv.IndexOf('=');
                if (eq <= 0) throw new UnsupportedModelException($"codec parameter '{kv}' in '{spec}' is not key=value");
                p[kv[..eq].Trim()] = kv[(eq + 1)..].Trim();
            }
        }
        IWeightCodec codec = name switch
        {
            "zstd" => new ZstdCodec(Take(p, "grouping") ?? "bytes", Int(p, "level", 3, spec)),
            "entropy" => new EntropyCodec(Int(p, "lane_symbols", EntropyCodec.DefaultLaneSymbols, spec),
                Int(p, "max_code_length", EntropyCodec.DefaultMaxCodeLength, spec)),
            _ => Get(name),
        };
        if (p.Count > 0) throw new UnsupportedModelException($"codec '{name}' has no parameter '{p.Keys.First()}'");
        return codec;
    }

    /// <summary>
    /// A comma-separated list of codec specs, where a spec's own extra parameters are comma-separated too:
    /// "fixed,entropy:lane_symbols=512,max_code_length=10,zstd" is fixed, entropy:lane_symbols=512,max_code_length=10 and
    /// zstd (an item with '=' but no ':' continues the spec before it).
    /// </summary>
    public static string[] SplitSpecs(string list)
    {
        var specs = new List<string>();
        foreach (string item in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (item.Contains('=') && !item.Contains(':'))
            {
                if (specs.Count == 0 || !specs[^1].Contains(':'))
                    throw new UnsupportedModelException($"codec parameter '{item}' in '{list}' follows no codec spec (name:key=value)");
                specs[^1] += "," + item;
            }
            else
            {
                specs.Add(item);
            }
        }
        return [.. specs];
    }

    private static string? Take(Dictionary<string, string> p, string key) => p.Remove(key, out string? v) ? v : null;

    private static int Int(Dictionary<string, string> p, string key, int fallback, string spec)
    {
        string? v = Take(p, key);
        if (v == null) return fallback;
        return int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int x)
            ? x
            : throw new UnsupportedModelException($"codec parameter {key}='{v}' in '{spec}' is not an integer");
    }
}
