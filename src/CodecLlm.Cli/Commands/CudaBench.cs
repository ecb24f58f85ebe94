using System.Text.Json;
using System.Text.Json.Serialization;
using CodecLlm.Backends.Cuda;
using CodecLlm.Codecs;
using CodecLlm.Engine;
using CodecLlm.Model;

namespace CodecLlm.Cli.Commands;

/// <summary>What `codecllm bench --device cuda` measured.</summary>
public sealed record CudaBenchReport(
    string Gpu,
    string Model,
    int PromptTokens,
    int NewTokens,
    string KvCache,
    IReadOnlyList<CudaBenchRow> Runs,
    IReadOnlyList<KernelRate> Kernels,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Batch = null);

public sealed record CudaBenchRow(
    string Variant,
    double WeightsBytesRatio,
    long PeakAllocatedBytes,
    long DeviceUsedAtPeakBytes,
    double PeakRatio,
    double PrefillTokensPerSecond,
    double DecodeTokensPerSecond,
    double DecodeRatio,
    double DecodeStepGpuMs,
    string LogitsBitIdentical,
    IReadOnlyDictionary<string, long> PeakByCategory,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? DecodeTokensPerSecondPerSequence = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? FirstMismatch = null);

/// <summary>
/// The GPU path of `codecllm bench`: the uncompressed model and each codec's compressed model in one process
/// on one GPU — peak VRAM (our allocator and the driver's used memory), prefill and decode tok/s, ratios to
/// uncompressed, logits bit-identical at every step — plus kernel throughputs on the largest matrices. With
/// --batch B (2..8) every variant decodes B sequences together (<see cref="CudaBenchmark.MeasureBatch"/>).
/// </summary>
public static class CudaBench
{
    public static int Run(string? modelPath, string? synthetic, TensorDType dtype, string codecs, string tensors, int prompt, int newTokens,
        int batch, string kvCache, bool json, CancellationToken ct, string? scratchSlices = null)
    {
        List<(string Name, CudaBackendOptions Options)> fixedVariants = [("fixed (fused)", new CudaBackendOptions { FusedFixed = true })];
        fixedVariants.AddRange(ScratchVariants(scratchSlices));
        if (batch is < 1 or > BatchArguments.MaxBatch) throw new CodecLlmException($"--batch {batch}: the CUDA backend decodes 1 to {BatchArguments.MaxBatch} sequences together");
        using var backend = new CudaBackend(new CudaBackendOptions { Log = Console.Error });
        CudaContext ctx = backend.Context;
        Console.Error.WriteLine("preparing model...");
        using LoadedModel model = modelPath != null
            ? RunCommand.LoadModel(modelPath, null)
            : CudaSyntheticModel.Create(ctx, SyntheticModel.Preset(synthetic!), dtype, 1, "synthetic:" + synthetic!.ToLowerInvariant());
        var options = new SessionOptions { MaxSequenceLength = Math.Min(model.Config.MaxSequenceLength, prompt + newTokens), KvCacheType = kvCache };
        TensorSelection selection = TensorSelection.Parse(tensors);

        var runs = new List<(CudaBenchRun Run, double Weights)>();
        CudaBenchmark.Reference? reference = null;
        CudaBenchmark.BatchReference? batchReference = null;
        CudaBenchRun Measure(string name, CudaBackend b, LoadedModel m) => batch == 1
            ? CudaBenchmark.Measure(name, b, m, options, prompt, newTokens, 5, ref reference)
            : CudaBenchmark.MeasureBatch(name, b, m, options, batch, prompt, newTokens, 5, ref batchReference);
        CudaBenchRun baseline = Measure("uncompressed", backend, model);
        runs.Add((baseline, 1));
        Console.Error.WriteLine($"uncompressed: {baseline.DecodeTokensPerSecond:F0} tok/s");
        var encoded = new Dictionary<string, LoadedModel>();
        try
        {
            foreach (string codec in CodecRegistry.SplitSpecs(codecs))
            {
                ct.ThrowIfCancellationRequested();
                Console.Error.WriteLine($"encoding with {codec}...");
                LoadedModel packed = InMemoryCompression.Compress(model, codec, selection);
                encoded[codec] = packed;
                var variants = codec == "fixed" ? fixedVariants : [(codec, new CudaBackendOptions())];
                foreach (var (name, backendOptions) in variants)
                {
                    using var b = new CudaBackend(backendOptions);
                    CudaBenchRun r = Measure(name, b, packed);
                    double weights = (double)(r.CompressedWeightBytes + WeightsBytes(model) - r.DecodedWeightBytes) / WeightsBytes(model);
                    runs.Add((r, weights));
                    Console.Error.WriteLine($"{name}: {r.DecodeTokensPerSecond:F0} tok/s, identical {r.LogitsBitIdentical}");
                }
            }
            List<KernelRate> kernels = KernelRates(ctx, model, encoded);
            var report = new CudaBenchReport(ctx.DeviceName, model.SourcePath, prompt, newTokens, kvCache,
                runs.Select(x => Row(x.Run, x.Weights, baseline)).ToList(), kernels, batch == 1 ? null : batch);
            Console.Out.WriteLine(json ? JsonSerializer.Serialize(report, JsonOptions) : Describe(report));
        }
        finally
        {
            foreach (LoadedModel m in encoded.Values) m.Dispose();
        }
        return 0;
    }

