using System.Globalization;

namespace CodecLlm.Chat.Jinja;

/// <summary>
/// Recursive-descent parser for the Jinja subset chat templates use, with Jinja's operator precedence
/// (lowest first): conditional, or, and, not, comparisons, + -, ~, * / // %, **, unary - +, then
/// postfix (.attr, [index], [a:b], calls) and filters / tests.
/// </summary>
internal sealed class JinjaParser
{
    private readonly List<JinjaToken> _tokens;
    private int _pos;

    private JinjaParser(List<JinjaToken> tokens) => _tokens = tokens;

    public static IReadOnlyList<Stmt> Parse(string source)
    {
        JinjaParser parser = new(JinjaLexer.Tokenize(source));
        List<Stmt> body = parser.ParseBody(out string? end);
        if (end != null) throw parser.Error($"unexpected '{{% {end} %}}'");
        return body;
    }

    private JinjaToken Current => _pos < _tokens.Count ? _tokens[_pos] : new JinjaToken(TokenKind.End, "", _tokens.Count > 0 ? _tokens[^1].Line : 1);

    private JinjaToken Next() => _tokens[_pos++];

    private bool IsOp(string op) => Current.Kind == TokenKind.Operator && Current.Value == op;

    private bool IsName(string name) => Current.Kind == TokenKind.Name && Current.Value == name;

    private bool SkipOp(string op)
    {
        if (!IsOp(op)) return false;
        _pos++;
        return true;
    }

    private bool SkipName(string name)
    {
        if (!IsName(name)) return false;
        _pos++;
        return true;
    }

    private void ExpectOp(string op)
    {
        if (!SkipOp(op)) throw Error($"expected '{op}', found {Describe(Current)}");
    }

    private void Expect(TokenKind kind)
    {
        if (Current.Kind != kind) throw Error($"expected end of tag, found {Describe(Current)}");
        _pos++;
    }

    private string ExpectName()
    {
        if (Current.Kind != TokenKind.Name) throw Error($"expected a name, found {Describe(Current)}");
        return Next().Value;
    }

    /// <summary>Parses statements until an end keyword that belongs to the caller ({% endif %}, {% else %}...), returned in <paramref name="endKeyword"/>.</summary>
    private List<Stmt> ParseBody(out string? endKeyword)
    {
        List<Stmt> body = [];
        while (Current.Kind != TokenKind.End)
        {
            JinjaToken t = Next();
            switch (t.Kind)
            {
                case TokenKind.Text:
                    body.Add(new TextStmt(t.Value, t.Line));
                    break;
                case TokenKind.VariableBegin:
                    body.Add(new OutputStmt(ParseExpression(), t.Line));
                    Expect(TokenKind.VariableEnd);
                    break;
                case TokenKind.BlockBegin:
                    string keyword = ExpectName();
                    if (keyword is "endif" or "elif" or "else" or "endfor" or "endset" or "endmacro")
                    {
                        endKeyword = keyword;
                        return body;
                    }

                    if (keyword is "generation" or "endgeneration") Expect(TokenKind.BlockEnd); // transformers' marker tags: no output of their own
                    else body.Add(ParseStatement(keyword, t.Line));
                    break;
                default:
                    throw Error($"unexpected {Describe(t)}");
            }
        }

        endKeyword = null;
        return body;
    }

    private Stmt ParseStatement(string keyword, int line)
    {
        switch (keyword)
        {
            case "if": return ParseIf(line);
            case "for": return ParseFor(line);
            case "set": return ParseSet(line);
            case "macro": return ParseMacro(line);
            case "break":
                Expect(TokenKind.BlockEnd);
                return new BreakStmt(line);
            case "continue":
                Expect(TokenKind.BlockEnd);
                return new ContinueStmt(line);
            default:
                throw Error($"unknown tag '{keyword}'");
        }
    }

    private IfStmt ParseIf(int line)
    {
        List<(Expr, IReadOnlyList<Stmt>)> branches = [];
        Expr condition = ParseExpression();
        while (true)
        {
            Expect(TokenKind.BlockEnd);
            List<Stmt> body = ParseBody(out string? end);
            branches.Add((condition, body));
            switch (end)
            {
                case "elif":
                    condition = ParseExpression();
                    continue;
                case "else":
                    Expect(TokenKind.BlockEnd);
                    List<Stmt> elseBody = ParseBody(out string? end2);
                    if (end2 != "endif") throw Error("'{% if %}' is not closed with '{% endif %}'");
                    Expect(TokenKind.BlockEnd);
                    return new IfStmt(branches, elseBody, line);
                case "endif":
                    Expect(TokenKind.BlockEnd);
                    return new IfStmt(branches, null, line);
                default:
                    throw Error("'{% if %}' is not closed with '{% endif %}'");
            }
        }
    }

