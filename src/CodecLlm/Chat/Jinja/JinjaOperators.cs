namespace CodecLlm.Chat.Jinja;

/// <summary>Arithmetic, concatenation and comparison with Python semantics.</summary>
internal static class JinjaOperators
{
    public static object? Binary(string op, object? a, object? b, int line)
    {
        if (op == "~") return JinjaValues.ToStr(a) + JinjaValues.ToStr(b);
        if (a is Undefined || b is Undefined)
            throw new ChatTemplateException($"chat template line {line}: '{(a as Undefined ?? (Undefined)b!).Name}' is undefined");

        switch (op, a, b)
        {
            case ("+", string x, string y): return x + y;
            case ("+", List<object?> x, List<object?> y): return x.Concat(y).ToList();
            case ("*", string s, long n): return Repeat(s, n, line);
            case ("*", long n, string s): return Repeat(s, n, line);
        }

        if (!JinjaValues.IsNumber(a) || !JinjaValues.IsNumber(b))
            throw new ChatTemplateException($"chat template line {line}: unsupported operand types for {op}: {JinjaValues.TypeName(a)} and {JinjaValues.TypeName(b)}");

        if (a is not double && b is not double)
        {
            long x = JinjaValues.ToLong(a), y = JinjaValues.ToLong(b);
            if (y == 0 && op is "/" or "//" or "%") throw DivisionByZero(line);
            switch (op)
            {
                case "+": return x + y;
                case "-": return x - y;
                case "*": return x * y;
                case "/": return (double)x / y;
                case "//": return FloorDiv(x, y);
                case "%": return x - (y * FloorDiv(x, y));
                case "**" when y >= 0: return (long)Math.Pow(x, y);
            }
        }

        double p = JinjaValues.ToDouble(a), q = JinjaValues.ToDouble(b);
        return op switch
        {
            "+" => p + q,
            "-" => p - q,
            "*" => p * q,
            "/" => q == 0 ? throw DivisionByZero(line) : p / q,
            "//" => q == 0 ? throw DivisionByZero(line) : Math.Floor(p / q),
            "%" => q == 0 ? throw DivisionByZero(line) : p - (q * Math.Floor(p / q)),
            "**" => Math.Pow(p, q),
            _ => throw new ChatTemplateException($"chat template line {line}: unknown operator '{op}'"),
        };
    }

    public static bool Compare(string op, object? a, object? b, int line)
    {
        try
        {
            return op switch
            {
                "==" => JinjaValues.Equals(a, b),
                "!=" => !JinjaValues.Equals(a, b),
                "<" => JinjaValues.Compare(a, b) < 0,
                "<=" => JinjaValues.Compare(a, b) <= 0,
                ">" => JinjaValues.Compare(a, b) > 0,
                ">=" => JinjaValues.Compare(a, b) >= 0,
                "in" => Contains(b, a, line),
                "not in" => !Contains(b, a, line),
                _ => throw new ChatTemplateException($"chat template line {line}: unknown comparison '{op}'"),
            };
        }
        catch (ChatTemplateException e) when (!e.Message.StartsWith("chat template line", StringComparison.Ordinal))
        {
            throw new ChatTemplateException($"chat template line {line}: {e.Message["chat template: ".Length..]}");
        }
    }

    public static bool Contains(object? container, object? item, int line) => container switch
    {
        string s when item is string sub => s.Contains(sub, StringComparison.Ordinal),
        List<object?> list => list.Any(x => JinjaValues.Equals(x, item)),
        Dictionary<string, object?> dict => item is string key && dict.ContainsKey(key),
        Undefined u => throw new ChatTemplateException($"chat template line {line}: '{u.Name}' is undefined"),
        _ => throw new ChatTemplateException($"chat template line {line}: 'in' needs a string, list or dict, not {JinjaValues.TypeName(container)}"),
    };

    /// <summary>str * n, refusing results over 10 million characters (a template must not exhaust memory).</summary>
    private static string Repeat(string s, long n, int line)
    {
        if (n <= 0 || s.Length == 0) return "";
        if (n > 10_000_000 / s.Length) throw new ChatTemplateException($"chat template line {line}: string repetition too long");
        return string.Concat(Enumerable.Repeat(s, (int)n));
    }

    private static long FloorDiv(long x, long y) => (long)Math.Floor((double)x / y);

    private static ChatTemplateException DivisionByZero(int line) => new($"chat template line {line}: division by zero");
}
