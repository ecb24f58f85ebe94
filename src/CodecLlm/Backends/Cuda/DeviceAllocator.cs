using CodecLlm.Backends.Cuda.Interop;

namespace CodecLlm.Backends.Cuda;

/// <summary>What a device allocation holds, for the memory report.</summary>
public enum MemoryCategory
{
    /// <summary>Weights kept in their codec's blob, decoded on the fly.</summary>
    CompressedWeights,

    /// <summary>Weights stored decoded (raw, or decoded once at load).</summary>
    Weights,

    /// <summary>Buffers compressed weights are decoded into.</summary>
    Scratch,

    KvCache,

    Activations,

    /// <summary>cuBLAS workspace, decode tables, staging.</summary>
    Workspace,
}

/// <summary>The allocator's peak: bytes we held by category, and what the driver said was in use at that moment.</summary>
public sealed record DeviceMemoryReport(long PeakAllocatedBytes, IReadOnlyDictionary<MemoryCategory, long> PeakByCategory, long DeviceUsedAtPeak, long DeviceTotal)
{
    public override string ToString() =>
        $"peak allocated {PeakAllocatedBytes / 1048576.0:F1} MiB (" +
        string.Join(", ", PeakByCategory.Where(kv => kv.Value > 0).Select(kv => $"{kv.Key} {kv.Value / 1048576.0:F1}")) +
        $"), device used at peak {DeviceUsedAtPeak / 1048576.0:F1} MiB of {DeviceTotal / 1048576.0:F0}";
}

/// <summary>
/// Every device allocation of the backend goes through here: bytes are counted by category, the peak is
/// kept with the driver's used-memory figure at that moment, and running out names bytes needed and free.
/// </summary>
public sealed unsafe class DeviceAllocator
{
    private readonly CudaContext _context;
    private readonly long[] _current = new long[Enum.GetValues<MemoryCategory>().Length];
    private long[] _atPeak = new long[Enum.GetValues<MemoryCategory>().Length];
    private long _total, _peak, _deviceUsedAtPeak;
    private readonly object _gate = new();

    internal DeviceAllocator(CudaContext context) => _context = context;

    public long CurrentBytes
    {
        get { lock (_gate) return _total; }
    }

    public DeviceBuffer Allocate(long bytes, MemoryCategory category, string what)
    {
        _context.MakeCurrent();
        var handle = new DeviceMemoryHandle(_context.Handle);
        long size = Math.Max(bytes, 1);
        ulong ptr;
        int rc = CuDriver.cuMemAlloc(&ptr, (nuint)size);
        if (rc == 2) // CUDA_ERROR_OUT_OF_MEMORY
        {
            (long free, _) = _context.MemoryInfo();
            throw new DeviceOutOfMemoryException($"out of GPU memory allocating {what}: {bytes:N0} bytes needed, {free:N0} free on {_context.DeviceName}");
        }
        CuDriver.Check(rc, $"cuMemAlloc({what}, {bytes} bytes)");
        handle.Set((IntPtr)ptr);
        int c = (int)category;
        handle.Released = () =>
        {
            lock (_gate)
            {
                _current[c] -= size;
                _total -= size;
            }
        };
        lock (_gate)
        {
            _current[c] += size;
            _total += size;
            if (_total > _peak)
            {
                _peak = _total;
                _atPeak = (long[])_current.Clone();
                (long free, long total) = _context.MemoryInfo();
                _deviceUsedAtPeak = total - free;
            }
        }
        return new DeviceBuffer(handle, ptr, bytes, category);
    }

    /// <summary>Forgets the peak so the next phase (a new session) is measured alone.</summary>
    public void ResetPeak()
    {
        lock (_gate)
        {
            _peak = _total;
            _atPeak = (long[])_current.Clone();
            (long free, long total) = _context.MemoryInfo();
            _deviceUsedAtPeak = total - free;
        }
    }

    public DeviceMemoryReport Report()
    {
        lock (_gate)
        {
            var byCat = Enum.GetValues<MemoryCategory>().ToDictionary(k => k, k => _atPeak[(int)k]);
            return new DeviceMemoryReport(_peak, byCat, _deviceUsedAtPeak, _context.TotalMemory);
        }
    }
}

/// <summary>The model or its buffers do not fit in GPU memory.</summary>
public sealed class DeviceOutOfMemoryException : Model.CodecLlmException
{
    public DeviceOutOfMemoryException(string message) : base(message) { }
}
