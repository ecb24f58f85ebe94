using CodecLlm.Model;

namespace CodecLlm.Engine;

/// <summary>
/// Random models of real architectures for benchmarks and demos (no checkpoint or tokenizer needed): matrices
/// and the embedding are N(0, 0.02²), norm weights 1 + N(0, 0.02²), biases N(0, 0.02²), rounded to the chosen
/// dtype (BF16 round-to-nearest-even), each tensor in its own <see cref="NativeBuffer"/>. The values depend only
/// on the seed (generated in fixed blocks, each with its own seeded generator), not on the thread count.
/// </summary>
public static class SyntheticModel
{
    public const float Std = 0.02f;

    private const int BlockElements = 1 << 16;

    /// <summary>Shapes of well-known models by name (lower case).</summary>
    public static IReadOnlyDictionary<string, ModelConfig> Presets { get; } = new Dictionary<string, ModelConfig>(StringComparer.OrdinalIgnoreCase)
    {
        ["stories260k"] = new()
        {
            Architecture = "llama",
            HiddenSize = 64,
            IntermediateSize = 172,
            NumLayers = 5,
            NumHeads = 8,
            NumKvHeads = 4,
            VocabSize = 512,
            MaxSequenceLength = 512,
            RopeStyle = RopeStyle.Interleaved,
            TiedEmbeddings = true,
        },
        ["stories15m"] = new()
        {
            Architecture = "llama",
            HiddenSize = 288,
            IntermediateSize = 768,
            NumLayers = 6,
            NumHeads = 6,
            NumKvHeads = 6,
            VocabSize = 32000,
            MaxSequenceLength = 256,
            RopeStyle = RopeStyle.Interleaved,
            TiedEmbeddings = true,
        },
        // The demo's default: a small Llama with GQA whose dimensions are multiples of the GPU tile width (128),
        // like every real LLM's, so `fixed` shows its real ratio (stories15m's 288 columns pad to 384).
        ["llama-mini"] = new()
        {
            Architecture = "llama",
            HiddenSize = 512,
            IntermediateSize = 1536,
            NumLayers = 8,
            NumHeads = 8,
            NumKvHeads = 4,
            VocabSize = 32000,
            MaxSequenceLength = 1024,
            RopeStyle = RopeStyle.HalfSplit,
        },
        ["tinyllama-1.1b"] = new()
        {
            Architecture = "llama",
            HiddenSize = 2048,
            IntermediateSize = 5632,
            NumLayers = 22,
            NumHeads = 32,
            NumKvHeads = 4,
            VocabSize = 32000,
            MaxSequenceLength = 2048,
            RopeStyle = RopeStyle.HalfSplit,
        },
        ["llama-2-7b"] = new()
        {
            Architecture = "llama",
            HiddenSize = 4096,
            IntermediateSize = 11008,
            NumLayers = 32,
            NumHeads = 32,
            NumKvHeads = 32,
            VocabSize = 32000,
            MaxSequenceLength = 4096,
            RopeStyle = RopeStyle.HalfSplit,
        },
        ["llama-3-8b"] = new()
        {
            Architecture = "llama",
            HiddenSize = 4096,
            IntermediateSize = 14336,
            NumLayers = 32,
            NumHeads = 32,
            NumKvHeads = 8,
            VocabSize = 128256,
            MaxSequenceLength = 8192,
            RopeTheta = 500000f,
            RopeStyle = RopeStyle.HalfSplit,
            BosTokenId = 128000,
            EosTokenIds = [128001, 128009],
        },
    };

    public static ModelConfig Preset(string name) =>
        Presets.TryGetValue(name, out ModelConfig? c) ? c
            : throw new UnsupportedModelException($"unknown synthetic model '{name}' (known: {string.Join(", ", Presets.Keys)})");

    public static LoadedModel Create(string presetName, TensorDType dtype, ulong seed) =>
        Create(Preset(presetName), dtype, seed, "synthetic:" + presetName.ToLowerInvariant());

