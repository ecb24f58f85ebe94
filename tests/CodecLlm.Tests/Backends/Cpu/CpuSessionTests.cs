using CodecLlm.Backends.Cpu;
using CodecLlm.Codecs;
using CodecLlm.Engine;
using CodecLlm.Model;

namespace CodecLlm.Tests.Backends.Cpu;

public class CpuSessionTests
{
    private static readonly ModelConfig Small = new()
    {
        Architecture = "qwen2",
        HiddenSize = 512,
        IntermediateSize = 640,
        NumLayers = 2,
        NumHeads = 8,
        NumKvHeads = 2,
        VocabSize = 300,
        MaxSequenceLength = 96,
        RopeStyle = RopeStyle.HalfSplit,
        AttentionBias = true,
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

    /// <summary>
    /// A sliding window of W positions in each of L layers: the logits at position p depend on tokens p - L(W - 1) .. p
    /// only (a layer's output at p reads the previous layer's at p - W + 1 .. p). Two sequences that differ in token 0
    /// alone give different logits up to p = L(W - 1) and the same bits after it, token by token and in prompt chunks;
    /// without the window they differ everywhere. A window one wider or narrower moves that boundary, so this pins W.
    /// </summary>
    [Theory]
    [InlineData(5)]
    [InlineData(12)]
    public void SlidingWindow_LogitsDependOnTheLastLayersTimesWindowTokens(int window)
    {
        using LoadedModel model = SyntheticModel.Create(Small with { SlidingWindow = window }, TensorDType.BF16, seed: 13);
        int reach = Small.NumLayers * (window - 1), n = reach + 12;
        int[] a = Enumerable.Range(0, n).Select(i => (i * 61 + 9) % Small.VocabSize).ToArray(), b = (int[])a.Clone();
        b[0] = (a[0] + 1) % Small.VocabSize;
        float[][] la = RunTokens(model, a, chunk: 1), lb = RunTokens(model, b, chunk: 1);
        for (int p = 0; p < n; p++)
            if (p <= reach) Assert.False(la[p].AsSpan().SequenceEqual(lb[p]), $"position {p}: token 0 is in reach but the logits are equal");
            else Assert.True(la[p].AsSpan().SequenceEqual(lb[p]), $"position {p}: token 0 is out of reach but the logits differ");
        float[][] chunked = RunTokens(model, b, chunk: n - 3);
        Assert.Equal(lb[n - 4], chunked[n - 4]);
        using LoadedModel full = SyntheticModel.Create(Small, TensorDType.BF16, seed: 13);
        Assert.False(RunTokens(full, a, chunk: n)[n - 1].AsSpan().SequenceEqual(RunTokens(full, b, chunk: n)[n - 1]));
    }

    /// <summary>
    /// A window of one position: each head's attention output is its own value row (softmax over one score is exactly
    /// 1), whatever the position, so the logits after token x at any position are those of x alone at position 0.
    /// </summary>
    [Fact]
    public void SlidingWindowOfOne_GivesEachTokenItsLogitsAlone()
    {
        using LoadedModel model = SyntheticModel.Create(Small with { SlidingWindow = 1 }, TensorDType.BF16, seed: 17);
        int[] tokens = Enumerable.Range(0, 20).Select(i => (i * 97 + 4) % Small.VocabSize).ToArray();
        float[][] seq = RunTokens(model, tokens, chunk: 1);
        for (int p = 0; p < tokens.Length; p += 3)
            Assert.Equal(RunTokens(model, [tokens[p]], chunk: 1)[0], seq[p]);
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
    public void WholeForwardPass_OnAHandBuiltModel()
    {
        // dim 2, one head, tied embeddings E = [[1, 1], [2, 0]], eps 0. q, k, gate, up, down are zero, so every
        // attention score is equal and the MLP adds nothing; v = its bias (3, -1) at every position, o = identity.
        // Token 0 at position 0: x = (1, 1) + (3, -1) = (4, 0); rmsnorm → (4, 0) / √8 = (√2, 0);
        // logits = E · (√2, 0) = (√2, 2√2). Then token 1 at position 1: x = (2, 0) + (3, -1) = (5, -1);
        // rmsnorm → (5, -1) / √13; logits = (4/√13, 10/√13).
        ModelConfig c = new()
        {
            Architecture = "qwen2",
            HiddenSize = 2,
            IntermediateSize = 1,
            NumLayers = 1,
            NumHeads = 1,
            NumKvHeads = 1,
            VocabSize = 2,
            MaxSequenceLength = 4,
            RmsNormEps = 0,
            TiedEmbeddings = true,
            AttentionBias = true,
            RopeStyle = RopeStyle.Interleaved,
        };
        Dictionary<string, float[]> values = new()
        {
            [TensorNames.Embedding] = [1, 1, 2, 0],
            [TensorNames.AttnNorm(0)] = [1, 1],
            [TensorNames.Q(0)] = [0, 0, 0, 0],
            [TensorNames.K(0)] = [0, 0, 0, 0],
            [TensorNames.V(0)] = [0, 0, 0, 0],
            [TensorNames.QBias(0)] = [0, 0],
            [TensorNames.KBias(0)] = [0, 0],
            [TensorNames.VBias(0)] = [3, -1],
            [TensorNames.O(0)] = [1, 0, 0, 1],
            [TensorNames.MlpNorm(0)] = [1, 1],
            [TensorNames.Gate(0)] = [0, 0],
            [TensorNames.Up(0)] = [0, 0],
            [TensorNames.Down(0)] = [0, 0],
            [TensorNames.FinalNorm] = [1, 1],
        };
        Dictionary<string, long[]> shapes = new()
        {
            [TensorNames.Embedding] = [2, 2],
            [TensorNames.Q(0)] = [2, 2],
            [TensorNames.K(0)] = [2, 2],
            [TensorNames.V(0)] = [2, 2],
            [TensorNames.O(0)] = [2, 2],
            [TensorNames.Gate(0)] = [1, 2],
            [TensorNames.Up(0)] = [1, 2],
            [TensorNames.Down(0)] = [2, 1],
        };
        Dictionary<string, ModelTensor> tensors = [];
        List<IDisposable> owned = [];
        foreach ((string name, float[] v) in values)
        {
            NativeBuffer b = NativeBuffer.CopyOf(System.Runtime.InteropServices.MemoryMarshal.AsBytes(v.AsSpan()));
            owned.Add(b);
            tensors[name] = new ModelTensor(name, TensorDType.F32, shapes.GetValueOrDefault(name, [v.Length]), b, 0, b.Length);
        }
        using LoadedModel model = new("hand-built", "test", c, tensors, null, owned);
        using CpuSession session = new(model, new SessionOptions { Threads = 1 });
        float[] logits = new float[2];
        session.Forward([0], 0, logits);
        Assert.Equal(Math.Sqrt(2), logits[0], 5);
        Assert.Equal(2 * Math.Sqrt(2), logits[1], 5);
        session.Forward([1], 1, logits);
        Assert.Equal(4 / Math.Sqrt(13), logits[0], 5);
        Assert.Equal(10 / Math.Sqrt(13), logits[1], 5);
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
