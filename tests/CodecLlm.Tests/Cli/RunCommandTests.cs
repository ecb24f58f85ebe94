using CodecLlm.Backends.Cuda;

namespace CodecLlm.Tests.Cli;

public class RunCommandTests
{
    [Fact]
    public void MissingModel_ExitsWithOneLineOnStderr()
    {
        string missing = Path.Combine(TestPaths.NewTempDir(), "no-such-model.bin");
        (int code, string stdout, string stderr) = CliProcess.Run("run", "--model", missing, "--prompt", "hi");
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        string[] lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains("no-such-model.bin", lines[0]);
    }

    [Theory]
    [InlineData("run", "--context", "0")]
    [InlineData("chat", "--context", "-3")]
    [InlineData("serve", "--context", "0")]
    [InlineData("run", "--threads", "0")]
    [InlineData("chat", "--threads", "-1")]
    public void SessionOptionBelowOne_IsOneErrorLineNamingIt(string verb, string option, string value)
    {
        (int code, string stdout, string stderr) = CliProcess.RunWithInput("hi\n", verb, "--model", TestPaths.Stories260KBin, option, value);
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Equal($"error: {option} must be ≥ 1, not {value}", Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
    }

    /// <summary>Null when the CUDA backend can open a GPU here (driver, device and NVRTC), else why not.</summary>
    private static readonly Lazy<string?> CudaUnavailable = new(CudaContext.UnavailableReason);

    [Fact]
    public void CudaDevice_WithoutAUsableGpu_IsOneClearError()
    {
        if (CudaUnavailable.Value == null) Assert.Skip("a CUDA GPU is usable here: `run --device cuda` generates instead (tested below)");
        (int code, string stdout, string stderr) = CliProcess.Run("run", "--model", TestPaths.Stories260KBin, "--device", "cuda");
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("CUDA", stderr);
    }

    [Fact]
    public void CudaDevice_Stories260K_GreedyTextIsLlama2cReference()
    {
        if (CudaUnavailable.Value is { } reason) Assert.Skip("no usable CUDA GPU: " + reason);
        if (!File.Exists(TestPaths.Stories260KBin)) Assert.Skip("stories260K not present");
        (int code, string stdout, string stderr) = CliProcess.Run("run", "--model", TestPaths.Stories260KBin, "--device", "cuda", "--temperature", "0",
            "--max-tokens", "256");
        Assert.True(code == 0, stderr);
        Assert.Equal(TestPaths.Stories260KGreedyReference() + "\n", stdout);
        Assert.Contains("cuda: ", stderr); // the start-up line: GPU, driver, libraries
        Assert.Contains("nvrtc", stderr);
        Assert.Contains("[cuda] prompt 1 tokens", stderr);
        Assert.Contains("peak allocated", stderr); // peak VRAM
    }

    [Fact]
    public void CudaDevice_SeededSampling_IsRepeatable_AndMatchesTheCpu()
    {
        if (CudaUnavailable.Value is { } reason) Assert.Skip("no usable CUDA GPU: " + reason);
        if (!File.Exists(TestPaths.Stories260KBin)) Assert.Skip("stories260K not present");
        string[] args = ["run", "--model", TestPaths.Stories260KBin, "--temperature", "0.8", "--top-p", "0.9", "--seed", "7", "--max-tokens", "100"];
        (int c1, string gpu1, string e1) = CliProcess.Run([.. args, "--device", "cuda"]);
        (int c2, string gpu2, _) = CliProcess.Run([.. args, "--device", "cuda"]);
        (int c3, string cpu, _) = CliProcess.Run([.. args, "--device", "cpu"]);
        Assert.True(c1 == 0 && c2 == 0 && c3 == 0, e1);
        Assert.Equal(gpu1, gpu2);
        // The GPU samples on the device with the CPU sampler's random numbers and algorithm: the same story, unless a
        // random number fell within float rounding of a token boundary (about 1e-5 a token here).
        Assert.Equal(cpu, gpu1);
        Assert.NotEqual(TestPaths.Stories260KGreedyReference()[..Math.Min(200, cpu.Length)], cpu[..Math.Min(200, cpu.Length)]);
    }

    [Theory]
    [InlineData("all", "bf16")]
    [InlineData("mlp,head", "f32")]
    [InlineData("none", "f16")]
    public void CudaDevice_CompressedStories260K_TensorsAndKvCache_GreedyTextIsLlama2cReference(string tensors, string kv)
    {
        if (CudaUnavailable.Value is { } reason) Assert.Skip("no usable CUDA GPU: " + reason);
        if (!File.Exists(TestPaths.Stories260KBin)) Assert.Skip("stories260K not present");
        string dir = TestPaths.NewTempDir();
        try
        {
            string packed = Path.Combine(dir, "stories260K.fixed.codecllm.safetensors");
            (int c0, _, string e0) = CliProcess.Run("compress", TestPaths.Stories260KBin, "-o", packed, "--codec", "fixed", "--tokenizer", TestPaths.Stories260KTokenizer);
            Assert.True(c0 == 0, e0);
            (int code, string stdout, string stderr) = CliProcess.Run("run", "--model", packed, "--device", "cuda", "--temperature", "0",
                "--tensors", tensors, "--kv-cache", kv, "--max-tokens", "40");
            Assert.True(code == 0, stderr);
            // Compressed weights decode bit-exactly, so an f32 cache gives the reference; a 16-bit cache may drift.
            if (kv == "f32") Assert.StartsWith(stdout.TrimEnd('\n'), TestPaths.Stories260KGreedyReference());
            else Assert.StartsWith("Once upon a time", stdout);
            // stories260K is F32: the GPU decoders are BF16-only, so its fixed tensors are decoded at load and the
            // report has no CompressedWeights category; it must still report the peak and the device's usage.
            Assert.Contains("peak allocated", stderr);
            Assert.Contains("device used at peak", stderr);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void UnknownTensorGroup_IsOneClearError()
    {
        (int code, string stdout, string stderr) = CliProcess.Run("run", "--model", TestPaths.Stories260KBin, "--tensors", "attn,bogus");
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("bogus", stderr);
    }

    [Fact]
    public void Stories260K_GreedyTextOnStdout_StatsOnStderr()
    {
        (int code, string stdout, string stderr) = CliProcess.Run("run", "--model", TestPaths.Stories260KBin, "--max-tokens", "30", "--temperature", "0");
        Assert.True(code == 0, stderr);
        // The first words of llama2.c's reference greedy output (stories260K.md).
        Assert.StartsWith("Once upon a time, there was a little girl named Lily.", stdout);
        Assert.Contains("generated 30 tokens", stderr);
    }
}
