using System.Text.RegularExpressions;

namespace CodecLlm.Tokenization;

/// <summary>The regular expressions byte-level BPE tokenizers split text with before merging.</summary>
public static class PreTokenizerPatterns
{
    /// <summary>GPT-2's split (the default for GGUF "gpt2" vocabularies without a known pre-tokenizer).</summary>
    public const string Gpt2 = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    /// <summary>Llama 3's split (GGUF pre "llama-bpe"): case-insensitive contractions, digits in runs of up to three.</summary>
    public const string Llama3 = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>Qwen2's split (GGUF pre "qwen2"): as Llama 3 but one digit at a time.</summary>
    public const string Qwen2 = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>The pattern for a GGUF <c>tokenizer.ggml.pre</c> value (GPT-2's for null or unknown ones).</summary>
    public static string ForGgufPre(string? pre) => pre switch
    {
        "llama-bpe" or "llama3" or "llama-v3" => Llama3,
        "qwen2" or "deepseek-r1-qwen" => Qwen2,
        _ => Gpt2,
    };

    public static Regex Compile(string pattern) => new(pattern, RegexOptions.CultureInvariant | RegexOptions.Compiled);
}
