namespace CodecLlm.Engine;

/// <summary>The argument checks of batched decode (<see cref="IBatchedInferenceSession.ForwardGreedyBatch"/>), shared by the backends.</summary>
public static class BatchArguments
{
    /// <summary>Most sequences one session decodes together.</summary>
    public const int MaxBatch = 8;

    /// <summary>A session's <see cref="SessionOptions.MaxBatch"/>: 1 to <see cref="MaxBatch"/>.</summary>
    public static void CheckMaxBatch(int maxBatch)
    {
        if (maxBatch is < 1 or > MaxBatch)
            throw new ArgumentOutOfRangeException(nameof(maxBatch), $"MaxBatch {maxBatch} outside 1..{MaxBatch} (sequences decoded together)");
    }

    /// <summary>One batched step's arguments against a session of <paramref name="maxBatch"/> sequences.</summary>
    public static void Check(ReadOnlySpan<int> tokens, ReadOnlySpan<int> positions, int nextLength, int logitsLength, int maxBatch, int vocab, int maxSequenceLength)
    {
        int b = tokens.Length;
        if (b < 1 || b > maxBatch) throw new ArgumentOutOfRangeException(nameof(tokens), $"{b} tokens: a step takes one per sequence, 1..{maxBatch} (the session's MaxBatch)");
        if (positions.Length != b) throw new ArgumentOutOfRangeException(nameof(positions), $"{positions.Length} positions for {b} tokens");
        if (nextLength != b) throw new ArgumentOutOfRangeException("next", $"next has {nextLength} elements for {b} tokens");
        if (logitsLength != 0 && logitsLength != (long)b * vocab)
            throw new ArgumentOutOfRangeException("logits", $"logits span has {logitsLength} elements, need {b} x {vocab} (or none)");
        for (int i = 0; i < b; i++)
        {
            if ((uint)tokens[i] >= (uint)vocab) throw new ArgumentOutOfRangeException(nameof(tokens), $"sequence {i}: token id {tokens[i]} outside the vocabulary of {vocab}");
            if ((uint)positions[i] >= (uint)maxSequenceLength)
                throw new ArgumentOutOfRangeException(nameof(positions), $"sequence {i}: position {positions[i]} outside the context of {maxSequenceLength}");
        }
    }
}
