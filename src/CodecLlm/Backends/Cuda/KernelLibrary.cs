using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using CodecLlm.Backends.Cuda.Interop;

namespace CodecLlm.Backends.Cuda;

/// <summary>
/// Compiles the embedded Kernels/*.cu with NVRTC for the device's architecture on first use and caches
/// the CUBIN on disk ($CODECLLM_CACHE or ~/.cache/codecllm/kernels), keyed by a hash of the source,
/// the headers, the options, the architecture and the NVRTC version.
/// </summary>
public sealed unsafe class KernelLibrary : IDisposable
{
    private const string ResourcePrefix = "CodecLlm.Kernels.";
    private readonly CudaContext _context;
    private readonly Dictionary<string, CudaModule> _modules = new(StringComparer.Ordinal);

    internal KernelLibrary(CudaContext context) => _context = context;

    /// <summary>Where compiled kernels are cached.</summary>
    public static string CacheDirectory =>
        Environment.GetEnvironmentVariable("CODECLLM_CACHE") is { Length: > 0 } dir
            ? Path.Combine(dir, "kernels")
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "codecllm", "kernels");

    /// <summary>Compiles (or loads from the cache) the CUBIN of one kernel file, e.g. "matvec.cu".</summary>
    public CudaModule Module(string file) => Module(file, null);

    /// <summary>
    /// The module of <paramref name="file"/> compiled with the preprocessor symbol <paramref name="define"/> set: a
    /// second module of the same source whose extra entry points only some sessions need (null: the plain module).
    /// </summary>
    public CudaModule Module(string file, string? define)
    {
        string key = define == null ? file : file + ":" + define;
        lock (_modules)
        {
            if (_modules.TryGetValue(key, out CudaModule? m)) return m;
            byte[] cubin = CompileCached(file, out _, define);
            m = new CudaModule(_context, cubin, key);
            _modules[key] = m;
            return m;
        }
    }

    public CudaFunction Function(string file, string name) => Module(file).Function(name);

    /// <summary>A kernel that prefers shared-memory carveout <paramref name="carveout"/> (null: the driver's choice), not the library's.</summary>
    public CudaFunction Function(string file, string name, int? carveout) => Module(file).Function(name, carveout);

    /// <summary>The modules loaded so far.</summary>
    internal IReadOnlyList<CudaModule> LoadedModules
    {
        get
        {
            lock (_modules) return _modules.Values.ToList();
        }
    }

    internal byte[] CompileCached(string file, out bool fromCache, string? define = null)
    {
        string source = ReadResource(file);
        var headers = Headers();
        // CODECLLM_NVRTC_DEFINES ("-DNAME=VALUE ...") overrides kernel tuning constants; it is part of the cache key.
        string[] extra = TuningEnvironment.NvrtcDefines();
        if (define != null) extra = [.. extra, "-D" + define];
        string[] options = [$"--gpu-architecture={_context.Arch}", "-std=c++17", "--fmad=true", "-default-device", .. extra];
        string key = CacheKey(source, headers, options);
        string path = Path.Combine(CacheDirectory, $"{Path.GetFileNameWithoutExtension(file)}{(define == null ? "" : "-" + define.ToLowerInvariant())}-{key}.cubin");
        if (File.Exists(path))
        {
            fromCache = true;
            return File.ReadAllBytes(path);
        }
        byte[] cubin = Nvrtc.CompileToCubin(source, file, headers, options);
        try
        {
            Directory.CreateDirectory(CacheDirectory);
            string tmp = path + "." + Environment.ProcessId + ".tmp";
            File.WriteAllBytes(tmp, cubin);
            File.Move(tmp, path, overwrite: true);
        }
        catch (IOException)
        {
            // The cache is an optimisation: an unwritable cache directory only costs a recompile next time.
        }
        catch (UnauthorizedAccessException)
        {
        }
        fromCache = false;
        return cubin;
    }

    private string CacheKey(string source, IReadOnlyList<(string Name, string Source)> headers, string[] options)
    {
        var sb = new StringBuilder(source);
        foreach (var (name, text) in headers) sb.Append('\0').Append(name).Append('\0').Append(text);
        sb.Append('\0').Append(string.Join(' ', options)).Append('\0').Append(_context.Arch).Append('\0').Append(_context.NvrtcVersion);
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())))[..16].ToLowerInvariant();
    }

    private static List<(string Name, string Source)> Headers() =>
        typeof(KernelLibrary).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal) && n.EndsWith(".cuh", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(n => (n[ResourcePrefix.Length..], ReadResource(n[ResourcePrefix.Length..])))
            .ToList();

    internal static string ReadResource(string file)
    {
        Assembly asm = typeof(KernelLibrary).Assembly;
        using Stream s = asm.GetManifestResourceStream(ResourcePrefix + file)
            ?? throw new InvalidOperationException($"kernel source '{file}' is not embedded");
        using var reader = new StreamReader(s);
        return reader.ReadToEnd();
    }

    public void Dispose()
    {
        lock (_modules)
        {
            foreach (CudaModule m in _modules.Values) m.Dispose();
            _modules.Clear();
        }
    }
}

