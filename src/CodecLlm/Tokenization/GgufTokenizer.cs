using System.Text.Json;
using System.Text.Json.Serialization;
using CodecLlm.Model;

namespace CodecLlm.Tokenization;

/// <summary>
/// Builds the tokenizer a GGUF file describes in its tokenizer.ggml.* metadata: "llama" → score-driven BPE
/// (<see cref="ScoreBpeTokenizer"/>, '▁' read as a space, type-6 &lt;0xXX&gt; byte tokens), "gpt2" → byte-level
/// BPE from the merges (<see cref="MergeBpeTokenizer"/>, split pattern chosen by tokenizer.ggml.pre).
/// </summary>
public static class GgufTokenizer
{
    public const string SourceKind = "gguf-vocab";
    public const string FileName = "gguf-vocab.json";

    private static readonly JsonSerializerOptions Json = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public static ITokenizer Create(GgufVocabulary vocabulary)
    {
        var source = new TokenizerSource(SourceKind, new Dictionary<string, byte[]> { [FileName] = JsonSerializer.SerializeToUtf8Bytes(vocabulary, Json) });
        return vocabulary.Model switch
        {
            "llama" => CreateScoreBpe(vocabulary, source),
            "gpt2" => CreateByteLevel(vocabulary, source),
            _ => throw new UnsupportedModelException($"GGUF tokenizer model '{vocabulary.Model}' is not supported (llama and gpt2 are)"),
        };
    }

    /// <summary>Rebuilds from the JSON that <see cref="Create"/> put in its <see cref="TokenizerSource"/>.</summary>
    public static ITokenizer FromSourceFile(byte[] json)
    {
        GgufVocabulary? vocabulary;
        try
        {
            vocabulary = JsonSerializer.Deserialize<GgufVocabulary>(json, Json);
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"embedded GGUF vocabulary is not valid: {e.Message}");
        }

        return Create(vocabulary ?? throw new ModelFormatException("embedded GGUF vocabulary is empty"));
    }

    private static ScoreBpeTokenizer CreateScoreBpe(GgufVocabulary v, TokenizerSource source)
    {
        int n = v.Tokens.Count;
        CheckLength("tokenizer.ggml.scores", v.Scores?.Count, n);
        CheckLength("tokenizer.ggml.token_type", v.TokenTypes?.Count, n);
        var pieces = new string[n];
        var types = new int[n];
        for (int id = 0; id < n; id++)
        {
            pieces[id] = v.Tokens[id].Replace('\u2581', ' ');
            types[id] = v.TokenTypes?[id] ?? GuessType(id, v.Tokens[id], v);
        }

        // Control and user-defined tokens written in the text (a chat template's </s>, [INST]) are those tokens.
        var special = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int id = 0; id < n; id++)
        {
            if (types[id] is TokenType.Control or TokenType.UserDefined) special.TryAdd(pieces[id], id);
        }

        IReadOnlyList<float> scores = v.Scores ?? new float[n]; // llama.cpp reads a missing score as 0
        return new ScoreBpeTokenizer(pieces, scores, types, v.BosTokenId, v.EosTokenIds, source, v.AddBos, special);
    }

    private static MergeBpeTokenizer CreateByteLevel(GgufVocabulary v, TokenizerSource source)
    {
        int n = v.Tokens.Count;
        CheckLength("tokenizer.ggml.token_type", v.TokenTypes?.Count, n);
        if (v.Merges is not { Count: > 0 })
            throw new ModelFormatException("GGUF tokenizer 'gpt2' has no tokenizer.ggml.merges");

        var merges = new (string, string)[v.Merges.Count];
        for (int i = 0; i < merges.Length; i++)
        {
            string m = v.Merges[i];
            int space = m.IndexOf(' ', 1);
            if (space < 0) throw new ModelFormatException($"GGUF merge {i} '{m}' is not two tokens separated by a space");
            merges[i] = (m[..space], m[(space + 1)..]);
        }

        var special = new Dictionary<string, int>(StringComparer.Ordinal);
        var silent = new HashSet<int>();
        var verbatim = new HashSet<int>();
        for (int id = 0; id < n; id++)
        {
            int type = v.TokenTypes?[id] ?? TokenType.Normal;
            if (type is TokenType.Control or TokenType.UserDefined) special.TryAdd(v.Tokens[id], id);
            if (type is TokenType.Control or TokenType.Unused) silent.Add(id);
            if (type == TokenType.UserDefined) verbatim.Add(id);
        }

        if (v.BosTokenId >= 0 && v.BosTokenId < n) silent.Add(v.BosTokenId);
        foreach (int eos in v.EosTokenIds) if (eos >= 0 && eos < n) silent.Add(eos);

        string pattern = PreTokenizerPatterns.ForGgufPre(v.PreTokenizer);
        return new MergeBpeTokenizer(new MergeBpeOptions
        {
            Tokens = v.Tokens,
            Merges = merges,
            Mode = MergeBpeMode.ByteLevel,
            PreTokenizer = PreTokenizerPatterns.Compile(pattern),
            IgnoreMerges = pattern == PreTokenizerPatterns.Llama3, // llama.cpp: Llama 3 takes whole-word tokens as they are
            SpecialTokens = special,
            SilentTokens = silent,
            VerbatimTokens = verbatim,
            BosTokenId = v.BosTokenId,
            EosTokenIds = v.EosTokenIds,
            AddBos = v.AddBos,
            Source = source,
        });
    }

    private static int GuessType(int id, string token, GgufVocabulary v) =>
        id == v.BosTokenId || v.EosTokenIds.Contains(id) ? TokenType.Control
        : token == "<unk>" ? TokenType.Unknown
        : BytePiece.Is(token) ? TokenType.Byte
        : TokenType.Normal;

    private static void CheckLength(string key, int? count, int tokens)
    {
        if (count is { } c && c != tokens)
            throw new ModelFormatException($"GGUF {key} has {c} entries but tokenizer.ggml.tokens has {tokens}");
    }
}
