namespace CodecLlm.Backends.Cuda;

/// <summary>
/// One compressed matrix decoded into a scratch slot at an offset, or a part of it: row groups [Rg0, Rg1)
/// for fixed, lane-stream groups [Rg0, Rg1) for entropy (-1: to the end).
/// </summary>
internal sealed record ScratchPart(GpuMatrix Matrix, int Rg0, int Rg1, long Offset);

/// <summary>
/// Multi-buffered on-the-fly decoding: the compressed weights of compute step i+1 (and further, with more than two
/// slots) are decoded into a scratch slot on a second stream while step i computes from another. Events order the
/// streams: a slot is decoded into only after the step that last read it has finished, and a step starts only
/// after its slot is decoded. The same calls work inside a CUDA graph capture (fork/join by events).
/// A third slot lets the decode run two steps ahead, so a long decode (gate/up) overlaps more than one short step
/// (docs/PERFORMANCE.md: TinyLlama 400 -> 459 tok/s on an H100). One slot serialises them: step i+1's decode waits
/// for step i (the prefill-only pipeline of a fused session, to hold less memory), so with one slot the decodes run on
/// the compute stream itself, between the steps, without the two cross-stream waits a unit would cost
/// (CODECLLM_PREFILL_INLINE=0 keeps the second stream, for A/B timings).
/// With three or more slots, two neighbouring units of `entropy` tensors only (four at most, one element type) decode
/// in one launch once both slots may be written: an entropy tensor has few lane-stream groups, so one launch over four
/// tensors decodes 2.3x faster than four launches over one (docs/PERFORMANCE.md, "Entropy decoder v2").
/// CODECLLM_ENTROPY_PAIRS=0 turns that off (A/B timings).
/// </summary>
internal sealed class ScratchPipeline : IDisposable
{
    private readonly CudaContext _ctx;
    private readonly CudaStream _decode;
    private readonly DeviceBuffer _buffer;
    private readonly long _slotBytes;
    private readonly int _slots;
    private readonly CudaEvent[] _ready, _free;
    private readonly CudaEvent _fork, _join;

    /// <summary>One slot: decodes go on the compute stream, in order with the steps (no events).</summary>
    private readonly bool _inline;

    private static readonly bool InlineOff = Environment.GetEnvironmentVariable("CODECLLM_PREFILL_INLINE") == "0";
    private IReadOnlyList<ScratchPart[]> _units = [];
    private CudaStream? _compute;
    private int _enqueued;

    public ScratchPipeline(CudaContext ctx, long slotBytes, int slots = 2)
    {
        if (slots < 1) throw new ArgumentOutOfRangeException(nameof(slots), "the pipeline needs a slot");
        _ctx = ctx;
        _slots = slots;
        _inline = slots == 1 && !InlineOff;
        _slotBytes = Aligned(slotBytes);
        _decode = new CudaStream(ctx);
        _buffer = ctx.Allocator.Allocate(_slotBytes * slots, MemoryCategory.Scratch, $"scratch ({slots} slots)");
        _ready = Enumerable.Range(0, slots).Select(_ => new CudaEvent(ctx)).ToArray();
        _free = Enumerable.Range(0, slots).Select(_ => new CudaEvent(ctx)).ToArray();
        _fork = new CudaEvent(ctx);
        _join = new CudaEvent(ctx);
    }

    /// <summary><paramref name="bytes"/> rounded up to the 256-byte alignment of every part of a slot.</summary>
    public static long Aligned(long bytes) => (bytes + 255) / 256 * 256;

    private ulong Slot(int i) => _buffer.Pointer + (ulong)(i % _slots * _slotBytes);

    /// <summary>Starts a pass over <paramref name="units"/> (one entry per step that needs decoded weights).</summary>
    public void Begin(CudaStream compute, IReadOnlyList<ScratchPart[]> units)
    {
        _compute = compute;
        _units = units;
        _enqueued = 0;
        if (_inline) return;
        _fork.Record(compute);
        _decode.Wait(_fork);
        foreach (CudaEvent f in _free) f.Record(compute);
        Enqueue(Math.Min(_slots - 1, _units.Count - 1));
    }

    /// <summary>Makes the compute stream wait for unit <paramref name="i"/>, queues the next decodes, and returns the slot's address.</summary>
    public ulong Acquire(int i)
    {
        Enqueue(Math.Min(i + _slots - 1, _units.Count - 1));
        if (!_inline) _compute!.Wait(_ready[i % _slots]);
        return Slot(i);
    }

    private static readonly bool EntropyPairs = Environment.GetEnvironmentVariable("CODECLLM_ENTROPY_PAIRS") != "0";

    /// <summary>
    /// Queues the decodes of the units up to <paramref name="last"/> (the last whose slot the step being acquired lets
    /// be written: its previous reader's release is already on the compute stream). A unit that pairs with the next
    /// waits until both fit; every unit up to the one acquired always does (three or more slots).
    /// </summary>
    private void Enqueue(int last)
    {
        while (_enqueued <= last)
        {
            int j = _enqueued;
            bool pair = Pairs(j);
            if (pair && j + 1 > last) return;
            EnqueueDecode(j, pair ? 2 : 1);
        }
    }

    /// <summary>Units j and j + 1 decode in one launch: both all `entropy`, of one element type, four tensors at most.</summary>
    private bool Pairs(int j)
    {
        if (!EntropyPairs || _slots < 3 || j + 1 >= _units.Count) return false;
        ScratchPart[] a = _units[j], b = _units[j + 1];
        return a.Length + b.Length <= 4 && a.Concat(b).All(p => p.Matrix.Codec == "entropy" && p.Matrix.DType == a[0].Matrix.DType);
    }

    /// <summary>The compute stream is done with unit <paramref name="i"/>'s slot.</summary>
    public void Release(int i)
    {
        if (!_inline) _free[i % _slots].Record(_compute!);
    }

    /// <summary>Joins the decode stream back into the compute stream.</summary>
    public void End()
    {
        if (_inline) return;
        _join.Record(_decode);
        _compute!.Wait(_join);
    }

    /// <summary>Decodes units j .. j + n - 1 (n = 2: a pair of entropy units, one launch), each into its slot once it is free.</summary>
    private void EnqueueDecode(int j, int n)
    {
        var entropy = new List<(GpuMatrix, ulong, int, int)>();
        CudaStream stream = _inline ? _compute! : _decode;
        for (int i = j; i < j + n; i++)
        {
            if (!_inline) _decode.Wait(_free[i % _slots]);
            ulong slot = Slot(i);
            foreach (ScratchPart p in _units[i].Where(p => p.Matrix.Codec != "entropy"))
                GpuDecoders.Decode(_ctx.Kernels, stream, p.Matrix, slot + (ulong)p.Offset, p.Rg0, p.Rg1, _ctx.MultiprocessorCount);
            entropy.AddRange(_units[i].Where(p => p.Matrix.Codec == "entropy").Select(p => (p.Matrix, slot + (ulong)p.Offset, p.Rg0, p.Rg1)));
        }
        if (entropy.Count > 0) GpuDecoders.DecodeEntropy(_ctx.Kernels, stream, entropy, _ctx.MultiprocessorCount);
        if (!_inline)
            for (int i = j; i < j + n; i++) _ready[i % _slots].Record(_decode);
        _enqueued += n;
    }

    public void Dispose()
    {
        _buffer.Dispose();
        foreach (CudaEvent e in _ready.Concat(_free).Append(_fork).Append(_join)) e.Dispose();
        _decode.Dispose();
    }
}
