using System.Runtime.InteropServices;

namespace CodecLlm.Backends.Cuda.Interop;

/// <summary>The CUDA driver API calls the backend uses (libcuda.so.1). Every call returns a CUresult; use <see cref="Check"/>.</summary>
internal static unsafe partial class CuDriver
{
    static CuDriver() => CudaLibraries.EnsureResolver();

    public const int CUDA_ERROR_NOT_FOUND = 500;
    public const int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
    public const int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
    public const int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
    public const int CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97;
    public const int CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES = 1;
    public const int CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;
    public const int CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT = 9;
    public const int CU_STREAM_NON_BLOCKING = 1;
    public const int CU_EVENT_DEFAULT = 0;
    public const int CU_EVENT_DISABLE_TIMING = 2;
    public const int CU_STREAM_CAPTURE_MODE_THREAD_LOCAL = 1;

    /// <summary>Throws a <see cref="CudaException"/> naming <paramref name="call"/> and the error (cuGetErrorName) when <paramref name="result"/> is not CUDA_SUCCESS.</summary>
    public static void Check(int result, string call)
    {
        if (result == 0) return;
        throw new CudaException(call, ErrorName(result), result, ErrorString(result));
    }

    public static string ErrorName(int result)
    {
        byte* p = null;
        return cuGetErrorName(result, &p) == 0 && p != null ? Marshal.PtrToStringUTF8((IntPtr)p) ?? $"CUDA_ERROR_{result}" : $"CUDA_ERROR_{result}";
    }

    private static string? ErrorString(int result)
    {
        byte* p = null;
        return cuGetErrorString(result, &p) == 0 && p != null ? Marshal.PtrToStringUTF8((IntPtr)p) : null;
    }

