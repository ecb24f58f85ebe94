using System.Diagnostics;
using System.Globalization;
using CodecLlm.Codecs;
using CodecLlm.Formats.Safetensors;
using CodecLlm.Model;

namespace CodecLlm.Bench;

/// <summary>
/// `dotnet run -c Release --project bench/CodecLlm.Bench -- codecs [FILE.safetensors] [--codecs "a;b:key=value"]`: for every
/// codec, bits/weight over all float tensors (1-D tensors raw, as `compress` stores them) and over matrices only, the exponent-entropy floor, and CPU
/// encode / decode throughput (MB/s of original bytes), each tensor round-trip checked.
/// </summary>
public static class CodecReport
{
    public static int Run(string[] args)
    {
        int ci = Array.IndexOf(args, "--codecs");
        int ri = Array.IndexOf(args, "--repeat");
        string path = args.Where((a, i) => !a.StartsWith("--", StringComparison.Ordinal) && (ci < 0 || i != ci + 1) && (ri < 0 || i != ri + 1)).FirstOrDefault()
            ?? Path.Combine(FindRepoRoot(), "..", "shared", "models", "arctic-embed-xs", "arctic-embed-xs.bf16.safetensors");
        int repeat = ri >= 0 ? int.Parse(args[ri + 1], CultureInfo.InvariantCulture) : 3;
        string[] specs = ci >= 0 ? args[ci + 1].Split(';') : ["raw", "zstd:grouping=none", "zstd:grouping=bytes", "entropy", "fixed"];

        using SafetensorsFile file = SafetensorsFile.Open(path);
        List<(string Name, TensorDType DType, long[] Shape, byte[] Data)> tensors = [];
        foreach (SafetensorsEntry e in file.Entries)
        {
            if (e.DType is not ("BF16" or "F16" or "F32")) continue;
            tensors.Add((e.Name, TensorDTypeExtensions.ParseSafetensorsName(e.DType), e.Shape, file.File.Slice(file.DataStart + e.Begin, e.Length).ToArray()));
        }
        long allWeights = tensors.Sum(t => t.Data.Length / t.DType.ByteSize());
        long matrixWeights = tensors.Where(t => t.Shape.Length == 2).Sum(t => t.Data.Length / t.DType.ByteSize());
        double floorAll = 0, floorMat = 0;
        foreach ((string _, TensorDType dt, long[] shape, byte[] data) in tensors)
        {
            ExponentStatistics st = ExponentStatistics.Compute(data, dt);
            floorAll += st.FloorBitsPerWeight * st.Count;
            if (shape.Length == 2) floorMat += st.FloorBitsPerWeight * st.Count;
        }
        Console.WriteLine($"{Path.GetFileName(path)}: {tensors.Count} tensors, {allWeights:N0} weights ({matrixWeights:N0} in matrices), {Environment.ProcessorCount} cores");
        Console.WriteLine($"{"codec",-22} {"all,1-D raw",11} {"bits/w mat",10} {"ratio",7} {"enc MB/s",9} {"dec MB/s",9}");
        Console.WriteLine($"{"floor (H(exp)+rest)",-22} {floorAll / allWeights,11:F3} {floorMat / matrixWeights,10:F3}");
        foreach (string spec in specs)
        {
            IWeightCodec codec = CodecRegistry.CreateEncoder(spec);
            long bytesAll = 0, bytesMat = 0, original = 0;
            TimeSpan enc = TimeSpan.Zero, dec = TimeSpan.Zero;
            foreach ((string name, TensorDType dt, long[] shape, byte[] data) in tensors)
            {
                TensorLayout layout = new(dt, shape);
                EncodedTensor et = null!;
                enc += Best(repeat, () => et = codec.Encode(data, layout));
                byte[] back = new byte[data.Length];
                dec += Best(repeat, () => codec.Decode(et.Blob, layout, et.Params, back, name));
                if (!back.AsSpan().SequenceEqual(data)) throw new InvalidOperationException($"{spec}: tensor {name} does not round-trip");
                bytesAll += shape.Length >= 2 ? et.Blob.Length : data.Length; // as `compress` does: 1-D tensors stay raw
                if (shape.Length == 2) bytesMat += et.Blob.Length;
                original += data.Length;
            }
            double mb = original / 1e6;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{spec,-22} {8.0 * bytesAll / allWeights,11:F3} {8.0 * bytesMat / matrixWeights,10:F3} {(double)original / bytesAll,7:F3} {mb / enc.TotalSeconds,9:F0} {mb / dec.TotalSeconds,9:F0}"));
        }
        return 0;
    }

    /// <summary>The fastest of <paramref name="repeat"/> runs (the machine is shared; the minimum is the least disturbed).</summary>
    private static TimeSpan Best(int repeat, Action action)
    {
        TimeSpan best = TimeSpan.MaxValue;
        for (int i = 0; i < Math.Max(1, repeat); i++)
        {
            Stopwatch sw = Stopwatch.StartNew();
            action();
            if (sw.Elapsed < best) best = sw.Elapsed;
        }
        return best;
    }

    private static string FindRepoRoot()
    {
        string? d = AppContext.BaseDirectory;
        while (d != null && !File.Exists(Path.Combine(d, "CodecLlm.slnx"))) d = Path.GetDirectoryName(d);
        return d ?? Directory.GetCurrentDirectory();
    }
}
