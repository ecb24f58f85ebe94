using System.Text.Json;
using CodecLlm.Model;

namespace CodecLlm.Formats.HuggingFace;

/// <summary>
/// Reads the JSON files of a Hugging Face directory. A JSON null counts as absent (transformers writes
/// "head_dim": null and the like); a value of the wrong kind is a <see cref="ModelFormatException"/> naming
/// the file and key.
/// </summary>
internal sealed class HfJson : IDisposable
{
    private readonly JsonDocument _doc;

    private HfJson(string path, JsonDocument doc)
    {
        Path = path;
        _doc = doc;
    }

    public string Path { get; }

    public JsonElement Root => _doc.RootElement;

    public static HfJson Open(string path)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"{path}: invalid JSON: {e.Message}", e);
        }
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
        {
            doc.Dispose();
            throw new ModelFormatException($"{path}: expected a JSON object");
        }
        return new HfJson(path, doc);
    }

    /// <summary>Opens the file when it exists, else null.</summary>
    public static HfJson? TryOpen(string path) => File.Exists(path) ? Open(path) : null;

    public JsonElement? Get(string key) =>
        Root.TryGetProperty(key, out JsonElement v) && v.ValueKind != JsonValueKind.Null ? v : null;

    public int RequireInt(string key) => OptInt(key) ?? throw new ModelFormatException($"{Path}: \"{key}\" is missing");

    public int? OptInt(string key) => Get(key) is JsonElement v ? AsInt(key, v) : null;

    public double? OptDouble(string key) =>
        Get(key) is JsonElement v ? v.ValueKind == JsonValueKind.Number ? v.GetDouble() : throw Wrong(key, v, "a number") : null;

    public bool? OptBool(string key) =>
        Get(key) is JsonElement v ? v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Wrong(key, v, "true or false"),
        } : null;

    public string? OptString(string key) =>
        Get(key) is JsonElement v ? v.ValueKind == JsonValueKind.String ? v.GetString() : throw Wrong(key, v, "a string") : null;

    /// <summary>An int or a list of ints (eos_token_id), as a list; empty when absent.</summary>
    public IReadOnlyList<int> IntOrList(string key)
    {
        if (Get(key) is not JsonElement v) return [];
        if (v.ValueKind == JsonValueKind.Array) return v.EnumerateArray().Select(e => AsInt(key, e)).ToArray();
        return [AsInt(key, v)];
    }

    public int AsInt(string key, JsonElement v) =>
        v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) ? i : throw Wrong(key, v, "an integer");

    public ModelFormatException Wrong(string key, JsonElement v, string expected) =>
        new($"{Path}: \"{key}\" is {v.GetRawText()}, expected {expected}");

    public void Dispose() => _doc.Dispose();
}
