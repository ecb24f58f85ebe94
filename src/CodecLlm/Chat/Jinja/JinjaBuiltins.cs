using System.Globalization;
using System.Text;

namespace CodecLlm.Chat.Jinja;

/// <summary>
/// Attribute and item access, the global functions transformers provides to chat templates
/// (raise_exception, strftime_now, namespace, range, dict), and the Python methods templates call on
/// strings, dicts and lists (content.strip(), message.get('x'), dict.items() ...).
/// Filters and tests live in <see cref="JinjaFilters"/>.
/// </summary>
internal static class JinjaBuiltins
{
    public static IEnumerable<(string, JinjaFunction)> Globals()
    {
        yield return ("raise_exception", new JinjaFunction("raise_exception", (args, _) =>
            throw new ChatTemplateException("chat template: " + (args.Count > 0 ? JinjaValues.ToStr(args[0]) : "raise_exception() called"))));
        yield return ("strftime_now", new JinjaFunction("strftime_now", (args, _) =>
            Strftime(DateTime.Now, args.Count > 0 ? JinjaValues.ToStr(args[0]) : "%Y-%m-%d")));
        yield return ("namespace", new JinjaFunction("namespace", (args, kwargs) =>
        {
            JinjaNamespace ns = new();
            if (args.Count > 0 && args[0] is Dictionary<string, object?> init)
            {
                foreach ((string k, object? v) in init) ns.Attributes[k] = v;
            }

            foreach ((string k, object? v) in kwargs) ns.Attributes[k] = v;
            return ns;
        }));
        yield return ("dict", new JinjaFunction("dict", (_, kwargs) => new Dictionary<string, object?>(kwargs)));
        yield return ("range", new JinjaFunction("range", (args, _) =>
        {
            long start = 0, stop, step = 1;
            if (args.Count == 1)
            {
                stop = JinjaValues.ToLong(args[0]);
            }
            else
            {
                start = JinjaValues.ToLong(args[0]);
                stop = JinjaValues.ToLong(args[1]);
                if (args.Count > 2) step = JinjaValues.ToLong(args[2]);
            }

            if (step == 0) throw new ChatTemplateException("chat template: range() step must not be zero");
            List<object?> values = [];
            for (long i = start; step > 0 ? i < stop : i > stop; i += step)
            {
                values.Add(i);
                if (values.Count > 1_000_000) throw new ChatTemplateException("chat template: range() too long");
            }

            return values;
        }));
    }

    /// <summary>obj.name: a method of the value's type first (as Python's getattr), then a dict key.</summary>
    public static object? GetAttribute(object? target, string name, int line)
    {
        switch (target)
        {
            case Undefined u:
                throw new ChatTemplateException($"chat template line {line}: '{u.Name}' is undefined (reading .{name})");
            case JinjaLoop loop:
                return loop.GetAttribute(name);
            case JinjaNamespace ns:
                return ns.Attributes.TryGetValue(name, out object? v) ? v : new Undefined(name);
        }

        JinjaFunction? method = Method(target, name, line);
        if (method != null) return method;
        if (target is Dictionary<string, object?> dict) return dict.TryGetValue(name, out object? value) ? value : new Undefined(name);
        return new Undefined(name);
    }

    /// <summary>obj[index]: dict key or list/string index (negative counts from the end); then an attribute.</summary>
    public static object? GetItem(object? target, object? index, int line)
    {
        switch (target)
        {
            case Undefined u:
                throw new ChatTemplateException($"chat template line {line}: '{u.Name}' is undefined (indexing it)");
            case Dictionary<string, object?> dict when index is string key:
                return dict.TryGetValue(key, out object? v) ? v : new Undefined(key);
            case List<object?> list when index is long or bool:
                long i = JinjaValues.ToLong(index);
                if (i < 0) i += list.Count;
                return i >= 0 && i < list.Count ? list[(int)i] : new Undefined($"[{index}]");
            case string s when index is long or bool:
                List<object?> chars = JinjaValues.Iterate(s);
                long j = JinjaValues.ToLong(index);
                if (j < 0) j += chars.Count;
                return j >= 0 && j < chars.Count ? chars[(int)j] : new Undefined($"[{index}]");
            case JinjaLoop or JinjaNamespace when index is string attr:
                return GetAttribute(target, attr, line);
            default:
                return index is string name && Method(target, name, line) is { } m ? m : new Undefined($"[{JinjaValues.Repr(index)}]");
        }
    }

