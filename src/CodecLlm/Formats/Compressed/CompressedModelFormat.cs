using CodecLlm.Model;
using CodecLlm.Tokenization;

namespace CodecLlm.Formats.Compressed;

/// <summary>
/// Loads a CodecLLM compressed model file (written by <see cref="CompressedModelWriter"/>) as a
/// <see cref="LoadedModel"/> whose tensors stay compressed over the mapped blobs; the engine decodes them.
/// </summary>
public sealed class CompressedModelFormat : IModelFormat
{
    public string Name => "codecllm";

    public bool CanLoad(string path) => CompressedModelFile.IsCompressedModel(path);

    public LoadedModel Load(string path, ModelLoadOptions options)
    {
        CompressedModelFile file = CompressedModelFile.Open(path);
        try
        {
            ModelConfig config = file.Config
                ?? throw new UnsupportedModelException($"{path}: this compressed file holds tensors only (no model config): it was compressed from a plain safetensors file and cannot be run");
            ITokenizer? tokenizer = null;
            if (options.TokenizerPath != null)
                tokenizer = LoadExplicitTokenizer(options.TokenizerPath, config);
            else if (file.Tokenizer != null)
                tokenizer = TokenizerFactory.FromSource(file.Tokenizer);
            return new LoadedModel(path, Name, config, file.Tensors, tokenizer, [file.DetachFile()], file.ChatTemplate);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static ITokenizer LoadExplicitTokenizer(string path, ModelConfig config)
    {
        if (Directory.Exists(path))
            return TokenizerFactory.FromHuggingFaceDirectory(path) ?? throw new TokenizerNotFoundException($"{path}: no tokenizer.json or tokenizer.model in this directory");
        if (!File.Exists(path)) throw new TokenizerNotFoundException($"{path}: tokenizer file not found");
        return path.EndsWith(".bin", StringComparison.OrdinalIgnoreCase)
            ? TokenizerFactory.FromLlama2cFile(path, config.VocabSize)
            : TokenizerFactory.FromHuggingFaceDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!)
                ?? throw new TokenizerNotFoundException($"{path}: not a tokenizer this engine reads");
    }
}
