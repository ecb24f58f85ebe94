using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using CodecLlm.Tests.Chat;
using CodecLlm.Tests.Cli;

namespace CodecLlm.Tests.Server;

/// <summary>`codecllm serve` and `codecllm loadtest` as real processes.</summary>
public partial class ServeCommandTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [GeneratedRegex(@"listening on (http://\S+)")]
    private static partial Regex Listening();

    /// <summary>Starts `codecllm serve ARGS --port 0` and waits until it is ready; returns the process and its URL.</summary>
    private static async Task<(Process Serve, Uri Url)> StartServe(params string[] args)
    {
        ProcessStartInfo psi = new("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string a in new[] { Path.Combine(AppContext.BaseDirectory, "CodecLlm.Cli.dll"), "serve", "--port", "0" }.Concat(args))
            psi.ArgumentList.Add(a);
        Process serve = Process.Start(psi)!;
        Uri? url = null;
        Stopwatch clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            string? line = await serve.StandardError.ReadLineAsync(Ct);
            Assert.True(line != null, "serve exited before it was ready");
            if (Listening().Match(line) is { Success: true } m) url = new Uri(m.Groups[1].Value);
            if (line.Contains("codecllm: ready")) break;
        }
        Assert.NotNull(url);
        return (serve, url);
    }

    private static async Task Stop(Process serve)
    {
        serve.Kill(entireProcessTree: true);
        await serve.WaitForExitAsync(CancellationToken.None);
        serve.Dispose();
    }

    [Fact]
    public async Task Serve_AnswersRequests_AndLoadTestAgainstItHasNoErrors()
    {
        (Process serve, Uri url) = await StartServe("--model", TestPaths.Stories260KGguf, "--parallel", "2");
        try
        {
            using HttpClient http = new() { BaseAddress = url };
            (HttpStatusCode status, _) = await ServerHttp.GetJsonAsync(http, "/health", Ct);
            Assert.Equal(HttpStatusCode.OK, status);
            (status, JsonElement body) = await ServerHttp.PostJsonAsync(http, "/v1/completions", """{"prompt": "", "max_tokens": 30, "temperature": 0}""", Ct);
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.StartsWith(body.GetProperty("choices")[0].GetProperty("text").GetString()!, TestPaths.Stories260KGreedyReference());

            (int exit, string stdout, string stderr) = CliProcess.Run("loadtest", "--url", url.ToString(), "--clients", "2", "--seconds", "1", "--max-tokens", "8");
            Assert.True(exit == 0, stderr + stdout);
            Assert.Contains("errors 0", stdout);
            Assert.Matches(@"latency p50 [\d.]+ ms, p99 [\d.]+ ms", stdout);
        }
        finally
        {
            await Stop(serve);
        }
    }

    /// <summary>
    /// `serve --device cuda --batching`: concurrent greedy completions share the CUDA session's batched decode steps and
    /// each still gives llama2.c's published stories260K output (as long as its own max_tokens).
    /// </summary>
    [Fact]
    public async Task Serve_CudaBatching_ConcurrentGreedyCompletionsGiveTheReferenceText()
    {
        Backends.Cuda.GpuTest.Context();
        (Process serve, Uri url) = await StartServe("--model", TestPaths.Stories260KBin, "--device", "cuda", "--batching", "--parallel", "4");
        try
        {
            using HttpClient http = new() { BaseAddress = url, Timeout = TimeSpan.FromSeconds(60) };
            string reference = TestPaths.Stories260KGreedyReference();
            string[] texts = await Task.WhenAll(new[] { 12, 24, 36, 48 }.Select(async n =>
            {
                (HttpStatusCode status, JsonElement body) = await ServerHttp.PostJsonAsync(http, "/v1/completions", $$"""{"prompt": "", "max_tokens": {{n}}, "temperature": 0}""", Ct);
                Assert.Equal(HttpStatusCode.OK, status);
                return body.GetProperty("choices")[0].GetProperty("text").GetString()!;
            }));
            foreach (string t in texts)
            {
                Assert.False(string.IsNullOrEmpty(t));
                Assert.StartsWith(t, reference);
            }
            Assert.True(texts.Distinct().Count() == 4, "the completions of 12..48 tokens should differ in length");
        }
        finally
        {
            await Stop(serve);
        }
    }

    [Fact]
    public async Task Serve_StopsCleanlyOnSigterm()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "SIGTERM is POSIX");
        (Process started, _) = await StartServe("--model", TestPaths.Stories260KBin);
        using Process serve = started;
        try
        {
            using (Process kill = Process.Start("kill", ["-TERM", serve.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!)
                await kill.WaitForExitAsync(Ct);
            using CancellationTokenSource timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(20));
            await serve.WaitForExitAsync(timeout.Token);
            Assert.Equal(0, serve.ExitCode);
            Assert.Contains("codecllm: stopping", await serve.StandardError.ReadToEndAsync(Ct));
        }
        finally
        {
            if (!serve.HasExited) serve.Kill(entireProcessTree: true);
        }
    }

    [Fact]
    public void Serve_MissingModel_IsOneLineError()
    {
        (int exit, _, string stderr) = CliProcess.Run("serve", "--model", "/nonexistent/model.gguf", "--port", "0");
        Assert.Equal(1, exit);
        Assert.Single(stderr.Trim().Split('\n'), l => l.StartsWith("error:", StringComparison.Ordinal));
        Assert.Contains("not found", stderr);
    }

    [Fact]
    public void LoadTest_RefusesRemoteUrls()
    {
        (int exit, _, string stderr) = CliProcess.Run("loadtest", "--url", "http://192.0.2.10:8080", "--seconds", "1");
        Assert.Equal(1, exit);
        Assert.StartsWith("error:", stderr.Trim());
        Assert.Contains("loopback", stderr);
    }
}
