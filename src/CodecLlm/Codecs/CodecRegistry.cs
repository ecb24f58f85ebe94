using CodecLlm.Model;

namespace CodecLlm.Codecs;

/// <summary>Looks codecs up by the name stored in the compressed file.</summary>
public static class CodecRegistry
{
    private static readonly Dictionary<string, IWeightCodec> Codecs = new(StringComparer.Ordinal);

    static CodecRegistry()
    {
        Register(new RawCodec());
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
}
