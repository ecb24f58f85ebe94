namespace CodecLlm.Engine;

/// <summary>A token, its bytes (as the tokenizer writes it after the previous token) and its log probability under the model.</summary>
public sealed record TokenChoice(int TokenId, byte[] Bytes, double Logprob);

/// <summary>
/// A generated token's log probability and the most likely tokens at its step (<see cref="GenerationOptions.TopLogprobs"/>):
/// the log-softmax of the step's logits, the model's own distribution before temperature, top-k and top-p (what vLLM
/// reports by default).
/// </summary>
public sealed record TokenLogprobs(TokenChoice Chosen, IReadOnlyList<TokenChoice> Top)
{
    /// <summary>The most alternatives a step reports (OpenAI's top_logprobs limit).</summary>
    public const int MaxTop = 20;

    /// <summary>
    /// log p(i) = logits[i] - (m + ln Σ exp(logits[j] - m)), m the largest logit, summed in double; the
    /// <paramref name="top"/> most likely tokens highest first, the lower id first on ties.
    /// </summary>
    public static TokenLogprobs Compute(ReadOnlySpan<float> logits, int token, int top, Func<int, byte[]> bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(top);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(top, MaxTop);
        if ((uint)token >= (uint)logits.Length) throw new ArgumentOutOfRangeException(nameof(token));
        float max = float.NegativeInfinity;
        foreach (float l in logits) max = MathF.Max(max, l);
        double sum = 0;
        foreach (float l in logits) sum += Math.Exp((double)l - max);
        double lse = max + Math.Log(sum);

        top = Math.Min(top, logits.Length);
        int[] best = new int[top];  // ids of the `top` largest logits so far, largest first
        int count = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            if (count == top && (top == 0 || logits[i] <= logits[best[top - 1]])) continue;  // ties keep the lower id
            int k = Math.Min(count, top - 1);
            while (k > 0 && logits[i] > logits[best[k - 1]])
            {
                best[k] = best[k - 1];
                k--;
            }
            best[k] = i;
            if (count < top) count++;
        }

        var choices = new TokenChoice[top];
        for (int k = 0; k < top; k++) choices[k] = new TokenChoice(best[k], bytes(best[k]), logits[best[k]] - lse);
        return new TokenLogprobs(new TokenChoice(token, bytes(token), logits[token] - lse), choices);
    }
}
