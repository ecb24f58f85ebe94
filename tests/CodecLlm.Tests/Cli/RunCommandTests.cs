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

    [Fact]
    public void CudaDevice_IsOneClearError()
    {
        (int code, string stdout, string stderr) = CliProcess.Run("run", "--model", TestPaths.Stories260KBin, "--device", "cuda");
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("CUDA", stderr);
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
