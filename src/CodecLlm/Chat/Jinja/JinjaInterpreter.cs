using System.Text;

namespace CodecLlm.Chat.Jinja;

/// <summary>
/// Executes a parsed template. Scoping follows Jinja: a for-loop body (each iteration) and a macro call get
/// their own scope, so <c>set</c> inside them does not leak out (that is what <c>namespace()</c> is for);
/// <c>if</c> blocks share the enclosing scope.
/// </summary>
internal sealed class JinjaInterpreter
{
    private enum Flow
    {
        Normal,
        Break,
        Continue,
    }

    private sealed class Scope
    {
        private readonly Dictionary<string, object?> _vars = [];

        public Scope(Scope? parent) => Parent = parent;

        public Scope? Parent { get; }

        public bool TryGet(string name, out object? value)
        {
            for (Scope? s = this; s != null; s = s.Parent)
            {
                if (s._vars.TryGetValue(name, out value)) return true;
            }

            value = null;
            return false;
        }

        public void Set(string name, object? value) => _vars[name] = value;
    }

    private readonly Scope _globals;
    private int _depth;

    public JinjaInterpreter(IReadOnlyDictionary<string, object?> context)
    {
        _globals = new Scope(null);
        foreach ((string name, JinjaFunction f) in JinjaBuiltins.Globals()) _globals.Set(name, f);
        foreach ((string name, object? value) in context) _globals.Set(name, JinjaValues.FromDotNet(value));
    }

    public string Render(IReadOnlyList<Stmt> template)
    {
        StringBuilder output = new();
        Execute(template, new Scope(_globals), output);
        return output.ToString();
    }

    private Flow Execute(IReadOnlyList<Stmt> body, Scope scope, StringBuilder output)
    {
        foreach (Stmt stmt in body)
        {
            Flow flow = ExecuteOne(stmt, scope, output);
            if (flow != Flow.Normal) return flow;
        }

        return Flow.Normal;
    }

    private Flow ExecuteOne(Stmt stmt, Scope scope, StringBuilder output)
    {
        switch (stmt)
        {
            case TextStmt t:
                output.Append(t.Text);
                return Flow.Normal;
            case OutputStmt o:
                output.Append(JinjaValues.ToStr(Eval(o.Value, scope)));
                return Flow.Normal;
            case IfStmt i:
                foreach ((Expr condition, IReadOnlyList<Stmt> branch) in i.Branches)
                {
                    if (JinjaValues.IsTruthy(Eval(condition, scope))) return Execute(branch, scope, output);
                }

                return i.Else != null ? Execute(i.Else, scope, output) : Flow.Normal;
            case ForStmt f:
                ExecuteFor(f, scope, output);
                return Flow.Normal;
            case SetStmt s:
                Assign(s.Target, Eval(s.Value, scope), scope);
                return Flow.Normal;
            case SetBlockStmt sb:
                StringBuilder captured = new();
                Execute(sb.Body, scope, captured);
                scope.Set(sb.Name, captured.ToString());
                return Flow.Normal;
            case MacroStmt m:
                scope.Set(m.Name, MakeMacro(m, scope));
                return Flow.Normal;
            case BreakStmt:
                return Flow.Break;
            case ContinueStmt:
                return Flow.Continue;
            default:
                throw new ChatTemplateException($"chat template line {stmt.Line}: unsupported statement");
        }
    }

    private void ExecuteFor(ForStmt f, Scope scope, StringBuilder output)
    {
        List<object?> items = JinjaValues.Iterate(Eval(f.Iterable, scope));
        if (f.Filter != null)
        {
            items = items.Where(item =>
            {
                Scope probe = new(scope);
                BindTargets(f.Targets, item, probe, f.Line);
                return JinjaValues.IsTruthy(Eval(f.Filter, probe));
            }).ToList();
        }

        if (items.Count == 0)
        {
            if (f.Else != null) Execute(f.Else, scope, output);
            return;
        }

        for (int i = 0; i < items.Count; i++)
        {
            Scope iteration = new(scope);
            BindTargets(f.Targets, items[i], iteration, f.Line);
            iteration.Set("loop", new JinjaLoop(items, i));
            if (Execute(f.Body, iteration, output) == Flow.Break) break;
        }
    }

    private static void BindTargets(IReadOnlyList<string> targets, object? item, Scope scope, int line)
    {
        if (targets.Count == 1)
        {
            scope.Set(targets[0], item);
            return;
        }

        List<object?> parts = item as List<object?> ?? throw new ChatTemplateException($"chat template line {line}: cannot unpack {JinjaValues.TypeName(item)} into {targets.Count} names");
        if (parts.Count != targets.Count) throw new ChatTemplateException($"chat template line {line}: cannot unpack {parts.Count} values into {targets.Count} names");
        for (int i = 0; i < targets.Count; i++) scope.Set(targets[i], parts[i]);
    }

    private void Assign(Expr target, object? value, Scope scope)
    {
        switch (target)
        {
            case NameExpr n:
                scope.Set(n.Name, value);
                break;
            case TupleExpr t:
                BindTargets(t.Items.Select(e => ((NameExpr)e).Name).ToList(), value, scope, t.Line);
                break;
            case GetAttrExpr { Target: NameExpr owner } a:
                if (!scope.TryGet(owner.Name, out object? ns) || ns is not JinjaNamespace jns)
                    throw new ChatTemplateException($"chat template line {a.Line}: can only assign attributes of a namespace(), not '{owner.Name}'");
                jns.Attributes[a.Name] = value;
                break;
            default:
                throw new ChatTemplateException($"chat template line {target.Line}: cannot assign to this expression");
        }
    }

