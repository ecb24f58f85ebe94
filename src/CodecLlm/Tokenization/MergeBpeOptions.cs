using System.Text.RegularExpressions;

namespace CodecLlm.Tokenization;

/// <summary>How text becomes BPE symbols and how tokens print, for <see cref="MergeBpeTokenizer"/>.</summary>
public enum MergeBpeMode
{
    /// <summary>GPT-2 style: split with a regex, spell each piece's UTF-8 bytes in the byte-level alphabet, merge.</summary>
    ByteLevel,

    /// <summary>SentencePiece style: spaces become '▁' (with a '▁' prefix), merge code points, unknown pieces fall back to &lt;0xXX&gt;.</summary>
    Metaspace,
}

/// <summary>When the Metaspace mode puts a '▁' in front of a text segment.</summary>
public enum MetaspacePrepend
{
    Always,
    First,
    Never,
}

/// <summary>Everything a merges-driven BPE tokenizer (Hugging Face tokenizer.json, GGUF "gpt2") needs.</summary>
public sealed class MergeBpeOptions
{
    /// <summary>Token spelling by id (null where an id is unused).</summary>
    public required IReadOnlyList<string?> Tokens { get; init; }

    /// <summary>Merges in priority order (first merges first).</summary>
    public required IReadOnlyList<(string Left, string Right)> Merges { get; init; }

    public required MergeBpeMode Mode { get; init; }

    /// <summary>Byte-level: the split pattern (null: the whole segment is one word).</summary>
    public Regex? PreTokenizer { get; init; }

    /// <summary>Byte-level: add a space in front of a segment that does not start with one (GPT-2 add_prefix_space).</summary>
    public bool AddPrefixSpace { get; init; }

    /// <summary>Metaspace: when to prepend '▁'.</summary>
    public MetaspacePrepend Prepend { get; init; } = MetaspacePrepend.Always;

    /// <summary>
    /// Metaspace: prepend only when the segment does not already start with '▁' (Hugging Face's Metaspace
    /// pre-tokenizer); false prepends unconditionally (SentencePiece's dummy prefix, the legacy Prepend normalizer).
    /// </summary>
    public bool PrependOnlyIfMissing { get; init; }

    /// <summary>Metaspace: split the text in front of every '▁' before merging.</summary>
    public bool SplitOnMetaspace { get; init; }

    /// <summary>Unknown pieces become their &lt;0xXX&gt; byte tokens.</summary>
    public bool ByteFallback { get; init; }

    /// <summary>A word that is itself a token is taken whole, without merging (Llama 3).</summary>
    public bool IgnoreMerges { get; init; }

    /// <summary>Apply Unicode NFC to text before splitting (Qwen2's tokenizer.json normalizer).</summary>
    public bool NormalizeNfc { get; init; }

    public int UnknownTokenId { get; init; } = -1;

    /// <summary>Tokens matched verbatim in the text before anything else (added tokens, control tokens).</summary>
    public IReadOnlyDictionary<string, int> SpecialTokens { get; init; } = new Dictionary<string, int>();

    /// <summary>Tokens that print nothing (BOS, EOS, other control tokens).</summary>
    public IReadOnlySet<int> SilentTokens { get; init; } = new HashSet<int>();

    /// <summary>Tokens that print their spelling as it is (added tokens outside the byte-level alphabet).</summary>
    public IReadOnlySet<int> VerbatimTokens { get; init; } = new HashSet<int>();

    /// <summary>-1 when the tokenizer has no BOS (Qwen2).</summary>
    public int BosTokenId { get; init; } = -1;

    public IReadOnlyList<int> EosTokenIds { get; init; } = [];

    public bool AddBos { get; init; }

    public required TokenizerSource Source { get; init; }
}
