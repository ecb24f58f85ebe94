using CodecLlm.Backends.Cpu;
using CodecLlm.Engine;
using CodecLlm.Formats;
using CodecLlm.Formats.Llama2c;
using CodecLlm.Model;
using CodecLlm.Tokenization;

namespace CodecLlm.Tests.Engine;

/// <summary>
/// Continuous batching: concurrent generations over one batched session generate exactly what each generates alone
/// (stories260K, greedy), with their decode steps actually shared, and a sequence held idle while others step keeps its
/// context intact.
/// </summary>
public class BatchedSessionMuxTests
{
    private static readonly string[] Prompts = ["Once upon a time", "The little dog", "Lily and Ben went to the park", "A big red ball"];

    private static LoadedModel Stories() => new Llama2cFormat().Load(TestPaths.Stories260KBin, new ModelLoadOptions());

    /// <summary>
    /// The CPU session seen as one that steps sequences 0..B-1 only (as the CUDA session does; the mux then uses
    /// placeholders), each batched step taking at least <paramref name="delay"/> (a step as long as a big model's, so
    /// that the other requests arrive while it runs: batching is then certain, not a matter of timing).
    /// </summary>
    private class PrefixOnly(CpuSession inner, TimeSpan delay) : IBatchedInferenceSession
    {
        protected CpuSession Inner => inner;

        protected TimeSpan Delay => delay;

        public ModelConfig Config => inner.Config;

        public string BackendName => inner.BackendName;

        public int MaxSequenceLength => inner.MaxSequenceLength;

        public int MaxBatch => inner.MaxBatch;

        public void Forward(ReadOnlySpan<int> tokens, int startPos, Span<float> logits) => inner.Forward(tokens, startPos, logits);

        public void Prefill(int seq, ReadOnlySpan<int> tokens, int startPos, Span<float> logits) => inner.Prefill(seq, tokens, startPos, logits);

        public void ForwardGreedyBatch(ReadOnlySpan<int> tokens, ReadOnlySpan<int> positions, Span<int> next, Span<float> logits)
        {
            Thread.Sleep(delay);
            inner.ForwardGreedyBatch(tokens, positions, next, logits);
        }

        public void Dispose() => inner.Dispose();
    }

    /// <summary>The same, stepping any subset of the sequences (as the CPU session does).</summary>
    private sealed class Subset(CpuSession inner, TimeSpan delay) : PrefixOnly(inner, delay), ISubsetBatchedInferenceSession
    {
        public void ForwardGreedyBatch(ReadOnlySpan<int> sequences, ReadOnlySpan<int> tokens, ReadOnlySpan<int> positions, Span<int> next, Span<float> logits)
        {
            Thread.Sleep(Delay);
            Inner.ForwardGreedyBatch(sequences, tokens, positions, next, logits);
        }
    }

    private static IBatchedInferenceSession Batched(LoadedModel model, int sequences, bool prefixOnly, TimeSpan delay = default)
    {
        var s = new CpuSession(model, new SessionOptions { Threads = 1, MaxBatch = sequences });
        return prefixOnly ? new PrefixOnly(s, delay) : new Subset(s, delay);
    }

    private static async Task<int[]> Generate(IInferenceSession session, ITokenizer tokenizer, string prompt, int maxTokens)
    {
        var ids = new List<int>();
        GenerationOptions options = new() { MaxTokens = maxTokens, Sampling = new SamplingOptions { Temperature = 0 } };
        await foreach (GeneratedToken t in Generator.GenerateAsync(session, tokenizer, prompt, options, TestContext.Current.CancellationToken))
            if (t.TokenId >= 0) ids.Add(t.TokenId);
        return [.. ids];
    }

    private static async Task<int[][]> Solo(LoadedModel model, int[] maxTokens)
    {
        using var s = new CpuSession(model, new SessionOptions { Threads = 1 });
        var outs = new int[Prompts.Length][];
        for (int i = 0; i < Prompts.Length; i++) outs[i] = await Generate(s, model.RequireTokenizer(), Prompts[i], maxTokens[i]);
        return outs;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ConcurrentGenerationsEqualTheirSoloRunsAndShareSteps(bool prefixOnly)
    {
        if (!File.Exists(TestPaths.Stories260KBin)) Assert.Skip("stories260K not present");
        using LoadedModel model = Stories();
        int[] maxTokens = [60, 25, 80, 40];  // they finish at different times; prompts of different lengths run between steps
        int[][] solo = await Solo(model, maxTokens);
        using var mux = new BatchedSessionMux(Batched(model, 4, prefixOnly, TimeSpan.FromMilliseconds(4)));
        var start = new Barrier(Prompts.Length);
        int[][] together = await Task.WhenAll(Prompts.Select((p, i) => Task.Run(async () =>
        {
            using BatchedSessionMux.Sequence seq = mux.TryRent()!;
            start.SignalAndWait(TestContext.Current.CancellationToken);  // all in use before the first prompt runs
            return await Generate(seq, model.RequireTokenizer(), p, maxTokens[i]);
        })));
        for (int i = 0; i < Prompts.Length; i++) Assert.Equal(solo[i], together[i]);
        (long steps, long sequenceSteps) = mux.Counts;
        Assert.True(sequenceSteps > 1.2 * steps, $"{sequenceSteps} sequence steps in {steps} batched steps: decode steps were not shared");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]  // the sequence held idle gets placeholder steps
    public async Task ASequenceHeldIdleWhileOthersStepKeepsItsContext(bool prefixOnly)
    {
        if (!File.Exists(TestPaths.Stories260KBin)) Assert.Skip("stories260K not present");
        using LoadedModel model = Stories();
        ITokenizer tok = model.RequireTokenizer();
        int[][] solo = await Solo(model, [30, 30, 30, 30]);
        using var mux = new BatchedSessionMux(Batched(model, 2, prefixOnly));
        // b is sequence 1, so with prefix-only steps every b step also steps a (sequence 0)
        using BatchedSessionMux.Sequence a = mux.TryRent()!, b = mux.TryRent()!;
        Assert.Null(mux.TryRent());
        // a runs its prompt, then idles (in use, not stepping) while b generates: every b step also steps a with a
        // placeholder at the position a writes next.
        int[] promptA = [.. tok.Encode(Prompts[0], tok.AddBos)];
        var logits = new float[model.Config.VocabSize];
        a.Forward(promptA, 0, logits);
        Assert.Equal(solo[1], await Generate(b, tok, Prompts[1], 30));
        // a continues from where it was: the same tokens as alone
        var ids = new List<int>();
        int pos = promptA.Length;
        for (int i = 0; i < 30; i++)
        {
            int next = Sampler.Argmax(logits);
            if (model.Config.EosTokenIds.Contains(next) || tok.EosTokenIds.Contains(next)) break;
            ids.Add(next);
            a.Forward([next], pos++, logits);
        }
        Assert.Equal(solo[0], ids.ToArray());
    }
}
