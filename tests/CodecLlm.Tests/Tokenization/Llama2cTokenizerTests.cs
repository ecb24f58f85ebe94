using System.Text;
using CodecLlm.Model;
using CodecLlm.Tokenization;

namespace CodecLlm.Tests.Tokenization;

public class Llama2cTokenizerTests
{
    private static readonly Lazy<ITokenizer> Llama2 = new(() => TokenizerFactory.FromLlama2cFile(TestPaths.Llama2TokenizerBin, 32000));
    private static readonly Lazy<ITokenizer> Tok512 = new(() => TokenizerFactory.FromLlama2cFile(TestPaths.Stories260KTokenizer, 512));

    // Expected ids from llama.cpp's tests/test-tokenizer-0-llama (Llama 2 vocabulary, no BOS).
    public static TheoryData<string, int[]> LlamaCppCases => new()
    {
        { "", [] },
        { " ", [259] },
        { "  ", [1678] },
        { "   ", [268] },
        { "\t", [29871, 12] },
        { "\n", [29871, 13] },
        { "\t\n", [29871, 12, 13] },
        { "Hello world", [15043, 3186] },
        { " Hello world", [29871, 15043, 3186] },
        { "Hello World", [15043, 2787] },
        { " Hello World!", [29871, 15043, 2787, 29991] },
        { "Hello, world!", [15043, 29892, 3186, 29991] },
        { " this is 🦙.cpp", [29871, 445, 338, 29871, 243, 162, 169, 156, 29889, 8223] },
        { "w048 7tuijk dsdfhu", [281, 29900, 29946, 29947, 29871, 29955, 9161, 13535, 18031, 2176, 6905] },
        { "нещо на Български", [1538, 4851, 665, 1386, 29713, 1305] },
        { "  Hello", [259, 15043] },
        { "    Hello\n    Hello", [268, 15043, 13, 1678, 15043] },
        { " (", [29871, 313] },
    };

    [Theory]
    [MemberData(nameof(LlamaCppCases))]
    public void Llama2BinMatchesLlamaCppReferenceIds(string text, int[] expected)
    {
        Assert.Equal(expected, Llama2.Value.Encode(text, addBos: false));
        Assert.Equal([1, .. expected], Llama2.Value.Encode(text, addBos: true));
    }

    [Fact]
    public void Llama2HelloWorldWithBos() => Assert.Equal([1, 15043, 3186], Llama2.Value.Encode("Hello world", addBos: true));

    [Fact]
    public void SpecialIdsAndVocab()
    {
        Assert.Equal(32000, Llama2.Value.VocabSize);
        Assert.Equal(1, Llama2.Value.BosTokenId);
        Assert.Equal([2], Llama2.Value.EosTokenIds);
        Assert.Equal(512, Tok512.Value.VocabSize);
    }

    [Theory]
    [InlineData("Hello world")]
    [InlineData("Once upon a time, there was a little girl named Lily.\nShe liked to play outside!")]
    [InlineData("Prices rose 12.5% in 2023: café, naïve, Ærøskøbing — “quotes” 🦙🚀 and 日本語.")]
    [InlineData("  leading spaces, trailing spaces  ")]
    [InlineData("\ttabs\tand\r\nCRLF\n\n")]
    public void Llama2RoundTrips(string text)
    {
        ITokenizer t = Llama2.Value;
        Assert.Equal(text, t.Decode(t.Encode(text, addBos: true)));
        Assert.Equal(text, t.Decode(t.Encode(text, addBos: false)));
    }

    [Theory]
    [InlineData("Once upon a time, there was a little boy named Timmy.")]
    [InlineData("Lily didn't want to help her mom, so she said, \"I'm sorry, mom.\"\nThe end.")]
    [InlineData("Zürich 1234 — 🙂")] // characters outside the 512 pieces fall back to bytes
    public void Tok512RoundTrips(string text)
    {
        ITokenizer t = Tok512.Value;
        IReadOnlyList<int> ids = t.Encode(text, addBos: true);
        Assert.All(ids, id => Assert.InRange(id, 0, 511));
        Assert.Equal(text, t.Decode(ids));
    }

