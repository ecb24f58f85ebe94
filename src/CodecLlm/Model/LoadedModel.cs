using CodecLlm.Tokenization;

namespace CodecLlm.Model;

/// <summary>
/// A model as loaded from any supported format: its config, its tensors under canonical (Hugging Face)
/// names, and its tokenizer. Owns the mapped files the tensors point into.
/// </summary>
public sealed class LoadedModel : IDisposable
{
    private readonly List<IDisposable> _owned;

    public LoadedModel(string sourcePath, string format, ModelConfig config, IReadOnlyDictionary<string, ModelTensor> tensors,
        ITokenizer? tokenizer, IEnumerable<IDisposable> owned, string? chatTemplate = null)
    {
        SourcePath = sourcePath;
        Format = format;
        Config = config;
        Tensors = tensors;
        Tokenizer = tokenizer;
        ChatTemplate = chatTemplate;
        _owned = owned.ToList();
    }

    public string SourcePath { get; }

    /// <summary>"llama2c", "gguf", "hf", "safetensors", "codecllm".</summary>
    public string Format { get; }

    public ModelConfig Config { get; }

    public IReadOnlyDictionary<string, ModelTensor> Tensors { get; }

    public ITokenizer? Tokenizer { get; }

    /// <summary>The Jinja chat template from tokenizer_config.json or GGUF metadata, when the model has one.</summary>
    public string? ChatTemplate { get; }

    public ModelTensor GetTensor(string name) =>
        Tensors.TryGetValue(name, out ModelTensor? t) ? t : throw new ModelFormatException($"{SourcePath}: tensor '{name}' is missing");

    public ITokenizer RequireTokenizer() =>
        Tokenizer ?? throw new TokenizerNotFoundException($"{SourcePath}: no tokenizer found; pass --tokenizer PATH");

    public void Dispose()
    {
        foreach (IDisposable d in _owned) d.Dispose();
        _owned.Clear();
    }
}
