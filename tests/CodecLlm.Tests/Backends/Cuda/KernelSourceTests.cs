using System.Diagnostics;
using CodecLlm.Backends.Cuda;
using CodecLlm.Model;

namespace CodecLlm.Tests.Backends.Cuda;

/// <summary>
/// The CUDA kernels compile (front end, device side) without a GPU: clang's CUDA mode over every Kernels/*.cu with the
/// built-ins declared by tools/cuda-syntax-check/shim.h, as NVRTC sees them (plain and with the batched and standalone
/// entry points). Catches C++ errors in kernel edits on CI; NVRTC on the GPU machine stays the real compiler.
/// </summary>
public class KernelSourceTests
{
    private static string KernelDir => Path.Combine(TestPaths.RepoRoot, "src", "CodecLlm", "Backends", "Cuda", "Kernels");

    public static TheoryData<string, string> Sources()
    {
        var data = new TheoryData<string, string>();
        foreach (string f in Directory.GetFiles(KernelDir, "*.cu").Select(Path.GetFileName).Order()!)
        {
            data.Add(f!, "");
            data.Add(f!, "-DFM_BATCH_ENTRIES -DFM_STANDALONE_ENTRIES");
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Sources))]
    public async Task KernelCompilesInClangCudaMode(string file, string defines)
    {
        string? clang = Which("clang++");
        if (clang == null) Assert.Skip("clang++ not installed (apt-get install clang)");
        string shim = Path.Combine(TestPaths.RepoRoot, "tools", "cuda-syntax-check", "shim.h");
        var psi = new ProcessStartInfo(clang)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        foreach (string a in new[] { "-x", "cuda", "--cuda-gpu-arch=sm_80", "--cuda-device-only", "-nocudainc", "-nocudalib", "-fsyntax-only", "-std=c++17", "-I", KernelDir, "-include", shim })
            psi.ArgumentList.Add(a);
        foreach (string d in defines.Split(' ', StringSplitOptions.RemoveEmptyEntries)) psi.ArgumentList.Add(d);
        psi.ArgumentList.Add(Path.Combine(KernelDir, file));
        CancellationToken ct = TestContext.Current.CancellationToken;
        using Process p = Process.Start(psi)!;
        Task<string> err = p.StandardError.ReadToEndAsync(ct);
        await p.StandardOutput.ReadToEndAsync(ct);
        await p.WaitForExitAsync(ct);
        string log = await err;
        if (log.Contains("unsupported CUDA gpu architecture", StringComparison.Ordinal) || log.Contains("cannot find CUDA installation", StringComparison.Ordinal))
            Assert.Skip("this clang has no CUDA support: " + log.Split('\n')[0]);
        Assert.True(p.ExitCode == 0, $"{file} {defines}:\n{string.Join('\n', log.Split('\n').Where(l => l.Contains("error", StringComparison.Ordinal)).Take(10))}");
    }

    /// <summary>
    /// The `fixed` decoders the backend launches by name live in the module it launches them from (no GPU needed: a
    /// name or module mismatch would otherwise show only on the GPU machine, as CUDA_ERROR_NOT_FOUND).
    /// </summary>
    [Fact]
    public void FixedDecoderKernelsAreDeclaredInTheirModule()
    {
        string source = File.ReadAllText(Path.Combine(KernelDir, GpuDecoders.FixedModule));
        string[] names = [.. new[] { TensorDType.BF16, TensorDType.F16, TensorDType.F32 }.Select(GpuDecoders.FixedDecodeKernel), "fixed_embed"];
        foreach (string name in names)
            Assert.Matches(new System.Text.RegularExpressions.Regex($@"extern ""C"" __global__ void (__launch_bounds__\([^)]*\) )?{name}\("), source);
    }

    private static string? Which(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);
}
