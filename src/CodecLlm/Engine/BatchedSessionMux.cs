using CodecLlm.Model;

namespace CodecLlm.Engine;

/// <summary>
/// Continuous batching over one <see cref="IBatchedInferenceSession"/>: each of its sequences is handed out as an
/// ordinary <see cref="IInferenceSession"/> (a <see cref="Sequence"/>), so independent generations (the server's
/// concurrent requests) each run the usual <see cref="Generator"/> loop, while their one-token decode steps are
/// gathered into batched steps that read the weights once for all of them. Prompts (several tokens) run on their own.
/// <para>
/// No waiting window: a decode request runs a step at once when none is running; requests that arrive while a step
/// runs go together into the next one. A session whose steps take any subset of its sequences
/// (<see cref="ISubsetBatchedInferenceSession"/>, the CPU's) steps just the pending ones. Otherwise (the CUDA session
/// steps sequences 0..B-1) sequences in use that have no request in a step are stepped with a placeholder
/// at the position they will write next (their real token overwrites that cache entry before anything reads it); free
/// sequences below the highest one in the step get a placeholder at position 0 (a new prompt rewrites it). Every
/// sequence's logits equal a session decoding it alone, bit for bit, whoever shares its steps
/// (<see cref="IBatchedInferenceSession"/>), so batching never changes what a request generates.
/// </para>
/// </summary>
public sealed class BatchedSessionMux : IDisposable
{
    private readonly IBatchedInferenceSession _session;
    private readonly ISubsetBatchedInferenceSession? _subset;  // steps of just the pending sequences, when the session can
    private readonly object _gate = new();     // slot state; Monitor.Wait/PulseAll need a plain object
    private readonly object _compute = new();  // one call into the session at a time
    private readonly Slot[] _slots;
    private readonly float[] _logits;
    private readonly int[] _tokens, _positions, _next, _sequences;
    private bool _stepRunning, _disposed;

    /// <summary>Batched steps run so far, and the sequence steps they carried (for statistics and tests).</summary>
    public (long Steps, long SequenceSteps) Counts { get; private set; }

    private sealed class Slot
    {
        public bool InUse, Pending, InStep, Done;
        public int NextPos, Token, Pos;
        public float[] Result = [];  // the last step's logits, one buffer per sequence
        public Exception? Error;
    }

    public BatchedSessionMux(IBatchedInferenceSession session)
    {
        _session = session;
        _subset = session as ISubsetBatchedInferenceSession;
        int b = session.MaxBatch, vocab = session.Config.VocabSize;
        _slots = Enumerable.Range(0, b).Select(_ => new Slot()).ToArray();
        _logits = new float[b * vocab];
        _tokens = new int[b];
        _positions = new int[b];
        _next = new int[b];
        _sequences = new int[b];
    }

    /// <summary>Sequences (concurrent generations) this mux serves.</summary>
    public int Capacity => _slots.Length;

