using CodecLlm.Model;

namespace CodecLlm.Engine;

/// <summary>
/// One prepared copy of a model's weights per backend, shared by every session created from that model (a server
/// running several requests at once holds the weights once, not once per session). Sessions hold a
/// <see cref="Lease"/>; the weights are disposed when the last lease is. Keyed by the <see cref="LoadedModel"/>
/// instance. Thread-safe: concurrent sessions of one model wait for a single load.
/// </summary>
public sealed class SharedWeights<T> where T : class, IDisposable
{
    private readonly Dictionary<LoadedModel, Entry> _entries = new(ReferenceEqualityComparer.Instance);
    private readonly Lock _lock = new();

    private sealed class Entry(T weights)
    {
        public T Weights { get; } = weights;

        public int Users { get; set; }
    }

    /// <summary>Whether weights of <paramref name="model"/> are loaded (a new session needs no memory for them).</summary>
    public bool Contains(LoadedModel model)
    {
        lock (_lock) return _entries.ContainsKey(model);
    }

    /// <summary>Sessions holding the weights of <paramref name="model"/>.</summary>
    public int Users(LoadedModel model)
    {
        lock (_lock) return _entries.TryGetValue(model, out Entry? e) ? e.Users : 0;
    }

    /// <summary>The model's weights, loaded by <paramref name="load"/> when no session holds them.</summary>
    public Lease Acquire(LoadedModel model, Func<T> load)
    {
        lock (_lock)
        {
            if (!_entries.TryGetValue(model, out Entry? e)) _entries[model] = e = new Entry(load());
            e.Users++;
            return new Lease(e.Weights, () => Release(model));
        }
    }

    /// <summary>A lease on weights no other session shares (disposed with the lease).</summary>
    public static Lease Private(T weights) => new(weights, weights.Dispose);

    private void Release(LoadedModel model)
    {
        T? dispose = null;
        lock (_lock)
        {
            Entry e = _entries[model];
            if (--e.Users == 0)
            {
                _entries.Remove(model);
                dispose = e.Weights;
            }
        }
        dispose?.Dispose();
    }

    /// <summary>A session's hold on shared weights; disposing it twice releases once.</summary>
    public sealed class Lease(T weights, Action release) : IDisposable
    {
        private Action? _release = release;

        public T Weights { get; } = weights;

        public void Dispose() => Interlocked.Exchange(ref _release, null)?.Invoke();
    }
}
