using System.Text;
using CodecLlm.Model;
using Microsoft.ML.Tokenizers;

namespace CodecLlm.Tokenization;

/// <summary>
/// A SentencePiece BPE <c>tokenizer.model</c> (Llama 2, TinyLlama, Mistral), encoded by Microsoft.ML.Tokenizers'
/// <see cref="LlamaTokenizer"/>. Token bytes come from the pieces: '▁' is a space, &lt;0xXX&gt; a raw byte, BOS/EOS
/// nothing, &lt;unk&gt; " ⁇ "; the first piece after BOS (or at the start) loses its leading space.
/// BOS/EOS/&lt;unk&gt; spelled in the text are matched as those tokens; each stretch of text between them gets
/// its own dummy prefix (as Hugging Face's tokenizer.json and llama.cpp do).
/// </summary>
public sealed class SentencePieceModelTokenizer : ITokenizer
{
    public const string SourceKind = "sentencepiece-model";
    public const string FileName = "tokenizer.model";

    private readonly LlamaTokenizer _tokenizer;
    private readonly byte[][] _output;
    private readonly bool[] _isByte;
    private readonly SpecialTokenSplitter _special;

    private SentencePieceModelTokenizer(LlamaTokenizer tokenizer, int bosTokenId, IReadOnlyList<int> eosTokenIds, bool addBos, TokenizerSource source)
    {
        _tokenizer = tokenizer;
        BosTokenId = bosTokenId;
        EosTokenIds = eosTokenIds;
        AddBos = addBos;
        Source = source;

        // BOS, EOS and <unk> written in the text (a chat template's </s>) are those tokens, as in Hugging Face.
        int[] specialIds = [tokenizer.BeginningOfSentenceId, tokenizer.EndOfSentenceId, tokenizer.UnknownId, bosTokenId, .. eosTokenIds];
        _special = new SpecialTokenSplitter(tokenizer.Vocabulary.Where(p => specialIds.Contains(p.Value)).ToDictionary(p => p.Key, p => p.Value));

        int size = tokenizer.Vocabulary.Values.Max() + 1;
        _output = new byte[size][];
        _isByte = new bool[size];
        Array.Fill(_output, []);
        foreach ((string piece, int id) in tokenizer.Vocabulary)
        {
            if (id == tokenizer.BeginningOfSentenceId || id == tokenizer.EndOfSentenceId || id == bosTokenId || eosTokenIds.Contains(id))
                continue; // control tokens print nothing
            if (id == tokenizer.UnknownId)
                _output[id] = Encoding.UTF8.GetBytes(" \u2047 ");
            else if (tokenizer.ByteFallback && BytePiece.TryParse(piece, out byte value))
                (_output[id], _isByte[id]) = ([value], true);
            else
                _output[id] = Encoding.UTF8.GetBytes(piece.Replace('\u2581', ' '));
        }
    }

    public int VocabSize => _output.Length;

    public int BosTokenId { get; }

    public IReadOnlyList<int> EosTokenIds { get; }

    public TokenizerSource Source { get; }

    public bool AddBos { get; }

    /// <summary>The id of a piece as the model spells it ('▁' for spaces); null when it is not in the vocabulary.</summary>
    public int? TokenToId(string piece) => _tokenizer.Vocabulary.TryGetValue(piece, out int id) ? id : null;

    /// <summary>
    /// Loads tokenizer.model bytes. BOS/EOS default to the model's own; a Hugging Face tokenizer_config.json
    /// may name others and say whether to add BOS (see <see cref="WithSpecialTokens"/>).
    /// </summary>
    public static SentencePieceModelTokenizer Create(byte[] model, string name)
    {
        LlamaTokenizer tokenizer;
        try
        {
            using var stream = new MemoryStream(model, writable: false);
            tokenizer = LlamaTokenizer.Create(stream, addBeginOfSentence: false, addEndOfSentence: false);
        }
        catch (Exception e) when (e is not CodecLlmException)
        {
            throw new ModelFormatException($"SentencePiece model '{name}' cannot be read: {OneLine(e.Message)}");
        }

        var files = new Dictionary<string, byte[]> { [FileName] = model };
        return new SentencePieceModelTokenizer(tokenizer, tokenizer.BeginningOfSentenceId, [tokenizer.EndOfSentenceId], true, new TokenizerSource(SourceKind, files));
    }

    /// <summary>The same model with other BOS/EOS ids and BOS policy, and a source that carries the files they came from.</summary>
    public SentencePieceModelTokenizer WithSpecialTokens(int bosTokenId, IReadOnlyList<int> eosTokenIds, bool addBos, IReadOnlyDictionary<string, byte[]> extraSourceFiles)
    {
        var files = new Dictionary<string, byte[]>(extraSourceFiles) { [FileName] = Source.Files[FileName] };
        return new SentencePieceModelTokenizer(_tokenizer, bosTokenId, eosTokenIds, addBos, new TokenizerSource(SourceKind, files));
    }

    public IReadOnlyList<int> Encode(string text, bool addBos)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 3 + 2);
        if (addBos) ids.Add(BosTokenId);
        _special.Split(text, ids, (segment, _) => ids.AddRange(_tokenizer.EncodeToIds(segment, addBeginningOfSentence: false, addEndOfSentence: false)));
        return ids;
    }

    public string Decode(IReadOnlyList<int> ids) => TokenSequence.Decode(this, ids);

    public byte[] GetTokenBytes(int tokenId, int previousTokenId) => TokenSequence.PieceBytes(_output, tokenId, previousTokenId, BosTokenId, id => _isByte[id]);

    private static string OneLine(string s) => s.ReplaceLineEndings(" ");
}
