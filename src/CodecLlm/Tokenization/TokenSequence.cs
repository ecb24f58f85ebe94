using System.Text;

namespace CodecLlm.Tokenization;

/// <summary>Decoding shared by the tokenizers: the UTF-8 of each token after its predecessor, concatenated.</summary>
internal static class TokenSequence
{
    public static string Decode(ITokenizer tokenizer, IReadOnlyList<int> ids)
    {
        var bytes = new List<byte>(ids.Count * 4);
        int previous = -1;
        foreach (int id in ids)
        {
            bytes.AddRange(tokenizer.GetTokenBytes(id, previous));
            previous = id;
        }

        return Encoding.UTF8.GetString([.. bytes]);
    }

    /// <summary>
    /// The bytes of a SentencePiece-style token after <paramref name="previousTokenId"/> (-1: none): a copy of its
    /// output bytes, without the leading space of a piece at the very start or after BOS (the dummy prefix that encoding
    /// added) unless it is a byte token.
    /// </summary>
    public static byte[] PieceBytes(byte[][] output, int tokenId, int previousTokenId, int bosTokenId, Func<int, bool> isByteToken)
    {
        if ((uint)tokenId >= (uint)output.Length)
            throw new ArgumentOutOfRangeException(nameof(tokenId), tokenId, $"token id outside the vocabulary of {output.Length}");

        byte[] bytes = output[tokenId];
        bool atStart = previousTokenId == -1 || previousTokenId == bosTokenId;
        return atStart && bytes.Length > 0 && bytes[0] == (byte)' ' && !isByteToken(tokenId) ? bytes[1..] : (byte[])bytes.Clone();
    }
}
