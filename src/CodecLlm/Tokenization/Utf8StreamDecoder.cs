using System.Text;

namespace CodecLlm.Tokenization;

/// <summary>
/// Turns a stream of token bytes into text without ever splitting a code point: <see cref="Push"/> returns the
/// characters completed so far and keeps an unfinished multi-byte sequence for the next call (byte tokens
/// such as &lt;0xE2&gt;&lt;0x82&gt;&lt;0xAC&gt; arrive one byte at a time). Invalid bytes become U+FFFD.
/// </summary>
public sealed class Utf8StreamDecoder
{
    private readonly Decoder _decoder = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetDecoder();

    /// <summary>Adds <paramref name="bytes"/>; returns the complete characters they finish (possibly empty).</summary>
    public string Push(ReadOnlySpan<byte> bytes) => Decode(bytes, flush: false);

    /// <summary>Ends the stream: a trailing incomplete sequence becomes U+FFFD. The decoder can then be reused.</summary>
    public string Flush() => Decode([], flush: true);

    private string Decode(ReadOnlySpan<byte> bytes, bool flush)
    {
        int count = _decoder.GetCharCount(bytes, flush);
        if (count == 0)
        {
            // Still advance the decoder's state (it keeps the partial sequence only when asked to convert).
            _decoder.GetChars(bytes, [], flush);
            return "";
        }

        Span<char> chars = count <= 256 ? stackalloc char[count] : new char[count];
        int written = _decoder.GetChars(bytes, chars, flush);
        return new string(chars[..written]);
    }
}
