using CodecLlm.Backends.Cpu;
using CodecLlm.Model;

namespace CodecLlm.Engine;

/// <summary>Picks the backend for a device name ("cpu", "cuda"): the one place the CLI, server and benchmarks dispatch on it.</summary>
public static class InferenceBackends
{
    public static IReadOnlyList<string> Devices { get; } = ["cpu", "cuda"];

    public static IInferenceBackend Create(string device) => device.ToLowerInvariant() switch
    {
        "cpu" => new CpuBackend(),
        "cuda" => throw new CodecLlmException("CUDA backend not available yet; use --device cpu"),
        _ => throw new CodecLlmException($"unknown device '{device}' (known: {string.Join(", ", Devices)})"),
    };
}
