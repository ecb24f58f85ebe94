using System.Globalization;
using System.IO.Hashing;
using CodecLlm.Codecs;
using CodecLlm.Formats.Safetensors;
using CodecLlm.Model;
using CodecLlm.Tokenization;

namespace CodecLlm.Formats.Compressed;

/// <summary>
/// Writes a CodecLLM compressed model file: each tensor is encoded with its codec, its blob spilled to a
/// temporary file (so only one tensor is in memory at a time), then everything is written as one
/// safetensors file (U8 blobs, 64-byte aligned) to a temporary name and renamed into place.
/// </summary>
public sealed class CompressedModelWriter
{
    private readonly List<(string Name, TensorDType DType, long[] Shape, Func<byte[]> Read, IWeightCodec Codec)> _tensors = [];

    /// <summary>The model config; null writes a storage-only file (tensors without a runnable model).</summary>
    public ModelConfig? Config { get; init; }

    public TokenizerSource? Tokenizer { get; init; }

    public string? ChatTemplate { get; init; }

    /// <summary>Adds a tensor; <paramref name="read"/> returns its original element bytes when the writer gets to it.</summary>
    public void Add(string name, TensorDType dtype, long[] shape, Func<byte[]> read, IWeightCodec codec)
    {
        if (name.StartsWith(CompressedModelMetadata.TokenizerTensorPrefix, StringComparison.Ordinal))
            throw new ArgumentException($"tensor name '{name}' uses the reserved prefix {CompressedModelMetadata.TokenizerTensorPrefix}");
        if (_tensors.Any(t => t.Name == name)) throw new ArgumentException($"tensor '{name}' added twice");
        _tensors.Add((name, dtype, shape, read, codec));
    }

    /// <summary>Adds a model tensor (decoded first when it is itself compressed).</summary>
    public void Add(ModelTensor tensor, IWeightCodec codec) =>
        Add(tensor.Name, tensor.DType, tensor.Shape, () => tensor.IsRaw ? tensor.StoredBytes.ToArray() : tensor.DecodeToArray(), codec);

    /// <summary>
    /// Encodes and writes everything to <paramref name="path"/>. <paramref name="progress"/> is called after
    /// each tensor with (tensors done, tensors total, info of the tensor just encoded).
    /// </summary>
    public IReadOnlyList<CompressedTensorInfo> Write(string path, Action<int, int, CompressedTensorInfo>? progress = null, CancellationToken cancellationToken = default)
    {
        string spill = path + ".blobs-" + Environment.ProcessId + ".tmp";
        List<CompressedTensorInfo> infos = [];
        List<(long Offset, long Length)> spans = [];
        try
        {
            using (FileStream blobs = new(spill, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 20, FileOptions.DeleteOnClose))
            {
                for (int i = 0; i < _tensors.Count; i++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    (string name, TensorDType dtype, long[] shape, Func<byte[]> read, IWeightCodec codec) = _tensors[i];
                    byte[] original = read();
                    TensorLayout layout = new(dtype, shape);
                    if (original.Length != layout.ByteLength)
                        throw new ModelFormatException($"tensor '{name}': {original.Length} bytes read, shape [{string.Join(", ", shape)}] of {dtype} needs {layout.ByteLength}");
                    EncodedTensor enc = codec.Encode(original, layout);
                    CompressedTensorInfo info = new()
                    {
                        Name = name,
                        DType = dtype.ToSafetensorsName(),
                        Shape = shape,
                        Codec = codec.Name,
                        Params = new Dictionary<string, string>(enc.Params),
                        OriginalBytes = original.Length,
                        CompressedBytes = enc.Blob.Length,
                        Crc32 = Crc32.HashToUInt32(enc.Blob).ToString("x8", CultureInfo.InvariantCulture),
                        XxHash64 = XxHash64.HashToUInt64(original).ToString("x16", CultureInfo.InvariantCulture),
                    };
                    spans.Add((blobs.Position, enc.Blob.Length));
                    blobs.Write(enc.Blob);
                    infos.Add(info);
                    progress?.Invoke(i + 1, _tensors.Count, info);
                }
                blobs.Flush();

                SafetensorsWriter writer = new() { Alignment = 64 };
                writer.AddMetadata(CompressedModelMetadata.FormatKey, CompressedModelMetadata.FormatName);
                writer.AddMetadata(CompressedModelMetadata.VersionKey, CompressedModelMetadata.FormatVersion.ToString(CultureInfo.InvariantCulture));
                writer.AddMetadata(CompressedModelMetadata.TensorsKey, CompressedModelMetadata.SerializeTensors(infos));
                if (Config != null) writer.AddMetadata(CompressedModelMetadata.ConfigKey, CompressedModelMetadata.SerializeConfig(Config));
                if (ChatTemplate != null) writer.AddMetadata(CompressedModelMetadata.ChatTemplateKey, ChatTemplate);
                for (int i = 0; i < infos.Count; i++)
                {
                    (long offset, long length) = spans[i];
                    writer.Add(infos[i].Name, "U8", [length], length, output => CopyRange(blobs, offset, length, output));
                }
                if (Tokenizer != null)
                {
                    writer.AddMetadata(CompressedModelMetadata.TokenizerKindKey, Tokenizer.Kind);
                    foreach ((string file, byte[] bytes) in Tokenizer.Files)
                        writer.Add(CompressedModelMetadata.TokenizerTensorPrefix + file, "U8", [bytes.Length], bytes);
                }
                writer.WriteTo(path);
            }
        }
        finally
        {
            if (File.Exists(spill)) File.Delete(spill);
        }
        return infos;
    }

    private static void CopyRange(FileStream source, long offset, long length, Stream output)
    {
        source.Position = offset;
        byte[] buffer = new byte[1 << 20];
        while (length > 0)
        {
            int n = source.Read(buffer, 0, (int)Math.Min(buffer.Length, length));
            if (n == 0) throw new IOException($"{source.Name}: temporary blob file ended early");
            output.Write(buffer, 0, n);
            length -= n;
        }
    }
}