    private ForStmt ParseFor(int line)
    {
        List<string> targets = [ExpectName()];
        while (SkipOp(",")) targets.Add(ExpectName());
        if (!SkipName("in")) throw Error("expected 'in' in '{% for %}'");
        Expr iterable = ParseConditional(allowIf: false);
        Expr? filter = SkipName("if") ? ParseConditional(allowIf: false) : null;
        SkipName("recursive");
        Expect(TokenKind.BlockEnd);
        List<Stmt> body = ParseBody(out string? end);
        List<Stmt>? elseBody = null;
        if (end == "else")
        {
            Expect(TokenKind.BlockEnd);
            elseBody = ParseBody(out end);
        }

        if (end != "endfor") throw Error("'{% for %}' is not closed with '{% endfor %}'");
        Expect(TokenKind.BlockEnd);
        return new ForStmt(targets, iterable, filter, body, elseBody, line);
    }

    private Stmt ParseSet(int line)
    {
        string name = ExpectName();
        Expr target = new NameExpr(name, line);
        if (SkipOp("."))
        {
            target = new GetAttrExpr(target, ExpectName(), line);
        }
        else if (IsOp(","))
        {
            List<Expr> names = [target];
            while (SkipOp(",")) names.Add(new NameExpr(ExpectName(), line));
            target = new TupleExpr(names, line);
        }

        if (Current.Kind == TokenKind.BlockEnd && target is NameExpr)
        {
            _pos++;
            List<Stmt> body = ParseBody(out string? end);
            if (end != "endset") throw Error("'{% set %}' block is not closed with '{% endset %}'");
            Expect(TokenKind.BlockEnd);
            return new SetBlockStmt(name, body, line);
        }

        ExpectOp("=");
        Expr value = ParseTuple();
        Expect(TokenKind.BlockEnd);
        return new SetStmt(target, value, line);
    }

    private MacroStmt ParseMacro(int line)
    {
        string name = ExpectName();
        List<(string, Expr?)> parameters = [];
        ExpectOp("(");
        while (!IsOp(")"))
        {
            if (parameters.Count > 0) ExpectOp(",");
            string p = ExpectName();
            parameters.Add((p, SkipOp("=") ? ParseExpression() : null));
        }

        ExpectOp(")");
        Expect(TokenKind.BlockEnd);
        List<Stmt> body = ParseBody(out string? end);
        if (end != "endmacro") throw Error("'{% macro %}' is not closed with '{% endmacro %}'");
        Expect(TokenKind.BlockEnd);
        return new MacroStmt(name, parameters, body, line);
    }

    /// <summary>An expression, or an unparenthesised tuple "a, b" (for set).</summary>
    private Expr ParseTuple()
    {
        int line = Current.Line;
        Expr first = ParseExpression();
        if (!IsOp(",")) return first;
        List<Expr> items = [first];
        while (SkipOp(",")) items.Add(ParseExpression());
        return new TupleExpr(items, line);
    }

    private Expr ParseExpression() => ParseConditional(allowIf: true);

    private Expr ParseConditional(bool allowIf)
    {
        Expr expr = ParseOr();
        while (allowIf && IsName("if"))
        {
            int line = Next().Line;
            Expr condition = ParseOr();
            Expr? otherwise = SkipName("else") ? ParseConditional(allowIf: true) : null;
            expr = new ConditionalExpr(condition, expr, otherwise, line);
        }

        return expr;
    }

    private Expr ParseOr()
    {
        Expr left = ParseAnd();
        while (IsName("or"))
        {
            int line = Next().Line;
            left = new BinaryExpr("or", left, ParseAnd(), line);
        }

        return left;
    }

    private Expr ParseAnd()
    {
        Expr left = ParseNot();
        while (IsName("and"))
        {
            int line = Next().Line;
            left = new BinaryExpr("and", left, ParseNot(), line);
        }

        return left;
    }

