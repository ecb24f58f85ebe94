using System.CommandLine;
using CodecLlm.Backends.Cuda;
using CodecLlm.Engine;
using CodecLlm.Model;

namespace CodecLlm.Cli.Commands;

/// <summary>
/// The GPU options `run` and `serve` share: --tensors (which groups of a compressed model stay compressed in GPU
/// memory, decoded on the fly; the others are decoded once at load) and --kv-cache (the KV cache element type).
/// </summary>
internal sealed class CudaCliOptions
{
    /// <summary>The tensor groups (<see cref="TensorNames.GroupOf"/>) the CUDA backend can keep compressed.</summary>
    public static IReadOnlyList<string> Groups { get; } = ["attn", "mlp", "embed", "head"];

    public Option<string> Tensors { get; } = new("--tensors")
    {
        Description = "cuda: groups of a compressed model kept compressed in GPU memory (all, none, or a comma list of attn, mlp, embed, head); the rest are decoded at load",
        DefaultValueFactory = _ => "all",
    };

    public Option<string> KvCache { get; } = new("--kv-cache") { Description = "KV cache element type on cuda: f32, f16 or bf16", DefaultValueFactory = _ => "f32" };

    public CudaCliOptions() => KvCache.AcceptOnlyFromAmong("f32", "f16", "bf16");

    public void AddTo(Command cmd)
    {
        cmd.Options.Add(Tensors);
        cmd.Options.Add(KvCache);
    }

    /// <summary>"all" → null (every group), "none" → empty, else the listed groups; an unknown name is an error.</summary>
    public static IReadOnlySet<string>? ParseGroups(string spec)
    {
        string s = spec.Trim().ToLowerInvariant();
        if (s == "all") return null;
        if (s == "none") return new HashSet<string>();
        var groups = new HashSet<string>();
        foreach (string g in s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Groups.Contains(g)) throw new CodecLlmException($"--tensors '{spec}': unknown group '{g}' (all, none, or a comma list of {string.Join(", ", Groups)})");
            groups.Add(g);
        }
        if (groups.Count == 0) throw new CodecLlmException($"--tensors '{spec}' names no group (all, none, or a comma list of {string.Join(", ", Groups)})");
        return groups;
    }

    /// <summary>
    /// The backend for <paramref name="device"/>: on cuda with these options and the start-up line (GPU, driver,
    /// libraries) on stderr; otherwise the plain backend of that name.
    /// </summary>
    public IInferenceBackend CreateBackend(string device, ParseResult pr)
    {
        IReadOnlySet<string>? groups = ParseGroups(pr.GetValue(Tensors)!); // checked on every device: a typo is an error
        if (!device.Equals("cuda", StringComparison.OrdinalIgnoreCase)) return InferenceBackends.Create(device);
        return new CudaBackend(new CudaBackendOptions { Log = Console.Error, CompressedGroups = groups });
    }

    public string KvCacheType(ParseResult pr) => pr.GetValue(KvCache)!;
}
