using CodecLlm.Engine;

namespace CodecLlm.Tests.Engine;

/// <summary>Batched decode's argument checks (no GPU needed).</summary>
public class BatchArgumentsTests
{
    private const int Vocab = 100, Context = 50;

    private static ArgumentOutOfRangeException Bad(int[] tokens, int[] positions, int next, int logits, int maxBatch = 4) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => BatchArguments.Check(tokens, positions, next, logits, maxBatch, Vocab, Context));

    private static void AssertOneLine(Exception e, string contains)
    {
        Assert.Contains(contains, e.Message);
        Assert.DoesNotContain('\n', e.Message.Split(" (Parameter")[0]);
    }

    [Fact]
    public void ValidStepsPass()
    {
        BatchArguments.Check([1, 2, 99], [0, 7, 49], 3, 0, 4, Vocab, Context);
        BatchArguments.Check([5], [3], 1, Vocab, 1, Vocab, Context);
        BatchArguments.Check([0, 0, 0, 0, 0, 0, 0, 0], new int[8], 8, 8 * Vocab, 8, Vocab, Context);
    }

    [Fact]
    public void BatchSizeMustBeOneToMaxBatch()
    {
        AssertOneLine(Bad([], [], 0, 0), "0 tokens");
        AssertOneLine(Bad([1, 2, 3, 4, 5], [0, 0, 0, 0, 0], 5, 0), "1..4");
    }

    [Fact]
    public void SpansMustMatchTheBatch()
    {
        AssertOneLine(Bad([1, 2], [0], 2, 0), "1 positions for 2 tokens");
        AssertOneLine(Bad([1, 2], [0, 0], 3, 0), "next has 3 elements");
        AssertOneLine(Bad([1, 2], [0, 0], 2, Vocab), $"need 2 x {Vocab}");
    }

    [Fact]
    public void TokensAndPositionsMustBeInRange()
    {
        AssertOneLine(Bad([1, Vocab], [0, 0], 2, 0), $"sequence 1: token id {Vocab} outside the vocabulary");
        AssertOneLine(Bad([-1, 1], [0, 0], 2, 0), "sequence 0: token id -1");
        AssertOneLine(Bad([1, 2, 3], [0, 1, Context], 3, 0), $"sequence 2: position {Context} outside the context of {Context}");
        AssertOneLine(Bad([1], [-1], 1, 0), "position -1");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    [InlineData(9)]
    public void MaxBatchOutsideOneToEightIsRejected(int maxBatch)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => BatchArguments.CheckMaxBatch(maxBatch));
        AssertOneLine(e, $"MaxBatch {maxBatch} outside 1..8");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(8)]
    public void MaxBatchOneToEightIsAccepted(int maxBatch) => BatchArguments.CheckMaxBatch(maxBatch);
}
