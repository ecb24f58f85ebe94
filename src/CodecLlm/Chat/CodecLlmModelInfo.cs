using CodecLlm.Model;

namespace CodecLlm.Chat;

/// <summary>What <see cref="CodecLlmChatClient.GetService"/> tells about the loaded model.</summary>
public sealed record CodecLlmModelInfo(
    string ModelId,
    string SourcePath,
    string Format,
    ModelConfig Config,
    string Backend,
    int ContextLength,
    bool HasChatTemplate);
