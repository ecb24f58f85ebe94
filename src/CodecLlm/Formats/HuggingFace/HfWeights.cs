using System.Text.Json;
using CodecLlm.Formats.Safetensors;
using CodecLlm.Model;

namespace CodecLlm.Formats.HuggingFace;

/// <summary>
/// The safetensors weights of a Hugging Face directory: model.safetensors, or the shards that
/// model.safetensors.index.json's weight_map names (each shard mapped once). Picks the tensors the config
/// calls for (extra entries such as rotary_emb.inv_freq are ignored) and checks their shapes.
/// </summary>
public static class HfWeights
{
    public const string SingleFile = "model.safetensors";
    public const string IndexFile = "model.safetensors.index.json";

    /// <summary>True when the directory holds model.safetensors or its sharded index.</summary>
    public static bool Present(string directory) =>
        File.Exists(Path.Combine(directory, SingleFile)) || File.Exists(Path.Combine(directory, IndexFile));

    /// <summary>
    /// Maps the weights and returns the canonical tensors plus the opened files (the caller owns and disposes them).
    /// </summary>
    public static (Dictionary<string, ModelTensor> Tensors, List<SafetensorsFile> Files) Open(string directory, ModelConfig config)
    {
        List<SafetensorsFile> files = [];
        try
        {
            Dictionary<string, (SafetensorsFile File, SafetensorsEntry Entry)> byName = Index(directory, files);
            Dictionary<string, ModelTensor> tensors = new(StringComparer.Ordinal);
            foreach ((string name, _) in LlamaTensorLayout.Expected(config))
                if (byName.TryGetValue(name, out var hit))
                    tensors[name] = hit.File.GetRawTensor(hit.Entry);
            LlamaTensorLayout.Validate(directory, config, tensors);
            return (tensors, files);
        }
        catch
        {
            foreach (SafetensorsFile f in files) f.Dispose();
            throw;
        }
    }

    private static Dictionary<string, (SafetensorsFile, SafetensorsEntry)> Index(string directory, List<SafetensorsFile> files)
    {
        Dictionary<string, (SafetensorsFile, SafetensorsEntry)> byName = new(StringComparer.Ordinal);
        string single = Path.Combine(directory, SingleFile);
        string index = Path.Combine(directory, IndexFile);
        if (!File.Exists(index))
        {
            if (!File.Exists(single)) throw new ModelFormatException($"{directory}: neither {SingleFile} nor {IndexFile} found");
            SafetensorsFile f = SafetensorsFile.Open(single);
            files.Add(f);
            foreach (SafetensorsEntry e in f.Entries) byName[e.Name] = (f, e);
            return byName;
        }

        Dictionary<string, (SafetensorsFile File, Dictionary<string, SafetensorsEntry> Entries)> shards = new(StringComparer.Ordinal);
        using HfJson json = HfJson.Open(index);
        if (json.Get("weight_map") is not JsonElement map || map.ValueKind != JsonValueKind.Object)
            throw new ModelFormatException($"{index}: \"weight_map\" is missing");
        foreach (JsonProperty p in map.EnumerateObject())
        {
            string shardName = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : throw json.Wrong(p.Name, p.Value, "a file name");
            if (shardName.Contains('/') || shardName.Contains('\\') || shardName.Contains(".."))
                throw new ModelFormatException($"{index}: shard name '{shardName}' is not a plain file name");
            if (!shards.TryGetValue(shardName, out var shard))
            {
                string shardPath = Path.Combine(directory, shardName);
                if (!File.Exists(shardPath))
                    throw new ModelFormatException($"{index}: shard '{shardName}' (holding '{p.Name}') not found");
                SafetensorsFile opened = SafetensorsFile.Open(shardPath);
                files.Add(opened);
                Dictionary<string, SafetensorsEntry> entries = new(StringComparer.Ordinal);
                foreach (SafetensorsEntry e in opened.Entries) entries[e.Name] = e;
                shard = (opened, entries);
                shards[shardName] = shard;
            }
            if (!shard.Entries.TryGetValue(p.Name, out SafetensorsEntry? entry))
                throw new ModelFormatException($"{index}: tensor '{p.Name}' is not in its shard '{shardName}'");
            byName[p.Name] = (shard.File, entry);
        }
        return byName;
    }
}
