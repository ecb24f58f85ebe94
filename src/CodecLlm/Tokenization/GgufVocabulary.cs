namespace CodecLlm.Tokenization;

/// <summary>
/// A tokenizer as GGUF metadata stores it (tokenizer.ggml.*). Model is "llama" (SentencePiece-style BPE
/// driven by scores, with byte-fallback tokens) or "gpt2" (byte-level BPE driven by merges).
/// TokenTypes follow llama.cpp: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte.
/// </summary>
public sealed record GgufVocabulary(
    string Model,
    IReadOnlyList<string> Tokens,
    IReadOnlyList<float>? Scores,
    IReadOnlyList<int>? TokenTypes,
    IReadOnlyList<string>? Merges,
    int BosTokenId,
    IReadOnlyList<int> EosTokenIds,
    bool AddBos,
    string? PreTokenizer);
