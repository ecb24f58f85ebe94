using CodecLlm.Backends.Cpu;
using CodecLlm.Engine;
using CodecLlm.Formats;
using CodecLlm.Formats.Llama2c;
using CodecLlm.Model;
using CodecLlm.Tokenization;
using CsCheck;

namespace CodecLlm.Tests.Engine;

/// <summary>
/// Prompt caching (<see cref="KvCacheContents"/>, <see cref="Generator"/>): a prompt that starts with what the session's
/// cache holds runs only the rest, and on the CPU gives the logits of running the whole prompt, bit for bit (the
/// reference: a fresh session that runs it all).
/// </summary>
public class PromptCacheTests
{
    private static LoadedModel Stories260K() => new Llama2cFormat().Load(TestPaths.Stories260KBin, new ModelLoadOptions { TokenizerPath = TestPaths.Stories260KTokenizer });

    private static PromptCacheCheck.Recorder Cpu(LoadedModel model) => new(new CpuBackend().CreateSession(model, new SessionOptions { MaxSequenceLength = 256, Threads = 2 }));

    [Fact]
    public void ReusablePrefix_IsTheCommonPrefix_NeverTheWholePrompt()
    {
        KvCacheContents c = new();
        Assert.Equal(0, c.ReusablePrefix([1, 2, 3]));
        c.Append([1, 2, 3, 4]);
        Assert.Equal(2, c.ReusablePrefix([1, 2, 9, 4]));
        Assert.Equal(4, c.ReusablePrefix([1, 2, 3, 4, 5]));
        Assert.Equal(3, c.ReusablePrefix([1, 2, 3, 4]));  // the whole prompt cached: its last token runs again (its logits are needed)
        Assert.Equal(1, c.ReusablePrefix([1, 2]));
        Assert.Equal(0, c.ReusablePrefix([1]));
        Assert.Equal(0, c.ReusablePrefix([7, 2, 3, 4, 5]));
        c.MarkPrompt();
        Assert.Equal(4, c.PromptLength);
        c.Truncate(2);
        Assert.Equal([1, 2], c.Tokens);
        Assert.Equal(2, c.PromptLength);
        c.Clear();
        Assert.Equal(0, c.Count);
    }

    [Fact]
    public async Task NextTurn_RunsOnlyWhatItAdds_AndGivesTheWholePromptsLogitsBitForBit()
    {
        using LoadedModel model = Stories260K();
        ITokenizer tok = model.RequireTokenizer();
        using PromptCacheCheck.Recorder warm = Cpu(model), cold = Cpu(model);
        IReadOnlyList<int> first = tok.Encode("Once upon a time, there was a little girl named Lily.", true);
        // The first turn's generation is known only after it runs: the next prompt is its prompt, its text and more.
        GenerationResult a;
        using (PromptCacheCheck.Recorder probe = Cpu(model)) a = await PromptCacheCheck.Generate(probe, tok, first, 20, null);
        List<int> second = [.. first, .. a.TokenIds, .. tok.Encode(" She liked to play.", false)];

        var (w, c, cached, wl, cl) = await PromptCacheCheck.Run(warm, cold, tok, first, second, 20);
        Assert.True(cached >= first.Count + 19, $"{cached} tokens from the cache");  // the prompt and the 19 generated tokens fed back
        Assert.Equal(c.TokenIds, w.TokenIds);
        Assert.Equal(c.Text, w.Text);
        Assert.Equal(cl.Count, wl.Count);
        for (int i = 0; i < cl.Count; i++) AssertBits(cl[i], wl[i]);  // every step
    }

