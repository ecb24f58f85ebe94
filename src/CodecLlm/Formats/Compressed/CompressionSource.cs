using CodecLlm.Formats.Safetensors;
using CodecLlm.Model;
using CodecLlm.Tokenization;

namespace CodecLlm.Formats.Compressed;

/// <summary>
/// What <c>codecllm compress</c> reads: a model any loader accepts (config, canonical tensor names,
/// tokenizer), or a plain safetensors file with arbitrary tensor names (storage compression: no config).
/// </summary>
public sealed class CompressionSource : IDisposable
{
    private readonly IDisposable _owner;

    private CompressionSource(IDisposable owner, IReadOnlyList<ModelTensor> tensors, ModelConfig? config, TokenizerSource? tokenizer, string? chatTemplate, string kind)
    {
        _owner = owner;
        Tensors = tensors;
        Config = config;
        Tokenizer = tokenizer;
        ChatTemplate = chatTemplate;
        Kind = kind;
    }

    public IReadOnlyList<ModelTensor> Tensors { get; }

    public ModelConfig? Config { get; }

    public TokenizerSource? Tokenizer { get; }

    public string? ChatTemplate { get; }

    /// <summary>The loaded model's format ("gguf", "hf", "llama2c", "codecllm", ...) or "safetensors" for storage compression.</summary>
    public string Kind { get; }

    /// <summary>
    /// Opens <paramref name="path"/>: through <paramref name="loadModel"/> (e.g. ModelLoader.Load) when it is a model,
    /// else as a plain safetensors file. <paramref name="isModel"/> says whether a loader recognises the path.
    /// </summary>
    public static CompressionSource Open(string path, ModelLoadOptions options, Func<string, bool> isModel, Func<string, ModelLoadOptions, LoadedModel> loadModel)
    {
        if (CompressedModelFile.IsCompressedModel(path))
        {
            CompressedModelFile f = CompressedModelFile.Open(path);
            return new CompressionSource(f, f.TensorInfos.Select(i => f.Tensors[i.Name]).ToList(), f.Config, f.Tokenizer, f.ChatTemplate, "codecllm");
        }
        if (isModel(path))
        {
            LoadedModel m = loadModel(path, options);
            List<ModelTensor> tensors = m.Tensors.Values.OrderBy(t => t.Name, StringComparer.Ordinal).ToList();
            return new CompressionSource(m, tensors, m.Config, m.Tokenizer?.Source, m.ChatTemplate, m.Format);
        }
        if (File.Exists(path) && SafetensorsFile.LooksLikeSafetensors(path))
        {
            SafetensorsFile sf = SafetensorsFile.Open(path);
            try
            {
                List<ModelTensor> tensors = [];
                foreach (SafetensorsEntry e in sf.Entries)
                {
                    if (e.DType is not ("F32" or "F16" or "BF16"))
                        throw new UnsupportedModelException($"{path}: tensor '{e.Name}' has dtype {e.DType}; compress handles F32, F16 and BF16 tensors");
                    tensors.Add(sf.GetRawTensor(e));
                }
                return new CompressionSource(sf, tensors, null, null, null, "safetensors");
            }
            catch
            {
                sf.Dispose();
                throw;
            }
        }
        throw new UnsupportedModelException($"{path}: not a model this tool reads, nor a safetensors file");
    }

    public void Dispose() => _owner.Dispose();
}
