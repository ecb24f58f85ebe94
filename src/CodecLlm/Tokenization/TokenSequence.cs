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
}
