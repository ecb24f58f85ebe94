using System.Diagnostics;
using System.Globalization;
using CodecLlm.Codecs;
using CodecLlm.Formats.Safetensors;
using CodecLlm.Model;

namespace CodecLlm.Bench;

/// <summary>
/// `dotnet run -c Release --project bench/CodecLlm.Bench -- codecs [FILE.safetensors] [--codecs "a;b:key=value"]`: for every
/// codec, bits/weight over all float tensors and over matrices only, the exponent-entropy floor, and CPU
/// encode / decode throughput (MB/s of original bytes), each tensor round-trip checked.
/// </summary>
public static class CodecReport
{
    public static int Run(string[] args)
    {
        int ci = Array.IndexOf(args, "--codecs");
        string path = args.Where((a, i) => !a.StartsWith("--", StringComparison.Ordinal) && (ci < 0 || i != ci + 1)).FirstOrDefault()
            ?? Path.Combine(FindRepoRoot(), "..", "shared", "models", "arctic-embed-xs", "arctic-embed-xs.bf16.safetensors");
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
        Console.WriteLine($"{"codec",-22} {"bits/w all",10} {"bits/w mat",10} {"ratio",7} {"enc MB/s",9} {"dec MB/s",9}");
        Console.WriteLine($"{"floor (H(exp)+rest)",-22} {floorAll / allWeights,10:F3} {floorMat / matrixWeights,10:F3}");
        foreach (string spec in specs)
        {
            IWeightCodec codec = CodecRegistry.CreateEncoder(spec);
            long bytesAll = 0, bytesMat = 0, original = 0;
            TimeSpan enc = TimeSpan.Zero, dec = TimeSpan.Zero;
            foreach ((string name, TensorDType dt, long[] shape, byte[] data) in tensors)
            {
                TensorLayout layout = new(dt, shape);
                Stopwatch sw = Stopwatch.StartNew();
                EncodedTensor et = codec.Encode(data, layout);
                enc += sw.Elapsed;
                byte[] back = new byte[data.Length];
                sw.Restart();
                codec.Decode(et.Blob, layout, et.Params, back, name);
                dec += sw.Elapsed;
                if (!back.AsSpan().SequenceEqual(data)) throw new InvalidOperationException($"{spec}: tensor {name} does not round-trip");
                bytesAll += et.Blob.Length;
                if (shape.Length == 2) bytesMat += et.Blob.Length;
                original += data.Length;
            }
            double mb = original / 1e6;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{spec,-22} {8.0 * bytesAll / allWeights,10:F3} {8.0 * bytesMat / matrixWeights,10:F3} {(double)original / bytesAll,7:F3} {mb / enc.TotalSeconds,9:F0} {mb / dec.TotalSeconds,9:F0}"));
        }
        return 0;
    }

    private static string FindRepoRoot()
    {
        string? d = AppContext.BaseDirectory;
        while (d != null && !File.Exists(Path.Combine(d, "CodecLlm.slnx"))) d = Path.GetDirectoryName(d);
        return d ?? Directory.GetCurrentDirectory();
    }
}