/// <summary>A loaded CUBIN.</summary>
public sealed unsafe class CudaModule : IDisposable
{
    private readonly CudaModuleHandle _handle;
    private readonly CudaContext _context;
    private readonly Dictionary<string, CudaFunction> _functions = new(StringComparer.Ordinal);

    internal CudaModule(CudaContext context, byte[] cubin, string name)
    {
        _context = context;
        Name = name;
        context.MakeCurrent();
        _handle = new CudaModuleHandle(context.Handle);
        IntPtr m;
        fixed (byte* image = cubin) CuDriver.Check(CuDriver.cuModuleLoadData(&m, image), $"cuModuleLoadData({name})");
        _handle.Set(m);
    }

    public string Name { get; }

    public CudaFunction Function(string name) => Function(name, SharedCarveout);

    /// <summary>
    /// The kernel <paramref name="name"/>, asking for shared-memory carveout <paramref name="carveout"/> (percent; null:
    /// the driver's choice) when it is first looked up.
    /// </summary>
    public CudaFunction Function(string name, int? carveout)
    {
        lock (_functions)
        {
            if (_functions.TryGetValue(name, out CudaFunction? f)) return f;
            IntPtr fn;
            _context.MakeCurrent();
            CuDriver.Check(CuDriver.cuModuleGetFunction(&fn, _handle.DangerousGetHandle(), name), $"cuModuleGetFunction({Name}:{name})");
            if (carveout is { } percent)
                CuDriver.Check(CuDriver.cuFuncSetAttribute(fn, CuDriver.CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT, percent),
                    $"cuFuncSetAttribute({Name}:{name}, carveout)");
            f = new CudaFunction(fn, $"{Name}:{name}");
            _functions[name] = f;
            return f;
        }
    }

    /// <summary>The address and size of the module's global <paramref name="name"/>, or null when it has none.</summary>
    internal (ulong Pointer, ulong Bytes)? Global(string name)
    {
        ulong p;
        nuint n;
        _context.MakeCurrent();
        int r = CuDriver.cuModuleGetGlobal(&p, &n, _handle.DangerousGetHandle(), name);
        if (r == CuDriver.CUDA_ERROR_NOT_FOUND) return null;
        CuDriver.Check(r, $"cuModuleGetGlobal({Name}:{name})");
        return (p, n);
    }

    /// <summary>
    /// Every kernel's preferred shared-memory carveout, in percent of the SM's unified L1/shared capacity: 50 unless
    /// CODECLLM_SMEM_CARVEOUT says another (0-100, or "driver": the driver's choice per kernel, which it makes for each
    /// kernel's own needs). With the driver's choice an SM configured for the running matvec's shared memory took the
    /// decode attention's blocks (launched while the q/k/v matvec runs) only as it drained, so the last of them started
    /// after the q/k/v matvec ended (H100 TinyLlama `fixed`, session 19's kernel timeline: attention 5.6 -> 3.8 us a
    /// layer at 50 %; `fixed` 1240-1257 -> 1294-1297 tok/s; 100 % leaves L1 too small: 1211-1218).
    /// </summary>
    private static readonly int? SharedCarveout = TuningEnvironment.Carveout(Environment.GetEnvironmentVariable("CODECLLM_SMEM_CARVEOUT"), 50);