    private Expr ParseNot()
    {
        if (IsName("not"))
        {
            int line = Next().Line;
            return new UnaryExpr("not", ParseNot(), line);
        }

        return ParseCompare();
    }

    private Expr ParseCompare()
    {
        int line = Current.Line;
        Expr first = ParseAdditive();
        List<(string, Expr)> rest = [];
        while (true)
        {
            if (Current.Kind == TokenKind.Operator && Current.Value is "==" or "!=" or "<" or "<=" or ">" or ">=")
            {
                string op = Next().Value;
                rest.Add((op, ParseAdditive()));
            }
            else if (SkipName("in"))
            {
                rest.Add(("in", ParseAdditive()));
            }
            else if (IsName("not") && _pos + 1 < _tokens.Count && _tokens[_pos + 1] is { Kind: TokenKind.Name, Value: "in" })
            {
                _pos += 2;
                rest.Add(("not in", ParseAdditive()));
            }
            else
            {
                break;
            }
        }

        return rest.Count == 0 ? first : new CompareExpr(first, rest, line);
    }

    private Expr ParseAdditive()
    {
        Expr left = ParseConcat();
        while (IsOp("+") || IsOp("-"))
        {
            JinjaToken op = Next();
            left = new BinaryExpr(op.Value, left, ParseConcat(), op.Line);
        }

        return left;
    }

    private Expr ParseConcat()
    {
        Expr left = ParseMultiplicative();
        while (IsOp("~"))
        {
            int line = Next().Line;
            left = new BinaryExpr("~", left, ParseMultiplicative(), line);
        }

        return left;
    }

    private Expr ParseMultiplicative()
    {
        Expr left = ParsePower();
        while (IsOp("*") || IsOp("/") || IsOp("//") || IsOp("%"))
        {
            JinjaToken op = Next();
            left = new BinaryExpr(op.Value, left, ParsePower(), op.Line);
        }

        return left;
    }

    private Expr ParsePower()
    {
        Expr left = ParseUnary(withFilter: true);
        while (IsOp("**"))
        {
            int line = Next().Line;
            left = new BinaryExpr("**", left, ParseUnary(withFilter: true), line);
        }

        return left;
    }

    private Expr ParseUnary(bool withFilter)
    {
        int line = Current.Line;
        Expr expr;
        if (IsOp("-") || IsOp("+"))
        {
            string op = Next().Value;
            expr = new UnaryExpr(op, ParseUnary(withFilter: false), line);
        }
        else
        {
            expr = ParsePrimary();
        }

        expr = ParsePostfix(expr);
        return withFilter ? ParseFiltersAndTests(expr) : expr;
    }

    private Expr ParsePrimary()
    {
        JinjaToken t = Next();
        switch (t.Kind)
        {
            case TokenKind.Name:
                return t.Value switch
                {
                    "true" or "True" => new LiteralExpr(true, t.Line),
                    "false" or "False" => new LiteralExpr(false, t.Line),
                    "none" or "None" => new LiteralExpr(null, t.Line),
                    _ => new NameExpr(t.Value, t.Line),
                };
            case TokenKind.String:
                string s = t.Value;
                while (Current.Kind == TokenKind.String) s += Next().Value; // adjacent literals concatenate
                return new LiteralExpr(s, t.Line);
            case TokenKind.Integer:
                return new LiteralExpr(long.Parse(t.Value, CultureInfo.InvariantCulture), t.Line);
            case TokenKind.Float:
                return new LiteralExpr(double.Parse(t.Value, CultureInfo.InvariantCulture), t.Line);
            case TokenKind.Operator when t.Value == "(":
                if (SkipOp(")")) return new TupleExpr([], t.Line);
                Expr inner = ParseExpression();
                if (IsOp(","))
                {
                    List<Expr> items = [inner];
                    while (SkipOp(",") && !IsOp(")")) items.Add(ParseExpression());
                    ExpectOp(")");
                    return new TupleExpr(items, t.Line);
                }

                ExpectOp(")");
                return inner;
            case TokenKind.Operator when t.Value == "[":
                List<Expr> list = [];
                while (!IsOp("]"))
                {
                    if (list.Count > 0) ExpectOp(",");
                    if (IsOp("]")) break;
                    list.Add(ParseExpression());
                }

                ExpectOp("]");
                return new ListExpr(list, t.Line);
            case TokenKind.Operator when t.Value == "{":
                List<(Expr, Expr)> pairs = [];
                while (!IsOp("}"))
                {
                    if (pairs.Count > 0) ExpectOp(",");
                    if (IsOp("}")) break;
                    Expr key = ParseExpression();
                    ExpectOp(":");
                    pairs.Add((key, ParseExpression()));
                }

                ExpectOp("}");
                return new DictExpr(pairs, t.Line);
            default:
                throw Error($"unexpected {Describe(t)}");
        }
    }

