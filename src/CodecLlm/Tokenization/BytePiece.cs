using System.Globalization;

namespace CodecLlm.Tokenization;

/// <summary>SentencePiece's byte-fallback pieces, spelled &lt;0xXX&gt;.</summary>
internal static class BytePiece
{
    public static bool TryParse(string piece, out byte value)
    {
        value = 0;
        return piece.Length == 6 && piece.StartsWith("<0x", StringComparison.Ordinal) && piece[5] == '>'
            && byte.TryParse(piece.AsSpan(3, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
    }

    public static bool Is(string piece) => TryParse(piece, out _);
}
