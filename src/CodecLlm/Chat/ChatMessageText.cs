namespace CodecLlm.Chat;

/// <summary>One message of a conversation as a chat template sees it: role ("system", "user", "assistant", ...) and text.</summary>
public sealed record ChatMessageText(string Role, string Content);