    private Expr ParsePostfix(Expr expr)
    {
        while (true)
        {
            int line = Current.Line;
            if (SkipOp("."))
            {
                JinjaToken name = Next();
                if (name.Kind is not (TokenKind.Name or TokenKind.Integer)) throw Error($"expected an attribute name after '.', found {Describe(name)}");
                expr = name.Kind == TokenKind.Integer
                    ? new GetItemExpr(expr, new LiteralExpr(long.Parse(name.Value, CultureInfo.InvariantCulture), line), line)
                    : new GetAttrExpr(expr, name.Value, line);
            }
            else if (SkipOp("["))
            {
                expr = ParseSubscript(expr, line);
            }
            else if (IsOp("("))
            {
                expr = ParseCall(expr);
            }
            else
            {
                return expr;
            }
        }
    }

    private Expr ParseSubscript(Expr target, int line)
    {
        Expr? start = IsOp(":") ? null : ParseExpression();
        if (!SkipOp(":"))
        {
            ExpectOp("]");
            return new GetItemExpr(target, start!, line);
        }

        Expr? stop = IsOp(":") || IsOp("]") ? null : ParseExpression();
        Expr? step = null;
        if (SkipOp(":") && !IsOp("]")) step = ParseExpression();
        ExpectOp("]");
        return new SliceExpr(target, start, stop, step, line);
    }

    private CallExpr ParseCall(Expr callee)
    {
        int line = Current.Line;
        (List<Expr> args, List<(string, Expr)> kwargs) = ParseArguments();
        return new CallExpr(callee, args, kwargs, line);
    }

    private (List<Expr> Args, List<(string, Expr)> Kwargs) ParseArguments()
    {
        ExpectOp("(");
        List<Expr> args = [];
        List<(string, Expr)> kwargs = [];
        while (!IsOp(")"))
        {
            if (args.Count + kwargs.Count > 0) ExpectOp(",");
            if (IsOp(")")) break;
            if (Current.Kind == TokenKind.Name && _pos + 1 < _tokens.Count && _tokens[_pos + 1] is { Kind: TokenKind.Operator, Value: "=" })
            {
                string name = Next().Value;
                _pos++;
                kwargs.Add((name, ParseExpression()));
            }
            else
            {
                args.Add(ParseExpression());
            }
        }

        ExpectOp(")");
        return (args, kwargs);
    }

    private Expr ParseFiltersAndTests(Expr expr)
    {
        while (true)
        {
            int line = Current.Line;
            if (SkipOp("|"))
            {
                string name = ExpectName();
                (List<Expr> args, List<(string, Expr)> kwargs) = IsOp("(") ? ParseArguments() : ([], []);
                expr = new FilterExpr(expr, name, args, kwargs, line);
            }
            else if (SkipName("is"))
            {
                bool negated = SkipName("not");
                string name = ExpectName();
                List<Expr> args = [];
                if (IsOp("("))
                {
                    args = ParseArguments().Args;
                }
                else if (Current.Kind is TokenKind.String or TokenKind.Integer or TokenKind.Float
                         || (Current.Kind == TokenKind.Name && Current.Value is not ("and" or "or" or "else" or "if" or "in" or "not" or "is")))
                {
                    args = [ParsePostfix(ParsePrimary())]; // "x is divisibleby 3", "x is sameas none"
                }

                expr = new TestExpr(expr, name, args, negated, line);
            }
            else if (IsOp("("))
            {
                expr = ParseCall(expr);
            }
            else
            {
                return expr;
            }
        }
    }

    private static string Describe(JinjaToken t) => t.Kind switch
    {
        TokenKind.End => "end of template",
        TokenKind.BlockEnd => "'%}'",
        TokenKind.VariableEnd => "'}}'",
        TokenKind.Text => "text",
        _ => $"'{t.Value}'",
    };

    private ChatTemplateException Error(string message) => new($"chat template line {Current.Line}: {message}");
}
