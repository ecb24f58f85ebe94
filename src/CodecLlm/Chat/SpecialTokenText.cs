using System.Text.Json;
using System.Text.Json.Serialization;
using CodecLlm.Tokenization;

namespace CodecLlm.Chat;

/// <summary>
/// The text of the BOS and EOS tokens that chat templates insert as <c>bos_token</c> / <c>eos_token</c>:
/// tokenizer_config.json's bos_token / eos_token (a string, or an object with "content") when the tokenizer
/// came with one; else the token strings of a GGUF vocabulary; else the SentencePiece Llama convention
/// "&lt;s&gt;" / "&lt;/s&gt;" (Llama 2, TinyLlama, Mistral, llama2.c models).
/// </summary>
internal static class SpecialTokenText
{
    private static readonly JsonSerializerOptions GgufJson = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public static (string Bos, string Eos) Resolve(ITokenizer tokenizer)
    {
        IReadOnlyDictionary<string, byte[]> files = tokenizer.Source.Files;
        try
        {
            if (files.TryGetValue("tokenizer_config.json", out byte[]? config))
            {
                using JsonDocument doc = JsonDocument.Parse(config);
                return (Read(doc.RootElement, "bos_token") ?? "<s>", Read(doc.RootElement, "eos_token") ?? "</s>");
            }

            if (files.TryGetValue(GgufTokenizer.FileName, out byte[]? gguf) && JsonSerializer.Deserialize<GgufVocabulary>(gguf, GgufJson) is { } v)
            {
                string? bos = v.BosTokenId >= 0 && v.BosTokenId < v.Tokens.Count ? v.Tokens[v.BosTokenId] : null;
                string? eos = v.EosTokenIds.Count > 0 && v.EosTokenIds[0] >= 0 && v.EosTokenIds[0] < v.Tokens.Count ? v.Tokens[v.EosTokenIds[0]] : null;
                return (bos ?? "<s>", eos ?? "</s>");
            }
        }
        catch (JsonException)
        {
            // unreadable metadata was reported when the tokenizer loaded; fall back to the convention
        }

        return ("<s>", "</s>");
    }

    private static string? Read(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out JsonElement e)) return null;
        return e.ValueKind switch
        {
            JsonValueKind.String => e.GetString(),
            JsonValueKind.Object when e.TryGetProperty("content", out JsonElement c) && c.ValueKind == JsonValueKind.String => c.GetString(),
            _ => null,
        };
    }
}
