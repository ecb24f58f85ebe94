using CodecLlm.Backends.Cuda;

namespace CodecLlm.Tests.Backends.Cuda;

/// <summary>
/// How many positions' key and value rows the decode attention stages in shared memory (no GPU needed). Expected values
/// counted by hand: a row pair takes 2 * (head_dim * element bytes + 16) bytes, the stage at most 96 KiB, and the
/// kernel's other dynamic shared memory 4 * (3 * head_dim + 2048 + max positions) bytes plus 2 KiB kept for its static part
/// must fit the device's 232,448 bytes (an H100's opt-in maximum per block).
/// </summary>
public class AttentionStageTests
{
    private const int H100 = 232448;

    [Theory]
    [InlineData(0, 64, 2048, 180)]     // f32: 98304 / 544 = 180.7
    [InlineData(2, 64, 2048, 341)]     // bf16: 98304 / 288 = 341.3
    [InlineData(1, 64, 2048, 341)]     // f16, as bf16
    [InlineData(0, 128, 4096, 93)]     // 98304 / 1056 = 93.1
    [InlineData(0, 64, 160, 160)]      // a short context: every position
    [InlineData(0, 64, 50000, 39)]     // (232448 - 2048 - 4 * 52240) / 544 = 21440 / 544 = 39.4
    [InlineData(0, 64, 55000, 2)]      // 1440 / 544
    [InlineData(0, 64, 57000, 0)]      // nothing left (the session refuses such a context anyway)
    public void StageRowsFitTheBudget(int kvType, int headDim, int maxPositions, int expected)
    {
        Assert.Equal(expected, CudaOps.AttentionStageRows(H100, kvType, headDim, maxPositions));
    }
}
