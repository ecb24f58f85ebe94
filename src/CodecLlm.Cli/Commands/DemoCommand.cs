using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using CodecLlm.Backends.Cpu;
using CodecLlm.Backends.Cuda;
using CodecLlm.Codecs;
using CodecLlm.Engine;
using CodecLlm.Formats;
using CodecLlm.Formats.Compressed;
using CodecLlm.Model;

namespace CodecLlm.Cli.Commands;

/// <summary>
/// <c>codecllm demo</c>: builds a small Llama-shaped model with random BF16 weights (no download), compresses
/// it with each codec, runs the uncompressed and every compressed model with greedy decoding, and prints
/// size, ratio, bits/weight, memory, tokens/s and whether the logits are bit-identical at every step.
/// </summary>
public static class DemoCommand
{
    public static Command Create()
    {
        Option<string> preset = new("--model") { Description = "Synthetic model shape (a SyntheticModel preset)", DefaultValueFactory = _ => "llama-mini" };
        Option<int> steps = new("--steps") { Description = "Greedy decode steps per run", DefaultValueFactory = _ => 32 };
        Option<string> codecs = new("--codecs") { Description = "Comma list of codecs to compare", DefaultValueFactory = _ => "fixed,entropy,zstd" };
        Option<string> device = new("--device") { Description = "cpu, cuda, or auto (the GPU when one is usable)", DefaultValueFactory = _ => "auto" };
        device.AcceptOnlyFromAmong("auto", "cpu", "cuda");
        Command cmd = new("demo", "Compress a random Llama-shaped model with each codec and show that the outputs stay bit-identical");
        cmd.Options.Add(preset);
        cmd.Options.Add(steps);
        cmd.Options.Add(codecs);
        cmd.Options.Add(device);
        cmd.SetAction((ParseResult pr, CancellationToken ct) => CliApp.Guard(() => Task.FromResult(
            Run(pr.GetValue(preset)!, pr.GetValue(steps), CodecRegistry.SplitSpecs(pr.GetValue(codecs)!), Console.Out, ct,
                pr.GetValue(device)!))));
        return cmd;
    }

    internal sealed record Result(string Codec, long StoredBytes, long Weights, long EngineBytes, double TokensPerSecond, bool Identical);

    internal static int Run(string presetName, int steps, string[] codecNames, TextWriter output, CancellationToken ct, string device = "cpu")
    {
        if (steps < 1) throw new CodecLlmException("--steps must be at least 1");
        ModelConfig config = SyntheticModel.Preset(presetName);
        bool gpu = device == "cuda" || (device == "auto" && CudaContext.UnavailableReason() == null);
        using CudaBackend? cuda = gpu ? new CudaBackend() : null;
        IInferenceBackend backend = cuda ?? (IInferenceBackend)new CpuBackend();
        output.WriteLine($"demo: random {presetName} model (hidden {config.HiddenSize}, {config.NumLayers} layers, vocab {config.VocabSize}), BF16 N(0, 0.02²) weights, greedy, {steps} steps, {(gpu ? "GPU: " + cuda!.Context.DeviceName : "CPU")}");
        string dir = Path.Combine(Path.GetTempPath(), "codecllm-demo-" + Environment.ProcessId);
        Directory.CreateDirectory(dir);
        List<Result> results = [];
        try
        {
            using LoadedModel model = SyntheticModel.Create(config, TensorDType.BF16, seed: 20240607, "synthetic:" + presetName);
            long weights = model.Tensors.Values.Sum(t => t.ElementCount);
            long rawBytes = model.Tensors.Values.Sum(t => t.ByteLength);
            Generate(backend, model, steps, ct); // warm-up (JIT tiers) so the first row's tokens/s is comparable
            (float[][] reference, double refTps, long refEngine) = Generate(backend, model, steps, ct);
            results.Add(new Result("none", rawBytes, weights, gpu ? refEngine : rawBytes + refEngine, refTps, true));

            foreach (string name in codecNames)
            {
                ct.ThrowIfCancellationRequested();
                IWeightCodec codec = CodecRegistry.CreateEncoder(name);
                string path = Path.Combine(dir, $"demo.{codec.Name}.codecllm.safetensors");
                CompressedModelWriter writer = new() { Config = model.Config };
                foreach (ModelTensor t in model.Tensors.Values.OrderBy(t => t.Name, StringComparer.Ordinal))
                    writer.Add(t, TensorSelection.All.Includes(t.Name, t.Shape.Length) ? codec : CodecRegistry.Get("raw"));
                writer.Write(path, cancellationToken: ct);
                using LoadedModel compressed = new CompressedModelFormat().Load(path, new ModelLoadOptions());
                (float[][] logits, double tps, long engine) = Generate(backend, compressed, steps, ct);
                bool identical = logits.Length == reference.Length && logits.Zip(reference).All(p => BitIdentical(p.First, p.Second));
                long stored = new FileInfo(path).Length;
                results.Add(new Result(codec.Name, stored, weights, gpu ? engine : stored + engine, tps, identical));
            }
        }
        finally
        {
            Directory.Delete(dir, true);
        }
        PrintTable(output, results);
        if (gpu)
        {
            output.WriteLine("memory = peak GPU memory of the session (weights, compressed ones kept compressed and decoded on the fly, + buffers).");
        }
        else
        {
            output.WriteLine("memory = weights as stored (compressed file, memory-mapped) + CPU session buffers; the CPU backend decodes");
            output.WriteLine("compressed matrices once at load, the CUDA backend keeps them compressed in GPU memory.");
        }
        return results.All(r => r.Identical) ? 0 : 1;
    }

