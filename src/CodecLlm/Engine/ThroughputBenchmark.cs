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
    /// Warms up (two tokens, then the cache is overwritten), runs a prompt of <paramref name="promptTokens"/>
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

        session.Forward(prompt.AsSpan(0, Math.Min(2, promptTokens)), 0, logits);

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
