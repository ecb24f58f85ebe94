using System.Globalization;
using System.Text.RegularExpressions;

namespace CodecLlm.Tokenization;

/// <summary>
/// Splits text with a pre-tokenizer regex the way Hugging Face (Rust regex on code points) does. .NET matches
/// UTF-16 units, so a character outside the BMP (an emoji, 𝐀) would be two surrogates that are neither letter
/// nor number, and patterns like <c>[^\r\n\p{L}\p{N}]?\p{L}+</c> would cut differently. Text with surrogate
/// pairs is matched on a stand-in string with one BMP character of the same class per code point.
/// </summary>
internal sealed class CodePointSplitter(Regex regex)
{
    private const char LetterStandIn = '\u4E00';  // Lo
    private const char NumberStandIn = '\u0660';  // Nd
    private const char OtherStandIn = '\uE000';   // Co: neither letter, number nor space

    /// <summary>Every stretch of <paramref name="text"/>: the matches and whatever lies between them (Split "Isolated").</summary>
    public void Split(string text, Action<ReadOnlySpan<char>> onPiece)
    {
        if (!text.AsSpan().ContainsAnyInRange('\uD800', '\uDFFF'))
        {
            int last = 0;
            foreach (ValueMatch m in regex.EnumerateMatches(text))
            {
                if (m.Index > last) onPiece(text.AsSpan(last, m.Index - last));
                onPiece(text.AsSpan(m.Index, m.Length));
                last = m.Index + m.Length;
            }

            if (last < text.Length) onPiece(text.AsSpan(last));
            return;
        }

        // One stand-in character per code point; starts[i] is where code point i begins in the text.
        var standIn = new char[text.Length];
        var starts = new int[text.Length + 1];
        int n = 0;
        for (int i = 0; i < text.Length; n++)
        {
            starts[n] = i;
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                standIn[n] = StandInFor(char.ConvertToUtf32(text[i], text[i + 1]));
                i += 2;
            }
            else
            {
                standIn[n] = text[i];
                i++;
            }
        }

        starts[n] = text.Length;
        int previous = 0;
        foreach (ValueMatch m in regex.EnumerateMatches(standIn.AsSpan(0, n)))
        {
            if (m.Index > previous) onPiece(text.AsSpan(starts[previous], starts[m.Index] - starts[previous]));
            onPiece(text.AsSpan(starts[m.Index], starts[m.Index + m.Length] - starts[m.Index]));
            previous = m.Index + m.Length;
        }

        if (previous < n) onPiece(text.AsSpan(starts[previous]));
    }

    private static char StandInFor(int codePoint) => CharUnicodeInfo.GetUnicodeCategory(codePoint) switch
    {
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => LetterStandIn,
        UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => NumberStandIn,
        _ => OtherStandIn,
    };
}
