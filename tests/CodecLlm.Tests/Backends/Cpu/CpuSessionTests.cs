using CodecLlm.Backends.Cpu;
using CodecLlm.Codecs;
using CodecLlm.Engine;
using CodecLlm.Model;

namespace CodecLlm.Tests.Backends.Cpu;

public class CpuSessionTests
{
    private static readonly ModelConfig Small = new()
    {
        Architecture = "qwen2", HiddenSize = 512, IntermediateSize = 640, NumLayers = 2, NumHeads = 8, NumKvHeads = 2,
        VocabSize = 300, MaxSequenceLength = 96, RopeStyle = RopeStyle.HalfSplit, AttentionBias = true,
    };

    private static float[][] RunAll(LoadedModel model, int threads, int steps = 84)
    {
        using CpuSession s = new(model, new SessionOptions { Threads = threads });
        float[][] all = new float[steps][];
        for (int pos = 0; pos < steps; pos++)
        {
            all[pos] = new float[model.Config.VocabSize];
            s.Forward([(pos * 37 + 1) % model.Config.VocabSize], pos, all[pos]);
        }
        return all;
    }

    [Fact]
    public void Logits_DoNotDependOnThreadCount()
    {
        // Large enough that matrix products and attention (from ~64 positions) take their parallel paths.
        using LoadedModel model = SyntheticModel.Create(Small, TensorDType.BF16, seed: 3);
        float[][] one = RunAll(model, 1), four = RunAll(model, 4);
        for (int i = 0; i < one.Length; i++) Assert.Equal(one[i], four[i]);
        Assert.All(one[^1], v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void PromptInChunks_GivesTheLogitsOfTokenByToken()
    {
        // 70 tokens in one call = chunks of 32, 32 and 6; then a 5-token call on top of them.
        using LoadedModel model = SyntheticModel.Create(Small, TensorDType.BF16, seed: 11);
        int[] tokens = Enumerable.Range(0, 75).Select(i => (i * 53 + 7) % Small.VocabSize).ToArray();
        float[][] stepwise = RunTokens(model, tokens, chunk: 1);
        float[][] chunked = RunTokens(model, tokens, chunk: 70);
        Assert.Equal(stepwise[69], chunked[69]);
        Assert.Equal(stepwise[74], chunked[74]);
    }

    private static float[][] RunTokens(LoadedModel model, int[] tokens, int chunk)
    {
        using CpuSession s = new(model, new SessionOptions { Threads = 2 });
        float[][] logits = new float[tokens.Length][];
        for (int pos = 0; pos < tokens.Length;)
        {
            int n = Math.Min(chunk, tokens.Length - pos);
            logits[pos + n - 1] = new float[model.Config.VocabSize];
            s.Forward(tokens.AsSpan(pos, n), pos, logits[pos + n - 1]);
            pos += n;
        }
        return logits;
    }

    [Fact]
    public void Bf16Weights_GiveTheLogitsOfTheirFloat32Widening()
    {
        using LoadedModel bf16 = SyntheticModel.Create(Small, TensorDType.BF16, seed: 5);
        using LoadedModel f32 = Convert(bf16, t => Widen(t));
        float[][] a = RunAll(bf16, 2, 12), b = RunAll(f32, 2, 12);
        for (int p = 0; p < a.Length; p++)
            for (int i = 0; i < a[p].Length; i++)
                Assert.True(Math.Abs(a[p][i] - b[p][i]) <= 1e-4f * (1 + Math.Abs(b[p][i])), $"pos {p} logit {i}: {a[p][i]} vs {b[p][i]}");
    }

    [Fact]
    public void CompressedTensors_AreDecodedOnceAndGiveIdenticalLogits()
    {
        CodecRegistry.Register(new XorTestCodec());
        using LoadedModel raw = SyntheticModel.Create(Small, TensorDType.F16, seed: 7);
        using LoadedModel encoded = Convert(raw, t =>
        {
            byte[] blob = t.DecodeToArray();
            XorTestCodec.Xor(blob);
            return (t.DType, blob, XorTestCodec.CodecName);
        });
        Assert.All(encoded.Tensors.Values, t => Assert.False(t.IsRaw));
        float[][] a = RunAll(raw, 2, 10), b = RunAll(encoded, 2, 10);
        for (int p = 0; p < a.Length; p++) Assert.Equal(a[p], b[p]);
    }

    [Fact]
    public void WrongShape_IsAModelFormatErrorNamingTheTensor()
    {
        using LoadedModel model = SyntheticModel.Create(Small, TensorDType.F32, seed: 1);
        ModelConfig wrong = Small with { IntermediateSize = 600 };
        using LoadedModel mismatched = new(model.SourcePath, "synthetic", wrong, model.Tensors, null, []);
        ModelFormatException e = Assert.Throws<ModelFormatException>(() => new CpuSession(mismatched, new SessionOptions()));
        Assert.Contains("mlp.gate_proj", e.Message);
    }

    private static (TensorDType, byte[], string) Widen(ModelTensor t)
    {
        if (t.DType != TensorDType.BF16) return (t.DType, t.DecodeToArray(), "raw");
        byte[] src = t.DecodeToArray(), dst = new byte[src.Length * 2];
        for (int i = 0; i < src.Length / 2; i++)
        {
            dst[4 * i + 2] = src[2 * i];
            dst[4 * i + 3] = src[2 * i + 1];
        }
        return (TensorDType.F32, dst, "raw");
    }

    private static LoadedModel Convert(LoadedModel source, Func<ModelTensor, (TensorDType DType, byte[] Bytes, string Codec)> convert)
    {
        Dictionary<string, ModelTensor> tensors = [];
        List<IDisposable> owned = [];
        foreach (ModelTensor t in source.Tensors.Values)
        {
            (TensorDType dtype, byte[] bytes, string codec) = convert(t);
            NativeBuffer buffer = NativeBuffer.CopyOf(bytes);
            owned.Add(buffer);
            tensors[t.Name] = new ModelTensor(t.Name, dtype, t.Shape, buffer, 0, bytes.Length, codec);
        }
        return new LoadedModel(source.SourcePath, source.Format, source.Config, tensors, null, owned);
    }

    /// <summary>A stand-in "compressed" encoding: every byte XOR 0x5A (not raw, so the session must decode it).</summary>
    private sealed class XorTestCodec : IWeightCodec
    {
        public const string CodecName = "test-xor";

        public string Name => CodecName;

        public bool HasGpuDecoder => false;

        public static void Xor(Span<byte> bytes)
        {
            for (int i = 0; i < bytes.Length; i++) bytes[i] ^= 0x5A;
        }

        public EncodedTensor Encode(ReadOnlySpan<byte> data, TensorLayout layout)
        {
            byte[] blob = data.ToArray();
            Xor(blob);
            return new EncodedTensor(blob, new Dictionary<string, string>());
        }

        public void Decode(ReadOnlySpan<byte> blob, TensorLayout layout, IReadOnlyDictionary<string, string> parameters, Span<byte> destination, string tensorName)
        {
            blob.CopyTo(destination);
            Xor(destination);
        }
    }
}
