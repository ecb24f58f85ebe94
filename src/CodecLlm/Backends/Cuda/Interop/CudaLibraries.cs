using System.Reflection;
using System.Runtime.InteropServices;
using CodecLlm.Model;

namespace CodecLlm.Backends.Cuda.Interop;

/// <summary>
/// Finds the CUDA libraries (driver, NVRTC, cuBLAS) by their versioned sonames and serves them to every
/// [LibraryImport] of this assembly through the one <see cref="NativeLibrary.SetDllImportResolver"/>.
/// </summary>
internal static class CudaLibraries
{
    public const string Driver = "codecllm-cuda";
    public const string Nvrtc = "codecllm-nvrtc";
    public const string Cublas = "codecllm-cublas";

    private static readonly string[] CudaDirs = ["", "/usr/local/cuda/lib64/", "/usr/local/cuda/targets/x86_64-linux/lib/", "/usr/lib/x86_64-linux-gnu/"];

    private static readonly Dictionary<string, string[]> Candidates = new()
    {
        [Driver] = ["libcuda.so.1", "libcuda.so", "nvcuda.dll"],
        [Nvrtc] = ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so", "nvrtc64_130_0.dll", "nvrtc64_120_0.dll"],
        [Cublas] = ["libcublas.so.13", "libcublas.so.12", "libcublas.so", "cublas64_13.dll", "cublas64_12.dll"],
    };

    private static readonly Dictionary<string, (IntPtr Handle, string Path)> Loaded = new();
    private static readonly object Gate = new();
    private static bool _resolverInstalled;

    /// <summary>Installs the resolver (idempotent). Called by every interop class's static constructor.</summary>
    public static void EnsureResolver()
    {
        lock (Gate)
        {
            if (_resolverInstalled) return;
            NativeLibrary.SetDllImportResolver(typeof(CudaLibraries).Assembly, Resolve);
            _resolverInstalled = true;
        }
    }

    /// <summary>The file a library was loaded from, or null when it was not found.</summary>
    public static string? PathOf(string library)
    {
        lock (Gate) return TryLoad(library, out _, out string? path) ? path : null;
    }

    /// <summary>Throws a one-line error naming what to install when a required library is missing.</summary>
    public static void Require(string library)
    {
        lock (Gate)
        {
            if (TryLoad(library, out _, out _)) return;
        }
        string what = library switch
        {
            Driver => "CUDA unavailable: the NVIDIA driver (libcuda.so.1) was not found; install an NVIDIA GPU driver (R525 or newer) or use --device cpu",
            Nvrtc => "CUDA unavailable: NVRTC (libnvrtc.so.13 or .12) was not found; install the CUDA runtime compiler (cuda-nvrtc) or add /usr/local/cuda/lib64 to LD_LIBRARY_PATH",
            _ => "CUDA unavailable: cuBLAS (libcublas.so.13 or .12) was not found; install the CUDA toolkit's libcublas or add /usr/local/cuda/lib64 to LD_LIBRARY_PATH",
        };
        throw new CudaUnavailableException(what);
    }

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (!Candidates.ContainsKey(libraryName)) return IntPtr.Zero;
        lock (Gate) return TryLoad(libraryName, out IntPtr handle, out _) ? handle : IntPtr.Zero;
    }

    private static bool TryLoad(string library, out IntPtr handle, out string? path)
    {
        if (Loaded.TryGetValue(library, out var found))
        {
            (handle, path) = found;
            return true;
        }
        string? extra = Environment.GetEnvironmentVariable("CUDA_PATH");
        IEnumerable<string> dirs = extra is { Length: > 0 } ? CudaDirs.Append(Path.Combine(extra, "lib64") + "/") : CudaDirs;
        foreach (string dir in dirs)
        {
            foreach (string name in Candidates[library])
            {
                if (NativeLibrary.TryLoad(dir + name, out handle))
                {
                    path = dir + name;
                    Loaded[library] = (handle, path);
                    return true;
                }
            }
        }
        handle = IntPtr.Zero;
        path = null;
        return false;
    }
}

/// <summary>No usable CUDA installation: the message says what to install.</summary>
public sealed class CudaUnavailableException : CodecLlmException
{
    public CudaUnavailableException(string message) : base(message) { }
}
