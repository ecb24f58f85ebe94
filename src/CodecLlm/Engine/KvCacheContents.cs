namespace CodecLlm.Engine;

/// <summary>
/// The tokens whose keys and values a session's KV cache holds at positions 0 .. Count - 1: what the last generation
/// in that session ran (its prompt and the tokens it fed back). A generation whose prompt starts with some of them runs
/// only the rest (<see cref="Generator"/>: prompt caching, as llama.cpp's <c>cache_prompt</c> and vLLM's prefix caching),
/// so a chat's next turn does not run its whole conversation again. Kept by whoever owns the session (the chat
/// client's session pool); not thread-safe, like the session.
/// </summary>
public sealed class KvCacheContents
{
    private readonly List<int> _tokens = [];

    /// <summary>Positions of the cache that hold the keys and values of <see cref="Tokens"/>.</summary>
    public int Count => _tokens.Count;

    /// <summary>The tokens at positions 0 .. Count - 1.</summary>
    public IReadOnlyList<int> Tokens => _tokens;

    /// <summary>How many of <see cref="Tokens"/> were the prompt of the generation that wrote them (the rest it generated).</summary>
    public int PromptLength { get; private set; }

    /// <summary>
    /// How many leading tokens of <paramref name="prompt"/> the cache already holds: their common prefix, less one when
    /// it is the whole prompt (the prompt's last token always runs, since its logits choose the first new token).
    /// </summary>
    public int ReusablePrefix(IReadOnlyList<int> prompt)
    {
        int n = Math.Min(_tokens.Count, prompt.Count - 1), i = 0;
        while (i < n && _tokens[i] == prompt[i]) i++;
        return i;
    }

    /// <summary>Forgets everything (the session's cache no longer holds a known sequence).</summary>
    public void Clear()
    {
        _tokens.Clear();
        PromptLength = 0;
    }

    /// <summary>Keeps the first <paramref name="count"/> tokens (a forward pass is about to overwrite the positions after them).</summary>
    internal void Truncate(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count < _tokens.Count) _tokens.RemoveRange(count, _tokens.Count - count);
        PromptLength = Math.Min(PromptLength, _tokens.Count);
    }

    /// <summary>The cache now holds a generation's whole prompt (and nothing after it): <see cref="PromptLength"/> = Count.</summary>
    internal void MarkPrompt() => PromptLength = _tokens.Count;

    /// <summary>Tokens a forward pass has just written at positions Count, Count + 1, ...</summary>
    internal void Append(ReadOnlySpan<int> tokens)
    {
        foreach (int t in tokens) _tokens.Add(t);
    }
}
