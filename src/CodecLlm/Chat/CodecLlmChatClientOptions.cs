using CodecLlm.Engine;

namespace CodecLlm.Chat;

/// <summary>How <see cref="CodecLlmChatClient.LoadAsync"/> loads a model and serves requests.</summary>
public sealed record CodecLlmChatClientOptions
{
    /// <summary>"cpu" or "cuda" (ignored when <see cref="Backend"/> is set).</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>An explicit backend; overrides <see cref="Device"/>.</summary>
    public IInferenceBackend? Backend { get; init; }

    /// <summary>An explicit tokenizer file (otherwise found beside the model).</summary>
    public string? TokenizerPath { get; init; }

    /// <summary>The model name clients send and see; null = the model file or directory name.</summary>
    public string? ModelId { get; init; }

    /// <summary>Options for each session (KV cache length, threads, KV cache type).</summary>
    public SessionOptions Session { get; init; } = new();

    /// <summary>
    /// How many requests generate at once, each with its own KV cache. Further requests wait in a queue. 1 = one
    /// session, strictly one request at a time.
    /// </summary>
    public int MaxConcurrentRequests { get; init; } = 1;

    /// <summary>
    /// Concurrent requests (2 to 8) share one batched session whose decode steps advance all of them at once, reading
    /// the weights once per step (<see cref="BatchedSessionMux"/>); false (default): one independent session per
    /// request. The generated tokens are the same either way (each sequence's logits are bit-identical). Batching pays
    /// where a step is bound by reading weights (large models); for a tiny model on few CPU cores, independent sessions
    /// running side by side are faster (docs/PERFORMANCE.md, "Server").
    /// </summary>
    public bool BatchDecode { get; init; }

    /// <summary>
    /// Prompt caching (default on): each session remembers what its KV cache holds, a request goes to the idle session
    /// holding the longest prefix of its prompt, and only the rest of the prompt runs (a chat's next turn runs its new
    /// messages, not the whole conversation); usage reports the cached tokens (<c>CachedInputTokenCount</c>). Not with
    /// <see cref="BatchDecode"/>. On the CPU the output is bit-identical either way; on the GPU cached keys and values
    /// written by decode steps differ in their last bits from a prefill's, so logits may differ in their last bits
    /// (false: every request runs its whole prompt, and the same request always gives the same bits).
    /// </summary>
    public bool PromptCache { get; init; } = true;

    /// <summary>Tokens generated when a request names no limit.</summary>
    public int DefaultMaxOutputTokens { get; init; } = 256;
}
