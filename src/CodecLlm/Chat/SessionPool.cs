using CodecLlm.Engine;
using CodecLlm.Model;

namespace CodecLlm.Chat;

/// <summary>
/// Up to N inference sessions of one model, created on first use. <see cref="RentAsync"/> waits (in a queue,
/// cancellable) while all N are busy. Sessions are not thread-safe, so each one serves one request at a time.
/// With batching (N = 2 to 8 and a backend whose sessions batch), the N sessions are the sequences of one batched
/// session (<see cref="BatchedSessionMux"/>): their decode steps run together.
/// <para>
/// Prompt caching (unless turned off): each plain session keeps the <see cref="KvCacheContents"/> of its last
/// generation, and a request gets the idle session whose cache holds the longest prefix of its prompt when that prefix
/// is at least half the prompt (llama.cpp's slot choice, similarity 0.5) or all but the last token of that session's
/// previous prompt (the request continues its conversation), so a chat's next turn runs only what is new; other
/// requests take an idle session holding nothing, else a new one while the pool has room, else the session idle
/// longest, so that one conversation does not evict another for the few template tokens all prompts share. A batched
/// session's sequences get none: the CUDA session steps free sequences with placeholders that overwrite their caches.
/// </para>
/// </summary>
internal sealed class SessionPool : IDisposable
{
    private bool _batch;  // false once a backend turned out unable to batch (guarded by _all)
    private BatchedSessionMux? _mux;
    private readonly LoadedModel _model;
    private readonly IInferenceBackend _backend;
    private readonly SessionOptions _options;
    private readonly SemaphoreSlim _slots;
    private readonly List<IInferenceSession> _idle = [];  // oldest returned first; guarded by _all
    private readonly List<IInferenceSession> _all = [];
    private readonly Dictionary<IInferenceSession, KvCacheContents> _contents = [];  // guarded by _all
    private readonly int _size;
    private int _created;  // plain sessions created or promised to a renter; guarded by _all
    private readonly bool _promptCache;
    private bool _disposed;

    public SessionPool(LoadedModel model, IInferenceBackend backend, SessionOptions options, int size, bool batch = false, bool promptCache = true)
    {
        _batch = batch && size is > 1 and <= BatchArguments.MaxBatch;
        if (size < 1) throw new ArgumentOutOfRangeException(nameof(size), "the pool needs at least one session");
        _model = model;
        _backend = backend;
        _options = options;
        _size = size;
        _promptCache = promptCache;
        _slots = new SemaphoreSlim(size, size);
    }

    /// <summary>Creates the first session (or the batched one) now, so that a bad backend or model fails at load time.</summary>
    public void Warm()
    {
        if (_batch) Mux();
        else
        {
            lock (_all) _created++;
            IInferenceSession s = CreatePromised();
            lock (_all) _idle.Add(s);
        }
    }

    /// <summary>The batched session's mux, created on first use; null without batching (or a backend that cannot batch).</summary>
    private BatchedSessionMux? Mux()
    {
        if (!_batch) return null;
        lock (_all)
        {
            if (_mux != null) return _mux;
            if (!_batch) return null;  // another renter found the backend unable to batch
            IInferenceSession s = _backend.CreateSession(_model, _options with { MaxBatch = _size });
            if (s is IBatchedInferenceSession b && b.MaxBatch == _size) return _mux = new BatchedSessionMux(b);
            Track(s);  // a backend without batching: plain sessions after all (asked once)
            _idle.Add(s);
            _created++;
            _batch = false;
            return null;
        }
    }

    /// <summary>
    /// A session for a request whose prompt is <paramref name="prompt"/>, and what its KV cache holds (null when the
    /// pool keeps no prompt cache for it). Waits while every session is busy.
    /// </summary>
    public async Task<(IInferenceSession Session, KvCacheContents? Cache)> RentAsync(IReadOnlyList<int> prompt, CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (Mux() is { } mux) return (mux.TryRent() ?? throw new InvalidOperationException("no free sequence although the pool has a free slot"), null);
            IInferenceSession session = TakeIdle(prompt) ?? CreateOrTakeIdle();
            lock (_all) return (session, _contents.GetValueOrDefault(session));
        }
        catch
        {
            _slots.Release();
            throw;
        }
    }

    /// <summary>
    /// The idle session for a prompt (see the class summary: the longest cached prefix if at least half the prompt, else
    /// one holding nothing, else null = create one, promised here while the pool has room, else the one idle longest).
    /// </summary>
    private IInferenceSession? TakeIdle(IReadOnlyList<int> prompt)
    {
        lock (_all)
        {
            int best = -1, bestLength = 0, empty = -1;
            bool continues = false;
            for (int i = 0; i < _idle.Count; i++)
            {
                KvCacheContents? c = _contents.GetValueOrDefault(_idle[i]);
                if (c == null || c.Count == 0)
                {
                    if (empty < 0) empty = i;
                    continue;
                }
                int length = c.ReusablePrefix(prompt);
                if (length > bestLength) (best, bestLength, continues) = (i, length, length > 1 && length >= c.PromptLength - 1);
            }
            int pick = best >= 0 && (2 * bestLength >= prompt.Count || continues) ? best : empty;
            if (pick < 0 && _created < _size)
            {
                _created++;
                return null;
            }
            return RemoveIdle(pick < 0 ? 0 : pick);  // else the session idle longest (the semaphore leaves one idle when none can be created)
        }
    }

    /// <summary>Takes idle session <paramref name="i"/> (the caller holds the lock on _all).</summary>
    private IInferenceSession RemoveIdle(int i)
    {
        IInferenceSession s = _idle[i];
        _idle.RemoveAt(i);
        return s;
    }

    public void Return(IInferenceSession session)
    {
        if (session is BatchedSessionMux.Sequence sequence) sequence.Dispose();  // back to the mux
        else lock (_all) _idle.Add(session);
        _slots.Release();
    }

    /// <summary>
    /// A new session (promised by <see cref="TakeIdle"/>); when creating it fails (out of memory, say) while a session is
    /// idle, that one serves instead.
    /// </summary>
    private IInferenceSession CreateOrTakeIdle()
    {
        try
        {
            return CreatePromised();
        }
        catch (Exception) when (TakeAnyIdle() is { } idle)
        {
            return idle;
        }
    }

    private IInferenceSession? TakeAnyIdle()
    {
        lock (_all) return _idle.Count == 0 ? null : RemoveIdle(0);
    }

    /// <summary>A new plain session, counted in <see cref="_created"/> already (the promise is withdrawn if it fails).</summary>
    private IInferenceSession CreatePromised()
    {
        IInferenceSession session;
        try
        {
            session = _backend.CreateSession(_model, _options);
        }
        catch
        {
            lock (_all) _created--;
            throw;
        }
        lock (_all) Track(session);
        return session;
    }

    /// <summary>A new plain session joins the pool, with its cache contents when the pool keeps them (the caller holds the lock on _all).</summary>
    private void Track(IInferenceSession session)
    {
        _all.Add(session);
        if (_promptCache) _contents[session] = new KvCacheContents();
    }

    /// <summary>Waits (up to 30 s) for sessions in use to come back, then releases them all.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        for (int i = 0; i < _size; i++) _slots.Wait(TimeSpan.FromSeconds(30));
        lock (_all)
        {
            foreach (IInferenceSession s in _all) s.Dispose();
            _all.Clear();
            _mux?.Dispose();
        }
    }
}