    public static object? Slice(object? target, object? start, object? stop, object? step, int line)
    {
        List<object?> items = target switch
        {
            List<object?> list => list,
            string s => JinjaValues.Iterate(s),
            Undefined u => throw new ChatTemplateException($"chat template line {line}: '{u.Name}' is undefined (slicing it)"),
            _ => throw new ChatTemplateException($"chat template line {line}: cannot slice {JinjaValues.TypeName(target)}"),
        };
        int n = items.Count;
        long st = step == null ? 1 : JinjaValues.ToLong(step);
        if (st == 0) throw new ChatTemplateException($"chat template line {line}: slice step must not be zero");
        long Clamp(object? v, long fallback, long lo, long hi)
        {
            if (v == null) return fallback;
            long x = JinjaValues.ToLong(v);
            if (x < 0) x += n;
            return Math.Clamp(x, lo, hi);
        }

        List<object?> result = [];
        if (st > 0)
        {
            for (long i = Clamp(start, 0, 0, n), end = Clamp(stop, n, 0, n); i < end; i += st) result.Add(items[(int)i]);
        }
        else
        {
            for (long i = Clamp(start, n - 1, -1, n - 1), end = Clamp(stop, -1, -1, n - 1); i > end; i += st) result.Add(items[(int)i]);
        }

        return target is string ? string.Concat(result.Select(JinjaValues.ToStr)) : result;
    }

    public static object? ApplyFilter(string name, object? value, List<object?> args, Dictionary<string, object?> kwargs, int line) =>
        JinjaFilters.Apply(name, value, args, kwargs, line);

    public static bool ApplyTest(string name, object? value, List<object?> args, int line) =>
        JinjaFilters.Test(name, value, args, line);

