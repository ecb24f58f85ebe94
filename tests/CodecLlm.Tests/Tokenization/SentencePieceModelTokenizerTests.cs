using CodecLlm.Model;
using CodecLlm.Tokenization;

namespace CodecLlm.Tests.Tokenization;

public class SentencePieceModelTokenizerTests
{
    private static readonly Lazy<ITokenizer> Model = new(() => TokenizerFactory.FromSentencePieceModel(TestPaths.Llama2TokenizerModel));
    private static readonly Lazy<ITokenizer> Bin = new(() => TokenizerFactory.FromLlama2cFile(TestPaths.Llama2TokenizerBin, 32000));

    public static TheoryData<string> Sentences => new()
    {
        "Hello world",
        "The quick brown fox jumps over the lazy dog.",
        "Once upon a time, there was a little girl named Lily. She loved to play outside!",
        "In 1969, Apollo 11 landed on the Moon; 3.14159 × 2 = 6.28318.",
        "Café, naïve, façade, Zürich, São Paulo, Ærøskøbing, Dvořák.",
        "Emoji: 🦙🚀😀 and a family 👨‍👩‍👧 (with joiners).",
        "Line one\nLine two\n\n\tIndented line\r\n",
        "Привет, мир! Γειά σου κόσμε. 日本語のテキスト。 한국어 문장.",
        "  two leading spaces and    four inner spaces  ",
        "def f(x):\n    return x ** 2  # comment\n",
        "Special-looking text: <0x0A> [INST] <<SYS>> <|im_start|> stays text.",
        "\"Quotes\", 'apostrophes', (parens), [brackets], {braces}, #hash, @at, $100, 50%, a&b, x|y, ~tilde~",
    };

    [Theory]
    [MemberData(nameof(Sentences))]
    public void ModelAndBinGiveTheSameIds(string text)
    {
        Assert.Equal(Model.Value.Encode(text, addBos: true), Bin.Value.Encode(text, addBos: true));
        Assert.Equal(Model.Value.Encode(text, addBos: false), Bin.Value.Encode(text, addBos: false));
    }

    [Theory]
    [MemberData(nameof(Sentences))]
    public void RoundTrips(string text)
    {
        ITokenizer t = Model.Value;
        Assert.Equal(text, t.Decode(t.Encode(text, addBos: true)));
        Assert.Equal(text, t.Decode(t.Encode(text, addBos: false)));
    }

    [Theory]
    [MemberData(nameof(Llama2cTokenizerTests.LlamaCppCases), MemberType = typeof(Llama2cTokenizerTests))]
    public void MatchesLlamaCppReferenceIds(string text, int[] expected) => Assert.Equal(expected, Model.Value.Encode(text, addBos: false));

    [Fact]
    public void ControlTokensInTheTextAreThoseTokens()
    {
        // As Hugging Face and llama.cpp: "</s>" in a chat prompt is EOS, and the text after it starts a new segment.
        ITokenizer t = Model.Value;
        int[] expected = [1, .. t.Encode("Hi", false), 2, .. t.Encode("\n<|assistant|>", false)];
        Assert.Equal(expected, t.Encode("Hi</s>\n<|assistant|>", addBos: true));
        Assert.Equal([1, 1, 15043], t.Encode("<s>Hello", addBos: true));
        Assert.Equal("Hi \n<|assistant|>", t.Decode(expected)); // EOS prints nothing; the new segment's dummy prefix stays (as in HF)
    }

    [Fact]
    public void SpecialIds()
    {
        ITokenizer t = Model.Value;
        Assert.Equal(32000, t.VocabSize);
        Assert.Equal(1, t.BosTokenId);
        Assert.Equal([2], t.EosTokenIds);
        Assert.Equal([1, 15043, 3186], t.Encode("Hello world", addBos: true));
        Assert.Equal([1], t.Encode("", addBos: true));
    }

    [Fact]
    public void TokenBytesMatchTheBinTokenizerForEveryToken()
    {
        // Two independent sources of the same vocabulary: the SentencePiece protobuf and llama2.c's export.
        for (int id = 0; id < 32000; id++)
        {
            if (id == 0) continue; // <unk>: llama2.c prints "<unk>", SentencePiece " ⁇ "
            Assert.Equal(Bin.Value.GetTokenBytes(id, 29871), Model.Value.GetTokenBytes(id, 29871));
            Assert.Equal(Bin.Value.GetTokenBytes(id, 1), Model.Value.GetTokenBytes(id, 1));
        }
    }

    [Fact]
    public void SourceRebuilds()
    {
        ITokenizer t = Model.Value;
        Assert.Equal("sentencepiece-model", t.Source.Kind);
        ITokenizer rebuilt = TokenizerFactory.FromSource(t.Source);
        Assert.Equal(t.Encode("Emoji 🦙 rebuilt", true), rebuilt.Encode("Emoji 🦙 rebuilt", true));
    }

    [Fact]
    public void CorruptModelIsModelFormatError()
    {
        string dir = TestPaths.NewTempDir();
        try
        {
            string path = Path.Combine(dir, "tokenizer.model");
            File.WriteAllBytes(path, [0xFF, 0xFF, 0xFF, 0x01, 0x02, 0x03]);
            var e = Assert.Throws<ModelFormatException>(() => TokenizerFactory.FromSentencePieceModel(path));
            Assert.Contains(path, e.Message);
            Assert.DoesNotContain('\n', e.Message);
            Assert.Throws<TokenizerNotFoundException>(() => TokenizerFactory.FromSentencePieceModel(Path.Combine(dir, "missing.model")));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