    public void Dispose() => _handle.Dispose();
}

/// <summary>One kernel. Every kernel of this backend takes a single by-value parameter struct.</summary>
public sealed unsafe class CudaFunction
{
    private readonly IntPtr _function;
    private int _sharedLimit = -1;  // dynamic shared bytes a launch may use now (48 KiB minus the static ones until raised)

    internal CudaFunction(IntPtr function, string name)
    {
        _function = function;
        Name = name;
    }

    public string Name { get; }

    /// <summary>How many blocks of <paramref name="blockSize"/> threads fit on one multiprocessor at once (registers, shared memory).</summary>
    public int MaxActiveBlocksPerMultiprocessor(int blockSize, uint sharedBytes = 0)
    {
        int n;
        CuDriver.Check(CuDriver.cuOccupancyMaxActiveBlocksPerMultiprocessor(&n, _function, blockSize, sharedBytes), $"cuOccupancyMaxActiveBlocksPerMultiprocessor({Name})");
        return n;
    }

    /// <summary>
    /// Launches the kernel. <paramref name="programmatic"/>: programmatic dependent launch — the kernel may
    /// start while the previous kernel on the stream drains; it must execute griddepcontrol.wait before
    /// reading that kernel's output (matvec.cuh does, after prefetching its weights).
    /// </summary>
    public void Launch<T>(CudaStream stream, (uint X, uint Y, uint Z) grid, uint block, uint sharedBytes, in T parameters, bool programmatic) where T : unmanaged
    {
        if (!programmatic)
        {
            Launch(stream, grid, block, sharedBytes, parameters);
            return;
        }
        if (grid.X == 0 || grid.Y == 0 || grid.Z == 0) return;
        EnsureShared(sharedBytes);
        CuDriver.LaunchAttribute attr = new() { Id = CuDriver.CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION, Value = 1 };
        var config = new CuDriver.LaunchConfig
        {
            GridX = grid.X,
            GridY = grid.Y,
            GridZ = grid.Z,
            BlockX = block,
            BlockY = 1,
            BlockZ = 1,
            SharedBytes = sharedBytes,
            Stream = stream.Handle,
            Attributes = &attr,
            AttributeCount = 1,
        };
        fixed (T* p = &parameters)
        {
            void* arg = p;
            CuDriver.Check(CuDriver.cuLaunchKernelEx(&config, _function, &arg, null), $"cuLaunchKernelEx({Name})");
        }
    }

    private void EnsureShared(uint sharedBytes)
    {
        if (sharedBytes == 0) return;
        if (_sharedLimit < 0)
        {
            int staticBytes;
            CuDriver.Check(CuDriver.cuFuncGetAttribute(&staticBytes, CuDriver.CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, _function), $"cuFuncGetAttribute({Name})");
            _sharedLimit = 48 * 1024 - staticBytes;
        }
        if (sharedBytes > _sharedLimit)
        {
            CuDriver.Check(CuDriver.cuFuncSetAttribute(_function, CuDriver.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, (int)sharedBytes), $"cuFuncSetAttribute({Name})");
            _sharedLimit = (int)sharedBytes;
        }
    }

    public void Launch<T>(CudaStream stream, (uint X, uint Y, uint Z) grid, uint block, uint sharedBytes, in T parameters) where T : unmanaged
    {
        if (grid.X == 0 || grid.Y == 0 || grid.Z == 0) return;
        EnsureShared(sharedBytes);
        fixed (T* p = &parameters)
        {
            void* arg = p;
            CuDriver.Check(CuDriver.cuLaunchKernel(_function, grid.X, grid.Y, grid.Z, block, 1, 1, sharedBytes, stream.Handle, &arg, null), $"cuLaunchKernel({Name})");
        }
    }

    public void Launch<T>(CudaStream stream, uint gridX, uint block, uint sharedBytes, in T parameters) where T : unmanaged =>
        Launch(stream, (gridX, 1u, 1u), block, sharedBytes, parameters);
}
