using System.Globalization;
using System.Text;

namespace CodecLlm.Chat.Jinja;

/// <summary>A name or key that has no value: renders as "", is falsy, equals only another undefined.</summary>
internal sealed class Undefined
{
    public Undefined(string name) => Name = name;

    public string Name { get; }

    public override string ToString() => "";
}

/// <summary>A callable value: a global function, a macro, or a bound string/dict/list method.</summary>
internal sealed class JinjaFunction
{
    public JinjaFunction(string name, Func<List<object?>, Dictionary<string, object?>, object?> invoke)
    {
        Name = name;
        Invoke = invoke;
    }

    public string Name { get; }

    public Func<List<object?>, Dictionary<string, object?>, object?> Invoke { get; }
}

/// <summary>The object namespace(...) returns: attributes that loop bodies can assign to.</summary>
internal sealed class JinjaNamespace
{
    public Dictionary<string, object?> Attributes { get; } = [];
}

/// <summary>
/// Python-like semantics of template values. Values are null (None), <see cref="Undefined"/>, bool, long,
/// double, string, List&lt;object?&gt; (list and tuple), Dictionary&lt;string, object?&gt; (dict, insertion
/// ordered), <see cref="JinjaNamespace"/>, loop objects and <see cref="JinjaFunction"/>.
/// </summary>
internal static class JinjaValues
{
    public static bool IsTruthy(object? v) => v switch
    {
        null or Undefined => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        List<object?> list => list.Count > 0,
        Dictionary<string, object?> dict => dict.Count > 0,
        _ => true,
    };

    /// <summary>Python str().</summary>
    public static string ToStr(object? v) => v switch
    {
        string s => s,
        Undefined => "",
        _ => Repr(v),
    };

    /// <summary>Python repr() (strings quoted).</summary>
    public static string Repr(object? v)
    {
        switch (v)
        {
            case null: return "None";
            case Undefined: return "";
            case bool b: return b ? "True" : "False";
            case long l: return l.ToString(CultureInfo.InvariantCulture);
            case double d: return FormatFloat(d);
            case string s: return QuoteString(s);
            case List<object?> list: return "[" + string.Join(", ", list.Select(Repr)) + "]";
            case Dictionary<string, object?> dict: return "{" + string.Join(", ", dict.Select(kv => QuoteString(kv.Key) + ": " + Repr(kv.Value))) + "}";
            case JinjaFunction f: return $"<function {f.Name}>";
            default: return v.ToString() ?? "";
        }
    }

    private static string QuoteString(string s)
    {
        char quote = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
        StringBuilder sb = new();
        sb.Append(quote);
        foreach (char c in s)
        {
            switch (c)
            {
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c == quote) sb.Append('\\');
                    sb.Append(c);
                    break;
            }
        }

