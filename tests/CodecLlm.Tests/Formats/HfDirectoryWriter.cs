using System.Text.Json;
using CodecLlm.Formats.HuggingFace;
using CodecLlm.Formats.Safetensors;
using CodecLlm.Model;

namespace CodecLlm.Tests.Formats;

/// <summary>
/// Writes a Hugging Face model directory (config.json, model.safetensors or two shards with
/// model.safetensors.index.json) from a loaded model, the way transformers' convert_llama_weights_to_hf.py
/// converts Meta checkpoints: a model whose rope is <see cref="RopeStyle.Interleaved"/> (llama2.c, GGUF
/// llama) gets its q_proj/k_proj rows permuted with <see cref="PermuteForHf"/>, so the written directory runs
/// with half-split rope. Tokenizer files are not written.
/// </summary>
internal static class HfDirectoryWriter
{
    public static void Write(LoadedModel model, string directory, bool sharded = false)
    {
        Directory.CreateDirectory(directory);
        ModelConfig c = model.Config;
        bool permute = c.RopeStyle == RopeStyle.Interleaved;

        List<(string Name, TensorDType DType, long[] Shape, byte[] Data)> tensors = [];
        foreach ((string name, long[] shape) in LlamaTensorLayout.Expected(c))
        {
            ModelTensor t = model.GetTensor(name);
            byte[] data = t.DecodeToArray();
            if (permute && IsQ(name)) data = PermuteForHf(data, c.NumHeads, c.HeadDim, RowBytes(t));
            if (permute && IsK(name)) data = PermuteForHf(data, c.NumKvHeads, c.HeadDim, RowBytes(t));
            tensors.Add((name, t.DType, shape, data));
        }

        if (!sharded)
        {
            WriteShard(Path.Combine(directory, HfWeights.SingleFile), tensors);
        }
        else
        {
            int half = tensors.Count / 2;
            string[] names = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"];
            WriteShard(Path.Combine(directory, names[0]), tensors[..half]);
            WriteShard(Path.Combine(directory, names[1]), tensors[half..]);
            WriteJson(Path.Combine(directory, HfWeights.IndexFile), w =>
            {
                w.WriteStartObject("metadata");
                w.WriteNumber("total_size", tensors.Sum(t => (long)t.Data.Length));
                w.WriteEndObject();
                w.WriteStartObject("weight_map");
                for (int i = 0; i < tensors.Count; i++) w.WriteString(tensors[i].Name, names[i < half ? 0 : 1]);
                w.WriteEndObject();
            });
        }
        WriteConfig(Path.Combine(directory, HfConfigReader.ConfigFile), c);
    }

    /// <summary>
    /// convert_llama_weights_to_hf.py's <c>permute(w, n_heads, dim1, dim2)</c>:
    /// <c>w.view(n_heads, dim1 // n_heads // 2, 2, dim2).transpose(1, 2).reshape(dim1, dim2)</c>. Within each
    /// head, row 2i+j moves to row j*(headDim/2)+i, turning adjacent rope pairs into split halves.
    /// </summary>
    public static byte[] PermuteForHf(byte[] rows, int heads, int headDim, int rowBytes)
    {
        byte[] result = new byte[rows.Length];
        int half = headDim / 2;
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < half; i++)
                for (int j = 0; j < 2; j++)
                {
                    int from = h * headDim + 2 * i + j, to = h * headDim + j * half + i;
                    Array.Copy(rows, (long)from * rowBytes, result, (long)to * rowBytes, rowBytes);
                }
        return result;
    }

    private static bool IsQ(string name) => name.Contains(".self_attn.q_proj.", StringComparison.Ordinal);

    private static bool IsK(string name) => name.Contains(".self_attn.k_proj.", StringComparison.Ordinal);

    private static int RowBytes(ModelTensor t) => (int)(t.ByteLength / t.Shape[0]);

    private static void WriteShard(string path, IEnumerable<(string Name, TensorDType DType, long[] Shape, byte[] Data)> tensors)
    {
        SafetensorsWriter w = new();
        w.AddMetadata("format", "pt");
        foreach ((string name, TensorDType dtype, long[] shape, byte[] data) in tensors) w.Add(name, dtype, shape, data);
        w.WriteTo(path);
    }

    private static void WriteConfig(string path, ModelConfig c) => WriteJson(path, w =>
    {
        (string arch, string type) = c.Architecture switch
        {
            "qwen2" => ("Qwen2ForCausalLM", "qwen2"),
            "mistral" => ("MistralForCausalLM", "mistral"),
            _ => ("LlamaForCausalLM", "llama"),
        };
        w.WriteStartArray("architectures");
        w.WriteStringValue(arch);
        w.WriteEndArray();
        w.WriteString("model_type", type);
        w.WriteString("hidden_act", "silu");
        w.WriteNumber("hidden_size", c.HiddenSize);
        w.WriteNumber("intermediate_size", c.IntermediateSize);
        w.WriteNumber("num_hidden_layers", c.NumLayers);
        w.WriteNumber("num_attention_heads", c.NumHeads);
        w.WriteNumber("num_key_value_heads", c.NumKvHeads);
        w.WriteNumber("head_dim", c.HeadDim);
        w.WriteNumber("vocab_size", c.VocabSize);
        w.WriteNumber("max_position_embeddings", c.MaxSequenceLength);
        w.WriteNumber("rope_theta", c.RopeTheta);
        w.WriteNumber("rms_norm_eps", c.RmsNormEps);
        w.WriteBoolean("tie_word_embeddings", c.TiedEmbeddings);
        w.WriteBoolean("attention_bias", c.AttentionBias);
        w.WriteNumber("bos_token_id", c.BosTokenId);
        if (c.EosTokenIds.Count == 1) w.WriteNumber("eos_token_id", c.EosTokenIds[0]);
        else
        {
            w.WriteStartArray("eos_token_id");
            foreach (int id in c.EosTokenIds) w.WriteNumberValue(id);
            w.WriteEndArray();
        }
        if (c.RopeScaling is RopeScaling rs)
        {
            w.WriteStartObject("rope_scaling");
            w.WriteString("rope_type", rs.Type);
            w.WriteNumber("factor", rs.Factor);
            w.WriteNumber("low_freq_factor", rs.LowFreqFactor);
            w.WriteNumber("high_freq_factor", rs.HighFreqFactor);
            w.WriteNumber("original_max_position_embeddings", rs.OriginalMaxPositionEmbeddings);
            w.WriteEndObject();
        }
        else w.WriteNull("rope_scaling");
        w.WriteString("torch_dtype", "float32");
    });

    private static void WriteJson(string path, Action<Utf8JsonWriter> body)
    {
        using FileStream fs = File.Create(path);
        using Utf8JsonWriter w = new(fs, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        body(w);
        w.WriteEndObject();
    }
}
