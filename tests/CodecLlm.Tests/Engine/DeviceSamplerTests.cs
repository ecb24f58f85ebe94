using CodecLlm.Engine;
using CodecLlm.Model;

namespace CodecLlm.Tests.Engine;

/// <summary>The Generator's device-sampling path (IDeviceSampler) against its host path, and Sampler's coin API.</summary>
public class DeviceSamplerTests
{
    /// <summary>Logits that depend on the position and the last token (a hash), over a 50-token vocabulary.</summary>
    private class NoisySession : IInferenceSession
    {
        public ModelConfig Config { get; } = new()
        {
            Architecture = "llama",
            HiddenSize = 4,
            IntermediateSize = 4,
            NumLayers = 1,
            NumHeads = 1,
            NumKvHeads = 1,
            VocabSize = 50,
            EosTokenIds = [2],
        };

        public string BackendName => "fake";

        public int MaxSequenceLength => 200;

        public int ForwardCalls { get; private set; }

        public void Forward(ReadOnlySpan<int> tokens, int startPos, Span<float> logits)
        {
            ForwardCalls++;
            int last = tokens[^1], pos = startPos + tokens.Length - 1;
            for (int i = 0; i < logits.Length; i++)
            {
                uint h = (uint)(i * 0x9E3779B1 ^ pos * 0x85EBCA77 ^ last * 0xC2B2AE3D);
                h ^= h >> 15;
                h *= 0x2C1B3C6D;
                h ^= h >> 13;
                logits[i] = (h % 1000) / 150f;
            }
            logits[2] = -100; // never EOS: the runs go to MaxTokens
        }

        public void Dispose() { }
    }

    /// <summary>Chooses "on the device" by the CPU algorithm; records the random numbers it was given.</summary>
    private sealed class DeviceSession : NoisySession, IDeviceSampler
    {
        public List<float> Coins { get; } = [];

        public int ForwardSample(ReadOnlySpan<int> tokens, int startPos, SamplingOptions sampling, float coin)
        {
            Coins.Add(coin);
            float[] logits = new float[Config.VocabSize];
            Forward(tokens, startPos, logits);
            return new Sampler(sampling).Sample(logits, coin);
        }
    }

    private static readonly ByteTokenizer Tokenizer = ByteTokenizer.FromStrings([.. Enumerable.Range(0, 50).Select(i => $"<{i}>")]);

    private static async Task<List<int>> Generate(IInferenceSession session, SamplingOptions sampling)
    {
        List<int> ids = [];
        GenerationOptions options = new() { MaxTokens = 40, Sampling = sampling };
        await foreach (GeneratedToken t in Generator.GenerateAsync(session, Tokenizer, [1, 5, 7], options, TestContext.Current.CancellationToken))
            ids.Add(t.TokenId);
        return ids;
    }

    [Theory]
    [InlineData(1.0f, 1.0f, 0)]
    [InlineData(0.8f, 0.9f, 0)]
    [InlineData(1.2f, 1.0f, 10)]
    [InlineData(1.0f, 0.7f, 20)]
    public async Task DevicePath_SameTokensAsHostPath_SameRandomNumbers(float temperature, float topP, int topK)
    {
        SamplingOptions sampling = new() { Temperature = temperature, TopP = topP, TopK = topK, Seed = 1234 };
        List<int> host = await Generate(new NoisySession(), sampling);
        DeviceSession device = new();
        List<int> onDevice = await Generate(device, sampling);

        Assert.Equal(40, host.Count);
        Assert.Equal(host, onDevice);
        // One random number per generated token, the seed's SamplerRandom sequence in order.
        SamplerRandom random = new(1234);
        Assert.Equal(Enumerable.Range(0, 40).Select(_ => random.NextSingle()), device.Coins);
        Assert.Equal(40, device.ForwardCalls); // the prompt once, then 39 decode steps; no extra Forward for logits
    }

    [Fact]
    public async Task Greedy_KeepsTheHostPath()
    {
        DeviceSession device = new();
        List<int> ids = await Generate(device, new SamplingOptions { Temperature = 0 });
        Assert.Equal(await Generate(new NoisySession(), new SamplingOptions { Temperature = 0 }), ids);
        Assert.Empty(device.Coins);
    }

    [Fact]
    public void SampleWithCoin_IsSampleWithTheSeedsNextNumber()
    {
        SamplingOptions sampling = new() { Temperature = 0.9f, TopP = 0.95f, TopK = 30, Seed = 77 };
        Sampler seeded = new(sampling), explicitCoins = new(sampling);
        SamplerRandom random = new(77);
        Random r = new(5);
        for (int step = 0; step < 200; step++)
        {
            float[] logits = [.. Enumerable.Range(0, 100).Select(_ => (float)(r.NextDouble() * 8))];
            Assert.Equal(seeded.Sample(logits), explicitCoins.Sample(logits, random.NextSingle()));
        }
        Assert.False(seeded.IsGreedy);
        Assert.True(new Sampler(sampling with { TopK = 1 }).IsGreedy);
    }

    [Fact]
    public void SampleWithCoin_WalksTheDistribution()
    {
        // probabilities 0.5, 0.25, 0.25 (logits ln 2, 0, 0): the coin's position in the cumulative sums decides.
        float[] logits = [MathF.Log(2), 0, 0];
        Sampler s = new(new SamplingOptions { Temperature = 1, Seed = 1 });
        Assert.Equal(0, s.Sample(logits, 0.49f));
        Assert.Equal(1, s.Sample(logits, 0.51f));
        Assert.Equal(2, s.Sample(logits, 0.76f));
        // top-p 0.5 keeps only token 0 (its mass reaches p alone)
        Sampler nucleus = new(new SamplingOptions { Temperature = 1, TopP = 0.5f, Seed = 1 });
        Assert.Equal(0, nucleus.Sample(logits, 0.99f));
    }
}
