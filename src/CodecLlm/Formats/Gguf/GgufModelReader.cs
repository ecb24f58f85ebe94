using System.Runtime.InteropServices;
using CodecLlm.Formats.HuggingFace;
using CodecLlm.Model;
using CodecLlm.Tokenization;

namespace CodecLlm.Formats.Gguf;

/// <summary>What a GGUF file holds for the engine, before a tokenizer is built from <see cref="Vocabulary"/>.</summary>
public sealed record GgufModelContents(
    ModelConfig Config,
    IReadOnlyDictionary<string, ModelTensor> Tensors,
    GgufVocabulary? Vocabulary,
    string? ChatTemplate);

/// <summary>
/// Turns a GGUF file of a llama or qwen2 model into a config, canonical tensors and a vocabulary.
/// GGUF lists dimensions innermost first, so a tensor's shape is its dims reversed ([out, in] for matrices).
/// llama.cpp runs arch "llama" with adjacent-pair rope (LLAMA_ROPE_TYPE_NORM: its converter undoes HF's
/// q/k permutation) and "qwen2" with half-split rope (LLAMA_ROPE_TYPE_NEOX, weights as in HF).
/// </summary>
public static class GgufModelReader
{
    public static GgufModelContents Read(GgufFile f)
    {
        string arch = f.GetString("general.architecture")
            ?? throw new ModelFormatException($"{f.Path}: GGUF metadata 'general.architecture' is missing");
        if (arch is not ("llama" or "qwen2"))
            throw new UnsupportedModelException($"{f.Path}: GGUF architecture '{arch}' is not supported (supported: llama, qwen2)");

        Dictionary<string, ModelTensor> tensors = new(StringComparer.Ordinal);
        GgufTensorInfo? ropeFreqs = null;
        foreach (GgufTensorInfo t in f.Tensors)
        {
            if (t.Type.ToFloatDType() is not TensorDType dtype)
                throw new UnsupportedModelException($"{f.Path}: tensor '{t.Name}' has type {t.Type.DisplayName()}: quantised GGUF tensors are not supported yet");
            if (t.Name == GgufTensorNames.RopeFreqs)
            {
                ropeFreqs = t;
                continue;
            }
            string canonical = GgufTensorNames.ToCanonical(t.Name)
                ?? throw new UnsupportedModelException($"{f.Path}: tensor '{t.Name}' is not part of a {arch} model this engine runs");
            tensors[canonical] = new ModelTensor(canonical, dtype, t.Shape, f.File, t.Offset, t.ByteLength!.Value);
        }

        GgufVocabulary? vocab = ReadVocabulary(f);
        ModelConfig config = ReadConfig(f, arch, tensors, vocab);
        if (ropeFreqs != null && arch == "llama")
            config = config with { RopeScaling = Llama3RopeFactors.Recover(f.Path, ReadF32(f, ropeFreqs), config.HeadDim, config.RopeTheta) };
        else if (ropeFreqs != null)
            throw new UnsupportedModelException($"{f.Path}: tensor '{GgufTensorNames.RopeFreqs}' in a {arch} model is not supported");

        LlamaTensorLayout.Validate(f.Path, config, tensors);
        return new GgufModelContents(config, tensors, vocab, f.GetString("tokenizer.chat_template"));
    }

