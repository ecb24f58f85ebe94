using CodecLlm.Backends.Cuda;

namespace CodecLlm.Tests.Backends.Cuda;

/// <summary>
/// The persistent raw matvec's grid (no GPU needed). Expected values worked out by hand: with `fit` blocks a block takes at
/// most per = ceil(groups / fit) groups; the balanced grid ceil(groups / per) is used when it keeps at least three quarters
/// of the fitting blocks. Unless CODECLLM_FM_BALANCED is set (a tuning switch), which these cases assume.
/// </summary>
public class PersistentGridTests
{
    [Theory]
    [InlineData(1408, 792, 704)]   // TinyLlama gate/up: per 2, 704 blocks of 2 (704 >= 594)
    [InlineData(4000, 792, 667)]   // the 32000-row heads: per 6, ceil(4000 / 6) = 667 >= 594
    [InlineData(512, 396, 396)]    // Llama-2-7B o, down: per 2 would leave 256 of 396 (< 297): every fitting block runs
    [InlineData(1536, 792, 768)]   // Llama-2-7B q/k/v: per 2, 768
    [InlineData(320, 396, 320)]    // fewer groups than blocks: one each
    [InlineData(7, 3, 3)]          // per 3: 3 blocks (3 + 3 + 1)
    [InlineData(1, 0, 1)]          // at least one block
    public void GridTakesTheFewestBlocksWithTheSameLongestShare(int groups, int fit, int expected)
    {
        Assert.SkipWhen(Environment.GetEnvironmentVariable("CODECLLM_FM_BALANCED") != null, "CODECLLM_FM_BALANCED overrides the rule");
        Assert.Equal(expected, CudaOps.PersistentGrid(groups, fit));
    }
}
