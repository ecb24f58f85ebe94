using CodecLlm.Formats.Safetensors;
using CodecLlm.Model;
using CodecLlm.Tokenization;

namespace CodecLlm.Formats.HuggingFace;

/// <summary>
/// A Hugging Face model directory: config.json, model.safetensors (or sharded with
/// model.safetensors.index.json), and tokenizer files. Llama, Mistral and Qwen2 architectures.
/// </summary>
public sealed class HuggingFaceFormat : IModelFormat
{
    public string Name => "hf";

    public bool CanLoad(string path) =>
        Directory.Exists(path) && File.Exists(Path.Combine(path, HfConfigReader.ConfigFile)) && HfWeights.Present(path);

    public LoadedModel Load(string path, ModelLoadOptions options)
    {
        if (!Directory.Exists(path)) throw new ModelFormatException($"{path}: not a directory");
        ModelConfig config = HfConfigReader.Read(path);
        (Dictionary<string, ModelTensor> tensors, List<SafetensorsFile> files) = HfWeights.Open(path, config);
        try
        {
            ITokenizer? tokenizer = options.TokenizerPath != null
                ? ExplicitTokenizer.Load(options.TokenizerPath, config.VocabSize)
                : TokenizerFactory.FromHuggingFaceDirectory(path);
            return new LoadedModel(path, Name, config, tensors, tokenizer, files, HfChatTemplate.Read(path));
        }
        catch
        {
            foreach (SafetensorsFile f in files) f.Dispose();
            throw;
        }
    }
}
