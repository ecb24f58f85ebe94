using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;

namespace CodecLlm.Server.LoadTest;

/// <summary>What to send and for how long.</summary>
public sealed record LoadTestOptions
{
    public required Uri BaseUrl { get; init; }

    public int Clients { get; init; } = 4;

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    public int MaxTokens { get; init; } = 32;

    public string Prompt { get; init; } = "Once upon a time";

    public string? ApiKey { get; init; }
}

/// <summary>Requests per second, latency percentiles and the error count of a load test.</summary>
public sealed record LoadTestReport(int Requests, int Errors, TimeSpan Elapsed, double P50Ms, double P99Ms, long CompletionTokens, string? FirstError)
{
    public double RequestsPerSecond => Requests / Elapsed.TotalSeconds;

    public double TokensPerSecond => CompletionTokens / Elapsed.TotalSeconds;
}

/// <summary>
/// A bounded loopback load test: N clients each send greedy /v1/chat/completions requests back to back
/// until the duration is over; every non-200 answer or failed connection counts as an error. Only loopback
/// URLs are accepted, so it cannot be pointed at someone else's server.
/// </summary>
public static class LoadTestRunner
{
    public static async Task<LoadTestReport> RunAsync(LoadTestOptions options, CancellationToken cancellationToken = default)
    {
        if (!IsLoopback(options.BaseUrl)) throw new ArgumentException($"--url {options.BaseUrl} is not a loopback address (127.0.0.1, ::1, localhost)");
        if (options.Clients < 1 || options.Clients > 256) throw new ArgumentException("--clients must be between 1 and 256");
        if (options.Duration <= TimeSpan.Zero || options.Duration > TimeSpan.FromMinutes(10)) throw new ArgumentException("--seconds must be between 1 and 600");

        using HttpClient http = new() { BaseAddress = options.BaseUrl, Timeout = TimeSpan.FromMinutes(2) };
        if (options.ApiKey != null) http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", options.ApiKey);
        byte[] body = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["messages"] = new[] { new Dictionary<string, string> { ["role"] = "user", ["content"] = options.Prompt } },
            ["max_tokens"] = options.MaxTokens,
            ["temperature"] = 0,
        });

        List<double> latencies = [];
        int errors = 0;
        long tokens = 0;
        string? firstError = null;
        Stopwatch total = Stopwatch.StartNew();
        DateTime deadline = DateTime.UtcNow + options.Duration;

        async Task Client()
        {
            while (DateTime.UtcNow < deadline && !cancellationToken.IsCancellationRequested)
            {
                Stopwatch one = Stopwatch.StartNew();
                string? error = null;
                long used = 0;
                try
                {
                    using ByteArrayContent content = new(body);
                    content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
                    using HttpResponseMessage response = await http.PostAsync("v1/chat/completions", content, cancellationToken);
                    string text = await response.Content.ReadAsStringAsync(cancellationToken);
                    if (response.StatusCode != HttpStatusCode.OK) error = $"HTTP {(int)response.StatusCode}: {text}";
                    else used = JsonDocument.Parse(text).RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt64();
                }
                catch (Exception e) when (e is HttpRequestException or JsonException or KeyNotFoundException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
                {
                    error = e.Message;
                }

                if (error != null) await Task.Delay(10, cancellationToken); // no busy loop against a server that is down

                lock (latencies)
                {
                    if (error != null)
                    {
                        errors++;
                        firstError ??= error;
                    }
                    else
                    {
                        latencies.Add(one.Elapsed.TotalMilliseconds);
                        tokens += used;
                    }
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, options.Clients).Select(_ => Task.Run(Client, cancellationToken)));
        TimeSpan elapsed = total.Elapsed;
        latencies.Sort();
        return new LoadTestReport(latencies.Count + errors, errors, elapsed, Percentile(latencies, 0.50), Percentile(latencies, 0.99), tokens, firstError);
    }

    /// <summary>Nearest-rank percentile of sorted values (0 when there are none).</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double p)
    {
        if (sorted.Count == 0) return 0;
        int rank = (int)Math.Ceiling(p * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }

    private static bool IsLoopback(Uri url) =>
        url.IsLoopback || (IPAddress.TryParse(url.Host.Trim('[', ']'), out IPAddress? ip) && IPAddress.IsLoopback(ip));

    /// <summary>The report as the lines `codecllm loadtest` prints.</summary>
    public static string Format(LoadTestOptions options, LoadTestReport r)
    {
        StringBuilder sb = new();
        sb.AppendLine($"clients {options.Clients}, {r.Elapsed.TotalSeconds:F1} s, max_tokens {options.MaxTokens}");
        sb.AppendLine($"requests {r.Requests}, {r.RequestsPerSecond:F1} requests/s, {r.TokensPerSecond:F0} completion tokens/s");
        sb.AppendLine($"latency p50 {r.P50Ms:F1} ms, p99 {r.P99Ms:F1} ms");
        sb.Append($"errors {r.Errors}");
        if (r.FirstError != null) sb.Append($" (first: {r.FirstError})");
        return sb.ToString();
    }
}