    public static LoadedModel Create(ModelConfig config, TensorDType dtype, ulong seed, string sourcePath = "synthetic")
    {
        if (dtype is not (TensorDType.F32 or TensorDType.F16 or TensorDType.BF16))
            throw new UnsupportedModelException($"synthetic models are F32, F16 or BF16, not {dtype}");
        List<(string Name, long[] Shape, bool IsNorm)> specs = Specs(config);
        Dictionary<string, ModelTensor> tensors = new(StringComparer.Ordinal);
        List<IDisposable> owned = [];
        try
        {
            for (int i = 0; i < specs.Count; i++)
            {
                (string name, long[] shape, bool isNorm) = specs[i];
                long count = 1;
                foreach (long s in shape) count *= s;
                NativeBuffer buffer = new(count * dtype.ByteSize(), zero: false);
                owned.Add(buffer);
                Fill(buffer, count, dtype, Mix(seed, (ulong)i), isNorm ? 1f : 0f);
                tensors[name] = new ModelTensor(name, dtype, shape, buffer, 0, buffer.Length);
            }
        }
        catch
        {
            foreach (IDisposable d in owned) d.Dispose();
            throw;
        }
        return new LoadedModel(sourcePath, "synthetic", config, tensors, tokenizer: null, owned);
    }

    private static List<(string, long[], bool)> Specs(ModelConfig c)
    {
        long d = c.HiddenSize, q = c.QDim, kv = c.KvDim, ff = c.IntermediateSize;
        List<(string, long[], bool)> specs = [(TensorNames.Embedding, [c.VocabSize, d], false)];
        for (int l = 0; l < c.NumLayers; l++)
        {
            specs.Add((TensorNames.AttnNorm(l), [d], true));
            specs.Add((TensorNames.Q(l), [q, d], false));
            specs.Add((TensorNames.K(l), [kv, d], false));
            specs.Add((TensorNames.V(l), [kv, d], false));
            if (c.AttentionBias)
            {
                specs.Add((TensorNames.QBias(l), [q], false));
                specs.Add((TensorNames.KBias(l), [kv], false));
                specs.Add((TensorNames.VBias(l), [kv], false));
            }
            specs.Add((TensorNames.O(l), [d, q], false));
            specs.Add((TensorNames.MlpNorm(l), [d], true));
            specs.Add((TensorNames.Gate(l), [ff, d], false));
            specs.Add((TensorNames.Up(l), [ff, d], false));
            specs.Add((TensorNames.Down(l), [d, ff], false));
        }
        specs.Add((TensorNames.FinalNorm, [d], true));
        if (!c.TiedEmbeddings) specs.Add((TensorNames.LmHead, [c.VocabSize, d], false));
        return specs;
    }

    private static unsafe void Fill(NativeBuffer buffer, long count, TensorDType dtype, ulong seed, float mean)
    {
        long blocks = (count + BlockElements - 1) / BlockElements;
        byte* basePtr = buffer.Pointer;
        nint p = (nint)basePtr;
        Parallel.For(0L, blocks, b =>
        {
            SamplerRandom rng = new(Mix(seed, (ulong)b));
            long start = b * BlockElements, end = Math.Min(count, start + BlockElements);
            for (long i = start; i < end; i += 2)
            {
                (float z0, float z1) = Gaussian(rng);
                Store((byte*)p, dtype, i, mean + Std * z0);
                if (i + 1 < end) Store((byte*)p, dtype, i + 1, mean + Std * z1);
            }
        });
    }

    /// <summary>Two independent standard normal values (Box–Muller).</summary>
    private static (float, float) Gaussian(SamplerRandom rng)
    {
        float u1 = 1f - rng.NextSingle(); // (0, 1]: log stays finite
        float u2 = rng.NextSingle();
        float r = MathF.Sqrt(-2f * MathF.Log(u1));
        (float sin, float cos) = MathF.SinCos(2f * MathF.PI * u2);
        return (r * cos, r * sin);
    }

    private static unsafe void Store(byte* p, TensorDType dtype, long i, float v)
    {
        switch (dtype)
        {
            case TensorDType.F32: ((float*)p)[i] = v; break;
            case TensorDType.F16: ((Half*)p)[i] = (Half)v; break;
            default: ((ushort*)p)[i] = ToBf16(v); break;
        }
    }

    /// <summary>float32 → BF16 with round-to-nearest-even (the values here are finite).</summary>
    public static ushort ToBf16(float v)
    {
        uint bits = BitConverter.SingleToUInt32Bits(v);
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }

    private static ulong Mix(ulong a, ulong b)
    {
        ulong z = a ^ (b * 0x9E3779B97F4A7C15UL + 0x632BE59BD9B4E5BBUL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
