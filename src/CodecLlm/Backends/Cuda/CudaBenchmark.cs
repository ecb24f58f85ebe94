using System.Diagnostics;
using CodecLlm.Engine;
using CodecLlm.Model;

namespace CodecLlm.Backends.Cuda;

/// <summary>One model variant measured on the GPU.</summary>
public sealed record CudaBenchRun(
    string Name,
    long CompressedWeightBytes,
    long DecodedWeightBytes,
    DeviceMemoryReport Memory,
    double PrefillTokensPerSecond,
    double DecodeTokensPerSecond,
    double DecodeStepGpuMsMedian,
    bool? LogitsBitIdentical,
    int? FirstMismatchStep,
    int Batch = 1,
    int? FirstMismatchSequence = null);

/// <summary>
/// Measures prefill and decode speed and peak device memory of a model variant on one GPU, and checks its
/// logits against a reference variant at every step (same prompt, the reference's greedy tokens).
/// Timing: warm-up, then <c>repeats</c> full runs; prefill and decode tok/s are the medians of the
/// wall-clock rates (each decode step synchronises: the rate a generator sees), the GPU step time is
/// the median over all steps of CUDA-event times.
/// </summary>
public static class CudaBenchmark
{
    public sealed class Reference
    {
        public required int[] Tokens { get; init; }
        public required List<float[]> Logits { get; init; }
    }

    public static int[] Prompt(ModelConfig c, int n) => Prompt(c, n, 0);

    /// <summary>The pseudo-random prompt of sequence <paramref name="seq"/> of a batch (sequence 0's is <see cref="Prompt(ModelConfig, int)"/>).</summary>
    public static int[] Prompt(ModelConfig c, int n, int seq)
    {
        int[] p = new int[n];
        p[0] = c.BosTokenId;
        for (int i = 1; i < n; i++) p[i] = (int)((i * 2654435761L + 12345 + seq * 1000003L) % c.VocabSize);
        return p;
    }

    /// <summary>A batched run's greedy tokens [sequence][step] and logits [sequence][step] (step 0: after the prompt).</summary>
    public sealed class BatchReference
    {
        public required int[][] Tokens { get; init; }
        public required List<float[]>[] Logits { get; init; }
    }

    /// <summary>
    /// <see cref="Measure"/> for <paramref name="batch"/> sequences decoded together: different prompts of
    /// <paramref name="promptTokens"/> each, prefilled one by one, then <paramref name="newTokens"/> lockstep greedy steps
    /// (<see cref="CudaSession.ForwardGreedyBatch"/>). Prefill tok/s counts every sequence's prompt; decode tok/s is
    /// batch × steps / time; the GPU step time is one batched step's. Logits are checked for every sequence at every step.
    /// </summary>
    public static CudaBenchRun MeasureBatch(string name, CudaBackend backend, LoadedModel model, SessionOptions options, int batch, int promptTokens,
        int newTokens, int repeats, ref BatchReference? reference)
    {
        CudaContext ctx = backend.Context;
        ctx.Synchronize();
        ctx.Allocator.ResetPeak();
        using CudaSession s = backend.CreateCudaSession(model, options with { MaxBatch = batch });
        int vocab = model.Config.VocabSize;
        int[][] prompts = Enumerable.Range(0, batch).Select(b => Prompt(model.Config, promptTokens, b)).ToArray();

        // Verification pass (untimed): every sequence's logits at every step against the reference, or record them.
        float[] logits = new float[vocab], all = new float[batch * vocab];
        var seen = Enumerable.Range(0, batch).Select(_ => new List<float[]>()).ToArray();
        var tokens = Enumerable.Range(0, batch).Select(_ => new int[newTokens]).ToArray();
        for (int b = 0; b < batch; b++)
        {
            s.Prefill(b, prompts[b], 0, logits);
            seen[b].Add((float[])logits.Clone());
        }
        int[] step = new int[batch], pos = new int[batch], next = new int[batch];
        for (int i = 0; i < newTokens; i++)
        {
            for (int b = 0; b < batch; b++)
            {
                tokens[b][i] = reference?.Tokens[b][i] ?? Sampler.Argmax(seen[b][^1]);
                step[b] = tokens[b][i];
                pos[b] = promptTokens + i;
            }
            s.ForwardGreedyBatch(step, pos, next, all);
            for (int b = 0; b < batch; b++) seen[b].Add(all.AsSpan(b * vocab, vocab).ToArray());
        }
        bool? identical = null;
        int? mismatchStep = null, mismatchSeq = null;
        if (reference != null)
        {
            for (int i = 0; i <= newTokens && mismatchStep == null; i++)
                for (int b = 0; b < batch && mismatchStep == null; b++)
                    if (!seen[b][i].AsSpan().SequenceEqual(reference.Logits[b][i])) (mismatchStep, mismatchSeq) = (i, b);
            identical = mismatchStep == null;
        }
        else
        {
            reference = new BatchReference { Tokens = tokens, Logits = seen };
        }

        var (prefillRate, decodeRate, stepMs) = Time(ctx, s.Stream, repeats, batch * promptTokens, batch * newTokens, newTokens,
            prefill: () =>
            {
                for (int b = 0; b < batch; b++) s.Prefill(b, prompts[b], 0, logits);
                for (int b = 0; b < batch; b++) step[b] = newTokens > 0 ? tokens[b][0] : 0;
            },
            decodeStep: i =>
            {
                for (int b = 0; b < batch; b++) pos[b] = promptTokens + i;
                s.ForwardGreedyBatch(step, pos, next, default);
                next.CopyTo(step);
            });
        var (compressed, decoded) = s.CompressedWeightBytes;
        return new CudaBenchRun(name, compressed, decoded, ctx.Allocator.Report(), prefillRate, decodeRate, stepMs, identical, mismatchStep, batch, mismatchSeq);
    }

