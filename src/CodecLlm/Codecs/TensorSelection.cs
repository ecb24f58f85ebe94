using System.Text.RegularExpressions;
using CodecLlm.Model;

namespace CodecLlm.Codecs;

/// <summary>
/// Which tensors get compressed (<c>--tensors</c>): "all", a group ("attn", "mlp", "embed", "head", "norm",
/// "other", see <see cref="TensorNames.GroupOf"/>), or exact names and globs (* and ?), comma-separated and
/// mixable. Under "all" and groups, 1-D tensors (norms, biases) stay raw: they are tiny and read whole
/// every step; naming a tensor explicitly selects it whatever its rank.
/// </summary>
public sealed class TensorSelection
{
    private static readonly HashSet<string> Groups = ["attn", "mlp", "embed", "head", "norm", "other"];
    private readonly bool _all;
    private readonly HashSet<string> _groups = [];
    private readonly List<Regex> _patterns = [];

    private TensorSelection(string spec)
    {
        Spec = spec;
        foreach (string raw in spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (raw == "all") _all = true;
            else if (Groups.Contains(raw)) _groups.Add(raw);
            else _patterns.Add(new Regex("^" + Regex.Escape(raw).Replace("\\*", ".*").Replace("\\?", ".") + "$", RegexOptions.CultureInvariant));
        }
        if (!_all && _groups.Count == 0 && _patterns.Count == 0)
            throw new UnsupportedModelException($"--tensors '{spec}' selects nothing (use all, attn, mlp, embed, head, or names/globs)");
    }

    public string Spec { get; }

    public static TensorSelection Parse(string spec) => new(spec);

    public static TensorSelection All { get; } = new("all");

    /// <summary>True when the tensor should be compressed (false: stored raw).</summary>
    public bool Includes(string name, int rank)
    {
        if (_patterns.Any(p => p.IsMatch(name))) return true;
        if (rank < 2) return false;
        return _all || _groups.Contains(TensorNames.GroupOf(name));
    }

    /// <summary>Explicit names/globs that match none of <paramref name="names"/> (to report typos).</summary>
    public IEnumerable<string> UnmatchedPatterns(IEnumerable<string> names)
    {
        string[] all = names.ToArray();
        return _patterns.Where(p => !all.Any(p.IsMatch)).Select(p => p.ToString()[1..^1]);
    }
}
