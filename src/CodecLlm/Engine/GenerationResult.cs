namespace CodecLlm.Engine;

/// <summary>
/// Filled in by <see cref="Generator"/> as a generation runs: pass one in, read it when the stream has ended
/// (also after cancellation, when <see cref="Stats"/> says <see cref="FinishReason.Cancelled"/>).
/// </summary>
public sealed class GenerationResult
{
    private readonly List<int> _tokenIds = [];
    private readonly System.Text.StringBuilder _text = new();

    /// <summary>Null until the generation has finished.</summary>
    public GenerationStats? Stats { get; internal set; }

    /// <summary>The prompt as token ids (BOS included when added).</summary>
    public IReadOnlyList<int> PromptIds { get; internal set; } = [];

    /// <summary>Generated token ids (an end token that stopped generation is not included).</summary>
    public IReadOnlyList<int> TokenIds => _tokenIds;

    /// <summary>All emitted text (stop sequences excluded).</summary>
    public string Text => _text.ToString();

    /// <summary>The sampler seed used (useful when none was given).</summary>
    public ulong Seed { get; internal set; }

    internal void AddToken(int id) => _tokenIds.Add(id);

    internal void AddText(string text) => _text.Append(text);
}
