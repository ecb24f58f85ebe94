namespace CodecLlm.Server;

/// <summary>Where and how <see cref="CodecLlmServer"/> listens.</summary>
public sealed record CodecLlmServerOptions
{
    /// <summary>An IP address or "localhost". Loopback by default: nothing outside this machine can connect.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>TCP port; 0 picks a free one (see <see cref="CodecLlmServer.BaseAddress"/>).</summary>
    public int Port { get; init; } = 8080;

    /// <summary>When set, /v1/* requests must carry "Authorization: Bearer KEY" (401 otherwise).</summary>
    public string? ApiKey { get; init; }

    /// <summary>Larger request bodies get 413.</summary>
    public long MaxRequestBodyBytes { get; init; } = 1 << 20;
}
