using System.Globalization;
using System.Text;

namespace CodecLlm.Chat.Jinja;

/// <summary>Jinja's built-in filters (value | name(args)) and tests (value is name) that chat templates use.</summary>
internal static class JinjaFilters
{
    public static object? Apply(string name, object? value, List<object?> args, Dictionary<string, object?> kwargs, int line)
    {
        object? Arg(int i, string key, object? fallback) =>
            i < args.Count ? args[i] : kwargs.TryGetValue(key, out object? v) ? v : fallback;

        switch (name)
        {
            case "default" or "d":
                bool boolean = JinjaValues.IsTruthy(Arg(1, "boolean", false));
                return value is Undefined || (boolean && !JinjaValues.IsTruthy(value)) ? Arg(0, "default_value", "") : value;
            case "safe" or "e" or "escape" or "string" when value is string:
                return value;
            case "string":
                return JinjaValues.ToStr(value);
        }

        if (value is Undefined u && name is not ("length" or "count" or "list" or "tojson"))
            throw new ChatTemplateException($"chat template line {line}: '{u.Name}' is undefined (filter '{name}')");

        switch (name)
        {
            case "safe":
                return value;
            case "trim":
                string s = JinjaValues.ToStr(value);
                return Arg(0, "chars", null) is string chars ? s.Trim(chars.ToCharArray()) : s.Trim();
            case "length" or "count":
                return JinjaValues.Length(value);
            case "upper":
                return JinjaValues.ToStr(value).ToUpperInvariant();
            case "lower":
                return JinjaValues.ToStr(value).ToLowerInvariant();
            case "title":
                return Title(JinjaValues.ToStr(value));
            case "capitalize":
                return Capitalize(JinjaValues.ToStr(value));
            case "replace":
                return Replace(JinjaValues.ToStr(value), JinjaValues.ToStr(Arg(0, "old", "")), JinjaValues.ToStr(Arg(1, "new", "")),
                    Arg(2, "count", null) is { } count ? JinjaValues.ToLong(count) : -1);
            case "join":
                List<object?> parts = JinjaValues.Iterate(value);
                if (Arg(1, "attribute", null) is string attribute) parts = parts.Select(p => JinjaBuiltins.GetAttribute(p, attribute, line)).ToList();
                return string.Join(JinjaValues.ToStr(Arg(0, "d", "")), parts.Select(JinjaValues.ToStr));
            case "first":
                List<object?> items = JinjaValues.Iterate(value);
                return items.Count > 0 ? items[0] : new Undefined("first");
            case "last":
                List<object?> all = JinjaValues.Iterate(value);
                return all.Count > 0 ? all[^1] : new Undefined("last");
            case "list":
                return JinjaValues.Iterate(value).ToList();
            case "reverse":
                return value is string rs ? string.Concat(JinjaValues.Iterate(rs).Select(JinjaValues.ToStr).Reverse()) : Enumerable.Reverse(JinjaValues.Iterate(value)).ToList();
            case "unique":
                List<object?> unique = [];
                foreach (object? item in JinjaValues.Iterate(value))
                {
                    if (!unique.Any(x => JinjaValues.Equals(x, item))) unique.Add(item);
                }

                return unique;
            case "sort":
                List<object?> sorted = JinjaValues.Iterate(value).ToList();
                string? sortAttr = Arg(2, "attribute", null) as string;
                Comparison<object?> cmp = (a, b) => sortAttr == null
                    ? JinjaValues.Compare(a, b)
                    : JinjaValues.Compare(JinjaBuiltins.GetAttribute(a, sortAttr, line), JinjaBuiltins.GetAttribute(b, sortAttr, line));
                sorted.Sort(cmp);
                if (JinjaValues.IsTruthy(Arg(0, "reverse", false))) sorted.Reverse();
                return sorted;
            case "items":
                return value is Dictionary<string, object?> dict
                    ? dict.Select(kv => (object?)new List<object?> { kv.Key, kv.Value }).ToList()
                    : throw new ChatTemplateException($"chat template line {line}: 'items' needs a dict, not {JinjaValues.TypeName(value)}");
            case "int":
                return value switch
                {
                    string str when long.TryParse(str.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long l) => l,
                    string str when double.TryParse(str.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double d) => (long)d,
                    long or double or bool => JinjaValues.ToLong(value),
                    _ => Arg(0, "default", 0L),
                };
            case "float":
                return value switch
                {
                    string str when double.TryParse(str.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double d) => d,
                    long or double or bool => JinjaValues.ToDouble(value),
                    _ => Arg(0, "default", 0.0),
                };
            case "abs":
                return value is double ad ? (object)Math.Abs(ad) : Math.Abs(JinjaValues.ToLong(value));
            case "round":
                int digits = (int)JinjaValues.ToLong(Arg(0, "precision", 0L));
                return Math.Round(JinjaValues.ToDouble(value), digits, MidpointRounding.ToEven);
            case "sum":
                return JinjaValues.Iterate(value).Aggregate((object?)0L, (acc, x) => JinjaOperators.Binary("+", acc, x, line));
            case "max" or "min":
                List<object?> values = JinjaValues.Iterate(value);
                if (values.Count == 0) return new Undefined(name);
                return values.Aggregate((a, b) => (JinjaValues.Compare(a, b) >= 0) == (name == "max") ? a : b);
            case "indent":
                return Indent(JinjaValues.ToStr(value), Arg(0, "width", 4L), JinjaValues.IsTruthy(Arg(1, "first", false)), JinjaValues.IsTruthy(Arg(2, "blank", false)));
            case "wordcount":
                return (long)JinjaValues.ToStr(value).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;
            case "tojson":
                return ToJson(value, Arg(0, "indent", null) is { } indent and not null ? (int)JinjaValues.ToLong(indent) : null, 0);
            case "map":
                List<object?> source = JinjaValues.Iterate(value);
                if (kwargs.TryGetValue("attribute", out object? mapAttr))
                {
                    return source.Select(x =>
                    {
                        object? v = JinjaBuiltins.GetAttribute(x, JinjaValues.ToStr(mapAttr), line);
                        return v is Undefined && kwargs.TryGetValue("default", out object? dflt) ? dflt : v;
                    }).ToList();
                }

                string filter = args.Count > 0 ? JinjaValues.ToStr(args[0]) : throw new ChatTemplateException($"chat template line {line}: map needs a filter name or attribute=");
                return source.Select(x => Apply(filter, x, args.Skip(1).ToList(), [], line)).ToList();
            case "select" or "reject":
                return JinjaValues.Iterate(value).Where(x =>
                    (args.Count == 0 ? JinjaValues.IsTruthy(x) : Test(JinjaValues.ToStr(args[0]), x, args.Skip(1).ToList(), line)) == (name == "select")).ToList();
            case "selectattr" or "rejectattr":
                string attr = JinjaValues.ToStr(Arg(0, "attribute", ""));
                return JinjaValues.Iterate(value).Where(x =>
                {
                    object? v = JinjaBuiltins.GetAttribute(x, attr, line);
                    bool ok = args.Count < 2 ? JinjaValues.IsTruthy(v) : Test(JinjaValues.ToStr(args[1]), v, args.Skip(2).ToList(), line);
                    return ok == (name == "selectattr");
                }).ToList();
            default:
                throw new ChatTemplateException($"chat template line {line}: unknown filter '{name}'");
        }
    }

