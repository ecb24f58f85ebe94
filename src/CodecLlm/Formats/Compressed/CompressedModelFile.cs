using System.Globalization;
using System.IO.Hashing;
using CodecLlm.Codecs;
using CodecLlm.Formats.Safetensors;
using CodecLlm.Model;
using CodecLlm.Tokenization;

namespace CodecLlm.Formats.Compressed;

/// <summary>
/// A compressed model file opened for reading: a memory-mapped safetensors file whose tensors are codec
/// blobs (U8, 64-byte aligned) described by the <c>codecllm.*</c> metadata. Opening checks the format,
/// version, codecs, sizes and the CRC-32 of every blob; the original-bytes xxHash64 is checked by
/// <see cref="VerifyTensor"/>.
/// </summary>
public sealed class CompressedModelFile : IDisposable
{
    private readonly SafetensorsFile _file;

    private CompressedModelFile(SafetensorsFile file, ModelConfig? config, IReadOnlyList<CompressedTensorInfo> infos,
        IReadOnlyDictionary<string, ModelTensor> tensors, TokenizerSource? tokenizer, string? chatTemplate)
    {
        _file = file;
        Config = config;
        TensorInfos = infos;
        Tensors = tensors;
        Tokenizer = tokenizer;
        ChatTemplate = chatTemplate;
    }

    public string Path => _file.Path;

    /// <summary>The model's config; null for a storage-only file (compressed from an arbitrary safetensors file).</summary>
    public ModelConfig? Config { get; }

    /// <summary>Per-tensor metadata, in file order.</summary>
    public IReadOnlyList<CompressedTensorInfo> TensorInfos { get; }

    /// <summary>The tensors over the mapped blobs (decode with <see cref="ModelTensor.DecodeTo"/>).</summary>
    public IReadOnlyDictionary<string, ModelTensor> Tensors { get; }

    public TokenizerSource? Tokenizer { get; }

    public string? ChatTemplate { get; }

    /// <summary>The mapped file, for owners that outlive this object (see <see cref="DetachFile"/>).</summary>
    public MappedFile File => _file.File;

    /// <summary>True when <paramref name="path"/> is a safetensors file whose metadata says format "codecllm".</summary>
    public static bool IsCompressedModel(string path)
    {
        if (!System.IO.File.Exists(path) || !SafetensorsFile.LooksLikeSafetensors(path)) return false;
        try
        {
            using SafetensorsFile f = SafetensorsFile.Open(path);
            return f.Metadata.TryGetValue(CompressedModelMetadata.FormatKey, out string? fmt) && fmt == CompressedModelMetadata.FormatName;
        }
        catch (CodecLlmException)
        {
            return false;
        }
    }

