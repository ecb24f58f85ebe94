using CodecLlm.Backends.Cuda;

namespace CodecLlm.Tests.Backends.Cuda;

/// <summary>The CODECLLM_* tuning variables' parsing (variables of this test's own, so no other test sees them).</summary>
public class TuningEnvironmentTests
{
    [Fact]
    public void NamesAreTheCommaListLowerCasedWithoutBlanks()
    {
        const string Var = "CODECLLM_TEST_TUNING_NAMES";
        try
        {
            Environment.SetEnvironmentVariable(Var, " QKV, o ,,Head,o");
            Assert.Equal(["head", "o", "qkv"], TuningEnvironment.Names(Var).Order());
            Environment.SetEnvironmentVariable(Var, null);
            Assert.Empty(TuningEnvironment.Names(Var));
        }
        finally
        {
            Environment.SetEnvironmentVariable(Var, null);
        }
    }

    [Theory]
    [InlineData(null, 50)]
    [InlineData("", 50)]
    [InlineData("0", 0)]
    [InlineData("100", 100)]
    [InlineData("75", 75)]
    [InlineData("101", 50)]
    [InlineData("-1", 50)]
    [InlineData("half", 50)]
    [InlineData("driver", null)]
    public void CarveoutIsAPercentageOrTheDriversChoiceElseTheFallback(string? value, int? expected) =>
        Assert.Equal(expected, TuningEnvironment.Carveout(value, 50));

    [Fact]
    public void AtLeastRejectsValuesBelowTheMinimumAndNonNumbers()
    {
        const string Var = "CODECLLM_TEST_TUNING_AT_LEAST";
        try
        {
            Environment.SetEnvironmentVariable(Var, "7");
            Assert.Equal(7, TuningEnvironment.AtLeast(Var, 1));
            Assert.Null(TuningEnvironment.AtLeast(Var, 8));
            Environment.SetEnvironmentVariable(Var, "x");
            Assert.Null(TuningEnvironment.AtLeast(Var, 0));
        }
        finally
        {
            Environment.SetEnvironmentVariable(Var, null);
        }
    }
}
