using System.Diagnostics;
using CodecLlm.Model;

namespace CodecLlm.Engine;

/// <summary>Prefill and decode speed of a session, measured the same way on every backend.</summary>
public sealed record ThroughputResult(int PromptTokens, int NewTokens, TimeSpan PrefillTime, TimeSpan DecodeTime)
{
    public double PrefillTokensPerSecond => PromptTokens / PrefillTime.TotalSeconds;

    public double DecodeTokensPerSecond => NewTokens / DecodeTime.TotalSeconds;
}

public static class ThroughputBenchmark
{
    /// <summary>
    /// Warms up (the prompt and one decode step, then the cache is overwritten), runs a prompt of <paramref name="promptTokens"/>
    /// fixed pseudo-random ids in one Forward call, then decodes <paramref name="newTokens"/> greedy tokens
    /// one Forward call each. <paramref name="onLogits"/> sees the logits after the prompt and after each step.
    /// </summary>
    public static ThroughputResult Run(IInferenceSession session, int promptTokens, int newTokens, Action<int, float[]>? onLogits = null)
    {
        if (promptTokens < 1 || newTokens < 0 || promptTokens + newTokens > session.MaxSequenceLength)
            throw new CodecLlmException($"{promptTokens} prompt + {newTokens} new tokens do not fit the context of {session.MaxSequenceLength}");
        int vocab = session.Config.VocabSize;
        int[] prompt = new int[promptTokens];
        prompt[0] = session.Config.BosTokenId;
        for (int i = 1; i < promptTokens; i++) prompt[i] = (int)((i * 2654435761L + 12345) % vocab);
        float[] logits = new float[vocab];

        session.Forward(prompt, 0, logits); // warm-up: the same prompt, then positions 0.. are overwritten
        if (newTokens > 0) session.Forward(prompt.AsSpan(0, 1), promptTokens, logits);

        Stopwatch clock = Stopwatch.StartNew();
        session.Forward(prompt, 0, logits);
        TimeSpan prefill = clock.Elapsed;
        onLogits?.Invoke(promptTokens - 1, logits);

        int[] one = new int[1];
        clock.Restart();
        for (int i = 0; i < newTokens; i++)
        {
            one[0] = Sampler.Argmax(logits);
            session.Forward(one, promptTokens + i, logits);
            onLogits?.Invoke(promptTokens + i, logits);
        }
        return new ThroughputResult(promptTokens, newTokens, prefill, clock.Elapsed);
    }

    /// <summary>
    /// The batched form of <see cref="Run"/>: <paramref name="batch"/> sequences with different pseudo-random prompts of
    /// <paramref name="promptTokens"/> ids, prefilled one after another, then <paramref name="newTokens"/> greedy steps that
    /// advance all of them together (<see cref="IBatchedInferenceSession.ForwardGreedyBatch"/>). Token counts in the
    /// result are totals over the sequences (decode tok/s = batch × steps / time). A warm-up pass runs first.
    /// </summary>
    public static ThroughputResult RunBatched(IBatchedInferenceSession session, int batch, int promptTokens, int newTokens)
    {
        if (promptTokens < 1 || newTokens < 0 || promptTokens + newTokens > session.MaxSequenceLength)
            throw new CodecLlmException($"{promptTokens} prompt + {newTokens} new tokens do not fit the context of {session.MaxSequenceLength}");
        if (batch < 1 || batch > session.MaxBatch) throw new CodecLlmException($"batch {batch} outside the session's 1..{session.MaxBatch} sequences");
        int vocab = session.Config.VocabSize;
        int[][] prompts = new int[batch][];
        for (int b = 0; b < batch; b++)
        {
            prompts[b] = new int[promptTokens];
            prompts[b][0] = session.Config.BosTokenId;
            for (int i = 1; i < promptTokens; i++) prompts[b][i] = (int)((i * 2654435761L + 12345 + b * 7919L) % vocab);
        }
        float[] logits = new float[vocab];
        int[] tokens = new int[batch], positions = new int[batch], next = new int[batch];

        TimeSpan Prefill()
        {
            Stopwatch c = Stopwatch.StartNew();
            for (int b = 0; b < batch; b++)
            {
                session.Prefill(b, prompts[b], 0, logits);
                tokens[b] = Sampler.Argmax(logits);
                positions[b] = promptTokens;
            }
            return c.Elapsed;
        }
        Prefill(); // warm-up: the same prompts and one step, then the caches are overwritten
        if (newTokens > 0) session.ForwardGreedyBatch(tokens, positions, next, []);

        TimeSpan prefill = Prefill();
        Stopwatch clock = Stopwatch.StartNew();
        for (int i = 0; i < newTokens; i++)
        {
            session.ForwardGreedyBatch(tokens, positions, next, []);
            next.CopyTo(tokens);
            for (int b = 0; b < batch; b++) positions[b]++;
        }
        return new ThroughputResult(batch * promptTokens, batch * newTokens, prefill, clock.Elapsed);
    }

    /// <summary>Bytes of weights one decoded token reads: every matrix once (the embedding only as a tied head).</summary>
    public static long WeightBytesPerToken(LoadedModel model)
    {
        long sum = 0;
        foreach (ModelTensor t in model.Tensors.Values)
            if (t.Shape.Length == 2 && t.Name != TensorNames.Embedding) sum += t.ByteLength;
        if (model.Config.TiedEmbeddings) sum += model.GetTensor(TensorNames.Embedding).ByteLength;
        return sum;
    }
}
