using CodecLlm.Formats.Compressed;
using CodecLlm.Formats.Gguf;
using CodecLlm.Formats.HuggingFace;
using CodecLlm.Formats.Llama2c;
using CodecLlm.Formats.Safetensors;
using CodecLlm.Model;

namespace CodecLlm.Formats;

/// <summary>
/// Loads a model from any supported format: the first format in <see cref="Formats"/> that recognises the
/// path (by magic bytes or file names) loads it.
/// </summary>
public static class ModelLoader
{
    /// <summary>The formats tried, in order: compressed codecllm file, GGUF, Hugging Face directory, llama2.c .bin.</summary>
    public static IReadOnlyList<IModelFormat> Formats { get; } =
    [
        new CompressedModelFormat(),
        new GgufFormat(),
        new HuggingFaceFormat(),
        new Llama2cFormat(), // last: a llama2.c .bin has no magic, only a plausible header
    ];

    public static LoadedModel Load(string path, ModelLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path) && !Directory.Exists(path)) throw new ModelFormatException($"{path}: model not found");
        return FormatOf(path).Load(path, options ?? new ModelLoadOptions());
    }

    /// <summary>The format that would load <paramref name="path"/>.</summary>
    public static IModelFormat FormatOf(string path)
    {
        IModelFormat? format = Formats.FirstOrDefault(f => f.CanLoad(path));
        if (format != null) return format;
        if (Directory.Exists(path))
            throw new UnsupportedModelException($"{path}: unrecognised model format (a model directory needs config.json with model.safetensors or model.safetensors.index.json)");
        if (File.Exists(path) && SafetensorsFile.LooksLikeSafetensors(path))
        {
            // A truncated or corrupt safetensors file (a cut .codecllm download) gets its own error, not "unrecognised":
            // opening it throws that error; a whole one is only missing codecllm's metadata.
            SafetensorsFile.Open(path).Dispose();
            throw new UnsupportedModelException($"{path}: a safetensors file without codecllm metadata; run its Hugging Face directory (config.json beside it)");
        }
        throw new UnsupportedModelException($"{path}: unrecognised model format (expected a .codecllm, .gguf or llama2.c .bin file, or a Hugging Face directory)");
    }
}
