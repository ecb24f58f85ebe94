namespace CodecLlm.Engine;

/// <summary>
/// A session holding <see cref="MaxBatch"/> sequences, each with its own KV cache, that decodes them together: one
/// step advances sequences 0..B-1 by one token each, reading every weight once for all of them. Each sequence's
/// logits equal those of a session decoding it alone, bit for bit (the per-token arithmetic does not depend on the
/// other sequences). <see cref="IInferenceSession.Forward"/> works on sequence 0.
/// </summary>
public interface IBatchedInferenceSession : IInferenceSession
{
    /// <summary>Sequences held (<see cref="SessionOptions.MaxBatch"/>).</summary>
    int MaxBatch { get; }

    /// <summary>Runs <paramref name="tokens"/> of sequence <paramref name="seq"/> from <paramref name="startPos"/>; the last token's logits.</summary>
    void Prefill(int seq, ReadOnlySpan<int> tokens, int startPos, Span<float> logits);

    /// <summary>
    /// One step of sequences 0..B-1 (B = tokens.Length): sequence b takes tokens[b] at positions[b]; next[b] gets its
    /// greedy next token (lowest id on ties); logits ([B][vocabulary]) are filled unless empty.
    /// </summary>
    void ForwardGreedyBatch(ReadOnlySpan<int> tokens, ReadOnlySpan<int> positions, Span<int> next, Span<float> logits);
}

/// <summary>A batched session whose steps can take any subset of its sequences, in any order (no placeholders needed).</summary>
public interface ISubsetBatchedInferenceSession : IBatchedInferenceSession
{
    /// <summary>
    /// One step of the given sequences (distinct, each in 0..MaxBatch-1): sequences[i] takes tokens[i] at positions[i];
    /// next[i] gets its greedy next token; logits ([n][vocabulary]) are filled unless empty.
    /// </summary>
    void ForwardGreedyBatch(ReadOnlySpan<int> sequences, ReadOnlySpan<int> tokens, ReadOnlySpan<int> positions, Span<int> next, Span<float> logits);
}