    /// <summary>A fixed prompt, then greedy decoding; returns the logits after every step, tokens/s and the session's native bytes.</summary>
    private static (float[][] Logits, double TokensPerSecond, long EngineBytes) Generate(IInferenceBackend backend, LoadedModel model, int steps, CancellationToken ct)
    {
        (backend as CudaBackend)?.Context.Allocator.ResetPeak();
        using IInferenceSession session = backend.CreateSession(model, new SessionOptions { MaxSequenceLength = steps + 16 });
        int vocab = model.Config.VocabSize;
        int[] prompt = [1, 15, 92, 7, 401, 33, 8, 250];
        List<float[]> all = [];
        float[] logits = new float[vocab];
        session.Forward(prompt, 0, logits);
        all.Add((float[])logits.Clone());
        Stopwatch sw = Stopwatch.StartNew();
        for (int i = 0; i < steps; i++)
        {
            ct.ThrowIfCancellationRequested();
            int next = ArgMax(logits);
            session.Forward([next], prompt.Length + i, logits);
            all.Add((float[])logits.Clone());
        }
        double tps = steps / sw.Elapsed.TotalSeconds;
        long engine = session is CpuSession cpu ? cpu.NativeBytes : session is CudaSession g ? g.Context.Allocator.Report().PeakAllocatedBytes : 0;
        return (all.ToArray(), tps, engine);
    }

    private static int ArgMax(float[] v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    private static bool BitIdentical(float[] a, float[] b) =>
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan()).SequenceEqual(System.Runtime.InteropServices.MemoryMarshal.AsBytes(b.AsSpan()));

    private static void PrintTable(TextWriter w, List<Result> results)
    {
        long rawBytes = results[0].StoredBytes;
        w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"codec",-8} {"size",11} {"ratio",6} {"bits/w",7} {"memory",11} {"tok/s",8}  logits bit-identical"));
        foreach (Result r in results)
            w.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{r.Codec,-8} {CompressCommand.Bytes(r.StoredBytes),11} {(double)rawBytes / r.StoredBytes,6:F3} {8.0 * r.StoredBytes / r.Weights,7:F3} {CompressCommand.Bytes(r.EngineBytes),11} {r.TokensPerSecond,8:F1}  {(r.Identical ? "yes" : "NO")}"));
    }
}
