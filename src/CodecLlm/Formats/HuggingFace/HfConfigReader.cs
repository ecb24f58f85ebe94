using System.Text.Json;
using CodecLlm.Model;

namespace CodecLlm.Formats.HuggingFace;

/// <summary>
/// config.json (+ generation_config.json) of a Llama, Mistral or Qwen2 checkpoint → <see cref="ModelConfig"/>.
/// Hugging Face checkpoints rotate half-split pairs (transformers' rotate_half), so the rope style is always
/// <see cref="RopeStyle.HalfSplit"/>.
/// </summary>
public static class HfConfigReader
{
    public const string ConfigFile = "config.json";
    public const string GenerationConfigFile = "generation_config.json";

    private static readonly Dictionary<string, string> Architectures = new(StringComparer.Ordinal)
    {
        ["LlamaForCausalLM"] = "llama",
        ["MistralForCausalLM"] = "mistral",
        ["Qwen2ForCausalLM"] = "qwen2",
    };

    public static ModelConfig Read(string directory)
    {
        using HfJson cfg = HfJson.Open(Path.Combine(directory, ConfigFile));
        using HfJson? gen = HfJson.TryOpen(Path.Combine(directory, GenerationConfigFile));

        string arch = ReadArchitecture(cfg);
        int hidden = cfg.RequireInt("hidden_size");
        int heads = cfg.RequireInt("num_attention_heads");
        if (heads <= 0 || hidden <= 0) throw new ModelFormatException($"{cfg.Path}: hidden_size {hidden} / num_attention_heads {heads} are not positive");

        int layers = cfg.RequireInt("num_hidden_layers");
        (int window, bool[]? slidingLayers) = ReadSlidingWindow(cfg, arch, layers);
        List<int> eos = [];
        foreach (int id in (gen?.IntOrList("eos_token_id") ?? []).Concat(cfg.IntOrList("eos_token_id")))
            if (!eos.Contains(id)) eos.Add(id);

        return new ModelConfig
        {
            Architecture = arch,
            HiddenSize = hidden,
            IntermediateSize = cfg.RequireInt("intermediate_size"),
            NumLayers = layers,
            NumHeads = heads,
            NumKvHeads = cfg.OptInt("num_key_value_heads") ?? heads,
            VocabSize = cfg.RequireInt("vocab_size"),
            HeadDim = cfg.OptInt("head_dim") ?? hidden / heads,
            MaxSequenceLength = cfg.OptInt("max_position_embeddings") ?? 2048,
            RopeTheta = (float)(cfg.OptDouble("rope_theta") ?? 10000.0),
            RopeScaling = ReadRopeScaling(cfg),
            RopeStyle = RopeStyle.HalfSplit,
            RmsNormEps = (float)(cfg.OptDouble("rms_norm_eps") ?? 1e-6),
            TiedEmbeddings = cfg.OptBool("tie_word_embeddings") ?? false,
            // Qwen2's attention always has q/k/v biases; Llama's has them when attention_bias is set.
            AttentionBias = arch == "qwen2" || (cfg.OptBool("attention_bias") ?? false),
            BosTokenId = gen?.OptInt("bos_token_id") ?? cfg.OptInt("bos_token_id") ?? 1,
            EosTokenIds = eos.Count > 0 ? eos : [2],
            SlidingWindow = window,
            SlidingLayers = slidingLayers,
        };
    }

    /// <summary>
    /// Sliding-window attention as transformers reads it: Mistral's <c>sliding_window</c> (null: none) in every layer;
    /// Qwen2's only when <c>use_sliding_window</c> is set, in the layers from <c>max_window_layers</c> on (default 28).
    /// A <c>layer_types</c> list ("sliding_attention" / "full_attention"), where present, names the layers instead.
    /// Llama has none.
    /// </summary>
    private static (int Window, bool[]? Layers) ReadSlidingWindow(HfJson cfg, string arch, int layers)
    {
        int? window = arch switch
        {
            "mistral" => cfg.OptInt("sliding_window"),
            "qwen2" when cfg.OptBool("use_sliding_window") == true => cfg.OptInt("sliding_window"),
            _ => null,
        };
        if (window is null) return (0, null);
        if (window <= 0) throw new ModelFormatException($"{cfg.Path}: \"sliding_window\" is {window}, expected a positive number of positions");
        bool[]? sliding = null;
        if (cfg.Get("layer_types") is JsonElement types)
        {
            if (types.ValueKind != JsonValueKind.Array || types.GetArrayLength() != layers)
                throw cfg.Wrong("layer_types", types, $"a list of {layers} layer types");
            sliding = types.EnumerateArray().Select(t => t.ValueKind == JsonValueKind.String ? t.GetString() switch
            {
                "sliding_attention" => true,
                "full_attention" => false,
                _ => throw cfg.Wrong("layer_types", t, "\"sliding_attention\" or \"full_attention\""),
            } : throw cfg.Wrong("layer_types", t, "a string")).ToArray();
        }
        else if (arch == "qwen2")
        {
            int first = cfg.OptInt("max_window_layers") ?? 28;
            sliding = Enumerable.Range(0, layers).Select(i => i >= first).ToArray();
        }
        return sliding is null || sliding.Any(x => x) ? (window.Value, sliding) : (0, null);
    }

    private static string ReadArchitecture(HfJson cfg)
    {
        if (cfg.Get("architectures") is not JsonElement list || list.ValueKind != JsonValueKind.Array || list.GetArrayLength() == 0)
            throw new ModelFormatException($"{cfg.Path}: \"architectures\" is missing");
        string[] names = list.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : e.GetRawText()).ToArray();
        foreach (string n in names)
            if (Architectures.TryGetValue(n, out string? arch)) return arch;
        throw new UnsupportedModelException($"{cfg.Path}: architecture '{string.Join(", ", names)}' is not supported (supported: {string.Join(", ", Architectures.Keys)})");
    }

    private static RopeScaling? ReadRopeScaling(HfJson cfg)
    {
        if (cfg.Get("rope_scaling") is not JsonElement rs) return null;
        if (rs.ValueKind != JsonValueKind.Object) throw cfg.Wrong("rope_scaling", rs, "an object");
        string? type = null;
        foreach (string key in new[] { "rope_type", "type" })
            if (rs.TryGetProperty(key, out JsonElement t) && t.ValueKind == JsonValueKind.String) type ??= t.GetString();
        if (type is null or "default") return null;
        if (type != "llama3")
            throw new UnsupportedModelException($"{cfg.Path}: rope_scaling type '{type}' is not supported (supported: llama3)");

        double Num(string key) => rs.TryGetProperty(key, out JsonElement v) && v.ValueKind == JsonValueKind.Number
            ? v.GetDouble()
            : throw new ModelFormatException($"{cfg.Path}: rope_scaling.{key} is missing");
        return new RopeScaling("llama3", (float)Num("factor"), (float)Num("low_freq_factor"), (float)Num("high_freq_factor"),
            checked((int)Num("original_max_position_embeddings")));
    }
}