    public static bool Test(string name, object? value, List<object?> args, int line)
    {
        object? Arg0() => args.Count > 0 ? args[0] : throw new ChatTemplateException($"chat template line {line}: test '{name}' needs an argument");
        return name switch
        {
            "defined" => value is not Undefined,
            "undefined" => value is Undefined,
            "none" => value is null,
            "string" => value is string,
            "number" => value is long or double,
            "integer" => value is long,
            "float" => value is double,
            "boolean" => value is bool,
            "true" => value is true,
            "false" => value is false,
            "mapping" => value is Dictionary<string, object?> or JinjaNamespace,
            "sequence" => value is List<object?> or string or Dictionary<string, object?>,
            "iterable" => value is List<object?> or string or Dictionary<string, object?>,
            "callable" => value is JinjaFunction,
            "lower" => value is string ls && ls == ls.ToLowerInvariant(),
            "upper" => value is string us && us == us.ToUpperInvariant(),
            "even" => JinjaValues.ToLong(value) % 2 == 0,
            "odd" => JinjaValues.ToLong(value) % 2 != 0,
            "divisibleby" => JinjaValues.ToLong(value) % JinjaValues.ToLong(Arg0()) == 0,
            "eq" or "equalto" or "==" => JinjaValues.Equals(value, Arg0()),
            "ne" or "!=" => !JinjaValues.Equals(value, Arg0()),
            "lt" or "lessthan" or "<" => JinjaValues.Compare(value, Arg0()) < 0,
            "le" or "<=" => JinjaValues.Compare(value, Arg0()) <= 0,
            "gt" or "greaterthan" or ">" => JinjaValues.Compare(value, Arg0()) > 0,
            "ge" or ">=" => JinjaValues.Compare(value, Arg0()) >= 0,
            "in" => JinjaOperators.Contains(Arg0(), value, line),
            "sameas" => ReferenceEquals(value, Arg0()) || (value is null && Arg0() is null) || (value is bool b && Arg0() is bool c && b == c),
            _ => throw new ChatTemplateException($"chat template line {line}: unknown test '{name}'"),
        };
    }

