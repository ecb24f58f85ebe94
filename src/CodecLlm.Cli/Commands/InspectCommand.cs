using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using CodecLlm.Codecs;
using CodecLlm.Formats.Compressed;
using CodecLlm.Model;

namespace CodecLlm.Cli.Commands;

/// <summary>
/// <c>codecllm inspect FILE [--json]</c>: per tensor and in total, original and compressed bytes,
/// bits/weight, the exponent-entropy floor and the efficiency (floor / bits).
/// </summary>
public static class InspectCommand
{
    public static Command Create()
    {
        Argument<string> file = new("file") { Description = "A compressed model file" };
        Option<bool> json = new("--json") { Description = "Print JSON instead of a table" };
        Command cmd = new("inspect", "Show sizes, bits/weight and the entropy floor of a compressed model file");
        cmd.Arguments.Add(file);
        cmd.Options.Add(json);
        cmd.SetAction((ParseResult pr, CancellationToken ct) => CliApp.Guard(() => Task.FromResult(Run(pr.GetValue(file)!, pr.GetValue(json), Console.Out, ct))));
        return cmd;
    }

    internal sealed record Row(string Name, string Codec, string DType, long[] Shape, long OriginalBytes, long CompressedBytes, long Elements, double FloorBitsPerWeight)
    {
        public double BitsPerWeight => Elements > 0 ? 8.0 * CompressedBytes / Elements : 0;
    }

    internal static int Run(string path, bool json, TextWriter output, CancellationToken ct)
    {
        using CompressedModelFile file = CompressedModelFile.Open(path);
        List<Row> rows = [];
        foreach (CompressedTensorInfo info in file.TensorInfos)
        {
            ct.ThrowIfCancellationRequested();
            byte[] decoded = file.Tensors[info.Name].DecodeToArray();
            double floor = ExponentStatistics.Compute(decoded, info.TensorDType).FloorBitsPerWeight;
            rows.Add(new Row(info.Name, info.Codec, info.DType, info.Shape, info.OriginalBytes, info.CompressedBytes, info.ElementCount, floor));
        }
        List<Row> compressed = rows.Where(r => r.Codec != "raw").ToList();
        long cn = compressed.Sum(r => r.Elements);
        double totalBits = cn > 0 ? 8.0 * compressed.Sum(r => r.CompressedBytes) / cn : 0;
        double totalFloor = cn > 0 ? compressed.Sum(r => r.FloorBitsPerWeight * r.Elements) / cn : 0;
        if (json) WriteJson(output, file, rows, totalBits, totalFloor);
        else WriteTable(output, file, rows, totalBits, totalFloor);
        return 0;
    }

    private static void WriteJson(TextWriter output, CompressedModelFile file, List<Row> rows, double bits, double floor)
    {
        using MemoryStream ms = new();
        using (Utf8JsonWriter w = new(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("file", file.Path);
            w.WriteBoolean("has_config", file.Config != null);
            if (file.Tokenizer != null) w.WriteString("tokenizer", file.Tokenizer.Kind);
            w.WriteStartObject("totals");
            w.WriteNumber("tensors", rows.Count);
            w.WriteNumber("original_bytes", rows.Sum(r => r.OriginalBytes));
            w.WriteNumber("compressed_bytes", rows.Sum(r => r.CompressedBytes));
            w.WriteNumber("bits_per_weight", Math.Round(bits, 4));
            w.WriteNumber("entropy_floor_bits_per_weight", Math.Round(floor, 4));
            w.WriteEndObject();
            w.WriteStartArray("tensors");
            foreach (Row r in rows)
            {
                w.WriteStartObject();
                w.WriteString("name", r.Name);
                w.WriteString("codec", r.Codec);
                w.WriteString("dtype", r.DType);
                w.WriteStartArray("shape");
                foreach (long d in r.Shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteNumber("original_bytes", r.OriginalBytes);
                w.WriteNumber("compressed_bytes", r.CompressedBytes);
                w.WriteNumber("bits_per_weight", Math.Round(r.BitsPerWeight, 4));
                w.WriteNumber("entropy_floor_bits_per_weight", Math.Round(r.FloorBitsPerWeight, 4));
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        output.WriteLine(System.Text.Encoding.UTF8.GetString(ms.ToArray()));
    }

    private static void WriteTable(TextWriter output, CompressedModelFile file, List<Row> rows, double bits, double floor)
    {
        int nameWidth = Math.Clamp(rows.Count == 0 ? 10 : rows.Max(r => r.Name.Length), 10, 60);
        output.WriteLine($"{file.Path}: {rows.Count} tensors, {(file.Config != null ? file.Config.Architecture + " model" : "no model config (storage only)")}"
            + (file.Tokenizer != null ? $", tokenizer {file.Tokenizer.Kind}" : ""));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{"tensor".PadRight(nameWidth)} {"codec",-8} {"dtype",-5} {"original",12} {"compressed",12} {"bits/w",7} {"floor",7} {"eff",6}"));
        foreach (Row r in rows)
        {
            string name = r.Name.Length > nameWidth ? "…" + r.Name[^(nameWidth - 1)..] : r.Name;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{name.PadRight(nameWidth)} {r.Codec,-8} {r.DType,-5} {CompressCommand.Bytes(r.OriginalBytes),12} {CompressCommand.Bytes(r.CompressedBytes),12} {r.BitsPerWeight,7:F3} {r.FloorBitsPerWeight,7:F3} {Efficiency(r.FloorBitsPerWeight, r.BitsPerWeight),6}"));
        }
        long orig = rows.Sum(r => r.OriginalBytes), comp = rows.Sum(r => r.CompressedBytes);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"total: {CompressCommand.Bytes(orig)} → {CompressCommand.Bytes(comp)} (ratio {(comp > 0 ? (double)orig / comp : 0):F3}); compressed tensors {bits:F3} bits/weight, floor {floor:F3}, efficiency {Efficiency(floor, bits)}"));
    }

    private static string Efficiency(double floor, double bits) =>
        bits > 0 ? string.Create(CultureInfo.InvariantCulture, $"{100 * floor / bits:F1}%") : "-";
}
