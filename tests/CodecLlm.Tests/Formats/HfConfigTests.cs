using CodecLlm.Formats.HuggingFace;
using CodecLlm.Model;

namespace CodecLlm.Tests.Formats;

/// <summary>config.json / generation_config.json / tokenizer_config.json as published checkpoints write them.</summary>
public class HfConfigTests
{
    private static string Dir(string config, string? generation = null, string? tokenizerConfig = null)
    {
        string dir = TestPaths.NewTempDir();
        File.WriteAllText(Path.Combine(dir, "config.json"), config);
        if (generation != null) File.WriteAllText(Path.Combine(dir, "generation_config.json"), generation);
        if (tokenizerConfig != null) File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), tokenizerConfig);
        return dir;
    }

    // Meta-Llama-3.2-1B-Instruct's config.json, as published.
    private const string Llama32Config = """
        {
          "architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
          "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009], "head_dim": 64, "hidden_act": "silu",
          "hidden_size": 2048, "initializer_range": 0.02, "intermediate_size": 8192, "max_position_embeddings": 131072,
          "mlp_bias": false, "model_type": "llama", "num_attention_heads": 32, "num_hidden_layers": 16,
          "num_key_value_heads": 8, "pretraining_tp": 1, "rms_norm_eps": 1e-05,
          "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
            "original_max_position_embeddings": 8192, "rope_type": "llama3"},
          "rope_theta": 500000.0, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
          "transformers_version": "4.45.0.dev0", "use_cache": true, "vocab_size": 128256
        }
        """;

    [Fact]
    public void Llama32()
    {
        ModelConfig c = HfConfigReader.Read(Dir(Llama32Config));
        Assert.Equal("llama", c.Architecture);
        Assert.Equal(2048, c.HiddenSize);
        Assert.Equal(8192, c.IntermediateSize);
        Assert.Equal(16, c.NumLayers);
        Assert.Equal(32, c.NumHeads);
        Assert.Equal(8, c.NumKvHeads);
        Assert.Equal(64, c.HeadDim);
        Assert.Equal(128256, c.VocabSize);
        Assert.Equal(131072, c.MaxSequenceLength);
        Assert.Equal(500000f, c.RopeTheta);
        Assert.Equal(1e-5f, c.RmsNormEps);
        Assert.Equal(new RopeScaling("llama3", 32, 1, 4, 8192), c.RopeScaling);
        Assert.Equal(RopeStyle.HalfSplit, c.RopeStyle);
        Assert.True(c.TiedEmbeddings);
        Assert.False(c.AttentionBias);
        Assert.Equal(128000, c.BosTokenId);
        Assert.Equal([128001, 128008, 128009], c.EosTokenIds);
    }

    [Fact]
    public void Qwen2WithGenerationConfig()
    {
        // Qwen2.5-0.5B-Instruct's config.json (abridged to the keys read) and generation_config.json.
        string dir = Dir("""
            {"architectures": ["Qwen2ForCausalLM"], "bos_token_id": 151643, "eos_token_id": 151645, "hidden_size": 896,
             "intermediate_size": 4864, "max_position_embeddings": 32768, "num_attention_heads": 14, "num_hidden_layers": 24,
             "num_key_value_heads": 2, "rms_norm_eps": 1e-06, "rope_scaling": null, "rope_theta": 1000000.0,
             "sliding_window": 32768, "tie_word_embeddings": true, "use_sliding_window": false, "vocab_size": 151936}
            """,
            generation: """{"bos_token_id": 151643, "do_sample": true, "eos_token_id": [151645, 151643], "temperature": 0.7}""");
        ModelConfig c = HfConfigReader.Read(dir);
        Assert.Equal("qwen2", c.Architecture);
        Assert.Equal(64, c.HeadDim);
        Assert.True(c.AttentionBias);
        Assert.True(c.TiedEmbeddings);
        Assert.Null(c.RopeScaling);
        Assert.Equal(1e6f, c.RopeTheta);
        Assert.Equal(1e-6f, c.RmsNormEps);
        Assert.Equal(151643, c.BosTokenId);
        Assert.Equal([151645, 151643], c.EosTokenIds);
        Assert.Equal(0, c.SlidingWindow);  // "sliding_window": 32768 with "use_sliding_window": false (transformers: none)
    }

    // Mistral-7B-v0.1's config.json, as published (its attention looks back 4096 positions).
    private const string Mistral7Bv01Config = """
        {
          "architectures": ["MistralForCausalLM"], "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu",
          "hidden_size": 4096, "initializer_range": 0.02, "intermediate_size": 14336, "max_position_embeddings": 32768,
          "model_type": "mistral", "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8,
          "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "sliding_window": 4096, "tie_word_embeddings": false,
          "torch_dtype": "bfloat16", "transformers_version": "4.34.0.dev0", "use_cache": true, "vocab_size": 32000
        }
        """;

    [Fact]
    public void MistralSlidingWindow_EveryLayer()
    {
        ModelConfig c = HfConfigReader.Read(Dir(Mistral7Bv01Config));
        Assert.Equal(4096, c.SlidingWindow);
        Assert.Null(c.SlidingLayers);
        Assert.Equal(4096, c.AttentionWindow(0));
        Assert.Equal(4096, c.AttentionWindow(31));
        // A query at position p sees p - 4095 .. p: 4096 positions, itself included (transformers: kv > q - window).
        Assert.Equal(0, c.FirstAttendedPosition(5, 4095));
        Assert.Equal(1, c.FirstAttendedPosition(5, 4096));
        Assert.Equal(5904, c.FirstAttendedPosition(5, 9999));
        // Mistral-7B-Instruct-v0.2 and later write "sliding_window": null: no window.
        Assert.Equal(0, HfConfigReader.Read(Dir(Mistral7Bv01Config.Replace("\"sliding_window\": 4096", "\"sliding_window\": null", StringComparison.Ordinal))).AttentionWindow(0));
    }

    [Fact]
    public void Qwen2SlidingWindow_FromMaxWindowLayersOrLayerTypes()
    {
        const string qwen = """
            {"architectures": ["Qwen2ForCausalLM"], "hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 4,
             "num_hidden_layers": 4, "vocab_size": 100, "use_sliding_window": true, "sliding_window": 16, "max_window_layers": 2 LT}
            """;
        ModelConfig c = HfConfigReader.Read(Dir(qwen.Replace(" LT", "", StringComparison.Ordinal)));
        Assert.Equal(new[] { 0, 0, 16, 16 }, Enumerable.Range(0, 4).Select(c.AttentionWindow).ToArray());
        ModelConfig typed = HfConfigReader.Read(Dir(qwen.Replace(" LT",
            ", \"layer_types\": [\"sliding_attention\", \"full_attention\", \"sliding_attention\", \"full_attention\"]", StringComparison.Ordinal)));
        Assert.Equal(new[] { 16, 0, 16, 0 }, Enumerable.Range(0, 4).Select(typed.AttentionWindow).ToArray());
        // max_window_layers at or past the last layer (Qwen2.5's published 28 of 28, say): no layer slides.
        Assert.Equal(0, HfConfigReader.Read(Dir(qwen.Replace("\"max_window_layers\": 2 LT", "\"max_window_layers\": 4", StringComparison.Ordinal))).SlidingWindow);
        Assert.Contains("\"layer_types\"", Assert.Throws<ModelFormatException>(() => HfConfigReader.Read(Dir(qwen.Replace(" LT",
            ", \"layer_types\": [\"sliding_attention\"]", StringComparison.Ordinal)))).Message);
        Assert.Contains("\"sliding_window\" is 0", Assert.Throws<ModelFormatException>(() => HfConfigReader.Read(Dir(qwen.Replace(" LT", "", StringComparison.Ordinal)
            .Replace("\"sliding_window\": 16", "\"sliding_window\": 0", StringComparison.Ordinal)))).Message);
    }

    [Fact]
    public void MistralDefaults()
    {
        ModelConfig c = HfConfigReader.Read(Dir("""
            {"architectures": ["MistralForCausalLM"], "hidden_size": 4096, "intermediate_size": 14336, "num_attention_heads": 32,
             "num_hidden_layers": 32, "num_key_value_heads": 8, "vocab_size": 32000, "head_dim": null}
            """));
        Assert.Equal("mistral", c.Architecture);
        Assert.Equal(128, c.HeadDim);
        Assert.False(c.TiedEmbeddings);
        Assert.Equal(10000f, c.RopeTheta);
        Assert.Equal(1, c.BosTokenId);
        Assert.Equal([2], c.EosTokenIds);
    }

    [Fact]
    public void SlidingLayersThatDoNotMatchTheLayersAreAFormatError()
    {
        ModelConfig c = HfConfigReader.Read(Dir(Mistral7Bv01Config)) with { SlidingLayers = [true, false] };
        Assert.Contains("sliding window 4096 over 2 layers does not fit a model of 32 layers",
            Assert.Throws<ModelFormatException>(() => LlamaTensorLayout.ValidateConfig("m", c)).Message);
    }

    [Fact]
    public void UnknownArchitectureIsNamed()
    {
        UnsupportedModelException e = Assert.Throws<UnsupportedModelException>(() =>
            HfConfigReader.Read(Dir("""{"architectures": ["GPT2LMHeadModel"], "hidden_size": 8}""")));
        Assert.Contains("'GPT2LMHeadModel'", e.Message);
    }

    [Fact]
    public void OtherRopeScalingIsUnsupported()
    {
        string cfg = Llama32Config.Replace("\"llama3\"", "\"yarn\"", StringComparison.Ordinal);
        UnsupportedModelException e = Assert.Throws<UnsupportedModelException>(() => HfConfigReader.Read(Dir(cfg)));
        Assert.Contains("'yarn'", e.Message);
    }

    [Fact]
    public void MissingKeyAndBadJsonAreFormatErrors()
    {
        Assert.Contains("\"intermediate_size\" is missing", Assert.Throws<ModelFormatException>(() => HfConfigReader.Read(Dir("""
            {"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "num_attention_heads": 8, "num_hidden_layers": 1, "vocab_size": 10}
            """))).Message);
        Assert.Contains("invalid JSON", Assert.Throws<ModelFormatException>(() => HfConfigReader.Read(Dir("{\"architectures\": ["))).Message);
        Assert.Contains("\"hidden_size\" is \"64\"", Assert.Throws<ModelFormatException>(() => HfConfigReader.Read(Dir("""
            {"architectures": ["LlamaForCausalLM"], "hidden_size": "64"}
            """))).Message);
    }

    [Fact]
    public void ChatTemplates()
    {
        Assert.Equal("{{ x }}", HfChatTemplate.Read(Dir("{}", tokenizerConfig: """{"chat_template": "{{ x }}"}""")));
        Assert.Equal("D", HfChatTemplate.Read(Dir("{}", tokenizerConfig: """
            {"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}]}
            """)));
        Assert.Null(HfChatTemplate.Read(Dir("{}", tokenizerConfig: """{"bos_token": "<s>"}""")));
        Assert.Null(HfChatTemplate.Read(Dir("{}")));
        string dir = Dir("{}");
        File.WriteAllText(Path.Combine(dir, "chat_template.jinja"), "J");
        Assert.Equal("J", HfChatTemplate.Read(dir));
    }
}