    /// <summary>Jinja's title filter: upper-case the first letter of each word, lower-case the rest.</summary>
    public static string Title(string s)
    {
        StringBuilder sb = new(s.Length);
        bool startOfWord = true;
        foreach (char c in s)
        {
            sb.Append(startOfWord ? char.ToUpperInvariant(c) : char.ToLowerInvariant(c));
            startOfWord = !char.IsLetterOrDigit(c);
        }

        return sb.ToString();
    }

    public static string Capitalize(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant();

    public static string Replace(string s, string oldValue, string newValue, long count)
    {
        if (count < 0) return oldValue.Length == 0 ? s : s.Replace(oldValue, newValue, StringComparison.Ordinal);
        StringBuilder sb = new();
        int pos = 0;
        for (long n = 0; n < count; n++)
        {
            int at = s.IndexOf(oldValue, pos, StringComparison.Ordinal);
            if (at < 0 || oldValue.Length == 0) break;
            sb.Append(s, pos, at - pos).Append(newValue);
            pos = at + oldValue.Length;
        }

        return sb.Append(s, pos, s.Length - pos).ToString();
    }

    private static string Indent(string s, object? width, bool first, bool blank)
    {
        string pad = width is string w ? w : new string(' ', (int)JinjaValues.ToLong(width));
        string[] lines = s.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            if (i == 0 && !first) continue;
            if (lines[i].Length == 0 && !blank) continue;
            lines[i] = pad + lines[i];
        }

        return string.Join('\n', lines);
    }

    /// <summary>
    /// transformers' tojson: Python json.dumps(value, ensure_ascii=False, indent=indent) — separators ", " and
    /// ": " on one line, "," and ": " with an indent.
    /// </summary>
    public static string ToJson(object? value, int? indent, int level)
    {
        string Newline(int lvl) => indent is int n ? "\n" + new string(' ', n * lvl) : "";
        string itemSep = indent is null ? ", " : ",";
        switch (value)
        {
            case null or Undefined:
                return "null";
            case bool b:
                return b ? "true" : "false";
            case long l:
                return l.ToString(CultureInfo.InvariantCulture);
            case double d:
                return double.IsFinite(d) ? JinjaValues.FormatFloat(d) : double.IsNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity";
            case string s:
                return JsonString(s);
            case List<object?> list:
                if (list.Count == 0) return "[]";
                return "[" + string.Join(itemSep, list.Select(x => Newline(level + 1) + ToJson(x, indent, level + 1))) + Newline(level) + "]";
            case Dictionary<string, object?> dict:
                if (dict.Count == 0) return "{}";
                return "{" + string.Join(itemSep, dict.Select(kv => Newline(level + 1) + JsonString(kv.Key) + ": " + ToJson(kv.Value, indent, level + 1))) + Newline(level) + "}";
            case JinjaNamespace ns:
                return ToJson(ns.Attributes, indent, level);
            default:
                return JsonString(JinjaValues.ToStr(value));
        }
    }

    private static string JsonString(string s)
    {
        StringBuilder sb = new(s.Length + 2);
        sb.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }

        return sb.Append('"').ToString();
    }
}
