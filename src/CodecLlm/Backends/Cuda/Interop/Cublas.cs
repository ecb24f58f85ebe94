using System.Runtime.InteropServices;

namespace CodecLlm.Backends.Cuda.Interop;

/// <summary>The cuBLAS calls used for prefill GEMMs (libcublas.so.13/.12).</summary>
internal static unsafe partial class Cublas
{
    static Cublas() => CudaLibraries.EnsureResolver();

    public const int CUBLAS_OP_N = 0;
    public const int CUBLAS_OP_T = 1;
    public const int CUDA_R_32F = 0;
    public const int CUDA_R_16F = 2;
    public const int CUDA_R_16BF = 14;
    public const int CUBLAS_COMPUTE_32F = 68;
    public const int CUBLAS_GEMM_DEFAULT = -1;
    public const int CUBLAS_PEDANTIC_MATH = 2;

    public static void Check(int status, string call)
    {
        if (status == 0) return;
        string name = Marshal.PtrToStringUTF8(cublasGetStatusName(status)) ?? $"CUBLAS_STATUS_{status}";
        throw new CudaException(call, name, status);
    }

    [LibraryImport(CudaLibraries.Cublas)] public static partial IntPtr cublasGetStatusName(int status);
    [LibraryImport(CudaLibraries.Cublas, EntryPoint = "cublasCreate_v2")] public static partial int cublasCreate(IntPtr* handle);
    [LibraryImport(CudaLibraries.Cublas, EntryPoint = "cublasDestroy_v2")] public static partial int cublasDestroy(IntPtr handle);
    [LibraryImport(CudaLibraries.Cublas, EntryPoint = "cublasGetVersion_v2")] public static partial int cublasGetVersion(IntPtr handle, int* version);
    [LibraryImport(CudaLibraries.Cublas, EntryPoint = "cublasSetStream_v2")] public static partial int cublasSetStream(IntPtr handle, IntPtr stream);
    [LibraryImport(CudaLibraries.Cublas)] public static partial int cublasSetMathMode(IntPtr handle, int mode);
    [LibraryImport(CudaLibraries.Cublas)] public static partial int cublasSetWorkspace_v2(IntPtr handle, ulong workspace, nuint bytes);
    [LibraryImport(CudaLibraries.Cublas)]
    public static partial int cublasGemmEx(IntPtr handle, int transa, int transb, int m, int n, int k, void* alpha,
        ulong a, int aType, int lda, ulong b, int bType, int ldb, void* beta, ulong c, int cType, int ldc, int computeType, int algo);
}
