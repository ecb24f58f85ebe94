using CodecLlm.Model;

namespace CodecLlm.Formats;

/// <summary>Options for loading a model.</summary>
public sealed record ModelLoadOptions
{
    /// <summary>An explicit tokenizer file (overrides discovery beside the model).</summary>
    public string? TokenizerPath { get; init; }
}

/// <summary>One checkpoint format: recognises its files and loads them into a <see cref="LoadedModel"/>.</summary>
public interface IModelFormat
{
    /// <summary>"llama2c", "gguf", "hf", "codecllm".</summary>
    string Name { get; }

    /// <summary>True when <paramref name="path"/> (a file or directory) looks like this format (cheap: magic bytes, file names).</summary>
    bool CanLoad(string path);

    LoadedModel Load(string path, ModelLoadOptions options);
}
