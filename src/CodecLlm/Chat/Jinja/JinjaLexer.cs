using System.Globalization;
using System.Text;

namespace CodecLlm.Chat.Jinja;

internal enum TokenKind
{
    Text,
    VariableBegin,
    VariableEnd,
    BlockBegin,
    BlockEnd,
    Name,
    String,
    Integer,
    Float,
    Operator,
    End,
}

internal readonly record struct JinjaToken(TokenKind Kind, string Value, int Line);

/// <summary>
/// Splits a template into text and tag tokens the way Jinja does with the options Hugging Face transformers
/// renders chat templates with: trim_blocks (drop the first newline after a block or comment tag),
/// lstrip_blocks (drop spaces and tabs between a line start and a block or comment tag), the explicit
/// <c>{%- -%}</c> / <c>{{- -}}</c> controls (strip all whitespace on that side), and one trailing newline of
/// the source removed (keep_trailing_newline off).
/// </summary>
internal sealed class JinjaLexer
{
    private static readonly string[] Operators =
        ["**", "//", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<", ">", "=", "(", ")", "[", "]", "{", "}", ",", ".", ":", "|"];

    private readonly string _src;
    private readonly List<JinjaToken> _tokens = [];
    private int _pos;
    private int _line = 1;

    private JinjaLexer(string source)
    {
        string s = source.Replace("\r\n", "\n");
        if (s.EndsWith('\n')) s = s[..^1];
        _src = s;
    }

    public static List<JinjaToken> Tokenize(string source)
    {
        JinjaLexer lexer = new(source);
        lexer.Run();
        return lexer._tokens;
    }

    private void Run()
    {
        bool lineStarting = true;
        while (_pos < _src.Length)
        {
            int tagAt = FindTagStart(_pos);
            string text = _src[_pos..(tagAt < 0 ? _src.Length : tagAt)];
            if (tagAt < 0)
            {
                AddText(text);
                break;
            }

            char kind = _src[tagAt + 1];
            char sign = tagAt + 2 < _src.Length ? _src[tagAt + 2] : '\0';
            if (sign == '-')
            {
                text = text.TrimEnd();
            }
            else if (sign != '+' && kind != '{')
            {
                // lstrip_blocks: remove the indentation of a block or comment tag that starts a line.
                int lineStart = text.LastIndexOf('\n') + 1;
                if ((lineStart > 0 || lineStarting) && text.AsSpan(lineStart).Trim().IsEmpty) text = text[..lineStart];
            }

            AddText(text);
            _line += CountNewlines(_src.AsSpan(_pos, tagAt - _pos));
            _pos = tagAt + 2 + (sign is '-' or '+' ? 1 : 0);

            if (kind == '#')
                lineStarting = SkipComment();
            else
                lineStarting = LexTag(kind == '{');
        }
    }

    private int FindTagStart(int from)
    {
        for (int i = from; i < _src.Length - 1; i++)
        {
            if (_src[i] == '{' && _src[i + 1] is '{' or '%' or '#') return i;
        }

        return -1;
    }

    private void AddText(string text)
    {
        if (text.Length > 0) _tokens.Add(new JinjaToken(TokenKind.Text, text, _line));
    }

    /// <summary>Skips a comment; returns whether the text after it starts a line.</summary>
    private bool SkipComment()
    {
        int end = _src.IndexOf("#}", _pos, StringComparison.Ordinal);
        if (end < 0) throw Error("comment is not closed with '#}'");
        bool strip = end > _pos && _src[end - 1] == '-';
        bool plus = end > _pos && _src[end - 1] == '+';
        _line += CountNewlines(_src.AsSpan(_pos, end - _pos));
        _pos = end + 2;
        return AfterTagEnd(strip, trimNewline: !plus);
    }

    /// <summary>Lexes the inside of a {{ }} or {% %} tag; returns whether the text after it starts a line.</summary>
    private bool LexTag(bool isVariable)
    {
        _tokens.Add(new JinjaToken(isVariable ? TokenKind.VariableBegin : TokenKind.BlockBegin, "", _line));
        string close = isVariable ? "}}" : "%}";
        int depth = 0;
        while (true)
        {
            while (_pos < _src.Length && char.IsWhiteSpace(_src[_pos]))
            {
                if (_src[_pos] == '\n') _line++;
                _pos++;
            }

            if (_pos >= _src.Length) throw Error($"tag is not closed with '{close}'");

            if (depth == 0)
            {
                bool strip = At("-" + close);
                bool plus = !isVariable && At("+" + close);
                if (strip || plus || At(close))
                {
                    _pos += close.Length + (strip || plus ? 1 : 0);
                    _tokens.Add(new JinjaToken(isVariable ? TokenKind.VariableEnd : TokenKind.BlockEnd, "", _line));
                    return AfterTagEnd(strip, trimNewline: !isVariable && !plus);
                }
            }

            char c = _src[_pos];
            if (c is '\'' or '"')
            {
                _tokens.Add(new JinjaToken(TokenKind.String, ReadString(c), _line));
            }
            else if (char.IsAsciiDigit(c))
            {
                ReadNumber();
            }
            else if (char.IsAsciiLetter(c) || c == '_')
            {
                int start = _pos;
                while (_pos < _src.Length && (char.IsAsciiLetterOrDigit(_src[_pos]) || _src[_pos] == '_')) _pos++;
                _tokens.Add(new JinjaToken(TokenKind.Name, _src[start.._pos], _line));
            }
            else
            {
                string? op = Operators.FirstOrDefault(o => At(o)) ?? throw Error($"unexpected character '{c}'");
                if (op is "(" or "[" or "{") depth++;
                else if (op is ")" or "]" or "}") depth--;
                _pos += op.Length;
                _tokens.Add(new JinjaToken(TokenKind.Operator, op, _line));
            }
        }
    }

    private bool AfterTagEnd(bool strip, bool trimNewline)
    {
        if (strip)
        {
            int start = _pos;
            while (_pos < _src.Length && char.IsWhiteSpace(_src[_pos])) _pos++;
            _line += CountNewlines(_src.AsSpan(start, _pos - start));
            return _pos > start && _src[_pos - 1] == '\n';
        }

        if (trimNewline && _pos < _src.Length && _src[_pos] == '\n')
        {
            _pos++;
            _line++;
            return true;
        }

        return false;
    }

    private bool At(string s) => string.CompareOrdinal(_src, _pos, s, 0, s.Length) == 0;

    private string ReadString(char quote)
    {
        StringBuilder sb = new();
        _pos++;
        while (true)
        {
            if (_pos >= _src.Length) throw Error("string literal is not closed");
            char c = _src[_pos++];
            if (c == quote) return sb.ToString();
            if (c != '\\')
            {
                if (c == '\n') _line++;
                sb.Append(c);
                continue;
            }

            if (_pos >= _src.Length) throw Error("string literal is not closed");
            char e = _src[_pos++];
            switch (e)
            {
                case 'n': sb.Append('\n'); break;
                case 't': sb.Append('\t'); break;
                case 'r': sb.Append('\r'); break;
                case '0': sb.Append('\0'); break;
                case '\\': sb.Append('\\'); break;
                case '\'': sb.Append('\''); break;
                case '"': sb.Append('"'); break;
                case 'u' when _pos + 4 <= _src.Length:
                    sb.Append((char)int.Parse(_src.AsSpan(_pos, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                    _pos += 4;
                    break;
                default: sb.Append('\\').Append(e); break;
            }
        }
    }

    private void ReadNumber()
    {
        int start = _pos;
        while (_pos < _src.Length && (char.IsAsciiDigit(_src[_pos]) || _src[_pos] == '_')) _pos++;
        bool isFloat = false;
        if (_pos + 1 < _src.Length && _src[_pos] == '.' && char.IsAsciiDigit(_src[_pos + 1]))
        {
            isFloat = true;
            _pos++;
            while (_pos < _src.Length && char.IsAsciiDigit(_src[_pos])) _pos++;
        }

        if (_pos < _src.Length && _src[_pos] is 'e' or 'E')
        {
            int save = _pos++;
            if (_pos < _src.Length && _src[_pos] is '+' or '-') _pos++;
            if (_pos < _src.Length && char.IsAsciiDigit(_src[_pos]))
            {
                isFloat = true;
                while (_pos < _src.Length && char.IsAsciiDigit(_src[_pos])) _pos++;
            }
            else
            {
                _pos = save;
            }
        }

        string text = _src[start.._pos].Replace("_", "");
        _tokens.Add(new JinjaToken(isFloat ? TokenKind.Float : TokenKind.Integer, text, _line));
    }

    private static int CountNewlines(ReadOnlySpan<char> s) => s.Count('\n');

    private ChatTemplateException Error(string message) => new($"chat template line {_line}: {message}");
}
