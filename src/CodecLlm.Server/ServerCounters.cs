namespace CodecLlm.Server;

/// <summary>What the server's generations did so far (tests and the load test read these).</summary>
public sealed class ServerCounters
{
    private long _completed;
    private long _cancelled;
    private long _failed;
    private int _active;

    public long Completed => Interlocked.Read(ref _completed);

    /// <summary>Generations stopped because the client went away (or cancelled).</summary>
    public long Cancelled => Interlocked.Read(ref _cancelled);

    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Requests generating or waiting for a session right now.</summary>
    public int Active => Volatile.Read(ref _active);

    internal void Started() => Interlocked.Increment(ref _active);


    internal void EndCompleted()
    {
        Interlocked.Increment(ref _completed);
        Interlocked.Decrement(ref _active);
    }

    internal void EndCancelled()
    {
        Interlocked.Increment(ref _cancelled);
        Interlocked.Decrement(ref _active);
    }

    internal void EndFailed()
    {
        Interlocked.Increment(ref _failed);
        Interlocked.Decrement(ref _active);
    }
}
