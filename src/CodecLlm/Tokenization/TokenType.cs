namespace CodecLlm.Tokenization;

/// <summary>Token types as llama.cpp (and GGUF's tokenizer.ggml.token_type) number them.</summary>
public static class TokenType
{
    public const int Normal = 1;
    public const int Unknown = 2;
    public const int Control = 3;
    public const int UserDefined = 4;
    public const int Unused = 5;
    public const int Byte = 6;
}
