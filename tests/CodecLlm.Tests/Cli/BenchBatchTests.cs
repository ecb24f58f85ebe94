namespace CodecLlm.Tests.Cli;

/// <summary>`codecllm bench --batch`: the checks that need no GPU.</summary>
public class BenchBatchTests
{
    [Fact]
    public void CpuBenchRejectsBatchAboveOne()
    {
        (int code, _, string stderr) = CliProcess.Run("bench", "--device", "cpu", "--synthetic", "stories260k", "--batch", "2");
        Assert.Equal(1, code);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("--batch 2: only --device cuda", stderr);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("9")]
    public void BatchOutsideOneToEightIsAnError(string batch)
    {
        (int code, _, string stderr) = CliProcess.Run("bench", "--device", "cuda", "--synthetic", "stories260k", "--batch", batch);
        Assert.Equal(1, code);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"--batch {batch}: give 1 to 8", stderr);
    }
}
