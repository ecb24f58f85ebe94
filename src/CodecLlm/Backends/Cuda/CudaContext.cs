using System.Runtime.InteropServices;
using CodecLlm.Backends.Cuda.Interop;

namespace CodecLlm.Backends.Cuda;

/// <summary>
/// One GPU: the driver initialised, its primary context retained, its properties read. Every backend
/// object is created from a context and makes it current before calling the driver.
/// </summary>
public sealed unsafe class CudaContext : IDisposable
{
    private readonly CudaContextHandle _context;

    private CudaContext(int ordinal)
    {
        CudaLibraries.Require(CudaLibraries.Driver);
        int rc = CuDriver.cuInit(0);
        if (rc != 0)
            throw new CudaUnavailableException($"the NVIDIA driver did not initialise (cuInit: {CuDriver.ErrorName(rc)}); is a GPU visible to this process?");
        int count, device, version;
        CuDriver.Check(CuDriver.cuDeviceGetCount(&count), "cuDeviceGetCount");
        if (count <= ordinal) throw new CudaUnavailableException($"no CUDA device {ordinal}: {count} device(s) visible");
        CuDriver.Check(CuDriver.cuDeviceGet(&device, ordinal), "cuDeviceGet");
        CuDriver.Check(CuDriver.cuDriverGetVersion(&version), "cuDriverGetVersion");
        byte* name = stackalloc byte[256];
        CuDriver.Check(CuDriver.cuDeviceGetName(name, 256, device), "cuDeviceGetName");
        DeviceName = Marshal.PtrToStringUTF8((IntPtr)name) ?? "?";
        Device = device;
        DriverVersion = $"{version / 1000}.{version % 1000 / 10}";
        ComputeMajor = DeviceAttribute(device, CuDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
        ComputeMinor = DeviceAttribute(device, CuDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
        MultiprocessorCount = DeviceAttribute(device, CuDriver.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
        MaxSharedMemoryPerBlock = DeviceAttribute(device, CuDriver.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN);
        nuint total;
        CuDriver.Check(CuDriver.cuDeviceTotalMem(&total, device), "cuDeviceTotalMem");
        TotalMemory = (long)total;
        IntPtr ctx;
        CuDriver.Check(CuDriver.cuDevicePrimaryCtxRetain(&ctx, device), "cuDevicePrimaryCtxRetain");
        _context = new CudaContextHandle(ctx, device);
        MakeCurrent();
        CudaLibraries.Require(CudaLibraries.Nvrtc);
        NvrtcVersion = Nvrtc.Version();
        Allocator = new DeviceAllocator(this);
        Kernels = new KernelLibrary(this);
    }

    private static int DeviceAttribute(int device, int attribute)
    {
        int value;
        CuDriver.Check(CuDriver.cuDeviceGetAttribute(&value, attribute, device), "cuDeviceGetAttribute");
        return value;
    }

    /// <summary>Opens device <paramref name="ordinal"/>; throws <see cref="CudaUnavailableException"/> (one line: what to install) without a driver or NVRTC.</summary>
    public static CudaContext Open(int ordinal = 0) => new(ordinal);

    /// <summary>Null when a CUDA device with NVRTC is usable here, else the reason (for skipping GPU tests).</summary>
    public static string? UnavailableReason()
    {
        try
        {
            using CudaContext c = Open();
            return null;
        }
        catch (CudaUnavailableException e)
        {
            return e.Message;
        }
        catch (CudaException e)
        {
            return e.Message;
        }
    }

    public int Device { get; }

    public string DeviceName { get; }

    public string DriverVersion { get; }

    public string NvrtcVersion { get; }

    public int ComputeMajor { get; }

    public int ComputeMinor { get; }

    /// <summary>The NVRTC target, e.g. "sm_90".</summary>
    public string Arch => $"sm_{ComputeMajor}{ComputeMinor}";

    public int MultiprocessorCount { get; }

    public int MaxSharedMemoryPerBlock { get; }

    public long TotalMemory { get; }

    public DeviceAllocator Allocator { get; }

    public KernelLibrary Kernels { get; }

    internal IntPtr Handle => _context.DangerousGetHandle();

    /// <summary>The start-up line: GPU, driver, libraries found.</summary>
    public string Describe() =>
        $"cuda: {DeviceName} ({Arch}, {MultiprocessorCount} SMs, {TotalMemory / (1024.0 * 1024 * 1024):F1} GiB), driver CUDA {DriverVersion}, " +
        $"nvrtc {NvrtcVersion} ({CudaLibraries.PathOf(CudaLibraries.Nvrtc)}), cublas {CudaLibraries.PathOf(CudaLibraries.Cublas) ?? "not found"}";

    public void MakeCurrent() => CuDriver.Check(CuDriver.cuCtxSetCurrent(Handle), "cuCtxSetCurrent");

    public void Synchronize()
    {
        MakeCurrent();
        CuDriver.Check(CuDriver.cuCtxSynchronize(), "cuCtxSynchronize");
    }

    /// <summary>Free and total device memory as the driver reports them (cuMemGetInfo).</summary>
    public (long Free, long Total) MemoryInfo()
    {
        MakeCurrent();
        nuint free, total;
        CuDriver.Check(CuDriver.cuMemGetInfo(&free, &total), "cuMemGetInfo");
        return ((long)free, (long)total);
    }

    public void Dispose()
    {
        Kernels.Dispose();
        _context.Dispose();
    }
}
