using System.Text.Json;
using CodecLlm.Tokenization;

namespace CodecLlm.Chat;

/// <summary>
/// The text of the BOS and EOS tokens that chat templates insert as <c>bos_token</c> / <c>eos_token</c>:
/// from tokenizer_config.json when the tokenizer came with one (a string or an object with "content"),
/// otherwise the SentencePiece Llama convention "&lt;s&gt;" / "&lt;/s&gt;".
/// </summary>
internal static class SpecialTokenText
{
    public static (string Bos, string Eos) Resolve(ITokenizer tokenizer)
    {
        string bos = "<s>", eos = "</s>";
        if (tokenizer.Source.Files.TryGetValue("tokenizer_config.json", out byte[]? json))
        {
            try
            {
                using JsonDocument doc = JsonDocument.Parse(json);
                bos = Read(doc.RootElement, "bos_token") ?? bos;
                eos = Read(doc.RootElement, "eos_token") ?? eos;
            }
            catch (JsonException)
            {
                // a broken tokenizer_config.json was reported by the tokenizer loader already; keep the defaults
            }
        }

        return (bos, eos);
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
