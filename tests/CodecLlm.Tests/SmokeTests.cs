using CodecLlm.Model;
using Xunit;

namespace CodecLlm.Tests;

public class SmokeTests
{
    [Fact]
    public void DTypeSizes() => Assert.Equal(2, TensorDType.BF16.ByteSize());
}
