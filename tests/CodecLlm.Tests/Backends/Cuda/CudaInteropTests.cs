using CodecLlm.Backends.Cuda;
using CodecLlm.Backends.Cuda.Interop;

namespace CodecLlm.Tests.Backends.Cuda;

[Collection("gpu")]
public class CudaInteropTests
{
    [Fact]
    public void MissingDriverGivesOneLineSayingWhatToInstall()
    {
        string? reason = CudaContext.UnavailableReason();
        if (reason == null) Assert.Skip("a GPU is present; this test checks the no-driver message");
        Assert.DoesNotContain('\n', reason);
        Assert.True(reason.Contains("install", StringComparison.Ordinal) || reason.Contains("cuInit", StringComparison.Ordinal), reason);
    }

    [Fact]
    public void DescribesTheDevice()
    {
        CudaContext c = GpuTest.Context();
        string line = c.Describe();
        Assert.Contains(c.DeviceName, line);
        Assert.Contains("nvrtc", line);
        Assert.StartsWith("sm_", c.Arch);
        (long free, long total) = c.MemoryInfo();
        Assert.InRange(free, 1, total);
    }

    [Fact]
    public void CompileErrorNamesTheCallAndCarriesTheLog()
    {
        GpuTest.Context();
        var e = Assert.Throws<CudaException>(() => Nvrtc.CompileToCubin("extern \"C\" __global__ void k() { undefined_thing(); }", "bad.cu", [], ["--gpu-architecture=sm_80"]));
        Assert.Contains("nvrtcCompileProgram(bad.cu)", e.Message);
        Assert.Contains("NVRTC_ERROR_COMPILATION", e.Message);
        Assert.Contains("undefined_thing", e.Message);
    }

    [Fact]
    public void DriverErrorsNameTheCallAndTheError()
    {
        GpuTest.Context();
        var e = Assert.Throws<CudaException>(() => CuDriver.Check(1, "cuSomething"));
        Assert.Contains("cuSomething", e.Message);
        Assert.Contains("CUDA_ERROR_INVALID_VALUE", e.Message);
    }

    [Fact]
    public void KernelCacheServesTheSecondCompile()
    {
        CudaContext c = GpuTest.Context();
        c.Kernels.CompileCached("elementwise.cu", out _);
        c.Kernels.CompileCached("elementwise.cu", out bool cached);
        Assert.True(cached);
        Assert.NotEmpty(Directory.GetFiles(KernelLibrary.CacheDirectory, "elementwise-*.cubin"));
    }

    [Fact]
    public void AllocatorCountsByCategoryAndPeak()
    {
        CudaContext c = GpuTest.Context();
        long before = c.Allocator.CurrentBytes;
        using (DeviceBuffer a = c.Allocator.Allocate(1 << 20, MemoryCategory.Scratch, "test a"))
        {
            Assert.Equal(before + (1 << 20), c.Allocator.CurrentBytes);
        }
        Assert.Equal(before, c.Allocator.CurrentBytes);
        Assert.Throws<DeviceOutOfMemoryException>(() => c.Allocator.Allocate(1L << 50, MemoryCategory.Weights, "too much"));
    }
}