    public static CudaBenchRun Measure(string name, CudaBackend backend, LoadedModel model, SessionOptions options, int promptTokens, int newTokens,
        int repeats, ref Reference? reference)
    {
        CudaContext ctx = backend.Context;
        ctx.Synchronize();
        ctx.Allocator.ResetPeak();
        using CudaSession s = backend.CreateCudaSession(model, options);
        int vocab = model.Config.VocabSize;
        int[] prompt = Prompt(model.Config, promptTokens);

        // Verification pass (untimed): logits at every step against the reference, or record them.
        float[] logits = new float[vocab];
        var seen = new List<float[]>();
        var tokens = new int[newTokens];
        s.Forward(prompt, 0, logits);
        seen.Add((float[])logits.Clone());
        for (int i = 0; i < newTokens; i++)
        {
            tokens[i] = reference?.Tokens[i] ?? Sampler.Argmax(logits);
            s.Forward([tokens[i]], promptTokens + i, logits);
            seen.Add((float[])logits.Clone());
        }
        bool? identical = null;
        int? mismatch = null;
        if (reference != null)
        {
            for (int i = 0; i < seen.Count && mismatch == null; i++)
                if (!seen[i].AsSpan().SequenceEqual(reference.Logits[i])) mismatch = i;
            identical = mismatch == null;
        }
        else
        {
            reference = new Reference { Tokens = tokens, Logits = seen };
        }

        int token = 0;
        var (prefillRate, decodeRate, stepMs) = Time(ctx, s.Stream, repeats, promptTokens, newTokens, newTokens,
            prefill: () =>
            {
                s.Forward(prompt, 0, logits);
                token = tokens.Length > 0 ? tokens[0] : 0;
            },
            decodeStep: i => token = s.ForwardGreedy(token, promptTokens + i, default));
        KernelTimeline.Dump(ctx, name);
        var (compressed, decoded) = s.CompressedWeightBytes;
        return new CudaBenchRun(name, compressed, decoded, ctx.Allocator.Report(), prefillRate, decodeRate, stepMs, identical, mismatch);
    }

    /// <summary>
    /// A warm-up and <paramref name="repeats"/> timed runs of <paramref name="prefill"/> then <paramref name="steps"/> calls of
    /// <paramref name="decodeStep"/>, each step between two CUDA events (synchronised: the rate a generator sees). Returns the
    /// medians of the prefill rate (<paramref name="prefillTokens"/> per run), the decode rate (<paramref name="decodeTokens"/>
    /// per run) and the GPU time of one step.
    /// </summary>
    private static (double Prefill, double Decode, double StepMs) Time(CudaContext ctx, CudaStream stream, int repeats, int prefillTokens, int decodeTokens, int steps,
        Action prefill, Action<int> decodeStep)
    {
        using var e0 = new CudaEvent(ctx, timing: true);
        using var e1 = new CudaEvent(ctx, timing: true);
        var prefillRates = new List<double>();
        var decodeRates = new List<double>();
        var stepMs = new List<double>();
        for (int r = 0; r <= repeats; r++)
        {
            var clock = Stopwatch.StartNew();
            prefill();
            double prefillSeconds = clock.Elapsed.TotalSeconds;
            clock.Restart();
            for (int i = 0; i < steps; i++)
            {
                e0.Record(stream);
                decodeStep(i);
                e1.Record(stream);
                e1.Synchronize();
                if (r > 0) stepMs.Add(e1.ElapsedSince(e0));
            }
            double decodeSeconds = clock.Elapsed.TotalSeconds;
            if (r == 0) continue; // warm-up
            prefillRates.Add(prefillTokens / prefillSeconds);
            decodeRates.Add(decodeTokens / decodeSeconds);
        }
        return (Median(prefillRates), Median(decodeRates), Median(stepMs));
    }

    private static double Median(List<double> v)
    {
        if (v.Count == 0) return double.NaN;
        v.Sort();
        return v.Count % 2 == 1 ? v[v.Count / 2] : (v[v.Count / 2 - 1] + v[v.Count / 2]) / 2;
    }
}