    /// <summary>The decode-to-scratch variants of `fixed`: --scratch-slices "0,8,16" (MiB; 0: whole steps).</summary>
    private static IEnumerable<(string, CudaBackendOptions)> ScratchVariants(string? list)
    {
        if (list == null)
        {
            yield return ("fixed (decode to scratch)", new CudaBackendOptions { FusedFixed = false });
            yield break;
        }
        foreach (string item in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(item, out int mib) || mib < 0) throw new CodecLlmException($"--scratch-slices: '{item}' is not a size in MiB (e.g. 0,8,16)");
            yield return ($"fixed (scratch, {(mib == 0 ? "whole" : $"{mib} MiB")})", new CudaBackendOptions { FusedFixed = false, DecodeSliceBytes = (long)mib << 20 });
        }
    }

    private static long WeightsBytes(LoadedModel m) => m.Tensors.Values.Sum(t => t.ByteLength);

    private static CudaBenchRow Row(CudaBenchRun r, double weights, CudaBenchRun b) => new(
        r.Name, weights, r.Memory.PeakAllocatedBytes, r.Memory.DeviceUsedAtPeak, (double)r.Memory.PeakAllocatedBytes / b.Memory.PeakAllocatedBytes,
        r.PrefillTokensPerSecond, r.DecodeTokensPerSecond, r.DecodeTokensPerSecond / b.DecodeTokensPerSecond, r.DecodeStepGpuMsMedian,
        r.LogitsBitIdentical switch { null => "reference", true => "yes", false => "NO" },
        r.Memory.PeakByCategory.ToDictionary(kv => kv.Key.ToString(), kv => kv.Value),
        r.Batch == 1 ? null : r.DecodeTokensPerSecond / r.Batch,
        r.Batch == 1 || r.FirstMismatchStep == null ? null : $"step {r.FirstMismatchStep}, sequence {r.FirstMismatchSequence}");

    /// <summary>Kernel rates over the largest group of equally shaped matrices (all layers' gate projections, say).</summary>
    private static List<KernelRate> KernelRates(CudaContext ctx, LoadedModel model, Dictionary<string, LoadedModel> encoded)
    {
        var group = model.Tensors.Values.Where(t => t.Shape.Length == 2 && t.DType == TensorDType.BF16 && t.Name != TensorNames.Embedding)
            .GroupBy(t => (t.Rows, t.Cols)).OrderByDescending(g => g.Sum(t => t.ByteLength)).FirstOrDefault()?.OrderBy(t => t.Name, StringComparer.Ordinal).ToList();
        if (group == null) return [];
        // The codec's rates come from its plain run, else from its first spec with parameters ("entropy:lane_symbols=512").
        List<ModelTensor>? Of(string codec) =>
            (encoded.TryGetValue(codec, out LoadedModel? m) ? m : encoded.FirstOrDefault(kv => kv.Key.StartsWith(codec + ":", StringComparison.Ordinal)).Value)
                is { } model && group.All(t => model.Tensors[t.Name].Codec == codec)
                ? group.Select(t => model.Tensors[t.Name]).ToList() : null;
        return KernelThroughput.Measure(ctx, group, Of("fixed"), Of("entropy"));
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private static string Describe(CudaBenchReport r)
    {
        const double MiB = 1024.0 * 1024;
        var lines = new List<string>
        {
            $"gpu     {r.Gpu}",
            $"model   {r.Model}, prompt {r.PromptTokens}, new {r.NewTokens}, batch {r.Batch ?? 1}, KV cache {r.KvCache}",
            "",
            $"{"variant",-30} {"weights",8} {"peak MiB",9} {"(driver)",9} {"peak×",6} {"prefill/s",10} {"decode/s",9} {"decode×",8} {"step ms",8} {"bit-identical",13}"
                + (r.Batch == null ? "" : $" {"per seq/s",9}"),
        };
        foreach (CudaBenchRow x in r.Runs)
            lines.Add($"{x.Variant,-30} {x.WeightsBytesRatio,8:F3} {x.PeakAllocatedBytes / MiB,9:F0} {x.DeviceUsedAtPeakBytes / MiB,9:F0} {x.PeakRatio,6:F3} {x.PrefillTokensPerSecond,10:F0} {x.DecodeTokensPerSecond,9:F0} {x.DecodeRatio,8:F3} {x.DecodeStepGpuMs,8:F3} {x.LogitsBitIdentical,13}"
                + (r.Batch == null ? "" : $" {x.DecodeTokensPerSecondPerSequence,9:F0}") + (x.FirstMismatch == null ? "" : $"  (first mismatch: {x.FirstMismatch})"));
        if (r.Batch != null)
            lines.Add($"batch {r.Batch}: decode/s = {r.Batch} sequences × steps / time; step ms = one step of all {r.Batch}; bit-identical = every sequence's logits at every step");
        lines.Add("");
        foreach (KernelRate k in r.Kernels) lines.Add($"{k.Kernel,-20} {k.GigabytesPerSecond,8:F0} GB/s  {k.Matrices}; {k.Counting}");
        return string.Join(Environment.NewLine, lines);
    }
}
