using System.Collections.Concurrent;
using CodecLlm.Engine;
using CodecLlm.Model;

namespace CodecLlm.Chat;

/// <summary>
/// Up to N inference sessions of one model, created on first use. <see cref="RentAsync"/> waits (in a queue,
/// cancellable) while all N are busy. Sessions are not thread-safe, so each one serves one request at a time.
/// With batching (N = 2 to 8 and a backend whose sessions batch), the N sessions are the sequences of one batched
/// session (<see cref="BatchedSessionMux"/>): their decode steps run together.
/// </summary>
internal sealed class SessionPool : IDisposable
{
    private readonly bool _batch;
    private BatchedSessionMux? _mux;
    private readonly LoadedModel _model;
    private readonly IInferenceBackend _backend;
    private readonly SessionOptions _options;
    private readonly SemaphoreSlim _slots;
    private readonly ConcurrentBag<IInferenceSession> _idle = [];
    private readonly List<IInferenceSession> _all = [];
    private readonly int _size;
    private bool _disposed;

    public SessionPool(LoadedModel model, IInferenceBackend backend, SessionOptions options, int size, bool batch = false)
    {
        _batch = batch && size is > 1 and <= BatchArguments.MaxBatch;
        if (size < 1) throw new ArgumentOutOfRangeException(nameof(size), "the pool needs at least one session");
        _model = model;
        _backend = backend;
        _options = options;
        _size = size;
        _slots = new SemaphoreSlim(size, size);
    }

    /// <summary>Creates the first session (or the batched one) now, so that a bad backend or model fails at load time.</summary>
    public void Warm()
    {
        if (_batch) Mux();
        else _idle.Add(Create());
    }

    /// <summary>The batched session's mux, created on first use; null without batching (or a backend that cannot batch).</summary>
    private BatchedSessionMux? Mux()
    {
        if (!_batch) return null;
        lock (_all)
        {
            if (_mux != null) return _mux;
            IInferenceSession s = _backend.CreateSession(_model, _options with { MaxBatch = _size });
            if (s is IBatchedInferenceSession b && b.MaxBatch == _size) return _mux = new BatchedSessionMux(b);
            _all.Add(s);  // a backend without batching: plain sessions after all
            _idle.Add(s);
            return null;
        }
    }

    public async Task<IInferenceSession> RentAsync(CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (Mux() is { } mux) return mux.TryRent() ?? throw new InvalidOperationException("no free sequence although the pool has a free slot");
            return _idle.TryTake(out IInferenceSession? session) ? session : Create();
        }
        catch
        {
            _slots.Release();
            throw;
        }
    }

    public void Return(IInferenceSession session)
    {
        if (session is BatchedSessionMux.Sequence sequence) sequence.Dispose();  // back to the mux
        else _idle.Add(session);
        _slots.Release();
    }

    private IInferenceSession Create()
    {
        IInferenceSession session = _backend.CreateSession(_model, _options);
        lock (_all) _all.Add(session);
        return session;
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
