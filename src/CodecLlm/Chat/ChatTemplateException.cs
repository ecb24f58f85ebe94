using CodecLlm.Model;

namespace CodecLlm.Chat;

/// <summary>
/// A chat template that does not parse, fails while rendering, or rejects the conversation
/// (the template's own <c>raise_exception</c>, e.g. "roles must alternate").
/// </summary>
public sealed class ChatTemplateException : CodecLlmException
{
    public ChatTemplateException(string message) : base(message) { }
}
