using System.Text.Json;

namespace CodecLlm.Formats.HuggingFace;

/// <summary>
/// The chat template of a Hugging Face directory: tokenizer_config.json's "chat_template" (a string, or a
/// list of {name, template} of which the "default" one is used), else a chat_template.jinja file.
/// </summary>
public static class HfChatTemplate
{
    public static string? Read(string directory)
    {
        using HfJson? cfg = HfJson.TryOpen(Path.Combine(directory, "tokenizer_config.json"));
        if (cfg?.Get("chat_template") is JsonElement t)
        {
            if (t.ValueKind == JsonValueKind.String) return t.GetString();
            if (t.ValueKind == JsonValueKind.Array)
            {
                string? first = null;
                foreach (JsonElement e in t.EnumerateArray())
                {
                    if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty("template", out JsonElement tpl) || tpl.ValueKind != JsonValueKind.String)
                        throw cfg.Wrong("chat_template", t, "a list of {name, template}");
                    first ??= tpl.GetString();
                    if (e.TryGetProperty("name", out JsonElement n) && n.ValueKind == JsonValueKind.String && n.GetString() == "default")
                        return tpl.GetString();
                }
                return first;
            }
            throw cfg.Wrong("chat_template", t, "a string or a list of {name, template}");
        }
        string jinja = Path.Combine(directory, "chat_template.jinja");
        return File.Exists(jinja) ? File.ReadAllText(jinja) : null;
    }
}
