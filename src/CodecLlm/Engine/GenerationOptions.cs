namespace CodecLlm.Engine;

/// <summary>How the next token is chosen. Temperature 0 is greedy (argmax, lowest id on ties).</summary>
public sealed record SamplingOptions
{
    public float Temperature { get; init; }

    /// <summary>Nucleus sampling threshold in (0, 1]; 1 disables it.</summary>
    public float TopP { get; init; } = 1f;

    /// <summary>Keep only the K most likely tokens; 0 disables it.</summary>
    public int TopK { get; init; }

    /// <summary>Seed for the sampler's random numbers; null picks one.</summary>
    public ulong? Seed { get; init; }
}

/// <summary>Options for one generation.</summary>
public sealed record GenerationOptions
{
    public int MaxTokens { get; init; } = 256;

    public SamplingOptions Sampling { get; init; } = new();

    /// <summary>Generation stops when the text ends with one of these (the stop text is not emitted).</summary>
    public IReadOnlyList<string> StopSequences { get; init; } = [];

    /// <summary>Prepend BOS to the prompt.</summary>
    public bool AddBos { get; init; } = true;

    /// <summary>
    /// Report each generated token's log probability and this many most likely alternatives (0 to
    /// <see cref="TokenLogprobs.MaxTop"/>) in <see cref="GeneratedToken.Logprobs"/>; null reports none. The logits are
    /// then read on the host at every step (no sampling on the session's device).
    /// </summary>
    public int? TopLogprobs { get; init; }
}

public enum FinishReason
{
    /// <summary>An end-of-sequence token or a stop sequence.</summary>
    Stop,

    /// <summary>MaxTokens or the context length was reached.</summary>
    Length,

    /// <summary>The caller cancelled.</summary>
    Cancelled,
}

/// <summary>One streamed step: the token and the text it completes (empty while a UTF-8 character is incomplete).</summary>
public sealed record GeneratedToken(int TokenId, string Text)
{
    /// <summary>The token's log probability and the step's most likely tokens, when <see cref="GenerationOptions.TopLogprobs"/> asks.</summary>
    public TokenLogprobs? Logprobs { get; init; }
}

/// <summary>Statistics of a finished generation.</summary>
public sealed record GenerationStats(
    int PromptTokens,
    int GeneratedTokens,
    TimeSpan PrefillTime,
    TimeSpan DecodeTime,
    FinishReason FinishReason)
{
    /// <summary>Leading prompt tokens the session's KV cache already held, not run again (prompt caching; 0 without it).</summary>
    public int CachedPromptTokens { get; init; }

    /// <summary>Prompt tokens run a second of prefill (the cached ones not counted: they were not run).</summary>
    public double PrefillTokensPerSecond => PrefillTime.TotalSeconds > 0 ? (PromptTokens - CachedPromptTokens) / PrefillTime.TotalSeconds : 0;

    public double DecodeTokensPerSecond => DecodeTime.TotalSeconds > 0 ? GeneratedTokens / DecodeTime.TotalSeconds : 0;
}
