using System.Buffers.Binary;
using System.Text;
using CodecLlm.Tokenization;

namespace CodecLlm.Tests.Tokenization;

/// <summary>
/// A minimal GGUF metadata reader for the tokenizer tests only (the real one belongs to the formats work):
/// reads the key/value section and picks out tokenizer.ggml.*.
/// </summary>
internal static class TestGgufVocabularyReader
{
    public static GgufVocabulary Read(string path)
    {
        byte[] d = File.ReadAllBytes(path);
        Assert.Equal("GGUF"u8.ToArray(), d[..4]);
        int o = 8;
        o += 8; // tensor count
        long kvCount = BinaryPrimitives.ReadInt64LittleEndian(d.AsSpan(o));
        o += 8;
        var kv = new Dictionary<string, object>();
        for (long i = 0; i < kvCount; i++)
        {
            string key = ReadString(d, ref o);
            uint type = ReadU32(d, ref o);
            kv[key] = ReadValue(d, ref o, type);
        }

        List<object> tokens = (List<object>)kv["tokenizer.ggml.tokens"];
        return new GgufVocabulary(
            (string)kv["tokenizer.ggml.model"],
            tokens.Cast<string>().ToList(),
            kv.TryGetValue("tokenizer.ggml.scores", out object? s) ? ((List<object>)s).Cast<float>().ToList() : null,
            kv.TryGetValue("tokenizer.ggml.token_type", out object? t) ? ((List<object>)t).Select(Convert.ToInt32).ToList() : null,
            kv.TryGetValue("tokenizer.ggml.merges", out object? m) ? ((List<object>)m).Cast<string>().ToList() : null,
            Convert.ToInt32(kv["tokenizer.ggml.bos_token_id"]),
            [Convert.ToInt32(kv["tokenizer.ggml.eos_token_id"])],
            !kv.TryGetValue("tokenizer.ggml.add_bos_token", out object? b) || (bool)b,
            kv.TryGetValue("tokenizer.ggml.pre", out object? p) ? (string)p : null);
    }

    private static object ReadValue(byte[] d, ref int o, uint type)
    {
        switch (type)
        {
            case 0: return d[o++];
            case 1: return (sbyte)d[o++];
            case 2: o += 2; return BinaryPrimitives.ReadUInt16LittleEndian(d.AsSpan(o - 2));
            case 3: o += 2; return BinaryPrimitives.ReadInt16LittleEndian(d.AsSpan(o - 2));
            case 4: return ReadU32(d, ref o);
            case 5: o += 4; return BinaryPrimitives.ReadInt32LittleEndian(d.AsSpan(o - 4));
            case 6: o += 4; return BinaryPrimitives.ReadSingleLittleEndian(d.AsSpan(o - 4));
            case 7: return d[o++] != 0;
            case 8: return ReadString(d, ref o);
            case 9:
                uint elementType = ReadU32(d, ref o);
                long count = BinaryPrimitives.ReadInt64LittleEndian(d.AsSpan(o));
                o += 8;
                var list = new List<object>((int)count);
                for (long i = 0; i < count; i++) list.Add(ReadValue(d, ref o, elementType));
                return list;
            case 10: o += 8; return BinaryPrimitives.ReadUInt64LittleEndian(d.AsSpan(o - 8));
            case 11: o += 8; return BinaryPrimitives.ReadInt64LittleEndian(d.AsSpan(o - 8));
            case 12: o += 8; return BinaryPrimitives.ReadDoubleLittleEndian(d.AsSpan(o - 8));
            default: throw new InvalidDataException($"GGUF value type {type}");
        }
    }

    private static uint ReadU32(byte[] d, ref int o)
    {
        o += 4;
        return BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan(o - 4));
    }

    private static string ReadString(byte[] d, ref int o)
    {
        int n = (int)BinaryPrimitives.ReadInt64LittleEndian(d.AsSpan(o));
        o += 8;
        string s = Encoding.UTF8.GetString(d, o, n);
        o += n;
        return s;
    }
}
