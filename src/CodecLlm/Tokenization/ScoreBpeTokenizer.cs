using System.Text;

namespace CodecLlm.Tokenization;

/// <summary>
/// SentencePiece-style BPE driven by piece scores, as llama2.c's run.c <c>encode</c> does it: an optional BOS,
/// a dummy-prefix space when the text is non-empty, one token per UTF-8 code point (or its bytes as
/// &lt;0xXX&gt; byte tokens when the code point is not a piece), then repeatedly merge the adjacent pair whose
/// concatenation is the best-scoring piece (leftmost on ties). Used for llama2.c tokenizer.bin files and
/// GGUF "llama" vocabularies.
/// </summary>
/// <remarks>
/// Pieces are given in text form: a space where SentencePiece writes '▁'. Token types follow llama.cpp
/// (<see cref="TokenType"/>); only normal and user-defined pieces take part in lookups and merges, so control
/// tokens (&lt;s&gt;) and byte tokens are never produced from ordinary text.
/// </remarks>
public sealed class ScoreBpeTokenizer : ITokenizer
{
    private readonly string[] _pieces;
    private readonly float[] _scores;
    private readonly byte[][] _output;
    private readonly Dictionary<string, int> _lookup;
    private readonly int[] _byteTokens = new int[256];
    private readonly int _spaceToken;
    private readonly int _unknownToken;
    private readonly SpecialTokenSplitter _special;

    /// <param name="pieces">Token texts, a space for '▁'; byte tokens spelled &lt;0xXX&gt;.</param>
    /// <param name="scores">Merge priority per token (higher merges first).</param>
    /// <param name="tokenTypes">llama.cpp token type per token (see <see cref="TokenType"/>).</param>
    /// <param name="specialTokens">Texts matched verbatim before BPE (GGUF control and user-defined tokens); each
    /// stretch of text between them gets its own dummy prefix, as in llama.cpp. None for llama2.c, as in run.c.</param>
    public ScoreBpeTokenizer(
        IReadOnlyList<string> pieces,
        IReadOnlyList<float> scores,
        IReadOnlyList<int> tokenTypes,
        int bosTokenId,
        IReadOnlyList<int> eosTokenIds,
        TokenizerSource source,
        bool addBos = true,
        IReadOnlyDictionary<string, int>? specialTokens = null)
    {
        if (scores.Count != pieces.Count || tokenTypes.Count != pieces.Count)
            throw new ArgumentException($"{pieces.Count} pieces but {scores.Count} scores and {tokenTypes.Count} token types");

        _pieces = [.. pieces];
        _scores = [.. scores];
        _output = new byte[_pieces.Length][];
        _lookup = new Dictionary<string, int>(_pieces.Length, StringComparer.Ordinal);
        Array.Fill(_byteTokens, -1);
        _unknownToken = -1;

        for (int id = 0; id < _pieces.Length; id++)
        {
            string piece = _pieces[id];
            switch (tokenTypes[id])
            {
                case TokenType.Byte when BytePiece.TryParse(piece, out byte value):
                    _output[id] = [value];
                    if (_byteTokens[value] < 0) _byteTokens[value] = id;
                    break;
                case TokenType.Unknown:
                    _output[id] = Encoding.UTF8.GetBytes(" \u2047 "); // SentencePiece's rendering of <unk>
                    if (_unknownToken < 0) _unknownToken = id;
                    break;
                case TokenType.Control or TokenType.Unused:
                    _output[id] = [];
                    break;
                default: // normal, user-defined
                    _output[id] = Encoding.UTF8.GetBytes(piece);
                    _lookup.TryAdd(piece, id);
                    break;
            }
        }

        _spaceToken = _lookup.TryGetValue(" ", out int space) ? space : -1;
        BosTokenId = bosTokenId;
        EosTokenIds = [.. eosTokenIds];
        Source = source;
        AddBos = addBos;
        _special = new SpecialTokenSplitter(specialTokens);
    }

    public int VocabSize => _pieces.Length;

    public int BosTokenId { get; }

    public IReadOnlyList<int> EosTokenIds { get; }

    public TokenizerSource Source { get; }

    public bool AddBos { get; }

    /// <summary>The piece of token <paramref name="id"/> in text form (space for '▁', byte tokens as &lt;0xXX&gt;).</summary>
    public string GetPiece(int id) => _pieces[id];

    public float GetScore(int id) => _scores[id];