    [LibraryImport(CudaLibraries.Driver)] public static partial int cuGetErrorName(int error, byte** name);
    [LibraryImport(CudaLibraries.Driver)] public static partial int cuGetErrorString(int error, byte** text);
    [LibraryImport(CudaLibraries.Driver)] public static partial int cuInit(uint flags);
    [LibraryImport(CudaLibraries.Driver)] public static partial int cuDriverGetVersion(int* version);
    [LibraryImport(CudaLibraries.Driver)] public static partial int cuDeviceGetCount(int* count);
    [LibraryImport(CudaLibraries.Driver)] public static partial int cuDeviceGet(int* device, int ordinal);
    [LibraryImport(CudaLibraries.Driver)] public static partial int cuDeviceGetName(byte* name, int length, int device);
    [LibraryImport(CudaLibraries.Driver)] public static partial int cuDeviceGetAttribute(int* value, int attribute, int device);
    [LibraryImport(CudaLibraries.Driver, EntryPoint = "cuDeviceTotalMem_v2")] public static partial int cuDeviceTotalMem(nuint* bytes, int device);
    [LibraryImport(CudaLibraries.Driver)] public static partial int cuDevicePrimaryCtxRetain(IntPtr* context, int device);
    [LibraryImport(CudaLibraries.Driver, EntryPoint = "cuDevicePrimaryCtxRelease_v2")] public static partial int cuDevicePrimaryCtxRelease(int device);
    [LibraryImport(CudaLibraries.Driver)] public static partial int cuCtxSetCurrent(IntPtr context);
    [LibraryImport(CudaLibraries.Driver)] public static partial int cuCtxSynchronize();
    [LibraryImport(CudaLibraries.Driver, EntryPoint = "cuMemGetInfo_v2")] public static partial int cuMemGetInfo(nuint* free, nuint* total);
    [LibraryImport(CudaLibraries.Driver, EntryPoint = "cuMemAlloc_v2")] public static partial int cuMemAlloc(ulong* pointer, nuint bytes);
    [LibraryImport(CudaLibraries.Driver, EntryPoint = "cuMemFree_v2")] public static partial int cuMemFree(ulong pointer);
    [LibraryImport(CudaLibraries.Driver, EntryPoint = "cuMemAllocHost_v2")] public static partial int cuMemAllocHost(void** pointer, nuint bytes);
    [LibraryImport(CudaLibraries.Driver)] public static partial int cuMemFreeHost(void* pointer);
    [LibraryImport(CudaLibraries.Driver, EntryPoint = "cuMemcpyHtoD_v2")] public static partial int cuMemcpyHtoD(ulong dst, void* src, nuint bytes);
    [LibraryImport(CudaLibraries.Driver, EntryPoint = "cuMemcpyDtoH_v2")] public static partial int cuMemcpyDtoH(void* dst, ulong src, nuint bytes);
    [LibraryImport(CudaLibraries.Driver, EntryPoint = "cuMemcpyHtoDAsync_v2")] public static partial int cuMemcpyHtoDAsync(ulong dst, void* src, nuint bytes, IntPtr stream);
    [LibraryImport(CudaLibraries.Driver, EntryPoint = "cuMemcpyDtoHAsync_v2")] public static partial int cuMemcpyDtoHAsync(void* dst, ulong src, nuint bytes, IntPtr stream);
    [LibraryImport(CudaLibraries.Driver, EntryPoint = "cuMemcpyDtoDAsync_v2")] public static partial int cuMemcpyDtoDAsync(ulong dst, ulong src, nuint bytes, IntPtr stream);
    [LibraryImport(CudaLibraries.Driver, EntryPoint = "cuMemsetD8Async")] public static partial int cuMemsetD8Async(ulong dst, byte value, nuint count, IntPtr stream);
    [LibraryImport(CudaLibraries.Driver)] public static partial int cuModuleLoadData(IntPtr* module, void* image);
    [LibraryImport(CudaLibraries.Driver)] public static partial int cuModuleUnload(IntPtr module);
    [LibraryImport(CudaLibraries.Driver, StringMarshalling = StringMarshalling.Utf8)] public static partial int cuModuleGetFunction(IntPtr* function, IntPtr module, string name);
    [LibraryImport(CudaLibraries.Driver, EntryPoint = "cuModuleGetGlobal_v2", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int cuModuleGetGlobal(ulong* pointer, nuint* bytes, IntPtr module, string name);
    [LibraryImport(CudaLibraries.Driver)] public static partial int cuFuncSetAttribute(IntPtr function, int attribute, int value);
    [LibraryImport(CudaLibraries.Driver)] public static partial int cuFuncGetAttribute(int* value, int attribute, IntPtr function);
    [LibraryImport(CudaLibraries.Driver)] public static partial int cuOccupancyMaxActiveBlocksPerMultiprocessor(int* numBlocks, IntPtr function, int blockSize, nuint dynamicSharedBytes);
    [LibraryImport(CudaLibraries.Driver)]
    public static partial int cuLaunchKernel(IntPtr function, uint gridX, uint gridY, uint gridZ, uint blockX, uint blockY, uint blockZ,
        uint sharedBytes, IntPtr stream, void** parameters, void** extra);
    /// <summary>CUlaunchConfig (cuda.h): grid, block, shared bytes, stream, attributes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct LaunchConfig
    {
        public uint GridX, GridY, GridZ, BlockX, BlockY, BlockZ, SharedBytes;
        public IntPtr Stream;
        public LaunchAttribute* Attributes;
        public uint AttributeCount;
    }

    /// <summary>CUlaunchAttribute: id, padding, a 64-byte value union.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 72)]
    public struct LaunchAttribute
    {
        public int Id;
        public int Pad;
        public int Value;
    }

    public const int CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION = 6;

    [LibraryImport(CudaLibraries.Driver)] public static partial int cuLaunchKernelEx(LaunchConfig* config, IntPtr function, void** parameters, void** extra);
    [LibraryImport(CudaLibraries.Driver)] public static partial int cuStreamCreate(IntPtr* stream, uint flags);
    [LibraryImport(CudaLibraries.Driver, EntryPoint = "cuStreamDestroy_v2")] public static partial int cuStreamDestroy(IntPtr stream);
    [LibraryImport(CudaLibraries.Driver)] public static partial int cuStreamSynchronize(IntPtr stream);
    [LibraryImport(CudaLibraries.Driver)] public static partial int cuStreamWaitEvent(IntPtr stream, IntPtr evt, uint flags);
    [LibraryImport(CudaLibraries.Driver)] public static partial int cuEventCreate(IntPtr* evt, uint flags);
    [LibraryImport(CudaLibraries.Driver, EntryPoint = "cuEventDestroy_v2")] public static partial int cuEventDestroy(IntPtr evt);
    [LibraryImport(CudaLibraries.Driver)] public static partial int cuEventRecord(IntPtr evt, IntPtr stream);
    [LibraryImport(CudaLibraries.Driver)] public static partial int cuEventSynchronize(IntPtr evt);
    [LibraryImport(CudaLibraries.Driver)] public static partial int cuEventElapsedTime(float* milliseconds, IntPtr start, IntPtr end);
    [LibraryImport(CudaLibraries.Driver, EntryPoint = "cuStreamBeginCapture_v2")] public static partial int cuStreamBeginCapture(IntPtr stream, int mode);
    [LibraryImport(CudaLibraries.Driver)] public static partial int cuStreamEndCapture(IntPtr stream, IntPtr* graph);
    [LibraryImport(CudaLibraries.Driver)] public static partial int cuGraphInstantiateWithFlags(IntPtr* exec, IntPtr graph, ulong flags);
    [LibraryImport(CudaLibraries.Driver)] public static partial int cuGraphLaunch(IntPtr exec, IntPtr stream);
    [LibraryImport(CudaLibraries.Driver)] public static partial int cuGraphExecDestroy(IntPtr exec);
    [LibraryImport(CudaLibraries.Driver)] public static partial int cuGraphDestroy(IntPtr graph);
}
