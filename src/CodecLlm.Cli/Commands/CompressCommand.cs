using System.CommandLine;
using System.Globalization;
using CodecLlm.Codecs;
using CodecLlm.Formats;
using CodecLlm.Formats.Compressed;
using CodecLlm.Model;
using Spectre.Console;

namespace CodecLlm.Cli.Commands;

/// <summary>
/// <c>codecllm compress INPUT -o OUTPUT [--codec fixed|entropy|zstd|raw] [--tensors ...] [--tokenizer PATH]</c>:
/// writes a compressed model file (docs/FORMAT.md) and prints a per-group summary.
/// </summary>
public static class CompressCommand
{
    public static Command Create()
    {
        Argument<string> input = new("input") { Description = "Model (any format `run` accepts) or a safetensors file" };
        Option<string> output = new("--output", "-o") { Description = "Compressed file to write", Required = true };
        Option<string> codec = new("--codec") { Description = "fixed | entropy | zstd | raw, optionally with parameters: zstd:grouping=none,level=9", DefaultValueFactory = _ => "fixed" };
        Option<string> tensors = new("--tensors") { Description = "all | attn | mlp | embed | head | comma list of names or globs (1-D tensors stay raw unless named)", DefaultValueFactory = _ => "all" };
        Option<string?> tokenizer = new("--tokenizer") { Description = "Tokenizer file to embed (overrides the one found beside the model)" };
        Command cmd = new("compress", "Compress a model's weights losslessly into a .codecllm.safetensors file");
        cmd.Arguments.Add(input);
        cmd.Options.Add(output);
        cmd.Options.Add(codec);
        cmd.Options.Add(tensors);
        cmd.Options.Add(tokenizer);
        cmd.SetAction((ParseResult pr, CancellationToken ct) => CliApp.Guard(() => Task.FromResult(
            Run(pr.GetValue(input)!, pr.GetValue(output)!, pr.GetValue(codec)!, pr.GetValue(tensors)!, pr.GetValue(tokenizer), ct))));
        return cmd;
    }

    internal static int Run(string inputPath, string outputPath, string codecSpec, string tensorSpec, string? tokenizerPath, CancellationToken ct)
    {
        IWeightCodec codec = CodecRegistry.CreateEncoder(codecSpec);
        IWeightCodec raw = CodecRegistry.Get("raw");
        TensorSelection selection = TensorSelection.Parse(tensorSpec);
        if (Path.GetFullPath(inputPath) == Path.GetFullPath(outputPath)) throw new CodecLlmException($"{outputPath}: output would overwrite the input");

        using CompressionSource source = CompressionSource.Open(inputPath, new ModelLoadOptions { TokenizerPath = tokenizerPath },
            ModelSources.IsModel, ModelSources.Load);
        string? unmatched = selection.UnmatchedPatterns(source.Tensors.Select(t => t.Name)).FirstOrDefault();
        if (unmatched != null) throw new CodecLlmException($"{inputPath}: --tensors '{unmatched}' matches no tensor");
        if (source.Config == null) Console.Error.WriteLine($"note: {inputPath} is a plain safetensors file: storing its tensors only (no model config)");
        if (source.Config == null && tokenizerPath != null) Console.Error.WriteLine("note: --tokenizer is ignored without a model");

        CompressedModelWriter writer = new() { Config = source.Config, Tokenizer = source.Tokenizer, ChatTemplate = source.ChatTemplate };
        foreach (ModelTensor t in source.Tensors)
            writer.Add(t, selection.Includes(t.Name, t.Shape.Length) ? codec : raw);

        IReadOnlyList<CompressedTensorInfo> infos = WriteWithProgress(writer, outputPath, source.Tensors.Count, ct);
        PrintSummary(Console.Out, infos, source.Config != null, codec.Name);
        return 0;
    }

    private static IReadOnlyList<CompressedTensorInfo> WriteWithProgress(CompressedModelWriter writer, string path, int count, CancellationToken ct)
    {
        if (Console.IsErrorRedirected) return writer.Write(path, cancellationToken: ct);
        IAnsiConsole err = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        IReadOnlyList<CompressedTensorInfo> result = [];
        err.Progress().Start(ctx =>
        {
            ProgressTask task = ctx.AddTask("compressing", maxValue: count);
            result = writer.Write(path, (done, _, info) =>
            {
                task.Description = info.Name.Length > 40 ? "…" + info.Name[^39..] : info.Name;
                task.Value = done;
            }, ct);
        });
        return result;
    }

    /// <summary>The per-group table: tensors, original and compressed bytes, ratio, bits/weight.</summary>
    internal static void PrintSummary(TextWriter w, IReadOnlyList<CompressedTensorInfo> infos, bool byGroup, string codec)
    {
        IEnumerable<IGrouping<string, CompressedTensorInfo>> groups = infos.GroupBy(i => byGroup ? TensorNames.GroupOf(i.Name) : (i.Codec == "raw" ? "raw" : "compressed"));
        w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"group",-10} {"tensors",7} {"codec",-11} {"original",12} {"compressed",12} {"ratio",6} {"bits/w",7}"));
        foreach (IGrouping<string, CompressedTensorInfo> g in groups.OrderBy(g => g.Key, StringComparer.Ordinal))
            w.WriteLine(Row(g.Key, g.ToList()));
        w.WriteLine(Row("total", infos));
        w.WriteLine($"codec {codec}; 1-D tensors stored raw unless named");
    }

    private static string Row(string label, IReadOnlyCollection<CompressedTensorInfo> items)
    {
        long orig = items.Sum(i => i.OriginalBytes), comp = items.Sum(i => i.CompressedBytes), n = items.Sum(i => i.ElementCount);
        string codecs = string.Join("+", items.Select(i => i.Codec).Distinct().Order(StringComparer.Ordinal));
        return string.Create(CultureInfo.InvariantCulture,
            $"{label,-10} {items.Count,7} {codecs,-11} {Bytes(orig),12} {Bytes(comp),12} {(comp > 0 ? (double)orig / comp : 0),6:F3} {(n > 0 ? 8.0 * comp / n : 0),7:F3}");
    }

    internal static string Bytes(long b) => b switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{b / (double)(1L << 30):F2} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{b / (double)(1L << 20):F2} MiB"),
        >= 1L << 10 => string.Create(CultureInfo.InvariantCulture, $"{b / 1024.0:F1} KiB"),
        _ => $"{b} B",
    };
}
