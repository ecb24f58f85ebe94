using CodecLlm.Backends.Cuda.Interop;

namespace CodecLlm.Backends.Cuda;

/// <summary>A non-blocking stream.</summary>
public sealed unsafe class CudaStream : IDisposable
{
    private readonly CudaStreamHandle _handle;
    private readonly CudaContext _context;

    public CudaStream(CudaContext context)
    {
        _context = context;
        context.MakeCurrent();
        _handle = new CudaStreamHandle(context.Handle);
        IntPtr s;
        CuDriver.Check(CuDriver.cuStreamCreate(&s, CuDriver.CU_STREAM_NON_BLOCKING), "cuStreamCreate");
        _handle.Set(s);
    }

    internal IntPtr Handle => _handle.DangerousGetHandle();

    public void Synchronize() => CuDriver.Check(CuDriver.cuStreamSynchronize(Handle), "cuStreamSynchronize");

    /// <summary>Later work on this stream waits for <paramref name="evt"/>.</summary>
    public void Wait(CudaEvent evt) => CuDriver.Check(CuDriver.cuStreamWaitEvent(Handle, evt.Handle, 0), "cuStreamWaitEvent");

    public void CopyToDevice(DeviceBuffer dst, long dstOffset, void* src, long bytes)
    {
        if (bytes == 0) return;
        dst.CheckRange(dstOffset, bytes);
        CuDriver.Check(CuDriver.cuMemcpyHtoDAsync(dst.Pointer + (ulong)dstOffset, src, (nuint)bytes, Handle), "cuMemcpyHtoDAsync");
    }

    public void CopyToHost(void* dst, DeviceBuffer src, long srcOffset, long bytes)
    {
        if (bytes == 0) return;
        src.CheckRange(srcOffset, bytes);
        CuDriver.Check(CuDriver.cuMemcpyDtoHAsync(dst, src.Pointer + (ulong)srcOffset, (nuint)bytes, Handle), "cuMemcpyDtoHAsync");
    }

    public void Copy(DeviceBuffer dst, long dstOffset, DeviceBuffer src, long srcOffset, long bytes)
    {
        if (bytes == 0) return;
        dst.CheckRange(dstOffset, bytes);
        src.CheckRange(srcOffset, bytes);
        CuDriver.Check(CuDriver.cuMemcpyDtoDAsync(dst.Pointer + (ulong)dstOffset, src.Pointer + (ulong)srcOffset, (nuint)bytes, Handle), "cuMemcpyDtoDAsync");
    }

    public void Fill(DeviceBuffer dst, byte value)
    {
        if (dst.Bytes == 0) return;
        CuDriver.Check(CuDriver.cuMemsetD8Async(dst.Pointer, value, (nuint)dst.Bytes, Handle), "cuMemsetD8Async");
    }

    public void Dispose()
    {
        _context.MakeCurrent();
        _handle.Dispose();
    }
}

/// <summary>An event for ordering streams and (when <c>timing</c>) measuring elapsed GPU time.</summary>
public sealed unsafe class CudaEvent : IDisposable
{
    private readonly CudaEventHandle _handle;

    public CudaEvent(CudaContext context, bool timing = false)
    {
        context.MakeCurrent();
        _handle = new CudaEventHandle(context.Handle);
        IntPtr e;
        CuDriver.Check(CuDriver.cuEventCreate(&e, timing ? (uint)CuDriver.CU_EVENT_DEFAULT : CuDriver.CU_EVENT_DISABLE_TIMING), "cuEventCreate");
        _handle.Set(e);
    }

    internal IntPtr Handle => _handle.DangerousGetHandle();

    public void Record(CudaStream stream) => CuDriver.Check(CuDriver.cuEventRecord(Handle, stream.Handle), "cuEventRecord");

    public void Synchronize() => CuDriver.Check(CuDriver.cuEventSynchronize(Handle), "cuEventSynchronize");

    /// <summary>Milliseconds from <paramref name="start"/> to this event (both recorded, this one completed).</summary>
    public float ElapsedSince(CudaEvent start)
    {
        float ms;
        CuDriver.Check(CuDriver.cuEventElapsedTime(&ms, start.Handle, Handle), "cuEventElapsedTime");
        return ms;
    }

    public void Dispose() => _handle.Dispose();
}

/// <summary>Typed host/device copies (synchronous with respect to the host for pageable memory).</summary>
public static unsafe class DeviceTransfer
{
    public static void Upload<T>(this CudaStream stream, DeviceBuffer dst, ReadOnlySpan<T> src, long dstOffset = 0) where T : unmanaged
    {
        fixed (T* p = src) stream.CopyToDevice(dst, dstOffset, p, (long)src.Length * sizeof(T));
    }

    public static DeviceBuffer UploadNew<T>(this CudaStream stream, DeviceAllocator allocator, ReadOnlySpan<T> src, MemoryCategory category, string what) where T : unmanaged
    {
        DeviceBuffer b = allocator.Allocate((long)src.Length * sizeof(T), category, what);
        stream.Upload(b, src);
        return b;
    }

    public static T[] Download<T>(this CudaStream stream, DeviceBuffer src, long count, long srcOffset = 0) where T : unmanaged
    {
        T[] result = new T[count];
        fixed (T* p = result) stream.CopyToHost(p, src, srcOffset, count * sizeof(T));
        stream.Synchronize();
        return result;
    }
}
