using CodecLlm.Backends.Cpu;
using CodecLlm.Engine;
using CodecLlm.Formats;
using CodecLlm.Formats.Llama2c;
using CodecLlm.Model;
using CsCheck;

namespace CodecLlm.Tests.Engine;

/// <summary>
/// Token log probabilities (<see cref="TokenLogprobs"/>, <see cref="GenerationOptions.TopLogprobs"/>): hand-counted
/// distributions, probabilities that sum to one, and the generator's values against a log-softmax computed here from
/// the logits of a second session fed the same tokens.
/// </summary>
public class TokenLogprobsTests
{
    private static byte[] Id(int i) => [(byte)i];

    [Fact]
    public void HandCountedDistribution()
    {
        // exp: 1, 3, 1, 4 -> p = 1/9, 3/9, 1/9, 4/9; ids 0 and 2 tie: the lower first
        float[] logits = [0f, MathF.Log(3), 0f, MathF.Log(4)];
        TokenLogprobs lp = TokenLogprobs.Compute(logits, 1, 3, Id);
        Assert.Equal(1, lp.Chosen.TokenId);
        Assert.Equal(Math.Log(3.0 / 9), lp.Chosen.Logprob, 6);
        Assert.Equal([3, 1, 0], lp.Top.Select(c => c.TokenId));
        Assert.Equal(Math.Log(4.0 / 9), lp.Top[0].Logprob, 6);
        Assert.Equal(Math.Log(1.0 / 9), lp.Top[2].Logprob, 6);
        Assert.Equal([(byte)3], lp.Top[0].Bytes);
        Assert.Empty(TokenLogprobs.Compute(logits, 0, 0, Id).Top);
        Assert.Equal(4, TokenLogprobs.Compute(logits, 0, 20, Id).Top.Count); // no more alternatives than tokens
    }

    [Fact]
    public void LargeLogitsDoNotOverflow()
    {
        TokenLogprobs lp = TokenLogprobs.Compute([1000f, 0f, -1000f], 1, 2, Id);
        Assert.Equal(-1000, lp.Chosen.Logprob, 9);
        Assert.Equal(0, lp.Top[0].Logprob, 9);
        Assert.Equal([0, 1], lp.Top.Select(c => c.TokenId));
    }

    [Fact]
    public void OutOfRangeArgumentsThrow()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => TokenLogprobs.Compute([0f, 1f], 0, 21, Id));
        Assert.Throws<ArgumentOutOfRangeException>(() => TokenLogprobs.Compute([0f, 1f], 2, 1, Id));
    }

    [Fact]
    public void AllTokensProbabilitiesSumToOne_TopIsSortedAndHoldsTheChosen()
    {
        Gen.Int[1, 20].SelectMany(n => Gen.Float[-30f, 30f].Array[n].Select(Gen.Int[0, n - 1], (l, t) => (l, t))).Sample(c =>
        {
            TokenLogprobs lp = TokenLogprobs.Compute(c.l, c.t, c.l.Length, Id);
            Assert.Equal(1.0, lp.Top.Sum(x => Math.Exp(x.Logprob)), 9);
            for (int k = 1; k < lp.Top.Count; k++) Assert.True(lp.Top[k - 1].Logprob >= lp.Top[k].Logprob);
            Assert.Equal(lp.Chosen.Logprob, lp.Top.Single(x => x.TokenId == c.t).Logprob);
            Assert.Equal(c.l.Length, lp.Top.Select(x => x.TokenId).Distinct().Count());
        });
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(0.7f)] // sampled: the log probabilities are still the model's, not the tempered distribution's
    public async Task GeneratorReportsTheModelsLogSoftmax(float temperature)
    {
        using LoadedModel model = new Llama2cFormat().Load(TestPaths.Stories260KBin, new ModelLoadOptions());
        using IInferenceSession session = new CpuBackend().CreateSession(model, new SessionOptions());
        var tokenizer = model.RequireTokenizer();
        GenerationOptions options = new() { MaxTokens = 24, TopLogprobs = 3, Sampling = new SamplingOptions { Temperature = temperature, Seed = 7 } };
        GenerationResult result = new();
        List<GeneratedToken> tokens = [];
        await foreach (GeneratedToken t in Generator.GenerateAsync(session, tokenizer, "Once upon a time", options, TestContext.Current.CancellationToken, result))
            tokens.Add(t);
        Assert.Equal(24, tokens.Count);

        // The same tokens through a second session; the log-softmax of each step's logits computed here, in double.
        using IInferenceSession check = new CpuBackend().CreateSession(model, new SessionOptions());
        float[] logits = new float[model.Config.VocabSize];
        check.Forward(result.PromptIds.ToArray(), 0, logits);
        int pos = result.PromptIds.Count, previous = result.PromptIds[^1];
        foreach (GeneratedToken t in tokens)
        {
            double max = logits.Max(), lse = max + Math.Log(logits.Sum(l => Math.Exp(l - max)));
            TokenLogprobs lp = t.Logprobs!;
            Assert.Equal(t.TokenId, lp.Chosen.TokenId);
            Assert.Equal(logits[t.TokenId] - lse, lp.Chosen.Logprob, 9);
            Assert.Equal(tokenizer.GetTokenBytes(t.TokenId, previous), lp.Chosen.Bytes);
            int[] expectedTop = Enumerable.Range(0, logits.Length).OrderByDescending(i => logits[i]).ThenBy(i => i).Take(3).ToArray();
            Assert.Equal(expectedTop, lp.Top.Select(c => c.TokenId));
            if (temperature == 0) Assert.Equal(lp.Top[0].TokenId, t.TokenId);
            previous = t.TokenId;
            check.Forward([t.TokenId], pos++, logits);
        }
    }

    [Fact]
    public async Task WithoutTheOptionNoTokenCarriesLogprobs()
    {
        using LoadedModel model = new Llama2cFormat().Load(TestPaths.Stories260KBin, new ModelLoadOptions());
        using IInferenceSession session = new CpuBackend().CreateSession(model, new SessionOptions());
        await foreach (GeneratedToken t in Generator.GenerateAsync(session, model.RequireTokenizer(), "Once", new GenerationOptions { MaxTokens = 5 },
            TestContext.Current.CancellationToken))
            Assert.Null(t.Logprobs);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () =>
        {
            await foreach (GeneratedToken _ in Generator.GenerateAsync(session, model.RequireTokenizer(), "Once", new GenerationOptions { TopLogprobs = 21 },
                TestContext.Current.CancellationToken)) { }
        });
    }
}
