using CodecLlm.Chat;
using CodecLlm.Chat.Jinja;

namespace CodecLlm.Tests.Chat;

/// <summary>
/// Jinja language features, each expected output checked against Python Jinja2 3.1.6 configured as
/// transformers does (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols).
/// </summary>
public class JinjaTemplateTests
{
    private static string Render(string template, Dictionary<string, object?>? vars = null) =>
        JinjaTemplate.Parse(template).Render(vars ?? []);

    [Theory]
    // set inside a for body lasts one iteration; set inside if changes the enclosing scope
    [InlineData("{% set x = 0 %}{% for i in [1,2] %}{{ x }}{% set x = i %}{% endfor %}{{ x }}", "000")]
    [InlineData("{% set x = 0 %}{% if true %}{% set x = 5 %}{% endif %}{{ x }}", "5")]
    // lstrip_blocks + trim_blocks; one trailing newline of the source dropped
    [InlineData("a\n  {% if true %}\n  b\n  {% endif %}\nc\n", "a\n  b\nc")]
    [InlineData("{{ [1, 'a', none, true, 1.5] }}|{{ {'a': 1} }}|{{ 1/2 }}|{{ 7//2 }}|{{ -7 % 3 }}|{{ 2**10 }}|{{ 1.0 }}|{{ 'ab' * 3 }}",
        "[1, 'a', None, True, 1.5]|{'a': 1}|0.5|3|2|1024|1.0|ababab")]
    [InlineData("{{ 'Hello World foo-bar' | title }}|{{ 'hELLO wORLD' | capitalize }}|{{ '  x  ' | trim }}|{{ 'abc'[1:] }}|{{ 'abc'[::-1] }}|{{ [1,2,3,4][1:-1] }}",
        "Hello World Foo-Bar|Hello world|x|bc|cba|[2, 3]")]
    [InlineData("{%- macro m(a, b='z') -%}[{{ a }}{{ b }}]{%- endmacro -%}{{ m(1) }}{{ m(2, b='y') }}", "[1z][2y]")]
    [InlineData("{% for x in [1,2,3,4] if x is odd %}{{ loop.index }}/{{ loop.length }}:{{ x }}{% if not loop.last %},{% endif %}{% endfor %}", "1/2:1,2/2:3")]
    [InlineData("{{ 'yes' if x is defined else 'no' }}{{ y | default('D') }}{{ 1 < 2 < 3 }}{{ 'a' in 'cat' }}{{ 2 not in [1] }}", "noDTrueTrueTrue")]
    [InlineData("{% for i in range(5) %}{% if i == 1 %}{% continue %}{% endif %}{% if i == 3 %}{% break %}{% endif %}{{ i }}{% endfor %}", "02")]
    [InlineData("{{ 'a,b,,c'.split(',') }}{{ ' a  b '.split() }}{{ 'x'.upper() ~ 1 ~ none }}", "['a', 'b', '', 'c']['a', 'b']X1None")]
    [InlineData("  {%+ if true %}x{% endif %}\n{# c #}\n  {#- c2 #}y\n{{- ' z ' -}}\n w", "  xy z w")]
    [InlineData("{% set ns = namespace(found=false) %}{% for m in [1, 2] %}{% if m == 2 %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.found }}", "True")]
    [InlineData("{% set a, b = [1, 2] %}{{ b }}{{ a }}{% set t %}x{{ a }}{% endset %}[{{ t }}]", "21[x1]")]
    [InlineData("{{ \"it's\" ~ 'a\\tb' }}{{ [3, 1, 2] | sort | first }}{{ [1, 2] | last }}{{ 'x' | length }}{{ [] | length }}", "it'sa\tb1210")]
    [InlineData("{{ -7 % 3 }}|{{ 2**10 }}|{{ 2**-1 }}|{{ 7 % -3 }}|{{ 7.5 // 2 }}", "2|1024|0.5|-2|3.0")]
    public void RendersLikeJinja2(string template, string expected) => Assert.Equal(expected, Render(template));

    [Fact]
    public void DictsListsAndFilters()
    {
        Dictionary<string, object?> vars = new()
        {
            ["d"] = new Dictionary<string, object?> { ["a"] = 1, ["b"] = 2 },
            ["msgs"] = new List<object?>
            {
                new Dictionary<string, object?> { ["role"] = "user" },
                new Dictionary<string, object?> { ["role"] = "assistant" },
                new Dictionary<string, object?> { ["role"] = "user" },
            },
        };
        Assert.Equal("a=1;b=2;dflt1", Render("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{{ d.get('zz', 'dflt') }}{{ d.a }}", vars));
        Assert.Equal("a,b,c|user assistant user|2",
            Render("{{ ['b','a','c'] | sort | join(',') }}|{{ msgs | map(attribute='role') | join(' ') }}|{{ msgs | selectattr('role', 'equalto', 'user') | list | length }}", vars));
        Assert.Equal("user", Render("{{ msgs[-1]['role'] }}", vars));
        Assert.Equal("True", Render("{{ msgs[0].content is not defined }}", vars));
    }

    [Fact]
    public void ToJson_FollowsTransformers()
    {
        // transformers' tojson = json.dumps(ensure_ascii=False): non-ASCII kept, ", " and ": " separators
        Dictionary<string, object?> vars = new()
        {
            ["x"] = new Dictionary<string, object?> { ["a"] = new List<object?> { 1, "b\u00e9\n" }, ["c"] = null, ["d"] = true, ["e"] = 1.5 },
        };
        Assert.Equal("{\"a\": [1, \"b\u00e9\\n\"], \"c\": null, \"d\": true, \"e\": 1.5}", Render("{{ x | tojson }}", vars));
        Assert.Equal("{\n  \"a\": [\n    1,\n    \"b\u00e9\\n\"\n  ],\n  \"c\": null,\n  \"d\": true,\n  \"e\": 1.5\n}", Render("{{ x | tojson(indent=2) }}", vars));
    }

    [Theory]
    [InlineData("{% if x %}a", "line 1")]
    [InlineData("{{ 1 + }}", "line 1")]
    [InlineData("a\n{% for %}", "line 2")]
    [InlineData("{% endfor %}", "line 1")]
    [InlineData("{% frobnicate %}", "unknown tag 'frobnicate'")]
    [InlineData("{{ 'x' | nosuchfilter }}", "unknown filter 'nosuchfilter'")]
    [InlineData("{{ x.y }}", "'x' is undefined")]
    [InlineData("{{ 'a' + 1 }}", "unsupported operand types")]
    [InlineData("{{ raise_exception('bad conversation') }}", "bad conversation")]
    [InlineData("{{ 'x' * 100000000 }}", "too long")]
    [InlineData("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "too deep")]
    public void Errors_AreOneLineChatTemplateExceptions(string template, string expectedFragment)
    {
        ChatTemplateException e = Assert.Throws<ChatTemplateException>(() => Render(template));
        Assert.Contains(expectedFragment, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
