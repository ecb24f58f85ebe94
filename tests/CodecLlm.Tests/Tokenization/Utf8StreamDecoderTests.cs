using System.Text;
using CodecLlm.Tokenization;

namespace CodecLlm.Tests.Tokenization;

public class Utf8StreamDecoderTests
{
    [Fact]
    public void MultiByteCharactersSplitAcrossPushesComeOutWhole()
    {
        var d = new Utf8StreamDecoder();
        Assert.Equal("a", d.Push("a"u8));
        Assert.Equal("", d.Push([0xE2]));        // € is E2 82 AC
        Assert.Equal("", d.Push([0x82]));
        Assert.Equal("€", d.Push([0xAC]));
        Assert.Equal("", d.Push([0xF0, 0x9F]));  // 🦙 is F0 9F A6 99 (a surrogate pair in .NET)
        Assert.Equal("", d.Push([0xA6]));
        Assert.Equal("🦙 b", d.Push([0x99, 0x20, 0x62]));
        Assert.Equal("", d.Flush());
    }

    [Fact]
    public void IncompleteTailBecomesReplacementCharacterOnFlush()
    {
        var d = new Utf8StreamDecoder();
        Assert.Equal("x", d.Push([0x78, 0xE2, 0x82]));
        Assert.Equal("\uFFFD", d.Flush());
        Assert.Equal("ok", d.Push("ok"u8)); // reusable after Flush
    }

    [Fact]
    public void InvalidBytesBecomeReplacementCharacters()
    {
        var d = new Utf8StreamDecoder();
        Assert.Equal("a\uFFFDb", d.Push([0x61, 0xFF, 0x62]));
        Assert.Equal("\uFFFD(", d.Push([0xC3, 0x28])); // C3 cannot be followed by '('
    }

    [Fact]
    public void ByteByByteEqualsWholeDecode()
    {
        const string text = "Grüße, Ærøskøbing — “quotes” 🦙🚀 日本語\n";
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        var d = new Utf8StreamDecoder();
        var sb = new StringBuilder();
        foreach (byte b in bytes)
        {
            string piece = d.Push([b]);
            Assert.False(piece.Length > 0 && char.IsHighSurrogate(piece[^1]), "a surrogate pair was split");
            sb.Append(piece);
        }

        sb.Append(d.Flush());
        Assert.Equal(text, sb.ToString());
    }

    [Fact]
    public void Llama2ByteTokensStreamToTheEmoji()
    {
        // " 🦙" in the Llama 2 vocabulary is ▁ then byte tokens <0xF0><0x9F><0xA6><0x99> (ids 243 162 169 156).
        ITokenizer t = TokenizerFactory.FromLlama2cFile(TestPaths.Llama2TokenizerBin, 32000);
        int[] ids = [1, 29871, 243, 162, 169, 156];
        var d = new Utf8StreamDecoder();
        var pieces = new List<string>();
        for (int i = 1; i < ids.Length; i++) pieces.Add(d.Push(t.GetTokenBytes(ids[i], ids[i - 1])));
        Assert.Equal(["", "", "", "", "🦙"], pieces);
    }
}
