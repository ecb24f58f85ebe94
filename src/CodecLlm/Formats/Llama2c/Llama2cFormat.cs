using CodecLlm.Model;
using CodecLlm.Tokenization;

namespace CodecLlm.Formats.Llama2c;

/// <summary>
/// Karpathy's llama2.c checkpoint (legacy export): a <see cref="Llama2cHeader"/> followed by float32 weights in
/// the order token_embedding, rms_att, wq, wk, wv, wo, rms_ffn, w1, w2, w3 (each for all layers), rms_final,
/// freq_cis_real, freq_cis_imag (unused), and wcls when the classifier is separate. The tensors are views of
/// the memory-mapped file under their Hugging Face names (w1 = gate, w3 = up, w2 = down). The q/k rows are in
/// Meta's original order, so RoPE rotates adjacent pairs (<see cref="RopeStyle.Interleaved"/>).
/// </summary>
public sealed class Llama2cFormat : IModelFormat
{
    public string Name => "llama2c";

    public bool CanLoad(string path)
    {
        if (!File.Exists(path) || !path.EndsWith(".bin", StringComparison.OrdinalIgnoreCase)) return false;
        Span<byte> header = stackalloc byte[Llama2cHeader.ByteSize];
        using FileStream f = File.OpenRead(path);
        if (f.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) < 4) return false;
        if (BitConverter.ToUInt32(header) == Llama2cHeader.VersionedMagic) return true; // Load explains why it is refused
        return Llama2cHeader.TryParse(header) != null;
    }

    public LoadedModel Load(string path, ModelLoadOptions options)
    {
        MappedFile file = new(path);
        try
        {
            Llama2cHeader header = ReadHeader(file);
            ModelConfig config = ToConfig(header);
            Dictionary<string, ModelTensor> tensors = MapTensors(file, header);
            ITokenizer? tokenizer = LoadTokenizer(path, header.VocabSize, options);
            return new LoadedModel(path, Name, config, tensors, tokenizer, [file]);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static unsafe Llama2cHeader ReadHeader(MappedFile file)
    {
        if (file.Length < Llama2cHeader.ByteSize)
            throw new ModelFormatException($"{file.Path}: {file.Length} bytes is shorter than the {Llama2cHeader.ByteSize}-byte llama2.c header");
        ReadOnlySpan<byte> bytes = file.Slice(0, Llama2cHeader.ByteSize);
        if (BitConverter.ToUInt32(bytes) == Llama2cHeader.VersionedMagic)
            throw new UnsupportedModelException($"{file.Path}: llama2.c export version 1/2 (magic 'ak42') is not supported; export with --version 0 (legacy)");
        Llama2cHeader header = Llama2cHeader.TryParse(bytes)
            ?? throw new ModelFormatException($"{file.Path}: not a llama2.c checkpoint (implausible header)");
        long needed = Llama2cHeader.ByteSize + header.ExpectedFloatCount * sizeof(float);
        if (file.Length < needed)
            throw new ModelFormatException($"{file.Path}: file has {file.Length} bytes but its header ({header}) needs {needed}");
        return header;
    }

    public static ModelConfig ToConfig(Llama2cHeader h) => new()
    {
        Architecture = "llama",
        HiddenSize = h.Dim,
        IntermediateSize = h.HiddenDim,
        NumLayers = h.NumLayers,
        NumHeads = h.NumHeads,
        NumKvHeads = h.NumKvHeads,
        VocabSize = h.VocabSize,
        MaxSequenceLength = h.SeqLen,
        RopeTheta = 10000f,
        RopeStyle = RopeStyle.Interleaved,
        RmsNormEps = 1e-5f,
        TiedEmbeddings = h.SharedClassifier,
        BosTokenId = 1,
        // llama2.c models are trained on stories that each start with BOS and has no EOS, so run.c stops when
        // the model emits BOS; EOS (2) is kept for exports of chat models.
        EosTokenIds = [2, 1],
    };

    private static Dictionary<string, ModelTensor> MapTensors(MappedFile file, Llama2cHeader h)
    {
        Dictionary<string, ModelTensor> tensors = new(StringComparer.Ordinal);
        long offset = Llama2cHeader.ByteSize;
        int d = h.Dim, q = h.NumHeads * h.HeadSize, kv = h.KvDim, hidden = h.HiddenDim;

        void Add(string name, params long[] shape)
        {
            long bytes = sizeof(float);
            foreach (long s in shape) bytes *= s;
            tensors[name] = new ModelTensor(name, TensorDType.F32, shape, file, offset, bytes);
            offset += bytes;
        }

        void PerLayer(Func<int, string> name, params long[] shape)
        {
            for (int l = 0; l < h.NumLayers; l++) Add(name(l), shape);
        }

        Add(TensorNames.Embedding, h.VocabSize, d);
        PerLayer(TensorNames.AttnNorm, d);
        PerLayer(TensorNames.Q, q, d);
        PerLayer(TensorNames.K, kv, d);
        PerLayer(TensorNames.V, kv, d);
        PerLayer(TensorNames.O, d, q);
        PerLayer(TensorNames.MlpNorm, d);
        PerLayer(TensorNames.Gate, hidden, d);
        PerLayer(TensorNames.Down, d, hidden);
        PerLayer(TensorNames.Up, hidden, d);
        Add(TensorNames.FinalNorm, d);
        offset += h.FreqCisFloatCount * sizeof(float);
        if (!h.SharedClassifier) Add(TensorNames.LmHead, h.VocabSize, d);
        return tensors;
    }

    private static ITokenizer? LoadTokenizer(string modelPath, int vocabSize, ModelLoadOptions options)
    {
        if (options.TokenizerPath is { } explicitPath)
        {
            if (!File.Exists(explicitPath)) throw new TokenizerNotFoundException($"{explicitPath}: tokenizer file not found");
            return TokenizerFactory.FromLlama2cFile(explicitPath, vocabSize);
        }
        string? found = FindTokenizerBeside(modelPath);
        return found == null ? null : TokenizerFactory.FromLlama2cFile(found, vocabSize);
    }

    /// <summary>tokenizer.bin beside the model, else a single tok*.bin there (llama2.c's naming: tok512.bin).</summary>
    public static string? FindTokenizerBeside(string modelPath)
    {
        string dir = Path.GetDirectoryName(Path.GetFullPath(modelPath)) ?? ".";
        string standard = Path.Combine(dir, "tokenizer.bin");
        if (File.Exists(standard)) return standard;
        string[] candidates = Directory.GetFiles(dir, "tok*.bin");
        Array.Sort(candidates, StringComparer.Ordinal);
        return candidates.Length > 0 ? candidates[0] : null;
    }
}
