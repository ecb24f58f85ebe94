using System.Globalization;
using System.Reflection;
using System.Text;
using CodecLlm.Tokenization.Unicode;
using CsCheck;

namespace CodecLlm.Tests.Tokenization;

/// <summary>
/// The ICU-free NFC normaliser against Python's <c>unicodedata.normalize('NFC')</c> (nfc-vectors.txt, written by
/// tools/unicode/gen_nfc_data.py: every code point with a canonical decomposition, some with two marks after it, and
/// random runs of Latin letters, combining marks of many classes, Hangul jamo and syllables, composition exclusions,
/// singletons and Indic/Tibetan/musical-symbol sequences).
/// </summary>
public class NfcTests
{
    private static IEnumerable<(string Input, string Expected)> Vectors()
    {
        using Stream s = Assembly.GetExecutingAssembly().GetManifestResourceStream("CodecLlm.Tests.nfc-vectors.txt")!;
        using var reader = new StreamReader(s, Encoding.ASCII);
        static string Text(string hex) => string.Concat(hex.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(h => char.ConvertFromUtf32(int.Parse(h, NumberStyles.HexNumber, CultureInfo.InvariantCulture))));
        while (reader.ReadLine() is { } line)
        {
            if (line.StartsWith('#')) continue;
            string[] parts = line.Split(';');
            yield return (Text(parts[0]), Text(parts[1]));
        }
    }

    private static string Hex(string s) => string.Join(' ', s.EnumerateRunes().Select(r => r.Value.ToString("X4", CultureInfo.InvariantCulture)));

    [Fact]
    public void MatchesPythonUnicodedataOnEveryVector()
    {
        int n = 0;
        foreach ((string input, string expected) in Vectors())
        {
            string got = Nfc.Normalize(input);
            if (got != expected) Assert.Fail($"NFC({Hex(input)}) = {Hex(got)}, expected {Hex(expected)}");
            n++;
        }
        Assert.True(n > 3000, $"only {n} vectors");
        Assert.Equal("14.0.0", Nfc.UnicodeVersion);
    }

    [Theory]
    [InlineData("e\u0301", "\u00e9")]                      // e + acute composes
    [InlineData("\u212b", "\u00c5")]                       // ANGSTROM SIGN is a singleton: Å
    [InlineData("a\u0323\u0302", "\u1ead")]                // dot below (220) then circumflex (230): ậ
    [InlineData("a\u0302\u0323", "\u1ead")]                // the other order reorders to the same
    [InlineData("\u0958", "\u0915\u093c")]                 // an exclusion stays decomposed
    [InlineData("\u1100\u1161\u11a8", "\uac01")]           // Hangul L V T: 각
    [InlineData("\u0301e", "\u0301e")]                     // a leading mark composes with nothing
    [InlineData("plain ASCII stays", "plain ASCII stays")]
    public void KnownCases(string input, string expected) => Assert.Equal(expected, Nfc.Normalize(input));

    [Fact]
    public void AsciiAndLatin1ComeBackAsTheSameInstance()
    {
        const string s = "Caf\u00e9 na\u00efve \u00c5ngstr\u00f6m";
        Assert.Same(s, Nfc.Normalize(s));
    }

    [Fact]
    public void Property_IdempotentAndFixedOnItsOutput()
    {
        // NFC(NFC(x)) = NFC(x) over mixes of the pool above
        int[] pool = [0x61, 0x65, 0x41, 0x4F, 0x20, 0x300, 0x301, 0x302, 0x308, 0x323, 0x327, 0x345, 0x5B0, 0x93C, 0x3099, 0x1100, 0x1161,
            0x11A8, 0xAC00, 0xAC01, 0x212B, 0x958, 0xC0, 0x1EA0, 0x1F00, 0x344, 0xF73, 0x1D15E, 0x1D165, 0xCC6, 0xCD5];
        Gen.Int[0, pool.Length - 1].Array[0, 12].Sample(ix =>
        {
            string s = string.Concat(ix.Select(i => char.ConvertFromUtf32(pool[i])));
            string n = Nfc.Normalize(s);
            Assert.Equal(n, Nfc.Normalize(n));
        }, iter: 2000);
    }
}
