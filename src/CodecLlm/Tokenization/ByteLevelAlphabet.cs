using System.Text;

namespace CodecLlm.Tokenization;

/// <summary>
/// GPT-2's byte-level alphabet (<c>bytes_to_unicode</c>): every byte is shown as one printable character,
/// the printable Latin-1 bytes as themselves and the rest as U+0100 onwards (space is 'Ġ', newline 'Ċ').
/// Byte-level BPE vocabularies (Llama 3, Qwen2, GPT-2) spell their tokens in this alphabet.
/// </summary>
internal static class ByteLevelAlphabet
{
    public static readonly char[] ByteToChar = BuildByteToChar();

    private static readonly Dictionary<char, byte> CharToByte = ByteToChar.Select((c, b) => (c, b)).ToDictionary(p => p.c, p => (byte)p.b);

    public static bool TryGetByte(char c, out byte value) => CharToByte.TryGetValue(c, out value);

    /// <summary>The token spelling of <paramref name="text"/>'s UTF-8 bytes.</summary>
    public static string Encode(ReadOnlySpan<char> text)
    {
        int n = Encoding.UTF8.GetByteCount(text);
        Span<byte> utf8 = n <= 256 ? stackalloc byte[n] : new byte[n];
        Encoding.UTF8.GetBytes(text, utf8);
        Span<char> chars = n <= 256 ? stackalloc char[n] : new char[n];
        for (int i = 0; i < n; i++) chars[i] = ByteToChar[utf8[i]];
        return new string(chars);
    }

    /// <summary>The bytes a token spelling stands for; null when a character is outside the alphabet.</summary>
    public static byte[]? Decode(string token)
    {
        var bytes = new byte[token.Length];
        for (int i = 0; i < token.Length; i++)
        {
            if (!CharToByte.TryGetValue(token[i], out bytes[i])) return null;
        }

        return bytes;
    }

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[b] = printable ? (char)b : (char)next++;
        }

        return map;
    }
}
