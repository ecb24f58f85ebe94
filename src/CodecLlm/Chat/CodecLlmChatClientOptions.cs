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
    /// How many requests generate at once, each in its own session (KV cache). Further requests wait in
    /// a queue. 1 = one session, strictly one request at a time.
    /// </summary>
    public int MaxConcurrentRequests { get; init; } = 1;

    /// <summary>Tokens generated when a request names no limit.</summary>
    public int DefaultMaxOutputTokens { get; init; } = 256;
}
