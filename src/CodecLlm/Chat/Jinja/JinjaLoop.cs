namespace CodecLlm.Chat.Jinja;

/// <summary>The <c>loop</c> variable inside a for loop.</summary>
internal sealed class JinjaLoop
{
    private readonly List<object?> _items;
    private readonly int _index0;

    public JinjaLoop(List<object?> items, int index0)
    {
        _items = items;
        _index0 = index0;
    }

    public object? GetAttribute(string name) => name switch
    {
        "index0" => (long)_index0,
        "index" => (long)(_index0 + 1),
        "revindex0" => (long)(_items.Count - _index0 - 1),
        "revindex" => (long)(_items.Count - _index0),
        "first" => _index0 == 0,
        "last" => _index0 == _items.Count - 1,
        "length" => (long)_items.Count,
        "depth" => 1L,
        "depth0" => 0L,
        "previtem" => _index0 > 0 ? _items[_index0 - 1] : new Undefined("loop.previtem"),
        "nextitem" => _index0 < _items.Count - 1 ? _items[_index0 + 1] : new Undefined("loop.nextitem"),
        "cycle" => new JinjaFunction("loop.cycle", (args, _) =>
            args.Count > 0 ? args[_index0 % args.Count] : throw new ChatTemplateException("chat template: loop.cycle() needs at least one value")),
        _ => new Undefined("loop." + name),
    };
}
