namespace CodecLlm.Engine;

/// <summary>
/// Holds back streamed text that might be the start of a stop sequence, so a stop sequence is never emitted
/// even when it arrives split across tokens.
/// </summary>
public sealed class StopSequenceFilter
{
    private readonly IReadOnlyList<string> _stops;
    private string _pending = "";

    public StopSequenceFilter(IReadOnlyList<string> stopSequences) => _stops = stopSequences.Where(s => s.Length > 0).ToArray();

    /// <summary>True once a stop sequence has been seen; later text is ignored.</summary>
    public bool Stopped { get; private set; }

    /// <summary>Adds text; returns what can be emitted now.</summary>
    public string Push(string text)
    {
        if (Stopped) return "";
        if (_stops.Count == 0) return text;
        _pending += text;
        int stopAt = -1;
        foreach (string s in _stops)
        {
            int i = _pending.IndexOf(s, StringComparison.Ordinal);
            if (i >= 0 && (stopAt < 0 || i < stopAt)) stopAt = i;
        }
        if (stopAt >= 0)
        {
            Stopped = true;
            string before = _pending[..stopAt];
            _pending = "";
            return before;
        }
        int hold = LongestSuffixThatStartsAStop();
        string ready = _pending[..^hold];
        _pending = _pending[^hold..];
        return ready;
    }

    /// <summary>The text still held back (emit it when generation ends for another reason).</summary>
    public string Flush()
    {
        string rest = Stopped ? "" : _pending;
        _pending = "";
        return rest;
    }

    private int LongestSuffixThatStartsAStop()
    {
        int best = 0;
        foreach (string s in _stops)
        {
            for (int len = Math.Min(s.Length - 1, _pending.Length); len > best; len--)
            {
                if (_pending.AsSpan(_pending.Length - len).SequenceEqual(s.AsSpan(0, len)))
                {
                    best = len;
                    break;
                }
            }
        }
        return best;
    }
}