    /// <summary>A macro sees the scope it was defined in (so it can call itself and other macros), plus its parameters.</summary>
    private JinjaFunction MakeMacro(MacroStmt m, Scope definedIn) => new(m.Name, (args, kwargs) =>
    {
        Scope call = new(definedIn);
        for (int i = 0; i < m.Parameters.Count; i++)
        {
            (string name, Expr? defaultValue) = m.Parameters[i];
            object? value = i < args.Count ? args[i]
                : kwargs.TryGetValue(name, out object? kw) ? kw
                : defaultValue != null ? Eval(defaultValue, call)
                : new Undefined(name);
            call.Set(name, value);
        }

        StringBuilder output = new();
        Execute(m.Body, call, output);
        return output.ToString();
    });

    private object? Eval(Expr expr, Scope scope)
    {
        if (++_depth > 200) throw new ChatTemplateException($"chat template line {expr.Line}: expression nesting too deep");
        try
        {
            return EvalCore(expr, scope);
        }
        finally
        {
            _depth--;
        }
    }

    private object? EvalCore(Expr expr, Scope scope)
    {
        switch (expr)
        {
            case LiteralExpr l:
                return l.Value;
            case NameExpr n:
                return scope.TryGet(n.Name, out object? v) ? v : new Undefined(n.Name);
            case ListExpr l:
                return l.Items.Select(e => Eval(e, scope)).ToList();
            case TupleExpr t:
                return t.Items.Select(e => Eval(e, scope)).ToList();
            case DictExpr d:
                Dictionary<string, object?> dict = [];
                foreach ((Expr k, Expr val) in d.Pairs) dict[JinjaValues.ToStr(Eval(k, scope))] = Eval(val, scope);
                return dict;
            case GetAttrExpr a:
                return JinjaBuiltins.GetAttribute(Eval(a.Target, scope), a.Name, a.Line);
            case GetItemExpr g:
                return JinjaBuiltins.GetItem(Eval(g.Target, scope), Eval(g.Index, scope), g.Line);
            case SliceExpr s:
                return JinjaBuiltins.Slice(Eval(s.Target, scope), EvalOptional(s.Start, scope), EvalOptional(s.Stop, scope), EvalOptional(s.Step, scope), s.Line);
            case CallExpr c:
                return Call(c, scope);
            case FilterExpr f:
                return JinjaBuiltins.ApplyFilter(f.Name, Eval(f.Value, scope), EvalArgs(f.Args, scope), EvalKwargs(f.Kwargs, scope), f.Line);
            case TestExpr t:
                bool result = JinjaBuiltins.ApplyTest(t.Name, Eval(t.Value, scope), EvalArgs(t.Args, scope), t.Line);
                return t.Negated ? !result : result;
            case UnaryExpr u:
                object? operand = Eval(u.Operand, scope);
                return u.Op switch
                {
                    "not" => !JinjaValues.IsTruthy(operand),
                    "-" => operand is double d ? (object)(-d) : -JinjaValues.ToLong(operand),
                    _ => operand,
                };
            case BinaryExpr { Op: "and" } b:
                object? left = Eval(b.Left, scope);
                return JinjaValues.IsTruthy(left) ? Eval(b.Right, scope) : left;
            case BinaryExpr { Op: "or" } b:
                object? first = Eval(b.Left, scope);
                return JinjaValues.IsTruthy(first) ? first : Eval(b.Right, scope);
            case BinaryExpr b:
                return JinjaOperators.Binary(b.Op, Eval(b.Left, scope), Eval(b.Right, scope), b.Line);
            case CompareExpr c:
                object? current = Eval(c.First, scope);
                foreach ((string op, Expr rightExpr) in c.Rest)
                {
                    object? right = Eval(rightExpr, scope);
                    if (!JinjaOperators.Compare(op, current, right, c.Line)) return false;
                    current = right;
                }

                return true;
            case ConditionalExpr c:
                if (JinjaValues.IsTruthy(Eval(c.Condition, scope))) return Eval(c.Then, scope);
                return c.Else != null ? Eval(c.Else, scope) : new Undefined("else");
            default:
                throw new ChatTemplateException($"chat template line {expr.Line}: unsupported expression");
        }
    }

    private object? EvalOptional(Expr? e, Scope scope) => e == null ? null : Eval(e, scope);

    private List<object?> EvalArgs(IReadOnlyList<Expr> args, Scope scope) => args.Select(a => Eval(a, scope)).ToList();

    private Dictionary<string, object?> EvalKwargs(IReadOnlyList<(string Name, Expr Value)> kwargs, Scope scope) =>
        kwargs.ToDictionary(kv => kv.Name, kv => Eval(kv.Value, scope));

    private object? Call(CallExpr c, Scope scope)
    {
        object? callee = Eval(c.Callee, scope);
        if (callee is not JinjaFunction f)
        {
            string name = c.Callee switch
            {
                NameExpr n => n.Name,
                GetAttrExpr a => a.Name,
                _ => "expression",
            };
            throw new ChatTemplateException($"chat template line {c.Line}: '{name}' is not callable ({JinjaValues.TypeName(callee)})");
        }

        return f.Invoke(EvalArgs(c.Args, scope), EvalKwargs(c.Kwargs, scope));
    }
}