    [Fact]
    public void Tok512MergesToWholeWordPieces()
    {
        // From tok512.bin itself: 265 is " the", 269 is " and" (scores -6 and -10; every prefix is a piece).
        Assert.Equal([1, 265, 269, 265], Tok512.Value.Encode("the and the", addBos: true));
    }

    [Fact]
    public void DecodeDropsDummyPrefixOnlyAfterBosOrAtStart()
    {
        ITokenizer t = Llama2.Value;
        Assert.Equal("Hello"u8.ToArray(), t.GetTokenBytes(15043, 1));
        Assert.Equal("Hello"u8.ToArray(), t.GetTokenBytes(15043, -1));
        Assert.Equal(" Hello"u8.ToArray(), t.GetTokenBytes(15043, 3186));
        Assert.Equal([(byte)'\n'], t.GetTokenBytes(13, 1)); // <0x0A> is the raw byte
        Assert.Empty(t.GetTokenBytes(1, -1)); // BOS and EOS print nothing
        Assert.Empty(t.GetTokenBytes(2, 15043));
        Assert.Equal("Hello world", t.Decode([1, 15043, 3186, 2]));
    }

    [Fact]
    public void TokenBytesConcatenateToDecode()
    {
        ITokenizer t = Llama2.Value;
        IReadOnlyList<int> ids = t.Encode("A llama 🦙 walks into a bar.\n", addBos: true);
        var bytes = new List<byte>();
        int previous = -1;
        foreach (int id in ids)
        {
            bytes.AddRange(t.GetTokenBytes(id, previous));
            previous = id;
        }

        Assert.Equal(t.Decode(ids), Encoding.UTF8.GetString([.. bytes]));
    }

    [Fact]
    public void SourceIsTheFileAndRebuilds()
    {
        ITokenizer t = Tok512.Value;
        Assert.Equal("llama2c-bin", t.Source.Kind);
        Assert.Equal(File.ReadAllBytes(TestPaths.Stories260KTokenizer), t.Source.Files["tokenizer.bin"]);
        ITokenizer rebuilt = TokenizerFactory.FromSource(t.Source);
        Assert.Equal(512, rebuilt.VocabSize);
        Assert.Equal(t.Encode("Once upon a time", true), rebuilt.Encode("Once upon a time", true));
    }

    [Fact]
    public void FindsTokenizerBesideModel()
    {
        Assert.Equal(TestPaths.Stories260KTokenizer, TokenizerFactory.FindLlama2cTokenizer(TestPaths.Stories260KBin));
        string dir = TestPaths.NewTempDir();
        try
        {
            string model = Path.Combine(dir, "model.bin");
            File.WriteAllBytes(model, [0]);
            Assert.Null(TokenizerFactory.FindLlama2cTokenizer(model));
            File.WriteAllBytes(Path.Combine(dir, "tok4096.bin"), [0]);
            Assert.Equal(Path.Combine(dir, "tok4096.bin"), TokenizerFactory.FindLlama2cTokenizer(model));
            File.WriteAllBytes(Path.Combine(dir, "tokenizer.bin"), [0]);
            Assert.Equal(Path.Combine(dir, "tokenizer.bin"), TokenizerFactory.FindLlama2cTokenizer(model));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void MissingFileIsTokenizerNotFound()
    {
        var e = Assert.Throws<TokenizerNotFoundException>(() => TokenizerFactory.FromLlama2cFile("/nonexistent/tokenizer.bin", 32000));
        Assert.Contains("/nonexistent/tokenizer.bin", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void TruncatedFileIsModelFormatError()
    {
        byte[] bytes = File.ReadAllBytes(TestPaths.Stories260KTokenizer);
        string dir = TestPaths.NewTempDir();
        try
        {
            string path = Path.Combine(dir, "tokenizer.bin");
            File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
            var e = Assert.Throws<ModelFormatException>(() => TokenizerFactory.FromLlama2cFile(path, 512));
            Assert.Contains(path, e.Message);
            Assert.DoesNotContain('\n', e.Message);

            File.WriteAllBytes(path, "not a tokenizer at all"u8.ToArray());
            Assert.Throws<ModelFormatException>(() => TokenizerFactory.FromLlama2cFile(path, 512));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
