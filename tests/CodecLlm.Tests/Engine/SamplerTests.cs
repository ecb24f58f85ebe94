using CodecLlm.Engine;

namespace CodecLlm.Tests.Engine;

public class SamplerTests
{
    [Fact]
    public void Greedy_PicksTheLowestIdAmongTies()
    {
        Sampler s = new(new SamplingOptions { Temperature = 0 });
        Assert.Equal(1, s.Sample([0.5f, 3f, -1f, 3f, 3f]));
        Assert.Equal(0, s.Sample([2f, 2f]));
    }

    [Fact]
    public void TopKOne_IsGreedyAtAnyTemperature()
    {
        Random rng = new(3);
        float[] logits = new float[300];
        for (int i = 0; i < logits.Length; i++) logits[i] = (float)rng.NextDouble();
        logits[17] = logits[250] = 5; // a tie at the top
        for (ulong seed = 0; seed < 20; seed++)
        {
            Sampler s = new(new SamplingOptions { Temperature = 1.5f, TopK = 1, Seed = seed });
            Assert.Equal(17, s.Sample(logits));
        }
    }

    [Fact]
    public void SameSeed_SameTokens_OtherSeed_OtherTokens()
    {
        float[] logits = new float[64]; // uniform: every draw is pure chance
        int[] Draw(ulong seed, float topP, int topK)
        {
            Sampler s = new(new SamplingOptions { Temperature = 1, Seed = seed, TopP = topP, TopK = topK });
            return Enumerable.Range(0, 50).Select(_ => s.Sample(logits)).ToArray();
        }
        foreach ((float p, int k) in new[] { (1f, 0), (0.9f, 0), (1f, 10), (0.5f, 20) })
        {
            Assert.Equal(Draw(42, p, k), Draw(42, p, k));
            Assert.NotEqual(Draw(42, p, k), Draw(43, p, k));
        }
    }

    [Fact]
    public void TopK_NeverLeavesTheKMostLikely()
    {
        float[] logits = [5, 0, 4.9f, 0, 4.8f, 0, 0, 0];
        Sampler s = new(new SamplingOptions { Temperature = 1, TopK = 3, Seed = 1 });
        HashSet<int> seen = [.. Enumerable.Range(0, 400).Select(_ => s.Sample(logits))];
        Assert.Equal([0, 2, 4], seen.Order());
    }

    [Fact]
    public void TopP_KeepsTheSmallestPrefixReachingP()
    {
        // probabilities 0.5, 0.3, 0.15, 0.05: p = 0.75 keeps {0, 1} (0.8 ≥ 0.75); {0} alone (0.5) does not reach it.
        float[] logits = [MathF.Log(0.5f), MathF.Log(0.3f), MathF.Log(0.15f), MathF.Log(0.05f)];
        Sampler s = new(new SamplingOptions { Temperature = 1, TopP = 0.75f, Seed = 9 });
        int[] counts = new int[4];
        for (int i = 0; i < 4000; i++) counts[s.Sample(logits)]++;
        Assert.Equal(0, counts[2] + counts[3]);
        Assert.InRange(counts[0] / 4000.0, 0.5 / 0.8 - 0.04, 0.5 / 0.8 + 0.04);
    }

    [Fact]
    public void Temperature_FollowsTheDistribution()
    {
        // logits ln(0.7), ln(0.2), ln(0.1) at temperature 1 → those probabilities.
        float[] logits = [MathF.Log(0.7f), MathF.Log(0.2f), MathF.Log(0.1f)];
        Sampler s = new(new SamplingOptions { Temperature = 1, Seed = 5 });
        int[] counts = new int[3];
        for (int i = 0; i < 10000; i++) counts[s.Sample(logits)]++;
        Assert.InRange(counts[0] / 10000.0, 0.67, 0.73);
        Assert.InRange(counts[2] / 10000.0, 0.085, 0.115);
    }

    [Fact]
    public void InvalidOptions_AreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sampler(new SamplingOptions { Temperature = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sampler(new SamplingOptions { TopP = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sampler(new SamplingOptions { TopK = -2 }));
    }
}
