using CodecLlm.Model;
using CodecLlm.Tokenization;

namespace CodecLlm.Tests.Tokenization;

public class GgufTokenizerTests
{
    private static readonly Lazy<ITokenizer> Stories = new(() => TokenizerFactory.FromGgufVocabulary(TestGgufVocabularyReader.Read(TestPaths.Stories260KGguf)));
    private static readonly Lazy<ITokenizer> Tok512 = new(() => TokenizerFactory.FromLlama2cFile(TestPaths.Stories260KTokenizer, 512));

    [Theory]
    [InlineData("Once upon a time, there was a little girl named Lily.")]
    [InlineData("She said, \"I'm sorry, mom. I didn't know what to do.\"\nThe end!")]
    [InlineData("  Timmy's 3 dogs ate 12 sandwiches — Zürich 🙂\t")]
    public void LlamaVocabularyMatchesTheSameModelsTokenizerBin(string text)
    {
        // stories260K.gguf (llama.cpp's converter) and tok512.bin (llama2.c's export) are independent files of one vocabulary.
        Assert.Equal(Tok512.Value.Encode(text, true), Stories.Value.Encode(text, true));
        Assert.Equal(text, Stories.Value.Decode(Stories.Value.Encode(text, true)));
    }

    [Fact]
    public void LlamaVocabularyMatchesControlTokensInTheText()
    {
        // llama.cpp (parse_special): "</s>" in the text is EOS and the text after it gets its own dummy prefix.
        ITokenizer t = Stories.Value;
        int[] expected = [1, .. t.Encode("Lily", false), 2, .. t.Encode("Tom", false)];
        Assert.Equal(expected, t.Encode("Lily</s>Tom", true));
        Assert.NotEqual(expected, Tok512.Value.Encode("Lily</s>Tom", true)); // llama2.c's run.c spells it out
    }

    [Fact]
    public void LlamaVocabularyTokenBytesMatchTokenizerBin()
    {
        Assert.Equal(512, Stories.Value.VocabSize);
        Assert.Equal(1, Stories.Value.BosTokenId);
        Assert.Equal([2], Stories.Value.EosTokenIds);
        for (int id = 0; id < 512; id++)
        {
            Assert.Equal(Tok512.Value.GetTokenBytes(id, 1), Stories.Value.GetTokenBytes(id, 1));
            Assert.Equal(Tok512.Value.GetTokenBytes(id, 300), Stories.Value.GetTokenBytes(id, 300));
        }
    }

    [Fact]
    public void SourceRebuilds()
    {
        ITokenizer t = Stories.Value;
        Assert.Equal("gguf-vocab", t.Source.Kind);
        ITokenizer rebuilt = TokenizerFactory.FromSource(t.Source);
        Assert.Equal(t.Encode("the and the", true), rebuilt.Encode("the and the", true));
        ITokenizer gpt2 = TokenizerFactory.FromSource(TinyGpt2(null).Source);
        Assert.Equal([16, 21], gpt2.Encode("hello world", false));
    }

    // A hand-made byte-level vocabulary ('Ġ' is the space, 'Ċ' the newline in GPT-2's byte alphabet).
    internal static readonly string[] TinyTokens =
    [
        "<|endoftext|>", "h", "e", "l", "o", "Ġ", "w", "r", "d", "1", "2", "3", "4", // 0-12
        "he", "ll", "hell", "hello", "Ġw", "or", "Ġwor", "ld", "Ġworld", "12", "123", // 13-23
        "<|im_start|>", "!", "Ċ", "Ġhe", // 24-27
    ];

    internal static readonly string[] TinyMerges = ["h e", "l l", "he ll", "hell o", "Ġ w", "o r", "Ġw or", "l d", "Ġwor ld", "1 2", "12 3"];

    private static ITokenizer TinyGpt2(string? pre)
    {
        int[] types = TinyTokens.Select(t => t.StartsWith("<|", StringComparison.Ordinal) ? TokenType.Control : TokenType.Normal).ToArray();
        return TokenizerFactory.FromGgufVocabulary(new GgufVocabulary("gpt2", TinyTokens, null, types, TinyMerges, 0, [0], false, pre));
    }

    [Theory]
    // hello: h e l l o →(he) he l l o →(ll) he ll o →(hell) hell o →(hello) = 16.
    // " world": Ġ w o r l d →(Ġw, rank 4) →(or, 5) →(Ġwor, 6) →(ld, 7) →(Ġworld, 8) = 21.
    [InlineData(null, "hello world", new[] { 16, 21 })]
    [InlineData(null, "lll", new[] { 14, 3 })]                   // leftmost of two equal pairs merges first
    [InlineData(null, "hello\nworld", new[] { 16, 26, 6, 18, 20 })] // "world" without the space: w, or, ld
    [InlineData(null, "1212", new[] { 22, 22 })]                  // GPT-2: one number
    [InlineData("llama-bpe", "1212", new[] { 22, 9, 10 })]        // Llama 3: "121" "2"
    [InlineData("qwen2", "1212", new[] { 9, 10, 9, 10 })]         // Qwen2: single digits
    [InlineData(null, " he", new[] { 5, 13 })]                    // GPT-2 merges: Ġ + he
    [InlineData("llama-bpe", " he", new[] { 27 })]                // Llama 3 ignores merges for a word in the vocabulary
    [InlineData(null, "<|im_start|>hello<|endoftext|>", new[] { 24, 16, 0 })] // control tokens matched verbatim
    public void Gpt2VocabularyHandComputed(string? pre, string text, int[] expected) =>
        Assert.Equal(expected, TinyGpt2(pre).Encode(text, addBos: false));

    [Fact]
    public void Gpt2VocabularyDecodes()
    {
        ITokenizer t = TinyGpt2("llama-bpe");
        Assert.False(t.AddBos);
        Assert.Equal("hello world!", t.Decode([24, 16, 21, 25, 0]));
        Assert.Equal(" "u8.ToArray(), t.GetTokenBytes(5, -1)); // byte-level keeps leading spaces
        Assert.Equal("\n"u8.ToArray(), t.GetTokenBytes(26, 16));
        Assert.Empty(t.GetTokenBytes(0, 16));
    }

    [Fact]
    public void BadVocabulariesFailWithOneLine()
    {
        var mismatch = new GgufVocabulary("llama", ["<unk>", "<s>", "</s>"], [0f, 0f], null, null, 1, [2], true, null);
        var e = Assert.Throws<ModelFormatException>(() => TokenizerFactory.FromGgufVocabulary(mismatch));
        Assert.Contains("tokenizer.ggml.scores", e.Message);

        var noMerges = new GgufVocabulary("gpt2", ["a"], null, null, null, 0, [0], false, null);
        Assert.Throws<ModelFormatException>(() => TokenizerFactory.FromGgufVocabulary(noMerges));

        var bert = new GgufVocabulary("bert", ["a"], null, null, null, 0, [0], false, null);
        var u = Assert.Throws<UnsupportedModelException>(() => TokenizerFactory.FromGgufVocabulary(bert));
        Assert.Contains("bert", u.Message);
    }
}