    public static CompressedModelFile Open(string path, bool checkCrc = true)
    {
        SafetensorsFile file = SafetensorsFile.Open(path);
        try
        {
            return Parse(path, file, checkCrc);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static CompressedModelFile Parse(string path, SafetensorsFile file, bool checkCrc)
    {
        IReadOnlyDictionary<string, string> md = file.Metadata;
        if (!md.TryGetValue(CompressedModelMetadata.FormatKey, out string? format) || format != CompressedModelMetadata.FormatName)
            throw new ModelFormatException($"{path}: not a CodecLLM compressed model (safetensors metadata has no format \"codecllm\")");
        if (!md.TryGetValue(CompressedModelMetadata.VersionKey, out string? versionText)
            || !int.TryParse(versionText, NumberStyles.Integer, CultureInfo.InvariantCulture, out int version))
            throw new ModelFormatException($"{path}: compressed model has no valid format_version");
        if (version != CompressedModelMetadata.FormatVersion)
            throw new UnsupportedModelException($"{path}: compressed model format version {version} is not supported (this build reads version {CompressedModelMetadata.FormatVersion})");
        if (!md.TryGetValue(CompressedModelMetadata.TensorsKey, out string? tensorsJson))
            throw new ModelFormatException($"{path}: compressed model has no tensor metadata");
        CompressedTensorInfo[] infos = CompressedModelMetadata.DeserializeTensors(tensorsJson, path);
        ModelConfig? config = md.TryGetValue(CompressedModelMetadata.ConfigKey, out string? cj) ? CompressedModelMetadata.DeserializeConfig(cj, path) : null;

        Dictionary<string, SafetensorsEntry> entries = file.Entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
        Dictionary<string, ModelTensor> tensors = new(StringComparer.Ordinal);
        foreach (CompressedTensorInfo info in infos)
        {
            if (!entries.TryGetValue(info.Name, out SafetensorsEntry? e))
                throw new ModelFormatException($"{path}: tensor '{info.Name}' is listed in the metadata but has no data");
            if (e.Length != info.CompressedBytes)
                throw new CorruptTensorException(info.Name, $"{path}: blob has {e.Length} bytes, metadata says {info.CompressedBytes}");
            TensorDType dtype;
            try
            {
                dtype = info.TensorDType;
            }
            catch (UnsupportedModelException ex)
            {
                throw new UnsupportedModelException($"{path}: tensor '{info.Name}': {ex.Message}");
            }
            if (!CodecRegistry.Names.Contains(info.Codec))
                throw new UnsupportedModelException($"{path}: tensor '{info.Name}' uses unknown codec '{info.Codec}' (known: {string.Join(", ", CodecRegistry.Names)})");
            long offset = file.DataStart + e.Begin;
            if (checkCrc)
            {
                uint crc = Crc32.HashToUInt32(file.File.Slice(offset, e.Length));
                if (crc.ToString("x8", CultureInfo.InvariantCulture) != info.Crc32)
                    throw new CorruptTensorException(info.Name, $"{path}: blob CRC-32 {crc:x8} does not match the recorded {info.Crc32}: the file is corrupt");
            }
            ulong xx = ulong.TryParse(info.XxHash64, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong h)
                ? h : throw new ModelFormatException($"{path}: tensor '{info.Name}' has a malformed xxhash64 '{info.XxHash64}'");
            try
            {
                tensors[info.Name] = new ModelTensor(info.Name, dtype, info.Shape, file.File, offset, e.Length, info.Codec, info.Params, xx);
            }
            catch (ModelFormatException ex)
            {
                throw new CorruptTensorException(info.Name, ex.Message);
            }
        }

        TokenizerSource? tokenizer = null;
        if (md.TryGetValue(CompressedModelMetadata.TokenizerKindKey, out string? kind))
        {
            Dictionary<string, byte[]> files = new(StringComparer.Ordinal);
            foreach (SafetensorsEntry e in file.Entries.Where(e => e.Name.StartsWith(CompressedModelMetadata.TokenizerTensorPrefix, StringComparison.Ordinal)))
                files[e.Name[CompressedModelMetadata.TokenizerTensorPrefix.Length..]] = file.File.Slice(file.DataStart + e.Begin, e.Length).ToArray();
            tokenizer = new TokenizerSource(kind, files);
        }
        md.TryGetValue(CompressedModelMetadata.ChatTemplateKey, out string? template);
        return new CompressedModelFile(file, config, infos, tensors, tokenizer, template);
    }

    /// <summary>
    /// Decodes a tensor and checks its xxHash64 against the recorded hash of the original bytes. Throws
    /// <see cref="CorruptTensorException"/> naming the tensor on any mismatch.
    /// </summary>
    public byte[] VerifyTensor(string name)
    {
        ModelTensor t = Tensors[name];
        byte[] decoded = t.DecodeToArray();
        ulong h = XxHash64.HashToUInt64(decoded);
        if (h != t.OriginalXxHash64)
            throw new CorruptTensorException(name, $"{Path}: decoded bytes hash to {h:x16}, the original hashed to {t.OriginalXxHash64:x16}");
        return decoded;
    }

    /// <summary>Hands the mapped file to a new owner (a <see cref="LoadedModel"/>); this object must not be disposed afterwards.</summary>
    internal MappedFile DetachFile() => _file.File;

    public void Dispose() => _file.Dispose();
}
