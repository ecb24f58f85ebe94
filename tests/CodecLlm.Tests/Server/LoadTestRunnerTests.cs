using CodecLlm.Server.LoadTest;

namespace CodecLlm.Tests.Server;

public class LoadTestRunnerTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task ShortLoadTest_HasNoErrors()
    {
        LoadTestOptions options = new() { BaseUrl = fixture.Server.BaseAddress, Clients = 3, Duration = TimeSpan.FromSeconds(1.5), MaxTokens = 8 };
        LoadTestReport report = await LoadTestRunner.RunAsync(options, TestContext.Current.CancellationToken);
        Assert.Equal(0, report.Errors);
        Assert.True(report.Requests >= 3, $"only {report.Requests} requests");
        Assert.Equal(8L * report.Requests, report.CompletionTokens);
        Assert.InRange(report.P50Ms, 0.01, report.P99Ms);
        Assert.Contains("errors 0", LoadTestRunner.Format(options, report));
    }

    [Fact]
    public async Task RefusesNonLoopbackUrls()
    {
        LoadTestOptions options = new() { BaseUrl = new Uri("http://192.0.2.10:8080/"), Duration = TimeSpan.FromSeconds(1) };
        ArgumentException e = await Assert.ThrowsAsync<ArgumentException>(() => LoadTestRunner.RunAsync(options, TestContext.Current.CancellationToken));
        Assert.Contains("loopback", e.Message);
    }

    [Fact]
    public void Percentile_IsNearestRank()
    {
        double[] values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        Assert.Equal(5, LoadTestRunner.Percentile(values, 0.50));
        Assert.Equal(10, LoadTestRunner.Percentile(values, 0.99));
        Assert.Equal(0, LoadTestRunner.Percentile([], 0.5));
    }
}
