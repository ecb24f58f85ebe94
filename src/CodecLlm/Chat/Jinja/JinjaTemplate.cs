namespace CodecLlm.Chat.Jinja;

/// <summary>
/// A parsed Jinja template (the subset chat templates use), rendered the way Hugging Face transformers
/// renders chat templates: trim_blocks and lstrip_blocks on, no autoescaping, break/continue allowed,
/// undefined values render as "" and fail when their attributes are read.
/// </summary>
public sealed class JinjaTemplate
{
    private readonly IReadOnlyList<Stmt> _body;

    private JinjaTemplate(string source, IReadOnlyList<Stmt> body)
    {
        Source = source;
        _body = body;
    }

    public string Source { get; }

    /// <summary>Parses <paramref name="source"/>; a syntax error throws <see cref="ChatTemplateException"/> naming the line.</summary>
    public static JinjaTemplate Parse(string source) => new(source, JinjaParser.Parse(source));

    /// <summary>
    /// Renders with the given variables: strings, numbers, bools, null, lists (IEnumerable) and
    /// dictionaries (IReadOnlyDictionary&lt;string, object?&gt;) nest as Python values do.
    /// </summary>
    public string Render(IReadOnlyDictionary<string, object?> variables) => new JinjaInterpreter(variables).Render(_body);
}
