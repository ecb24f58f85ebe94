using CodecLlm.Chat;

namespace CodecLlm.Server;

/// <summary>The server's shared state: its options, counters and the model, which loads in the background.</summary>
internal sealed class ServerState
{
    public ServerState(CodecLlmServerOptions options, Task<CodecLlmChatClient> model)
    {
        Options = options;
        Model = model;
    }

    public CodecLlmServerOptions Options { get; }

    public Task<CodecLlmChatClient> Model { get; }

    public ServerCounters Counters { get; } = new();

    public long StartedAt { get; } = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <summary>The loaded model, or 503 while it loads / after it failed to load.</summary>
    public CodecLlmChatClient RequireModel()
    {
        if (Model.IsCompletedSuccessfully) return Model.Result;
        if (Model.IsFaulted || Model.IsCanceled)
            throw new OpenAiError(503, "the model failed to load: " + LoadError, "server_error", code: "model_load_failed");
        throw new OpenAiError(503, "the model is still loading; retry shortly", "server_error", code: "model_loading");
    }

    public string LoadError => Model.Exception?.InnerException?.Message ?? (Model.IsCanceled ? "loading was cancelled" : "");
}
