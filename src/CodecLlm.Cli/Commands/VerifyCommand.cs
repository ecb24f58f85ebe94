using System.CommandLine;
using CodecLlm.Formats;
using CodecLlm.Formats.Compressed;
using CodecLlm.Model;

namespace CodecLlm.Cli.Commands;

/// <summary>
/// <c>codecllm verify FILE [--against ORIGINAL]</c>: decodes every tensor and checks its CRC-32 and the
/// xxHash64 of the original bytes, and byte equality with ORIGINAL when given. Exit 0 when all pass;
/// otherwise one line naming the first bad tensor and exit 1.
/// </summary>
public static class VerifyCommand
{
    public static Command Create()
    {
        Argument<string> file = new("file") { Description = "A compressed model file" };
        Option<string?> against = new("--against") { Description = "The original model or safetensors file to compare every tensor with" };
        Command cmd = new("verify", "Decode every tensor of a compressed model file and check it is bit-identical to the original");
        cmd.Arguments.Add(file);
        cmd.Options.Add(against);
        cmd.SetAction((ParseResult pr, CancellationToken ct) => CliApp.Guard(() => Task.FromResult(Run(pr.GetValue(file)!, pr.GetValue(against), Console.Out, ct))));
        return cmd;
    }

    internal static int Run(string path, string? againstPath, TextWriter output, CancellationToken ct)
    {
        using CompressedModelFile file = CompressedModelFile.Open(path);
        using CompressionSource? original = againstPath == null ? null
            : CompressionSource.Open(againstPath, new ModelLoadOptions(), ModelSources.IsModel, ModelSources.Load);
        Dictionary<string, ModelTensor>? originals = original?.Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        if (originals != null)
        {
            string? missing = originals.Keys.FirstOrDefault(k => !file.Tensors.ContainsKey(k));
            if (missing != null) throw new CorruptTensorException(missing, $"{path}: tensor of {againstPath} is missing from the compressed file");
        }
        long bytes = 0;
        foreach (CompressedTensorInfo info in file.TensorInfos)
        {
            ct.ThrowIfCancellationRequested();
            byte[] decoded = file.VerifyTensor(info.Name);
            bytes += decoded.Length;
            if (originals == null) continue;
            if (!originals.TryGetValue(info.Name, out ModelTensor? o))
                throw new CorruptTensorException(info.Name, $"{againstPath}: has no tensor of this name");
            if (o.DType != info.TensorDType || !o.Shape.SequenceEqual(info.Shape))
                throw new CorruptTensorException(info.Name, $"{o.DType}[{string.Join(",", o.Shape)}] in {againstPath}, {info.DType}[{string.Join(",", info.Shape)}] in {path}");
            byte[] expected = o.IsRaw ? o.StoredBytes.ToArray() : o.DecodeToArray();
            int diff = expected.AsSpan().CommonPrefixLength(decoded);
            if (diff != expected.Length || decoded.Length != expected.Length)
                throw new CorruptTensorException(info.Name, $"decoded bytes differ from {againstPath} at byte {diff}");
        }
        output.WriteLine($"ok: {file.TensorInfos.Count} tensors ({CompressCommand.Bytes(bytes)} decoded) match their hashes"
            + (againstPath != null ? $" and {againstPath} bit for bit" : ""));
        return 0;
    }
}
