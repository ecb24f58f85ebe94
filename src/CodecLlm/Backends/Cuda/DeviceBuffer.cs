using CodecLlm.Backends.Cuda.Interop;

namespace CodecLlm.Backends.Cuda;

/// <summary>A device allocation made by <see cref="DeviceAllocator"/>; Dispose frees it.</summary>
public sealed class DeviceBuffer : IDisposable
{
    private readonly DeviceMemoryHandle _handle;

    internal DeviceBuffer(DeviceMemoryHandle handle, ulong pointer, long bytes, MemoryCategory category)
    {
        _handle = handle;
        Pointer = pointer;
        Bytes = bytes;
        Category = category;
    }

    /// <summary>The device address (CUdeviceptr).</summary>
    public ulong Pointer { get; }

    public long Bytes { get; }

    public MemoryCategory Category { get; }

    internal void CheckRange(long offset, long bytes)
    {
        if (offset < 0 || bytes < 0 || offset + bytes > Bytes)
            throw new ArgumentOutOfRangeException(nameof(offset), $"device range [{offset}, {offset + bytes}) outside a buffer of {Bytes} bytes");
    }

    public void Dispose() => _handle.Dispose();
}
