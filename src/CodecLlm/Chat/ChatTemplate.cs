using CodecLlm.Chat.Jinja;

namespace CodecLlm.Chat;

/// <summary>
/// Turns a conversation into the prompt text a model was trained on. Uses the model's Jinja
/// <c>chat_template</c> (from tokenizer_config.json or GGUF metadata) with the variables transformers
/// passes: <c>messages</c> (list of {role, content}), <c>add_generation_prompt</c>, <c>bos_token</c>,
/// <c>eos_token</c> (plus <c>tools</c> = none). A model without a template gets the plain fallback:
/// one line "Role: content" per message (role capitalised) and, with a generation prompt, a final
/// "Assistant:" — e.g. "User: Hi\nAssistant:".
/// </summary>
public sealed class ChatTemplate
{
    private readonly JinjaTemplate? _jinja;

    private ChatTemplate(JinjaTemplate? jinja) => _jinja = jinja;

    /// <summary>The plain fallback used for models without a chat template.</summary>
    public static ChatTemplate Fallback { get; } = new(null);

    /// <summary>The template's Jinja source; null for the fallback.</summary>
    public string? Source => _jinja?.Source;

    public bool IsFallback => _jinja == null;

    /// <summary>Parses a model's chat template; null or blank gives <see cref="Fallback"/>.</summary>
    public static ChatTemplate FromJinja(string? source) =>
        string.IsNullOrWhiteSpace(source) ? Fallback : new ChatTemplate(JinjaTemplate.Parse(source));

    /// <summary>Renders the prompt. Template errors (including its own raise_exception) throw <see cref="ChatTemplateException"/>.</summary>
    public string Render(IReadOnlyList<ChatMessageText> messages, bool addGenerationPrompt, string bosToken, string eosToken)
    {
        if (_jinja == null) return RenderFallback(messages, addGenerationPrompt);

        List<object?> list = messages
            .Select(m => (object?)new Dictionary<string, object?> { ["role"] = m.Role, ["content"] = m.Content })
            .ToList();
        Dictionary<string, object?> variables = new()
        {
            ["messages"] = list,
            ["add_generation_prompt"] = addGenerationPrompt,
            ["bos_token"] = bosToken,
            ["eos_token"] = eosToken,
            ["tools"] = null,
        };
        return _jinja.Render(variables);
    }

    private static string RenderFallback(IReadOnlyList<ChatMessageText> messages, bool addGenerationPrompt)
    {
        System.Text.StringBuilder sb = new();
        foreach (ChatMessageText m in messages)
        {
            string role = m.Role.Length == 0 ? m.Role : char.ToUpperInvariant(m.Role[0]) + m.Role[1..];
            // "Role: content"; an assistant content that starts with whitespace (a reply as generated after "Assistant:")
            // keeps its own, so a conversation's history renders as the tokens the model produced (prompt caching finds them).
            bool ownSpace = m.Role == "assistant" && m.Content.Length > 0 && char.IsWhiteSpace(m.Content[0]);
            sb.Append(role).Append(':').Append(ownSpace ? "" : " ").Append(m.Content).Append('\n');
        }

        if (addGenerationPrompt) sb.Append("Assistant:");
        return sb.ToString();
    }
}
