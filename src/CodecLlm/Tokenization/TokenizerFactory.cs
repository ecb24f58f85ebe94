using CodecLlm.Model;

namespace CodecLlm.Tokenization;

/// <summary>
/// Builds the right <see cref="ITokenizer"/> for each place a tokenizer comes from.
/// </summary>
public static class TokenizerFactory
{
    /// <summary>A llama2.c tokenizer.bin (vocab size from the model header; 0 reads every token in the file).</summary>
    public static ITokenizer FromLlama2cFile(string path, int vocabSize) => Llama2cTokenizer.Load(path, vocabSize);

    /// <summary>
    /// The tokenizer.bin that belongs to a llama2.c model: <c>tokenizer.bin</c> beside the model, else the
    /// first <c>tok*.bin</c> there (e.g. tok512.bin); null when there is none.
    /// </summary>
    public static string? FindLlama2cTokenizer(string modelPath)
    {
        string directory = Path.GetDirectoryName(Path.GetFullPath(modelPath)) ?? ".";
        if (!Directory.Exists(directory)) return null;
        string exact = Path.Combine(directory, Llama2cTokenizer.FileName);
        if (File.Exists(exact)) return exact;

        string model = Path.GetFullPath(modelPath);
        return Directory.EnumerateFiles(directory, "tok*.bin")
            .Where(f => !string.Equals(Path.GetFullPath(f), model, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .FirstOrDefault();
    }

    /// <summary>A SentencePiece BPE tokenizer.model (Llama 2, TinyLlama, Mistral) with the model's own BOS/EOS.</summary>
    public static ITokenizer FromSentencePieceModel(string path) => SentencePieceModelTokenizer.Create(ReadTokenizerFile(path), path);

    /// <summary>The vocabulary stored in a GGUF file's metadata.</summary>
    public static ITokenizer FromGgufVocabulary(GgufVocabulary vocabulary) => GgufTokenizer.Create(vocabulary);

    /// <summary>tokenizer.model or tokenizer.json (+ tokenizer_config.json) in a Hugging Face directory; null when none is there.</summary>
    public static ITokenizer? FromHuggingFaceDirectory(string directory) => HuggingFaceTokenizer.FromDirectory(directory);

    /// <summary>Rebuilds a tokenizer embedded in a compressed model file.</summary>
    public static ITokenizer FromSource(TokenizerSource source) => source.Kind switch
    {
        Llama2cTokenizer.SourceKind => Llama2cTokenizer.Parse(SourceFile(source, Llama2cTokenizer.FileName), 0, "embedded " + Llama2cTokenizer.FileName),
        SentencePieceModelTokenizer.SourceKind => HuggingFaceTokenizer.FromFiles(WithFile(source, SentencePieceModelTokenizer.FileName), "embedded tokenizer"),
        HuggingFaceTokenizer.SourceKind => HuggingFaceTokenizer.FromFiles(WithFile(source, HuggingFaceTokenizer.JsonFileName), "embedded tokenizer"),
        GgufTokenizer.SourceKind => GgufTokenizer.FromSourceFile(SourceFile(source, GgufTokenizer.FileName)),
        _ => throw new TokenizerNotFoundException($"embedded tokenizer kind '{source.Kind}' is not known"),
    };

    private static byte[] SourceFile(TokenizerSource source, string name) =>
        source.Files.TryGetValue(name, out byte[]? bytes)
            ? bytes
            : throw new TokenizerNotFoundException($"embedded tokenizer '{source.Kind}' lacks its file '{name}'");

    private static IReadOnlyDictionary<string, byte[]> WithFile(TokenizerSource source, string name)
    {
        SourceFile(source, name);
        return source.Files;
    }

    /// <summary>Reads a tokenizer file; a missing or unreadable one is <see cref="TokenizerNotFoundException"/>.</summary>
    internal static byte[] ReadTokenizerFile(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new TokenizerNotFoundException($"tokenizer file '{path}' not found");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TokenizerNotFoundException($"tokenizer file '{path}' cannot be read: {e.Message}");
        }
    }
}
