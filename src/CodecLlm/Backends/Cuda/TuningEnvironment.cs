namespace CodecLlm.Backends.Cuda;

/// <summary>
/// Tuning knobs of the CUDA backend read from CODECLLM_* environment variables, for A/B timings on one card
/// (docs/PERFORMANCE.md). Callers read them once, into static fields.
/// </summary>
internal static class TuningEnvironment
{
    /// <summary>The variable as an integer of at least <paramref name="min"/>, or null when it is unset or not one.</summary>
    public static long? AtLeast(string name, long min) => long.TryParse(Environment.GetEnvironmentVariable(name), out long v) && v >= min ? v : null;

    /// <summary>The variable as a set of comma-separated lower-case names (empty when unset).</summary>
    public static IReadOnlySet<string> Names(string name) =>
        (Environment.GetEnvironmentVariable(name) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(n => n.ToLowerInvariant()).ToHashSet(StringComparer.Ordinal);

    /// <summary>
    /// A shared-memory carveout setting (CODECLLM_SMEM_CARVEOUT): a percentage 0-100, "driver" (null: leave the choice to
    /// the driver), or <paramref name="fallback"/> when unset or not one of those.
    /// </summary>
    public static int? Carveout(string? value, int fallback) => value switch
    {
        "driver" => null,
        { Length: > 0 } v when int.TryParse(v, out int c) && c is >= 0 and <= 100 => c,
        _ => fallback,
    };

    /// <summary>CODECLLM_NVRTC_DEFINES ("-DNAME=VALUE ..."): the kernel tuning constants it overrides (KernelLibrary compiles with them).</summary>
    public static string[] NvrtcDefines() =>
        (Environment.GetEnvironmentVariable("CODECLLM_NVRTC_DEFINES") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
}
