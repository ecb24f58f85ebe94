using System.Buffers.Binary;
using System.Text;
using CodecLlm.Model;

namespace CodecLlm.Tokenization;

/// <summary>
/// Reads llama2.c's tokenizer.bin: int32 max_token_length, then per token a float32 score, an int32 byte
/// length and the piece's bytes (UTF-8, a space where SentencePiece writes '▁'). Token 0 is &lt;unk&gt;,
/// 1 BOS, 2 EOS (spelled "\n&lt;s&gt;\n" and "\n&lt;/s&gt;\n" in the file), &lt;0xXX&gt; pieces are byte tokens.
/// </summary>
public static class Llama2cTokenizer
{
    public const string SourceKind = "llama2c-bin";
    public const string FileName = "tokenizer.bin";
    public const int BosId = 1;
    public const int EosId = 2;

    /// <summary>Loads <paramref name="path"/>, reading <paramref name="vocabSize"/> tokens (all of them when 0 or less).</summary>
    public static ScoreBpeTokenizer Load(string path, int vocabSize)
    {
        byte[] bytes = TokenizerFactory.ReadTokenizerFile(path);
        return Parse(bytes, vocabSize, path);
    }

    /// <summary>Parses tokenizer.bin bytes; <paramref name="name"/> names the file in error messages.</summary>
    public static ScoreBpeTokenizer Parse(ReadOnlySpan<byte> file, int vocabSize, string name)
    {
        if (file.Length < 4) throw new ModelFormatException($"llama2.c tokenizer '{name}': {file.Length} bytes is too short for the header");
        int maxTokenLength = BinaryPrimitives.ReadInt32LittleEndian(file);
        if (maxTokenLength <= 0 || maxTokenLength > 1 << 16)
            throw new ModelFormatException($"llama2.c tokenizer '{name}': max_token_length {maxTokenLength} is not plausible (not a tokenizer.bin?)");

        var pieces = new List<string>();
        var scores = new List<float>();
        var types = new List<int>();
        var strict = new UTF8Encoding(false, throwOnInvalidBytes: true);
        int offset = 4;
        while (vocabSize <= 0 ? offset < file.Length : pieces.Count < vocabSize)
        {
            int id = pieces.Count;
            if (file.Length - offset < 8)
                throw new ModelFormatException($"llama2.c tokenizer '{name}': truncated at token {id} (offset {offset}, file {file.Length} bytes{(vocabSize > 0 ? $", {vocabSize} tokens expected" : "")})");
            float score = BinaryPrimitives.ReadSingleLittleEndian(file[offset..]);
            int length = BinaryPrimitives.ReadInt32LittleEndian(file[(offset + 4)..]);
            offset += 8;
            if (length < 0 || length > maxTokenLength || length > file.Length - offset)
                throw new ModelFormatException($"llama2.c tokenizer '{name}': token {id} has length {length} (max_token_length {maxTokenLength}, {file.Length - offset} bytes left)");

            string piece;
            try
            {
                piece = strict.GetString(file.Slice(offset, length));
            }
            catch (DecoderFallbackException)
            {
                throw new ModelFormatException($"llama2.c tokenizer '{name}': token {id} is not valid UTF-8");
            }

            offset += length;
            pieces.Add(piece);
            scores.Add(score);
            types.Add(TypeOf(id, piece));
        }

        var source = new TokenizerSource(SourceKind, new Dictionary<string, byte[]> { [FileName] = file[..offset].ToArray() });
        return new ScoreBpeTokenizer(pieces, scores, types, BosId, [EosId], source);
    }

    private static int TypeOf(int id, string piece) => id switch
    {
        0 => TokenType.Unknown,
        BosId or EosId => TokenType.Control,
        _ when BytePiece.Is(piece) => TokenType.Byte,
        _ => TokenType.Normal,
    };
}
