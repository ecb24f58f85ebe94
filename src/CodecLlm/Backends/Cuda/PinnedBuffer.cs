using CodecLlm.Backends.Cuda.Interop;

namespace CodecLlm.Backends.Cuda;

/// <summary>Page-locked host memory (cuMemAllocHost) for asynchronous copies inside captured graphs.</summary>
internal sealed unsafe class PinnedBuffer : IDisposable
{
    private readonly CudaContext _context;
    private void* _ptr;

    public PinnedBuffer(CudaContext context, long bytes)
    {
        _context = context;
        context.MakeCurrent();
        void* p;
        CuDriver.Check(CuDriver.cuMemAllocHost(&p, (nuint)Math.Max(bytes, 1)), "cuMemAllocHost");
        _ptr = p;
        Bytes = bytes;
    }

    public void* Pointer => _ptr;

    public long Bytes { get; }

    public Span<T> AsSpan<T>() where T : unmanaged => new(_ptr, (int)(Bytes / sizeof(T)));

    public void Dispose()
    {
        if (_ptr == null) return;
        _context.MakeCurrent();
        CuDriver.cuMemFreeHost(_ptr);
        _ptr = null;
    }
}
