using System.Text.Json;

namespace CodecLlm.Tests.Cli;

public class BenchCommandTests
{
    [Fact]
    public void SyntheticStories260K_Json()
    {
        (int code, string stdout, string stderr) = CliProcess.Run("bench", "--device", "cpu", "--synthetic", "stories260k",
            "--prompt-tokens", "4", "--new-tokens", "8", "--json", "--bandwidth-buffer-mib", "64");
        Assert.True(code == 0, stderr);
        using JsonDocument doc = JsonDocument.Parse(stdout);
        JsonElement r = doc.RootElement;
        Assert.Equal("cpu", r.GetProperty("device").GetString());
        Assert.Equal("BF16", r.GetProperty("weights_dtype").GetString());
        Assert.True(r.GetProperty("prefill_tokens_per_second").GetDouble() > 0);
        Assert.True(r.GetProperty("decode_tokens_per_second").GetDouble() > 0);
        Assert.True(r.GetProperty("memory_bandwidth_bytes_per_second").GetDouble() > 0);
        // Weights read per token: 5 layers × (q 64·64 + k, v 32·64 each + o 64·64 + 3 × 172·64) + tied head 512·64, in BF16.
        Assert.Equal((5L * (64 * 64 + 2 * 32 * 64 + 64 * 64 + 3 * 172 * 64) + 512 * 64) * 2, r.GetProperty("weight_bytes_per_token").GetInt64());
    }

    [Fact]
    public void ModelAndSyntheticTogether_IsAnError()
    {
        (int code, _, string stderr) = CliProcess.Run("bench", "--model", TestPaths.Stories260KBin, "--synthetic", "stories260k");
        Assert.Equal(1, code);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
