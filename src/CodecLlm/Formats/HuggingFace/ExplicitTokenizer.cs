using CodecLlm.Formats.Gguf;
using CodecLlm.Model;
using CodecLlm.Tokenization;

namespace CodecLlm.Formats.HuggingFace;

/// <summary>
/// Loads the tokenizer a user named explicitly (<see cref="ModelLoadOptions.TokenizerPath"/>, <c>--tokenizer</c>):
/// a Hugging Face directory, its tokenizer.json / tokenizer.model, a GGUF file (its vocabulary), or a
/// llama2.c tokenizer.bin.
/// </summary>
public static class ExplicitTokenizer
{
    public static ITokenizer Load(string path, int vocabSize)
    {
        if (Directory.Exists(path))
            return TokenizerFactory.FromHuggingFaceDirectory(path)
                ?? throw new TokenizerNotFoundException($"{path}: no tokenizer.json or tokenizer.model in this directory");
        if (!File.Exists(path)) throw new TokenizerNotFoundException($"{path}: tokenizer file not found");
        string name = Path.GetFileName(path);
        // tokenizer.json / tokenizer.model of a Hugging Face directory: read with the tokenizer_config.json beside it.
        if (name.Equals("tokenizer.json", StringComparison.OrdinalIgnoreCase) || name.Equals("tokenizer.model", StringComparison.OrdinalIgnoreCase))
            return TokenizerFactory.FromHuggingFaceDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!)
                ?? throw new TokenizerNotFoundException($"{path}: tokenizer could not be read");
        if (name.EndsWith(".model", StringComparison.OrdinalIgnoreCase))
            return TokenizerFactory.FromSentencePieceModel(path);
        if (GgufFile.HasMagic(path))
        {
            using GgufFile gguf = GgufFile.Open(path);
            GgufVocabulary vocab = GgufModelReader.ReadVocabulary(gguf)
                ?? throw new TokenizerNotFoundException($"{path}: GGUF file has no tokenizer.ggml.tokens");
            return TokenizerFactory.FromGgufVocabulary(vocab);
        }
        return TokenizerFactory.FromLlama2cFile(path, vocabSize);
    }
}
