using CodecLlm.Formats.HuggingFace;
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
            HuggingFace.LlamaTensorLayout.ValidateConfig(path, config);
            ITokenizer? tokenizer = null;
            if (options.TokenizerPath != null)
                tokenizer = ExplicitTokenizer.Load(options.TokenizerPath, config.VocabSize);
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
}
