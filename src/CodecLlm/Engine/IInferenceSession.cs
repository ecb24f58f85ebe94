using CodecLlm.Model;

namespace CodecLlm.Engine;

/// <summary>
/// One running instance of a model on a backend, with its own KV cache. Not thread-safe: one sequence at a
/// time. Everything that holds native or GPU memory is released by Dispose.
/// </summary>
public interface IInferenceSession : IDisposable
{
    ModelConfig Config { get; }

    /// <summary>"cpu" or "cuda".</summary>
    string BackendName { get; }

    /// <summary>Maximum number of positions the KV cache holds.</summary>
    int MaxSequenceLength { get; }

    /// <summary>
    /// Runs <paramref name="tokens"/> at positions startPos .. startPos + tokens.Length - 1 (filling the
    /// KV cache) and writes the logits (VocabSize floats) of the last token into <paramref name="logits"/>.
    /// Positions before startPos must already be in the cache; a later call may restart from any earlier
    /// position (the cache beyond it is overwritten).
    /// </summary>
    void Forward(ReadOnlySpan<int> tokens, int startPos, Span<float> logits);
}

/// <summary>Creates sessions for a model on one kind of device.</summary>
public interface IInferenceBackend
{
    string Name { get; }

    IInferenceSession CreateSession(LoadedModel model, SessionOptions options);
}

/// <summary>Options for a session.</summary>
public sealed record SessionOptions
{
    /// <summary>KV cache length; null = the model's maximum.</summary>
    public int? MaxSequenceLength { get; init; }

    /// <summary>CPU threads for matrix work; null = all cores.</summary>
    public int? Threads { get; init; }

    /// <summary>KV cache element type (CUDA backend): "bf16", "f16" or "f32".</summary>
    public string KvCacheType { get; init; } = "f32";

    /// <summary>
    /// Sequences the session holds and can decode together in one step: 1 to 8, each with its own KV cache (see
    /// <see cref="IBatchedInferenceSession"/>, implemented by the CPU and CUDA sessions).
    /// </summary>
    public int MaxBatch { get; init; } = 1;
}