    [Fact]
    public async Task AnyPromptAfterAnyOther_GivesTheWholePromptsLogitsBitForBit()
    {
        using LoadedModel model = Stories260K();
        ITokenizer tok = model.RequireTokenizer();
        int vocab = model.Config.VocabSize;
        Gen<int[]> tokens = Gen.Int[3, vocab - 1].Array[0, 24];
        // A shared start, then two continuations (the second prompt may also be a prefix of the first, or equal it).
        await Gen.Select(tokens, tokens, tokens, Gen.Int[1, 6]).SampleAsync(async x =>
        {
            var (shared, rest1, rest2, steps) = x;
            int[] first = [1, .. shared, .. rest1], second = [1, .. shared, .. rest2];
            using PromptCacheCheck.Recorder warm = Cpu(model), cold = Cpu(model);
            var (w, c, cached, wl, cl) = await PromptCacheCheck.Run(warm, cold, tok, first, second, steps);
            Assert.True(cached >= Math.Min(1 + shared.Length, second.Length - 1));
            Assert.Equal(c.TokenIds, w.TokenIds);
            Assert.Equal(cl.Count, wl.Count);
            for (int i = 0; i < cl.Count; i++) AssertBits(cl[i], wl[i]);
        }, iter: 25, threads: 1);
    }

    [Fact]
    public async Task AfterAFailedPass_ACancelledOne_OrAnAbandonedOne_TheNextGenerationGivesTheWholePromptsLogits()
    {
        using LoadedModel model = Stories260K();
        ITokenizer tok = model.RequireTokenizer();
        KvCacheContents cache = new();
        using PromptCacheCheck.Recorder s = Cpu(model), fresh = Cpu(model);
        int[] first = [1, 40, 41, 42, 43];
        await PromptCacheCheck.Generate(s, tok, first, 3, cache);
        Assert.Equal(first.Length + 2, cache.Count);  // the third generated token is not fed back

        // A pass the session refuses (a token outside the vocabulary): the contents keep what it would have overwritten from.
        int[] bad = [1, 40, 41, model.Config.VocabSize];
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await PromptCacheCheck.Generate(s, tok, bad, 3, cache));
        Assert.Equal([1, 40, 41], cache.Tokens);
        await AssertNextMatchesFresh([1, 40, 41, 50, 51, 52]);

        // A generation cancelled after its fourth token, and one whose consumer stops after two.
        GenerationOptions greedy = new() { MaxTokens = 20, Sampling = new SamplingOptions { Temperature = 0 } };
        using (CancellationTokenSource cts = new())
        {
            int n = 0;
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            {
                await foreach (GeneratedToken _ in Generator.GenerateAsync(s, tok, [1, 60, 61, 62], greedy, cts.Token, null, cache))
                    if (++n == 4) cts.Cancel();
            });
            Assert.Equal(4 + 4, cache.Count);  // the prompt and the four tokens yielded: the fourth is fed before the cancel is seen
        }
        await AssertNextMatchesFresh([1, 60, 61, 62, .. cache.Tokens.Skip(4), 70, 71]);
        await foreach (GeneratedToken _ in Generator.GenerateAsync(s, tok, [1, 80, 81], greedy, TestContext.Current.CancellationToken, null, cache))
            break;
        Assert.Equal([1, 80, 81], cache.Tokens);  // the first token was sampled, never fed back
        await AssertNextMatchesFresh([1, 80, 81, 90]);

        async Task AssertNextMatchesFresh(int[] prompt)
        {
            int expected = cache.ReusablePrefix(prompt);
            s.Calls.Clear();
            fresh.Calls.Clear();
            GenerationResult w = await PromptCacheCheck.Generate(s, tok, prompt, 6, cache);
            GenerationResult c;
            using (PromptCacheCheck.Recorder f = Cpu(model)) { c = await PromptCacheCheck.Generate(f, tok, prompt, 6, null); fresh.Calls.AddRange(f.Calls); }
            Assert.Equal(expected, w.Stats!.CachedPromptTokens);
            Assert.True(expected > 0);
            Assert.Equal(c.TokenIds, w.TokenIds);
            Assert.Equal(fresh.Calls.Count, s.Calls.Count);
            for (int i = 0; i < s.Calls.Count; i++) AssertBits(fresh.Calls[i].Logits, s.Calls[i].Logits);
        }
    }

    /// <summary>Two logits vectors, bit for bit.</summary>
    internal static void AssertBits(float[] expected, float[] actual) =>
        Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), actual.Select(BitConverter.SingleToInt32Bits));
}
