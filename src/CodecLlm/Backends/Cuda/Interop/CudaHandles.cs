using System.Runtime.InteropServices;

namespace CodecLlm.Backends.Cuda.Interop;

/// <summary>
/// Base of the SafeHandles over driver objects. Release makes the owning context current first, so a
/// handle freed on the finalizer thread or another thread still reaches the right context.
/// </summary>
internal abstract class CudaHandle : SafeHandle
{
    protected CudaHandle(IntPtr context) : base(IntPtr.Zero, ownsHandle: true) => Context = context;

    protected IntPtr Context { get; }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        if (CuDriver.cuCtxSetCurrent(Context) != 0) return false;
        return Free(handle) == 0;
    }

    protected abstract int Free(IntPtr value);

    internal void Set(IntPtr value) => SetHandle(value);
}

/// <summary>The retained primary context of one device.</summary>
internal sealed class CudaContextHandle : SafeHandle
{
    private readonly int _device;

    public CudaContextHandle(IntPtr context, int device) : base(IntPtr.Zero, true)
    {
        _device = device;
        SetHandle(context);
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle() => CuDriver.cuDevicePrimaryCtxRelease(_device) == 0;
}

internal sealed class CudaModuleHandle(IntPtr context) : CudaHandle(context)
{
    protected override int Free(IntPtr value) => CuDriver.cuModuleUnload(value);
}

internal sealed class CudaStreamHandle(IntPtr context) : CudaHandle(context)
{
    protected override int Free(IntPtr value) => CuDriver.cuStreamDestroy(value);
}

internal sealed class CudaEventHandle(IntPtr context) : CudaHandle(context)
{
    protected override int Free(IntPtr value) => CuDriver.cuEventDestroy(value);
}

internal sealed class CudaGraphExecHandle(IntPtr context) : CudaHandle(context)
{
    protected override int Free(IntPtr value) => CuDriver.cuGraphExecDestroy(value);
}

/// <summary>One cuMemAlloc'd region; the pointer is stored in the handle's IntPtr.</summary>
internal sealed class DeviceMemoryHandle(IntPtr context) : CudaHandle(context)
{
    public Action? Released { get; set; }

    protected override int Free(IntPtr value)
    {
        int rc = CuDriver.cuMemFree((ulong)value);
        Released?.Invoke();
        return rc;
    }
}

internal sealed class CublasHandle : SafeHandle
{
    private readonly IntPtr _context;

    public CublasHandle(IntPtr context) : base(IntPtr.Zero, true) => _context = context;

    public override bool IsInvalid => handle == IntPtr.Zero;

    internal void Set(IntPtr value) => SetHandle(value);

    protected override bool ReleaseHandle()
    {
        CuDriver.cuCtxSetCurrent(_context);
        return Cublas.cublasDestroy(handle) == 0;
    }
}