    private static ModelConfig ReadConfig(GgufFile f, string arch, Dictionary<string, ModelTensor> tensors, GgufVocabulary? vocab)
    {
        int Int(string key) => OptInt(key) ?? throw new ModelFormatException($"{f.Path}: GGUF metadata '{arch}.{key}' is missing");
        int? OptInt(string key) => f.GetInt($"{arch}.{key}") switch
        {
            null => null,
            long v and >= 0 and <= int.MaxValue => (int)v,
            long v => throw new ModelFormatException($"{f.Path}: GGUF metadata '{arch}.{key}' is {v}, out of range"),
        };

        int hidden = Int("embedding_length");
        int heads = Int("attention.head_count");
        if (heads <= 0) throw new ModelFormatException($"{f.Path}: {arch}.attention.head_count is {heads}");
        int headDim = OptInt("attention.key_length") ?? hidden / heads;
        if (OptInt("attention.value_length") is int vl && vl != headDim)
            throw new UnsupportedModelException($"{f.Path}: attention value length {vl} differs from key length {headDim}");
        int ropeDim = OptInt("rope.dimension_count") ?? headDim;
        if (ropeDim != headDim)
            throw new UnsupportedModelException($"{f.Path}: partial rotary embedding ({arch}.rope.dimension_count {ropeDim} of head size {headDim}) is not supported");
        string? scaling = f.GetString($"{arch}.rope.scaling.type");
        if (scaling is not (null or "none"))
            throw new UnsupportedModelException($"{f.Path}: rope scaling '{scaling}' is not supported");

        int vocabSize = vocab?.Tokens.Count ?? OptInt("vocab_size")
            ?? (tensors.TryGetValue(TensorNames.Embedding, out ModelTensor? emb) ? emb.Rows : 0);
        bool qwen = arch == "qwen2";
        return new ModelConfig
        {
            Architecture = arch,
            HiddenSize = hidden,
            IntermediateSize = Int("feed_forward_length"),
            NumLayers = Int("block_count"),
            NumHeads = heads,
            NumKvHeads = OptInt("attention.head_count_kv") ?? heads,
            VocabSize = vocabSize,
            HeadDim = headDim,
            MaxSequenceLength = OptInt("context_length") ?? 2048,
            RopeTheta = f.GetFloat($"{arch}.rope.freq_base") ?? 10000f,
            RopeStyle = qwen ? RopeStyle.HalfSplit : RopeStyle.Interleaved,
            RmsNormEps = f.GetFloat($"{arch}.attention.layer_norm_rms_epsilon")
                ?? throw new ModelFormatException($"{f.Path}: GGUF metadata '{arch}.attention.layer_norm_rms_epsilon' is missing"),
            TiedEmbeddings = !tensors.ContainsKey(TensorNames.LmHead),
            AttentionBias = tensors.ContainsKey(TensorNames.QBias(0)),
            BosTokenId = vocab?.BosTokenId ?? 1,
            EosTokenIds = vocab?.EosTokenIds ?? [2],
        };
    }

    /// <summary>The tokenizer.ggml.* vocabulary, or null when the file carries none.</summary>
    public static GgufVocabulary? ReadVocabulary(GgufFile f)
    {
        string[]? tokens = f.GetStringArray("tokenizer.ggml.tokens");
        if (tokens == null) return null;
        string model = f.GetString("tokenizer.ggml.model")
            ?? throw new ModelFormatException($"{f.Path}: GGUF metadata 'tokenizer.ggml.model' is missing");
        float[]? scores = f.GetFloatArray("tokenizer.ggml.scores");
        int[]? types = f.GetIntArray("tokenizer.ggml.token_type");
        if (scores != null && scores.Length != tokens.Length)
            throw new ModelFormatException($"{f.Path}: tokenizer.ggml.scores has {scores.Length} entries for {tokens.Length} tokens");
        if (types != null && types.Length != tokens.Length)
            throw new ModelFormatException($"{f.Path}: tokenizer.ggml.token_type has {types.Length} entries for {tokens.Length} tokens");

        List<int> eos = [];
        foreach (string key in new[] { "tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id" })
            if (f.GetInt(key) is long id && !eos.Contains((int)id)) eos.Add(TokenId(f, key, id, tokens.Length));
        if (eos.Count == 0) eos.Add(model == "llama" ? 2 : tokens.Length - 1);
        int bos = f.GetInt("tokenizer.ggml.bos_token_id") is long b
            ? TokenId(f, "tokenizer.ggml.bos_token_id", b, tokens.Length)
            : model == "llama" ? 1 : eos[0];

        return new GgufVocabulary(
            model,
            tokens,
            scores,
            types,
            f.GetStringArray("tokenizer.ggml.merges"),
            bos,
            eos,
            f.GetBool("tokenizer.ggml.add_bos_token") ?? model == "llama",
            f.GetString("tokenizer.ggml.pre"));
    }

    private static int TokenId(GgufFile f, string key, long id, int vocabSize) =>
        id >= 0 && id < vocabSize ? (int)id : throw new ModelFormatException($"{f.Path}: {key} {id} is outside the vocabulary of {vocabSize} tokens");

    private static ReadOnlySpan<float> ReadF32(GgufFile f, GgufTensorInfo t)
    {
        if (t.Type != GgmlType.F32)
            throw new UnsupportedModelException($"{f.Path}: tensor '{t.Name}' has type {t.Type.DisplayName()}, expected F32");
        return MemoryMarshal.Cast<byte, float>(f.File.Slice(t.Offset, t.ByteLength!.Value));
    }
}
