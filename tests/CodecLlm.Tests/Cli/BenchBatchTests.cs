namespace CodecLlm.Tests.Cli;

/// <summary>`codecllm bench --batch` and `serve --batching`: the checks that need no GPU.</summary>
public class BenchBatchTests
{
    [Fact]
    public void CpuBenchDecodesSeveralSequencesTogether()
    {
        (int code, string stdout, string stderr) = CliProcess.Run("bench", "--device", "cpu", "--synthetic", "stories260k", "--batch", "4",
            "--prompt-tokens", "8", "--new-tokens", "16", "--threads", "1", "--bandwidth-buffer-mib", "16", "--json");
        Assert.True(code == 0, stderr);
        using var doc = System.Text.Json.JsonDocument.Parse(stdout);
        System.Text.Json.JsonElement r = doc.RootElement;
        Assert.Equal(4, r.GetProperty("batch").GetInt32());
        Assert.Equal(16, r.GetProperty("new_tokens").GetInt32());
        Assert.True(r.GetProperty("decode_tokens_per_second").GetDouble() > 0);
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

    [Theory]
    [InlineData("1")]
    [InlineData("12")]
    public void ServeBatchingOutsideTwoToEightParallelIsAnError(string parallel)
    {
        (int code, _, string stderr) = CliProcess.Run("serve", "--model", TestPaths.Stories260KBin, "--port", "0", "--batching", "--parallel", parallel);
        Assert.Equal(1, code);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"--batching needs --parallel 2 to 8 (requests decoded together), not {parallel}", stderr);
    }
}