    public IReadOnlyList<int> Encode(string text, bool addBos)
    {
        ArgumentNullException.ThrowIfNull(text);
        var tokens = new List<int>(text.Length + 2);
        if (addBos) tokens.Add(BosTokenId);
        _special.Split(text, tokens, (segment, _) => EncodeText(segment, tokens));
        return tokens;
    }

    public string Decode(IReadOnlyList<int> ids) => TokenSequence.Decode(this, ids);

    /// <inheritdoc/>
    /// <remarks>As run.c's <c>decode</c>: the piece after BOS (or at the very start) loses its leading space,
    /// the dummy prefix that <see cref="Encode"/> added.</remarks>
    public byte[] GetTokenBytes(int tokenId, int previousTokenId) => TokenSequence.PieceBytes(_output, tokenId, previousTokenId, BosTokenId, IsByteToken);

    /// <summary>run.c's encode of one stretch of ordinary text (non-empty): dummy prefix, code points, merges.</summary>
    private void EncodeText(string text, List<int> output)
    {
        var tokens = new List<int>(text.Length + 1);

        // The dummy prefix: SentencePiece treats the text as if it started with a space.
        if (_spaceToken >= 0) tokens.Add(_spaceToken);
        else AddBytes(tokens, " "u8);

        // One token per code point, or its UTF-8 bytes as byte tokens when the code point is no piece.
        Span<byte> utf8 = stackalloc byte[4];
        foreach (Rune rune in text.EnumerateRunes())
        {
            if (_lookup.TryGetValue(rune.ToString(), out int id))
            {
                tokens.Add(id);
            }
            else
            {
                int n = rune.EncodeToUtf8(utf8);
                AddBytes(tokens, utf8[..n]);
            }
        }

        output.AddRange(Merge(tokens));
    }

    private bool IsByteToken(int id) => _output[id].Length == 1 && _byteTokens[_output[id][0]] == id;

    private void AddBytes(List<int> tokens, ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes)
        {
            int id = _byteTokens[b];
            if (id < 0)
            {
                // A vocabulary without byte fallback: the whole code point becomes <unk>.
                if (_unknownToken < 0) throw new ArgumentException($"byte 0x{b:X2} has no token and the vocabulary has no <unk>");
                tokens.Add(_unknownToken);
                return;
            }

            tokens.Add(id);
        }
    }

    /// <summary>
    /// Merges the best-scoring adjacent pair until none is a piece. Same result as run.c's quadratic loop
    /// (highest score first, leftmost among equal scores), with a priority queue over a linked list.
    /// </summary>
    private int[] Merge(List<int> tokens)
    {
        int n = tokens.Count;
        int[] id = [.. tokens];
        var next = new int[n];
        var prev = new int[n];
        var alive = new bool[n];
        for (int i = 0; i < n; i++) (next[i], prev[i], alive[i]) = (i + 1 < n ? i + 1 : -1, i - 1, true);

        // Priority: higher score first, then the leftmost pair; symbol positions keep their text order.
        var queue = new PriorityQueue<Candidate, (float NegScore, int Left)>();
        for (int i = 0; i + 1 < n; i++) TryQueue(i, i + 1);

        while (queue.TryDequeue(out Candidate c, out _))
        {
            if (!alive[c.Left] || !alive[c.Right] || next[c.Left] != c.Right || id[c.Left] != c.LeftId || id[c.Right] != c.RightId)
                continue; // stale: one side was merged since

            id[c.Left] = c.Merged;
            alive[c.Right] = false;
            next[c.Left] = next[c.Right];
            if (next[c.Left] >= 0) prev[next[c.Left]] = c.Left;
            if (prev[c.Left] >= 0) TryQueue(prev[c.Left], c.Left);
            if (next[c.Left] >= 0) TryQueue(c.Left, next[c.Left]);
        }

        var result = new List<int>(n);
        for (int i = 0; i >= 0 && i < n; i = next[i]) result.Add(id[i]);
        return [.. result];

        void TryQueue(int left, int right)
        {
            int a = id[left], b = id[right];
            if (!IsMergeable(a) || !IsMergeable(b)) return;
            if (!_lookup.TryGetValue(string.Concat(_pieces[a], _pieces[b]), out int merged)) return;
            queue.Enqueue(new Candidate(left, right, a, b, merged), (-_scores[merged], left));
        }
    }

    private bool IsMergeable(int id) => _lookup.TryGetValue(_pieces[id], out int found) && found == id;

    private readonly record struct Candidate(int Left, int Right, int LeftId, int RightId, int Merged);
}
