namespace CodecLlm.Tokenization;

/// <summary>
/// Builds the right <see cref="ITokenizer"/> for each place a tokenizer comes from.
/// (Owned by the tokenization work: the bodies below are filled in there.)
/// </summary>
public static class TokenizerFactory
{
    /// <summary>A llama2.c tokenizer.bin (vocab size from the model header).</summary>
    public static ITokenizer FromLlama2cFile(string path, int vocabSize) => throw new NotImplementedException("tokenizer.bin loading lands with the tokenization work");

    /// <summary>The vocabulary stored in a GGUF file's metadata.</summary>
    public static ITokenizer FromGgufVocabulary(GgufVocabulary vocabulary) => throw new NotImplementedException("GGUF vocabularies land with the tokenization work");

    /// <summary>tokenizer.model or tokenizer.json (+ tokenizer_config.json) in a Hugging Face directory; null when none is there.</summary>
    public static ITokenizer? FromHuggingFaceDirectory(string directory) => throw new NotImplementedException("HF tokenizers land with the tokenization work");

    /// <summary>Rebuilds a tokenizer embedded in a compressed model file.</summary>
    public static ITokenizer FromSource(TokenizerSource source) => throw new NotImplementedException("tokenizer sources land with the tokenization work");
}
