using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using CodecLlm.Backends.Cpu;
using CodecLlm.Backends.Cuda;
using CodecLlm.Engine;
using CodecLlm.Model;

namespace CodecLlm.Cli.Commands;

/// <summary>What `codecllm bench` measured (printed as text or, with --json, as this record).</summary>
public sealed record BenchReport(
    string Device,
    string Model,
    string WeightsDtype,
    int Threads,
    int PromptTokens,
    int NewTokens,
    double PrefillTokensPerSecond,
    double DecodeTokensPerSecond,
    long WeightBytesPerToken,
    double MemoryBandwidthBytesPerSecond,
    double BandwidthFraction,
    long PeakMemoryBytes,
    int Batch = 1);

/// <summary>
/// `codecllm bench`: prefill and decode speed of a model (or a random model of a known shape), and for the CPU
/// how much of the machine's measured memory bandwidth decoding achieves (weights read per token × tok/s).
/// </summary>
public static class BenchCommand
{
    public static Command Create()
    {
        Option<string> device = new("--device") { Description = "cpu or cuda", DefaultValueFactory = _ => "cpu" };
        Option<string?> model = new("--model") { Description = "Model to measure" };
        Option<string?> synthetic = new("--synthetic") { Description = $"Random model of a known shape: {string.Join(", ", SyntheticModel.Presets.Keys)}" };
        Option<string> dtype = new("--dtype") { Description = "Element type of a synthetic model: bf16, f16 or f32", DefaultValueFactory = _ => "bf16" };
        Option<int> promptTokens = new("--prompt-tokens") { Description = "Prompt length", DefaultValueFactory = _ => 32 };
        Option<int> newTokens = new("--new-tokens") { Description = "Tokens to decode", DefaultValueFactory = _ => 128 };
        Option<int?> threads = new("--threads") { Description = "CPU threads (default: all cores)" };
        Option<bool> json = new("--json") { Description = "Print the result as JSON" };
        Option<string> codec = new("--codec") { Description = "cuda: codecs to compare with the uncompressed model (comma list of names or specs, e.g. fixed,entropy:lane_symbols=512)", DefaultValueFactory = _ => "fixed,entropy" };
        Option<string> tensors = new("--tensors") { Description = "cuda: tensors to compress (all, attn, mlp, embed, head, names/globs)", DefaultValueFactory = _ => "all" };
        Option<int> batch = new("--batch") { Description = $"Sequences decoded together, 1 to {BatchArguments.MaxBatch} (1)", DefaultValueFactory = _ => 1 };
        Option<string> kvCache = new("--kv-cache") { Description = "cuda: KV cache type f32, f16 or bf16", DefaultValueFactory = _ => "f32" };
        Option<string?> scratchSlices = new("--scratch-slices")
        {
            Description = "cuda: `fixed` decode-to-scratch variants to measure, decode-step slice sizes in MiB (0: whole steps), e.g. 0,8,16 (default: the backend's, whole steps)",
        };
        Option<int> probeMib = new("--bandwidth-buffer-mib") { Description = "Buffer size of the CPU memory bandwidth probe", DefaultValueFactory = _ => 1024 };
        device.AcceptOnlyFromAmong([.. InferenceBackends.Devices]);
        dtype.AcceptOnlyFromAmong("bf16", "f16", "f32");

        Command cmd = new("bench", "Measure prefill and decode speed");
        foreach (Option o in new Option[] { device, model, synthetic, dtype, promptTokens, newTokens, threads, json, probeMib, codec, tensors, batch, kvCache, scratchSlices })
            cmd.Options.Add(o);

        cmd.SetAction((ParseResult pr, CancellationToken ct) =>
        {
            string? modelPath = pr.GetValue(model), syntheticName = pr.GetValue(synthetic);
            if ((modelPath == null) == (syntheticName == null)) throw new CodecLlmException("give exactly one of --model PATH or --synthetic NAME");
            int prompt = pr.GetValue(promptTokens), decode = pr.GetValue(newTokens);
            int threadCount = pr.GetValue(threads) ?? Environment.ProcessorCount;
            string deviceName = pr.GetValue(device)!;
            int batchSize = pr.GetValue(batch);
            if (batchSize is < 1 or > BatchArguments.MaxBatch)
                throw new CodecLlmException($"--batch {batchSize}: give 1 to {BatchArguments.MaxBatch} sequences to decode together");
            if (deviceName == "cuda")
                return Task.FromResult(CudaBench.Run(modelPath, syntheticName, ParseDType(pr.GetValue(dtype)!), pr.GetValue(codec)!, pr.GetValue(tensors)!,
                    prompt, decode, batchSize, pr.GetValue(kvCache)!, pr.GetValue(json), ct, pr.GetValue(scratchSlices)));
            IInferenceBackend backend = InferenceBackends.Create(deviceName);

            using LoadedModel loaded = modelPath != null
                ? RunCommand.LoadModel(modelPath, null)
                : SyntheticModel.Create(syntheticName!, ParseDType(pr.GetValue(dtype)!), seed: 1);
            ct.ThrowIfCancellationRequested();
            using IInferenceSession session = backend.CreateSession(loaded, new SessionOptions
            {
                Threads = threadCount,
                MaxSequenceLength = Math.Min(loaded.Config.MaxSequenceLength, prompt + decode),
                MaxBatch = batchSize,
            });
            ThroughputResult r = batchSize == 1 ? ThroughputBenchmark.Run(session, prompt, decode)
                : ThroughputBenchmark.RunBatched((IBatchedInferenceSession)session, batchSize, prompt, decode);
            long bytesPerToken = ThroughputBenchmark.WeightBytesPerToken(loaded);
            long peakMemory = Process.GetCurrentProcess().PeakWorkingSet64; // before the bandwidth probe's buffer
            double bandwidth = deviceName == "cpu" ? MemoryBandwidth.Measure(threadCount, Math.Max(1, pr.GetValue(probeMib)) * (1L << 20)) : double.NaN;

            // A batched step reads the weights once for all its sequences.
            BenchReport report = new(deviceName, modelPath ?? "synthetic:" + syntheticName!.ToLowerInvariant(), WeightsDType(loaded), threadCount,
                prompt, decode, r.PrefillTokensPerSecond, r.DecodeTokensPerSecond, bytesPerToken, bandwidth,
                bytesPerToken * r.DecodeTokensPerSecond / batchSize / bandwidth, peakMemory, batchSize);
            Console.Out.WriteLine(pr.GetValue(json) ? JsonSerializer.Serialize(report, JsonOptions) : Describe(report));
            return Task.FromResult(0);
        });
        return cmd;
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private static TensorDType ParseDType(string s) => s switch
    {
        "bf16" => TensorDType.BF16,
        "f16" => TensorDType.F16,
        _ => TensorDType.F32,
    };

    private static string WeightsDType(LoadedModel m) =>
        string.Join("+", m.Tensors.Values.Where(t => t.Shape.Length == 2).Select(t => t.DType.ToString()).Distinct().Order());

    private static string Tokens(BenchReport r) =>
        r.Batch == 1 ? $"{r.NewTokens} tokens" : $"{r.Batch} sequences x {r.NewTokens} tokens, {r.DecodeTokensPerSecond / r.Batch:F2} tok/s each";

    private static string Describe(BenchReport r)
    {
        const double GiB = 1024.0 * 1024 * 1024, MiB = 1024.0 * 1024;
        return $"""
            device      {r.Device} ({r.Threads} threads)
            model       {r.Model} ({r.WeightsDtype}, {r.WeightBytesPerToken / MiB:F1} MiB of weights per token)
            prefill     {r.PrefillTokensPerSecond:F1} tok/s ({(r.Batch == 1 ? "" : $"{r.Batch} sequences x ")}{r.PromptTokens} tokens)
            decode      {r.DecodeTokensPerSecond:F2} tok/s ({Tokens(r)})
            bandwidth   {r.MemoryBandwidthBytesPerSecond / GiB:F1} GiB/s measured; decode reads {r.WeightBytesPerToken * r.DecodeTokensPerSecond / r.Batch / GiB:F2} GiB/s = {r.BandwidthFraction:P0} of it
            peak memory {r.PeakMemoryBytes / MiB:F0} MiB (before the bandwidth probe)
            """;
    }
}
