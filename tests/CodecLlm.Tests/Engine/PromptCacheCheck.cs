using CodecLlm.Engine;
using CodecLlm.Model;
using CodecLlm.Tokenization;

namespace CodecLlm.Tests.Engine;

/// <summary>
/// Prompt caching against running the whole prompt, on any backend: a session that keeps its
/// <see cref="KvCacheContents"/> runs a first prompt, then a second; a fresh session runs the second prompt alone.
/// The recorder below sees every forward pass (its start position, its tokens, the logits it returned).
/// </summary>
internal static class PromptCacheCheck
{
    /// <summary>An <see cref="IInferenceSession"/> that records each Forward call and copies the logits it returns.</summary>
    public sealed class Recorder(IInferenceSession inner) : IInferenceSession
    {
        public List<(int StartPos, int[] Tokens, float[] Logits)> Calls { get; } = [];

        public ModelConfig Config => inner.Config;

        public string BackendName => inner.BackendName;

        public int MaxSequenceLength => inner.MaxSequenceLength;

        public void Forward(ReadOnlySpan<int> tokens, int startPos, Span<float> logits)
        {
            inner.Forward(tokens, startPos, logits);
            Calls.Add((startPos, tokens.ToArray(), logits[..Config.VocabSize].ToArray()));
        }

        public void Dispose() => inner.Dispose();
    }

    /// <summary>One greedy generation of <paramref name="prompt"/> (ids) through the recorder, with or without a cache.</summary>
    public static async Task<GenerationResult> Generate(Recorder session, ITokenizer tokenizer, IReadOnlyList<int> prompt, int maxTokens,
        KvCacheContents? cache)
    {
        GenerationResult result = new();
        GenerationOptions options = new() { MaxTokens = maxTokens, Sampling = new SamplingOptions { Temperature = 0 } };
        await foreach (GeneratedToken _ in Generator.GenerateAsync(session, tokenizer, prompt, options, TestContext.Current.CancellationToken, result, cache)) { }
        return result;
    }

    /// <summary>
    /// <paramref name="first"/> then <paramref name="second"/> in the warm session (keeping its cache contents), and
    /// <paramref name="second"/> alone in the cold one (no cache). Returns the second generation of each and the
    /// number of tokens the warm one took from its cache; checks that its prefill started there and ran the rest.
    /// </summary>
    public static async Task<(GenerationResult Warm, GenerationResult Cold, int Cached, List<float[]> WarmLogits, List<float[]> ColdLogits)> Run(
        Recorder warm, Recorder cold, ITokenizer tokenizer, IReadOnlyList<int> first, IReadOnlyList<int> second, int maxTokens)
    {
        KvCacheContents cache = new();
        GenerationResult a = await Generate(warm, tokenizer, first, maxTokens, cache);
        // What the cache holds now: the first prompt and every generated token that was fed back.
        List<int> fed = [.. first, .. a.TokenIds];
        Assert.Equal(fed.Take(cache.Count), cache.Tokens);
        Assert.True(cache.Count >= first.Count, $"the cache holds {cache.Count} tokens, the first prompt {first.Count}");
        // exactly what the forward passes ran, from position 0 on
        Assert.Equal(0, warm.Calls[0].StartPos);
        Assert.Equal(warm.Calls.SelectMany(c => c.Tokens), cache.Tokens);
        Assert.Equal(first.Count, cache.PromptLength);

        int expected = 0;
        while (expected < Math.Min(cache.Count, second.Count - 1) && cache.Tokens[expected] == second[expected]) expected++;
        warm.Calls.Clear();
        cold.Calls.Clear();
        GenerationResult w = await Generate(warm, tokenizer, second, maxTokens, cache);
        GenerationResult c = await Generate(cold, tokenizer, second, maxTokens, null);

        Assert.Equal(expected, w.Stats!.CachedPromptTokens);
        Assert.Equal(0, c.Stats!.CachedPromptTokens);
        Assert.Equal(expected, warm.Calls[0].StartPos);
        Assert.Equal(second.Skip(expected), warm.Calls[0].Tokens);
        return (w, c, expected, warm.Calls.Select(x => x.Logits).ToList(), cold.Calls.Select(x => x.Logits).ToList());
    }
}
