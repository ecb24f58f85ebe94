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

    /// <summary>Tokens generated when a request names no limit.</summary>
    public int DefaultMaxOutputTokens { get; init; } = 256;
}