    /// <summary>A free sequence as a session (the lowest free one, keeping batched steps narrow), or null when all are in use.</summary>
    public Sequence? TryRent()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            for (int i = 0; i < _slots.Length; i++)
            {
                if (_slots[i].InUse) continue;
                _slots[i].InUse = true;
                _slots[i].NextPos = 0;
                return new Sequence(this, i);
            }
            return null;
        }
    }

    private void Release(int index)
    {
        lock (_gate)
        {
            _slots[index].InUse = false;
            _slots[index].Pending = false;
        }
    }

    private void Prefill(int index, ReadOnlySpan<int> tokens, int startPos, Span<float> logits)
    {
        lock (_compute)
        {
            _session.Prefill(index, tokens, startPos, logits);
            // Before any step can run: a step taken now must place this sequence's placeholder after its prompt.
            lock (_gate) _slots[index].NextPos = startPos + tokens.Length;
        }
    }

    private void Decode(int index, int token, int pos, Span<float> logits)
    {
        if ((uint)token >= (uint)_session.Config.VocabSize) throw new ArgumentOutOfRangeException(nameof(token), $"token id {token} outside the vocabulary of {_session.Config.VocabSize}");
        if (pos < 0 || pos >= _session.MaxSequenceLength) throw new ArgumentOutOfRangeException(nameof(pos), $"position {pos} outside the context of {_session.MaxSequenceLength}");
        Slot me = _slots[index];
        lock (_gate)
        {
            (me.Pending, me.Token, me.Pos, me.Done, me.Error) = (true, token, pos, false, null);
        }
        while (true)
        {
            lock (_gate)
            {
                while (!me.Done && me.Error == null && _stepRunning) Monitor.Wait(_gate);
                if (me.Error != null) throw new CodecLlmException($"batched decode step failed: {me.Error.Message}", me.Error);
                if (me.Done)
                {
                    me.Result.CopyTo(logits);
                    return;
                }
                _stepRunning = true;  // this caller runs the next step, for every sequence pending when it starts
            }
            RunStep();
        }
    }

    /// <summary>
    /// Marks the pending sequences as in the step and fills its inputs; returns B (one past the highest), or with a
    /// subset-capable session the number of pending sequences (listed in _sequences, no placeholders). Under _compute and _gate.
    /// </summary>
    private int TakeStep()
    {
        if (_subset != null)
        {
            int n = 0;
            for (int i = 0; i < _slots.Length; i++)
            {
                Slot s = _slots[i];
                s.InStep = s.Pending;
                s.Pending = false;
                if (!s.InStep) continue;
                (_sequences[n], _tokens[n], _positions[n]) = (i, s.Token, s.Pos);
                n++;
            }
            return n;
        }
        int b = 0;
        for (int i = 0; i < _slots.Length; i++) if (_slots[i].Pending) b = i + 1;
        for (int i = 0; i < b; i++)
        {
            Slot s = _slots[i];
            s.InStep = s.Pending;
            s.Pending = false;
            (_tokens[i], _positions[i]) = s.InStep ? (s.Token, s.Pos)
                : s.InUse ? (0, Math.Min(s.NextPos, _session.MaxSequenceLength - 1))  // overwritten by its real token later
                : (0, 0);                                                                // a new prompt rewrites position 0
        }
        return b;
    }

    /// <summary>
    /// Takes and runs a step holding _compute, so that no prompt runs between choosing the placeholders and the step
    /// (a prompt moves its sequence's next position), and outside _gate, so that other sequences can queue for the next
    /// step meanwhile; then hands out the results.
    /// </summary>
    private void RunStep()
    {
        int vocab = _session.Config.VocabSize, b = 0;
        Exception? error = null;
        lock (_compute)
        {
            lock (_gate) b = TakeStep();
            try
            {
                if (_subset != null) _subset.ForwardGreedyBatch(_sequences.AsSpan(0, b), _tokens.AsSpan(0, b), _positions.AsSpan(0, b), _next.AsSpan(0, b), _logits.AsSpan(0, b * vocab));
                else _session.ForwardGreedyBatch(_tokens.AsSpan(0, b), _positions.AsSpan(0, b), _next.AsSpan(0, b), _logits.AsSpan(0, b * vocab));
            }
            catch (Exception e)
            {
                error = e;
            }
        }
        lock (_gate)
        {
            int carried = 0;
            for (int i = 0; i < b; i++)
            {
                Slot s = _slots[_subset != null ? _sequences[i] : i];
                if (!s.InStep) continue;
                s.InStep = false;
                carried++;
                if (error != null) s.Error = error;
                else
                {
                    if (s.Result.Length != vocab) s.Result = new float[vocab];
                    _logits.AsSpan(i * vocab, vocab).CopyTo(s.Result);
                    s.Done = true;
                }
                s.NextPos = s.Pos + 1;
            }
            Counts = (Counts.Steps + 1, Counts.SequenceSteps + carried);
            _stepRunning = false;
            Monitor.PulseAll(_gate);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
        }
        _session.Dispose();
    }

    /// <summary>One sequence of the mux, used like a session of its own; Dispose gives it back.</summary>
    public sealed class Sequence : IInferenceSession
    {
        private readonly BatchedSessionMux _mux;
        private int _released;

        internal Sequence(BatchedSessionMux mux, int index)
        {
            _mux = mux;
            Index = index;
        }

        /// <summary>The sequence's index in the batched session.</summary>
        public int Index { get; }

        public ModelConfig Config => _mux._session.Config;

        public string BackendName => _mux._session.BackendName;

        public int MaxSequenceLength => _mux._session.MaxSequenceLength;

        /// <summary>One token: a decode step, batched with the other sequences'; several: a prompt, run on its own.</summary>
        public void Forward(ReadOnlySpan<int> tokens, int startPos, Span<float> logits)
        {
            ObjectDisposedException.ThrowIf(_released != 0, this);
            if (logits.Length < Config.VocabSize)
                throw new ArgumentException($"logits span holds {logits.Length} values, the vocabulary has {Config.VocabSize}", nameof(logits));
            if (tokens.Length == 1) _mux.Decode(Index, tokens[0], startPos, logits[..Config.VocabSize]);
            else _mux.Prefill(Index, tokens, startPos, logits);
        }

        /// <summary>Gives the sequence back to the mux (the batched session stays).</summary>
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) _mux.Release(Index);
        }
    }
}
