using CodecLlm.Tokenization;

namespace CodecLlm.Tests.Tokenization;

public class CodePointSplitterTests
{
    private static List<string> Split(string pattern, string text)
    {
        var pieces = new List<string>();
        new CodePointSplitter(PreTokenizerPatterns.Compile(pattern)).Split(text, p => pieces.Add(p.ToString()));
        return pieces;
    }

    // Expected pieces worked out by hand from the Llama 3 pattern applied to code points (Hugging Face's semantics):
    // an emoji is one "other" character, 𝐀 (U+1D400) a letter, 𝟙 𝟚 (U+1D7D9, U+1D7DA) digits.
    [Theory]
    [InlineData("Hello world", new[] { "Hello", " world" })]
    [InlineData("🦙llama", new[] { "🦙llama" })]                 // [^\r\n\p{L}\p{N}]?\p{L}+ takes the emoji as its one leading character
    [InlineData("a🦙b", new[] { "a", "🦙b" })]
    [InlineData("𝐀bc de", new[] { "𝐀bc", " de" })]               // a letter outside the BMP stays with its word
    [InlineData("x 𝟙𝟚𝟙𝟚", new[] { "x", " ", "𝟙𝟚𝟙", "𝟚" })]      // digits outside the BMP in runs of three
    [InlineData("I'm 12345!\n\n", new[] { "I", "'m", " ", "123", "45", "!\n\n" })]
    public void Llama3PatternOnCodePoints(string text, string[] expected) => Assert.Equal(expected, Split(PreTokenizerPatterns.Llama3, text));

    [Theory]
    [InlineData("x 𝟙𝟚", new[] { "x", " ", "𝟙", "𝟚" })]
    [InlineData("🦙🦙 ok", new[] { "🦙🦙", " ok" })]
    public void Qwen2PatternOnCodePoints(string text, string[] expected) => Assert.Equal(expected, Split(PreTokenizerPatterns.Qwen2, text));
}
