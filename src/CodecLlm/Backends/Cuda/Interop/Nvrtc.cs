using System.Runtime.InteropServices;
using System.Text;

namespace CodecLlm.Backends.Cuda.Interop;

/// <summary>NVRTC, the runtime CUDA C++ compiler (libnvrtc.so.13/.12).</summary>
internal static unsafe partial class Nvrtc
{
    static Nvrtc() => CudaLibraries.EnsureResolver();

    public static void Check(int result, string call, string? log = null)
    {
        if (result == 0) return;
        string name = Marshal.PtrToStringUTF8(nvrtcGetErrorString(result)) ?? $"NVRTC_ERROR_{result}";
        throw new CudaException(call, name, result, log);
    }

    /// <summary>"13.0" style version string.</summary>
    public static string Version()
    {
        int major, minor;
        Check(nvrtcVersion(&major, &minor), "nvrtcVersion");
        return $"{major}.{minor}";
    }

    /// <summary>Compiles one source to a CUBIN for <paramref name="arch"/> (e.g. "sm_90"); the log is part of the error on failure.</summary>
    public static byte[] CompileToCubin(string source, string name, IReadOnlyList<(string Name, string Source)> headers, IReadOnlyList<string> options)
    {
        IntPtr program;
        byte[] src = NullTerminated(source), fileName = NullTerminated(name);
        byte[][] headerSources = headers.Select(h => NullTerminated(h.Source)).ToArray();
        byte[][] headerNames = headers.Select(h => NullTerminated(h.Name)).ToArray();
        byte[][] opts = options.Select(NullTerminated).ToArray();
        var pins = new List<GCHandle>();
        try
        {
            byte** hs = stackalloc byte*[Math.Max(1, headers.Count)];
            byte** hn = stackalloc byte*[Math.Max(1, headers.Count)];
            byte** op = stackalloc byte*[Math.Max(1, opts.Length)];
            for (int i = 0; i < headers.Count; i++)
            {
                hs[i] = Pin(headerSources[i], pins);
                hn[i] = Pin(headerNames[i], pins);
            }
            for (int i = 0; i < opts.Length; i++) op[i] = Pin(opts[i], pins);
            fixed (byte* s = src, n = fileName)
            {
                Check(nvrtcCreateProgram(&program, s, n, headers.Count, hs, hn), "nvrtcCreateProgram");
            }
            try
            {
                int rc = nvrtcCompileProgram(program, opts.Length, op);
                if (rc != 0) Check(rc, $"nvrtcCompileProgram({name})", Log(program));
                nuint size;
                Check(nvrtcGetCUBINSize(program, &size), "nvrtcGetCUBINSize");
                byte[] cubin = new byte[(int)size];
                fixed (byte* c = cubin) Check(nvrtcGetCUBIN(program, c), "nvrtcGetCUBIN");
                return cubin;
            }
            finally
            {
                nvrtcDestroyProgram(&program);
            }
        }
        finally
        {
            foreach (GCHandle h in pins) h.Free();
        }
    }

    private static string Log(IntPtr program)
    {
        nuint size;
        if (nvrtcGetProgramLogSize(program, &size) != 0 || size <= 1) return "";
        byte[] log = new byte[(int)size];
        fixed (byte* l = log) nvrtcGetProgramLog(program, l);
        return Encoding.UTF8.GetString(log, 0, log.Length - 1).Trim().Replace('\n', ' ');
    }

    private static byte[] NullTerminated(string s) => Encoding.UTF8.GetBytes(s + "\0");

    private static byte* Pin(byte[] data, List<GCHandle> pins)
    {
        GCHandle h = GCHandle.Alloc(data, GCHandleType.Pinned);
        pins.Add(h);
        return (byte*)h.AddrOfPinnedObject();
    }

    [LibraryImport(CudaLibraries.Nvrtc)] public static partial IntPtr nvrtcGetErrorString(int result);
    [LibraryImport(CudaLibraries.Nvrtc)] public static partial int nvrtcVersion(int* major, int* minor);
    [LibraryImport(CudaLibraries.Nvrtc)] public static partial int nvrtcCreateProgram(IntPtr* program, byte* source, byte* name, int numHeaders, byte** headers, byte** includeNames);
    [LibraryImport(CudaLibraries.Nvrtc)] public static partial int nvrtcCompileProgram(IntPtr program, int numOptions, byte** options);
    [LibraryImport(CudaLibraries.Nvrtc)] public static partial int nvrtcGetProgramLogSize(IntPtr program, nuint* size);
    [LibraryImport(CudaLibraries.Nvrtc)] public static partial int nvrtcGetProgramLog(IntPtr program, byte* log);
    [LibraryImport(CudaLibraries.Nvrtc)] public static partial int nvrtcGetCUBINSize(IntPtr program, nuint* size);
    [LibraryImport(CudaLibraries.Nvrtc)] public static partial int nvrtcGetCUBIN(IntPtr program, byte* cubin);
    [LibraryImport(CudaLibraries.Nvrtc)] public static partial int nvrtcDestroyProgram(IntPtr* program);
}