    private static JinjaFunction? Method(object? target, string name, int line)
    {
        JinjaFunction Fn(Func<List<object?>, object?> body) => new(name, (args, _) => body(args));
        string Arg(List<object?> args, int i) => JinjaValues.ToStr(args[i]);

        switch (target)
        {
            case string s:
                return name switch
                {
                    "strip" => Fn(a => a.Count > 0 && a[0] is string cs ? s.Trim(cs.ToCharArray()) : s.Trim()),
                    "lstrip" => Fn(a => a.Count > 0 && a[0] is string cs ? s.TrimStart(cs.ToCharArray()) : s.TrimStart()),
                    "rstrip" => Fn(a => a.Count > 0 && a[0] is string cs ? s.TrimEnd(cs.ToCharArray()) : s.TrimEnd()),
                    "upper" => Fn(_ => s.ToUpperInvariant()),
                    "lower" => Fn(_ => s.ToLowerInvariant()),
                    "title" => Fn(_ => JinjaFilters.Title(s)),
                    "capitalize" => Fn(_ => JinjaFilters.Capitalize(s)),
                    "startswith" => Fn(a => a[0] is List<object?> l ? l.Any(p => s.StartsWith(JinjaValues.ToStr(p), StringComparison.Ordinal)) : s.StartsWith(Arg(a, 0), StringComparison.Ordinal)),
                    "endswith" => Fn(a => a[0] is List<object?> l ? l.Any(p => s.EndsWith(JinjaValues.ToStr(p), StringComparison.Ordinal)) : s.EndsWith(Arg(a, 0), StringComparison.Ordinal)),
                    "split" => Fn(a => Split(s, a.Count > 0 && a[0] is string sep ? sep : null, a.Count > 1 ? JinjaValues.ToLong(a[1]) : -1)),
                    "replace" => Fn(a => a.Count > 2 ? JinjaFilters.Replace(s, Arg(a, 0), Arg(a, 1), JinjaValues.ToLong(a[2])) : s.Replace(Arg(a, 0), Arg(a, 1), StringComparison.Ordinal)),
                    "find" => Fn(a => (long)s.IndexOf(Arg(a, 0), StringComparison.Ordinal)),
                    "count" => Fn(a => (long)CountOccurrences(s, Arg(a, 0))),
                    "join" => Fn(a => string.Join(s, JinjaValues.Iterate(a[0]).Select(JinjaValues.ToStr))),
                    "splitlines" => Fn(_ => s.Split('\n').Select(x => (object?)x.TrimEnd('\r')).ToList()),
                    "isdigit" => Fn(_ => s.Length > 0 && s.All(char.IsDigit)),
                    "isspace" => Fn(_ => s.Length > 0 && s.All(char.IsWhiteSpace)),
                    _ => null,
                };
            case Dictionary<string, object?> dict:
                return name switch
                {
                    "items" => Fn(_ => dict.Select(kv => (object?)new List<object?> { kv.Key, kv.Value }).ToList()),
                    "keys" => Fn(_ => dict.Keys.Cast<object?>().ToList()),
                    "values" => Fn(_ => dict.Values.ToList()),
                    "get" => Fn(a => dict.TryGetValue(Arg(a, 0), out object? v) ? v : a.Count > 1 ? a[1] : null),
                    _ => null,
                };
            case List<object?> list:
                return name switch
                {
                    "index" => Fn(a => (long)list.FindIndex(x => JinjaValues.Equals(x, a[0]))),
                    "count" => Fn(a => (long)list.Count(x => JinjaValues.Equals(x, a[0]))),
                    _ => null,
                };
            default:
                _ = line;
                return null;
        }
    }

    private static List<object?> Split(string s, string? sep, long maxSplit)
    {
        if (sep == null)
        {
            string[] words = s.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            return words.Cast<object?>().ToList();
        }

        string[] parts = maxSplit >= 0 ? s.Split(sep, (int)maxSplit + 1) : s.Split(sep);
        return parts.Cast<object?>().ToList();
    }

    private static int CountOccurrences(string s, string sub)
    {
        if (sub.Length == 0) return s.Length + 1;
        int count = 0;
        for (int i = s.IndexOf(sub, StringComparison.Ordinal); i >= 0; i = s.IndexOf(sub, i + sub.Length, StringComparison.Ordinal)) count++;
        return count;
    }

    /// <summary>The strftime codes chat templates use (dates in system prompts).</summary>
    private static string Strftime(DateTime t, string format)
    {
        StringBuilder sb = new();
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 == format.Length)
            {
                sb.Append(format[i]);
                continue;
            }

            char c = format[++i];
            sb.Append(c switch
            {
                'Y' => t.ToString("yyyy", CultureInfo.InvariantCulture),
                'm' => t.ToString("MM", CultureInfo.InvariantCulture),
                'd' => t.ToString("dd", CultureInfo.InvariantCulture),
                'H' => t.ToString("HH", CultureInfo.InvariantCulture),
                'M' => t.ToString("mm", CultureInfo.InvariantCulture),
                'S' => t.ToString("ss", CultureInfo.InvariantCulture),
                'b' => t.ToString("MMM", CultureInfo.InvariantCulture),
                'B' => t.ToString("MMMM", CultureInfo.InvariantCulture),
                'a' => t.ToString("ddd", CultureInfo.InvariantCulture),
                'A' => t.ToString("dddd", CultureInfo.InvariantCulture),
                'y' => t.ToString("yy", CultureInfo.InvariantCulture),
                '%' => "%",
                _ => "%" + c,
            });
        }

        return sb.ToString();
    }
}