        return sb.Append(quote).ToString();
    }

    /// <summary>Python float repr: shortest round trip, ".0" on integral values, exponent outside [1e-4, 1e16).</summary>
    public static string FormatFloat(double d)
    {
        if (double.IsNaN(d)) return "nan";
        if (double.IsInfinity(d)) return d > 0 ? "inf" : "-inf";
        double abs = Math.Abs(d);
        string r = d.ToString("R", CultureInfo.InvariantCulture);
        if (abs != 0 && (abs < 1e-4 || abs >= 1e16))
        {
            if (!r.Contains('E')) r = d.ToString("E16", CultureInfo.InvariantCulture);
            string[] parts = r.Split('E');
            int exp = int.Parse(parts[1], CultureInfo.InvariantCulture);
            return parts[0] + "e" + (exp < 0 ? "-" : "+") + Math.Abs(exp).ToString("00", CultureInfo.InvariantCulture);
        }

        if (r.Contains('E')) r = d.ToString("F1", CultureInfo.InvariantCulture);
        return r.Contains('.') ? r : r + ".0";
    }

    public static new bool Equals(object? a, object? b)
    {
        if (a is Undefined || b is Undefined) return a is Undefined && b is Undefined;
        if (IsNumber(a) && IsNumber(b)) return ToDouble(a) == ToDouble(b);
        return (a, b) switch
        {
            (null, null) => true,
            (null, _) or (_, null) => false,
            (string x, string y) => x == y,
            (List<object?> x, List<object?> y) => x.Count == y.Count && x.Zip(y).All(p => Equals(p.First, p.Second)),
            (Dictionary<string, object?> x, Dictionary<string, object?> y) =>
                x.Count == y.Count && x.All(kv => y.TryGetValue(kv.Key, out object? o) && Equals(kv.Value, o)),
            _ => ReferenceEquals(a, b),
        };
    }

    /// <summary>Python ordering of numbers, strings and lists.</summary>
    public static int Compare(object? a, object? b)
    {
        if (IsNumber(a) && IsNumber(b)) return ToDouble(a).CompareTo(ToDouble(b));
        if (a is string x && b is string y) return string.CompareOrdinal(x, y);
        if (a is List<object?> la && b is List<object?> lb)
        {
            for (int i = 0; i < Math.Min(la.Count, lb.Count); i++)
            {
                int c = Compare(la[i], lb[i]);
                if (c != 0) return c;
            }

            return la.Count.CompareTo(lb.Count);
        }

        throw new ChatTemplateException($"chat template: cannot compare {TypeName(a)} with {TypeName(b)}");
    }

    /// <summary>bool counts as a number, as in Python.</summary>
    public static bool IsNumber(object? v) => v is long or double or bool;

    public static double ToDouble(object? v) => v switch
    {
        long l => l,
        double d => d,
        bool b => b ? 1 : 0,
        _ => throw new ChatTemplateException($"chat template: expected a number, got {TypeName(v)}"),
    };

    public static long ToLong(object? v) => v switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        double d => (long)d,
        _ => throw new ChatTemplateException($"chat template: expected an integer, got {TypeName(v)}"),
    };

    /// <summary>The items a for loop visits: list items, dict keys, string characters.</summary>
    public static List<object?> Iterate(object? v) => v switch
    {
        List<object?> list => list,
        Dictionary<string, object?> dict => dict.Keys.Cast<object?>().ToList(),
        string s => EnumerateChars(s),
        Undefined or null => [],
        _ => throw new ChatTemplateException($"chat template: {TypeName(v)} is not iterable"),
    };

    private static List<object?> EnumerateChars(string s)
    {
        List<object?> chars = [];
        StringRuneEnumerator runes = s.EnumerateRunes();
        foreach (Rune r in runes) chars.Add(r.ToString());
        return chars;
    }

    public static long Length(object? v) => v switch
    {
        string s => s.EnumerateRunes().Count(),
        List<object?> list => list.Count,
        Dictionary<string, object?> dict => dict.Count,
        Undefined => 0,
        _ => throw new ChatTemplateException($"chat template: {TypeName(v)} has no length"),
    };

    public static string TypeName(object? v) => v switch
    {
        null => "None",
        Undefined u => $"undefined '{u.Name}'",
        bool => "bool",
        long => "int",
        double => "float",
        string => "str",
        List<object?> => "list",
        Dictionary<string, object?> => "dict",
        JinjaFunction => "function",
        _ => v.GetType().Name,
    };

    /// <summary>Converts a .NET value (from the caller's context) into a template value.</summary>
    public static object? FromDotNet(object? v) => v switch
    {
        null or Undefined or bool or long or double or string or JinjaFunction or JinjaNamespace => v,
        int i => (long)i,
        float f => (double)f,
        decimal m => (double)m,
        IReadOnlyDictionary<string, object?> dict => dict.ToDictionary(kv => kv.Key, kv => FromDotNet(kv.Value)),
        IDictionary<string, object?> dict => dict.ToDictionary(kv => kv.Key, kv => FromDotNet(kv.Value)),
        IDictionary<string, string> dict => dict.ToDictionary(kv => kv.Key, kv => (object?)kv.Value),
        System.Collections.IEnumerable e => e.Cast<object?>().Select(FromDotNet).ToList(),
        _ => v.ToString(),
    };
}
