using System.Collections.Concurrent;
using System.Text;
using System.Text.RegularExpressions;
using CodecLlm.Tokenization.Unicode;

namespace CodecLlm.Tokenization;

/// <summary>
/// BPE driven by a ranked merge list, as Hugging Face tokenizers and llama.cpp's "gpt2" vocabularies do it:
/// special tokens are cut out of the text verbatim first; the rest is split into words (byte-level: a regex,
/// then UTF-8 bytes spelled in GPT-2's byte alphabet; Metaspace: '▁' for spaces, code points); in each word
/// the adjacent pair with the lowest merge rank is merged (leftmost first) until no pair is a merge.
/// </summary>
public sealed class MergeBpeTokenizer : ITokenizer
{
    private const char Metaspace = '\u2581';
    private const int CacheLimit = 50_000;
    private const int MaxCachedWordLength = 32;

    private readonly MergeBpeOptions _options;
    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<(string, string), int> _ranks;
    private readonly byte[][] _output;
    private readonly bool[] _stripsAtStart;
    private readonly int[] _byteTokens = new int[256];
    private readonly SpecialTokenSplitter _special;
    private readonly CodePointSplitter? _splitter;
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);

    public MergeBpeTokenizer(MergeBpeOptions options)
    {
        _options = options;
        int size = options.Tokens.Count;
        _vocab = new Dictionary<string, int>(size, StringComparer.Ordinal);
        for (int id = 0; id < size; id++)
        {
            if (options.Tokens[id] is { } token) _vocab.TryAdd(token, id);
        }

        _ranks = new Dictionary<(string, string), int>(options.Merges.Count);
        for (int rank = 0; rank < options.Merges.Count; rank++) _ranks.TryAdd(options.Merges[rank], rank);

        Array.Fill(_byteTokens, -1);
        _output = new byte[size][];
        _stripsAtStart = new bool[size];
        for (int id = 0; id < size; id++) _output[id] = OutputOf(id);
        _special = new SpecialTokenSplitter(options.SpecialTokens);
        if (options.PreTokenizer != null) _splitter = new CodePointSplitter(options.PreTokenizer);
    }

    public int VocabSize => _output.Length;

    public int BosTokenId => _options.BosTokenId;

    public IReadOnlyList<int> EosTokenIds => _options.EosTokenIds;

    public bool AddBos => _options.AddBos;

    public TokenizerSource Source => _options.Source;

    public IReadOnlyList<int> Encode(string text, bool addBos)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 3 + 2);
        if (addBos && BosTokenId >= 0) ids.Add(BosTokenId);
        _special.Split(text, ids, (segment, index) => EncodeSegment(segment, index, ids));
        return ids;
    }

    public string Decode(IReadOnlyList<int> ids) => TokenSequence.Decode(this, ids);

    /// <inheritdoc/>
    /// <remarks>In Metaspace mode the first piece (at the start or after BOS) loses the '▁' prefix it was given.</remarks>
    public byte[] GetTokenBytes(int tokenId, int previousTokenId)
    {
        if ((uint)tokenId >= (uint)_output.Length)
            throw new ArgumentOutOfRangeException(nameof(tokenId), tokenId, $"token id outside the vocabulary of {_output.Length}");

        byte[] bytes = _output[tokenId];
        bool atStart = previousTokenId == -1 || (previousTokenId == BosTokenId && BosTokenId >= 0);
        return atStart && _stripsAtStart[tokenId] ? bytes[1..] : (byte[])bytes.Clone();
    }

    private byte[] OutputOf(int id)
    {
        string? token = _options.Tokens[id];
        if (token == null || _options.SilentTokens.Contains(id)) return [];
        if (_options.VerbatimTokens.Contains(id)) return Encoding.UTF8.GetBytes(token);

        if (_options.Mode == MergeBpeMode.ByteLevel)
            return ByteLevelAlphabet.Decode(token) ?? Encoding.UTF8.GetBytes(token);

        if (_options.ByteFallback && BytePiece.TryParse(token, out byte value))
        {
            if (_byteTokens[value] < 0) _byteTokens[value] = id;
            return [value];
        }

        byte[] text = Encoding.UTF8.GetBytes(token.Replace(Metaspace, ' '));
        _stripsAtStart[id] = _options.Prepend != MetaspacePrepend.Never && text.Length > 0 && text[0] == (byte)' ';
        return text;
    }

    private void EncodeSegment(string text, int segmentIndex, List<int> ids)
    {
        if (_options.NormalizeNfc) text = Nfc.Normalize(text);

        if (_options.Mode == MergeBpeMode.ByteLevel)
        {
            if (_options.AddPrefixSpace && !text.StartsWith(' ')) text = " " + text;
            if (_options.PreTokenizer == null)
            {
                EncodeWord(ByteLevelAlphabet.Encode(text), ids);
                return;
            }

            _splitter!.Split(text, piece => EncodeWord(ByteLevelAlphabet.Encode(piece), ids));
            return;
        }

        bool prepend = _options.Prepend == MetaspacePrepend.Always || (_options.Prepend == MetaspacePrepend.First && segmentIndex == 0);
        string spaced = text.Replace(' ', Metaspace);
        if (prepend && !(_options.PrependOnlyIfMissing && spaced.StartsWith(Metaspace))) spaced = Metaspace + spaced;
        if (!_options.SplitOnMetaspace)
        {
            EncodeWord(spaced, ids);
            return;
        }

        int wordStart = 0;
        for (int i = 1; i <= spaced.Length; i++)
        {
            if (i < spaced.Length && spaced[i] != Metaspace) continue;
            EncodeWord(spaced[wordStart..i], ids);
            wordStart = i;
        }
    }

    private void EncodeWord(string word, List<int> ids)
    {
        if (word.Length == 0) return;
        if (_options.IgnoreMerges && _vocab.TryGetValue(word, out int whole))
        {
            ids.Add(whole);
            return;
        }

        bool cacheable = word.Length <= MaxCachedWordLength;
        if (cacheable && _cache.TryGetValue(word, out int[]? cached))
        {
            ids.AddRange(cached);
            return;
        }

        int[] result = MergeWord(word);
        if (cacheable && _cache.Count < CacheLimit) _cache.TryAdd(word, result);
        ids.AddRange(result);
    }

    /// <summary>Merges the symbols (code points) of one word by rank, then maps each symbol to its id.</summary>
    private int[] MergeWord(string word)
    {
        var symbols = new List<string>(word.Length);
        foreach (Rune r in word.EnumerateRunes()) symbols.Add(r.ToString());

        int n = symbols.Count;
        var next = new int[n];
        var prev = new int[n];
        var alive = new bool[n];
        for (int i = 0; i < n; i++) (next[i], prev[i], alive[i]) = (i + 1 < n ? i + 1 : -1, i - 1, true);

        var queue = new PriorityQueue<(int Left, int Right, string A, string B), (int Rank, int Left)>();
        for (int i = 0; i + 1 < n; i++) TryQueue(i, i + 1);

        while (queue.TryDequeue(out var c, out _))
        {
            if (!alive[c.Left] || !alive[c.Right] || next[c.Left] != c.Right
                || !ReferenceEquals(symbols[c.Left], c.A) || !ReferenceEquals(symbols[c.Right], c.B))
                continue; // stale: a side changed since this pair was queued

            symbols[c.Left] = c.A + c.B;
            alive[c.Right] = false;
            next[c.Left] = next[c.Right];
            if (next[c.Left] >= 0) prev[next[c.Left]] = c.Left;
            if (prev[c.Left] >= 0) TryQueue(prev[c.Left], c.Left);
            if (next[c.Left] >= 0) TryQueue(c.Left, next[c.Left]);
        }

        var ids = new List<int>(n);
        for (int i = 0; i >= 0; i = next[i]) AddSymbol(symbols[i], ids);
        return [.. ids];

        void TryQueue(int left, int right)
        {
            if (_ranks.TryGetValue((symbols[left], symbols[right]), out int rank))
                queue.Enqueue((left, right, symbols[left], symbols[right]), (rank, left));
        }
    }

    private void AddSymbol(string symbol, List<int> ids)
    {
        if (_vocab.TryGetValue(symbol, out int id))
        {
            ids.Add(id);
            return;
        }

        if (_options.ByteFallback)
        {
            byte[] utf8 = Encoding.UTF8.GetBytes(symbol);
            if (utf8.All(b => _byteTokens[b] >= 0))
            {
                foreach (byte b in utf8) ids.Add(_byteTokens[b]);
                return;
            }
        }

        if (_options.UnknownTokenId < 0)
            throw new ArgumentException($"text piece '{symbol}' has no token and the vocabulary has no unknown token");
        ids.Add(_options.UnknownTokenId);
    }
}
