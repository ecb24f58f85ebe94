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

    [Fact]
    public async Task ConcurrentGenerationsEqualTheirSoloRunsAndShareSteps()
    {
        if (!File.Exists(TestPaths.Stories260KBin)) Assert.Skip("stories260K not present");
        using LoadedModel model = Stories();
        int[] maxTokens = [60, 25, 80, 40];  // they finish at different times; prompts of different lengths run between steps
        int[][] solo = await Solo(model, maxTokens);
        using var mux = new BatchedSessionMux(new CpuSession(model, new SessionOptions { Threads = 1, MaxBatch = 4 }));
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

    [Fact]
    public async Task ASequenceHeldIdleWhileOthersStepKeepsItsContext()
    {
        if (!File.Exists(TestPaths.Stories260KBin)) Assert.Skip("stories260K not present");
        using LoadedModel model = Stories();
        ITokenizer tok = model.RequireTokenizer();
        int[][] solo = await Solo(model, [30, 30, 30, 30]);
        using var mux = new BatchedSessionMux(new CpuSession(model, new SessionOptions { Threads = 1, MaxBatch = 2 }));
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
