using CodecLlm.Formats.HuggingFace;
using CodecLlm.Model;
using CodecLlm.Tokenization;

namespace CodecLlm.Formats.Gguf;

/// <summary>GGUF files (llama.cpp) with F32, F16 or BF16 tensors.</summary>
public sealed class GgufFormat : IModelFormat
{
    public string Name => "gguf";

    public bool CanLoad(string path) => File.Exists(path) && GgufFile.HasMagic(path);

    public LoadedModel Load(string path, ModelLoadOptions options)
    {
        GgufFile file = GgufFile.Open(path);
        try
        {
            GgufModelContents contents = GgufModelReader.Read(file);
            ITokenizer? tokenizer = options.TokenizerPath != null
                ? ExplicitTokenizer.Load(options.TokenizerPath, contents.Config.VocabSize)
                : contents.Vocabulary != null ? TokenizerFactory.FromGgufVocabulary(contents.Vocabulary) : null;
            return new LoadedModel(path, Name, contents.Config, contents.Tensors, tokenizer, [file], contents.ChatTemplate);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }
}
