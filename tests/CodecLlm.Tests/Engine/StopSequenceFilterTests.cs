using CodecLlm.Engine;

namespace CodecLlm.Tests.Engine;

public class StopSequenceFilterTests
{
    [Fact]
    public void NoStops_PassesThrough()
    {
        StopSequenceFilter f = new([]);
        Assert.Equal("abc", f.Push("abc"));
        Assert.False(f.Stopped);
    }

    [Fact]
    public void StopSplitAcrossPushes_IsCut()
    {
        StopSequenceFilter f = new(["</s>", "User:"]);
        Assert.Equal("Hi ", f.Push("Hi <"));
        Assert.Equal("", f.Push("/"));
        Assert.Equal("", f.Push("s> more"));
        Assert.True(f.Stopped);
        Assert.Equal("", f.Flush());
    }

    [Fact]
    public void FalseStart_IsReleased()
    {
        StopSequenceFilter f = new(["User:"]);
        Assert.Equal("a", f.Push("aUs"));
        Assert.Equal("", f.Push("e")); // "Use" may still become "User:"
        Assert.Equal("Usex", f.Push("x"));
        Assert.Equal("ok", f.Push("ok"));
        Assert.Equal("", f.Flush());
    }

    [Fact]
    public void EarliestStopWins()
    {
        StopSequenceFilter f = new(["bc", "a"]);
        Assert.Equal("x", f.Push("xabc"));
    }
}
