using CodecLlm.Backends.Cuda;
using CodecLlm.Engine;
using CodecLlm.Formats;
using CodecLlm.Formats.Llama2c;
using CodecLlm.Model;
using CodecLlm.Tests.Engine;
using CodecLlm.Tokenization;

namespace CodecLlm.Tests.Backends.Cuda;

/// <summary>
/// Prompt caching on the GPU (the CPU's test: <see cref="PromptCacheTests"/>): a next turn runs only what it adds and
/// generates what the whole prompt run in a fresh session generates. Cached keys and values written by decode steps
/// differ in their last bits from a prefill's, so the logits are compared within a tolerance; a `fixed` model and the
/// uncompressed one, each with its cache, stay bit-identical to each other at every step.
/// </summary>
[Collection("gpu")]
public class CudaPromptCacheTests
{
    [Theory]
    [InlineData("f32")]
    [InlineData("bf16")]
    public async Task NextTurn_RunsOnlyWhatItAdds_AndMatchesTheWholePrompt(string kv)
    {
        GpuTest.Context();
        if (!File.Exists(TestPaths.Stories260KBin)) Assert.Skip("stories260K not present");
        using LoadedModel model = new Llama2cFormat().Load(TestPaths.Stories260KBin, new ModelLoadOptions { TokenizerPath = TestPaths.Stories260KTokenizer });
        using LoadedModel packed = InMemoryCompression.Compress(model, "fixed");
        ITokenizer tok = model.RequireTokenizer();
        using var backend = new CudaBackend(new CudaBackendOptions { PrefillChunk = 16 });
        SessionOptions options = new() { KvCacheType = kv, MaxSequenceLength = 256 };
        PromptCacheCheck.Recorder Session(LoadedModel m) => new(backend.CreateCudaSession(m, options));

        IReadOnlyList<int> first = tok.Encode("Once upon a time, there was a little girl named Lily.", true);
        GenerationResult a;
        using (PromptCacheCheck.Recorder probe = Session(model)) a = await PromptCacheCheck.Generate(probe, tok, first, 30, null);
        List<int> second = [.. first, .. a.TokenIds, .. tok.Encode(" She liked to play.", false)];

        List<float[]>? uncompressedWarm = null;
        foreach (LoadedModel m in new[] { model, packed })
        {
            using PromptCacheCheck.Recorder warm = Session(m), cold = Session(m);
            var (w, c, cached, wl, cl) = await PromptCacheCheck.Run(warm, cold, tok, first, second, 30);
            Assert.True(cached >= first.Count + 29, $"{cached} tokens from the cache");
            Assert.Equal(c.TokenIds, w.TokenIds);
            double worst = 0;
            for (int i = 0; i < cl.Count; i++) worst = Math.Max(worst, GpuTest.RelErr(wl[i], cl[i]));
            Assert.True(worst < 1e-4, $"{m.Format}: max relative logit difference, cached against whole prompt, {worst:E2}");
            Console.WriteLine($"prompt cache, {kv} {(m == model ? "uncompressed" : "fixed")}: {cached} cached, max rel diff against the whole prompt {worst:E2}");
            if (uncompressedWarm == null) uncompressedWarm = wl;
            else
                for (int i = 0; i < wl.Count; i++) PromptCacheTests.AssertBits(uncompressedWarm[i], wl[i]);  // compressed == uncompressed, cache and all
        }
    }

    /// <summary>
    /// Sampled turns (temperature, top-p, a seed) take the session's device sampler (<see cref="IDeviceSampler"/>): the
    /// second turn's prefill starts after the cached tokens there too, and draws what a fresh session draws.
    /// </summary>
    [Fact]
    public async Task SampledTurnsOnTheDeviceSampler_StartAfterTheCache_AndDrawWhatAFreshSessionDraws()
    {
        GpuTest.Context();
        if (!File.Exists(TestPaths.Stories260KBin)) Assert.Skip("stories260K not present");
        using LoadedModel model = new Llama2cFormat().Load(TestPaths.Stories260KBin, new ModelLoadOptions { TokenizerPath = TestPaths.Stories260KTokenizer });
        ITokenizer tok = model.RequireTokenizer();
        using var backend = new CudaBackend(new CudaBackendOptions());
        SessionOptions options = new() { KvCacheType = "f32", MaxSequenceLength = 256 };
        using CudaSession warm = backend.CreateCudaSession(model, options), cold = backend.CreateCudaSession(model, options);
        Assert.IsAssignableFrom<IDeviceSampler>(warm);
        static GenerationOptions Sampled(ulong seed) => new() { MaxTokens = 30, Sampling = new SamplingOptions { Temperature = 0.9f, TopP = 0.95f, Seed = seed } };
        async Task<GenerationResult> Generate(IInferenceSession s, IReadOnlyList<int> prompt, ulong seed, KvCacheContents? cache)
        {
            GenerationResult r = new();
            await foreach (GeneratedToken _ in Generator.GenerateAsync(s, tok, prompt, Sampled(seed), TestContext.Current.CancellationToken, r, cache)) { }
            return r;
        }

        KvCacheContents contents = new();
        IReadOnlyList<int> first = tok.Encode("Once upon a time, there was a little girl named Lily.", true);
        GenerationResult a = await Generate(warm, first, 5, contents);
        List<int> second = [.. first, .. a.TokenIds, .. tok.Encode(" She liked to play.", false)];
        int expected = contents.ReusablePrefix(second);
        Assert.True(expected >= first.Count + a.TokenIds.Count - 1, $"{expected} reusable");
        GenerationResult w = await Generate(warm, second, 7, contents), c = await Generate(cold, second, 7, null);
        Assert.Equal(expected, w.Stats!.CachedPromptTokens);
        Assert.Equal(c.TokenIds, w.TokenIds);
        Assert.Equal([.. second, .. w.TokenIds.SkipLast(1)], contents.Tokens.Take(second.Count + w.TokenIds.Count - 1));
    }
}
