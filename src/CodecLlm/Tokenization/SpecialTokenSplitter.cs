using System.Text.RegularExpressions;

namespace CodecLlm.Tokenization;

/// <summary>
/// Cuts special tokens (control and added tokens such as &lt;/s&gt;, &lt;|eot_id|&gt;, [INST]) out of a text verbatim,
/// longest first, as Hugging Face tokenizers and llama.cpp (parse_special) do before running BPE on the rest.
/// </summary>
internal sealed class SpecialTokenSplitter
{
    private readonly IReadOnlyDictionary<string, int> _tokens;
    private readonly Regex? _regex;

    public SpecialTokenSplitter(IReadOnlyDictionary<string, int>? tokens)
    {
        _tokens = tokens ?? new Dictionary<string, int>();
        string[] texts = [.. _tokens.Keys.Where(k => k.Length > 0).OrderByDescending(k => k.Length).ThenBy(k => k, StringComparer.Ordinal)];
        if (texts.Length > 0) _regex = new Regex(string.Join('|', texts.Select(Regex.Escape)), RegexOptions.CultureInvariant);
    }

    /// <summary>Calls <paramref name="onText"/> for each stretch of ordinary text (with its index) and adds special ids to <paramref name="ids"/>.</summary>
    public void Split(string text, List<int> ids, Action<string, int> onText)
    {
        int start = 0, segment = 0;
        if (_regex != null)
        {
            for (Match m = _regex.Match(text); m.Success; m = m.NextMatch())
            {
                if (m.Index > start) onText(text[start..m.Index], segment++);
                ids.Add(_tokens[m.Value]);
                start = m.Index + m.Length;
            }
        }

        if (start < text.Length) onText(text[start..], segment);
    }
}
