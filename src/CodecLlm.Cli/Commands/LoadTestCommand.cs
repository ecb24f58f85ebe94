using System.CommandLine;
using CodecLlm.Model;
using CodecLlm.Server.LoadTest;

namespace CodecLlm.Cli.Commands;

/// <summary>
/// `codecllm loadtest`: a bounded load test of a local `codecllm serve` (loopback URLs only). Prints
/// requests/s, p50/p99 latency and the error count; exits 1 when any request failed.
/// </summary>
public static class LoadTestCommand
{
    public static Command Create()
    {
        Option<string> url = new("--url") { Description = "Server base URL, e.g. http://127.0.0.1:8080 (loopback only)", Required = true };
        Option<int> clients = new("--clients") { Description = "Concurrent clients, each sending requests back to back", DefaultValueFactory = _ => 4 };
        Option<int> seconds = new("--seconds") { Description = "How long to run (1-600)", DefaultValueFactory = _ => 10 };
        Option<int> maxTokens = new("--max-tokens") { Description = "max_tokens of each request", DefaultValueFactory = _ => 32 };
        Option<string> prompt = new("--prompt") { Description = "The user message each request sends", DefaultValueFactory = _ => "Once upon a time" };
        Option<string?> apiKey = new("--api-key") { Description = "Bearer key, when the server needs one" };

        Command cmd = new("loadtest", "Load-test a local codecllm server: requests/s, p50/p99 latency, errors");
        foreach (Option o in new Option[] { url, clients, seconds, maxTokens, prompt, apiKey })
            cmd.Options.Add(o);

        cmd.SetAction(async (ParseResult pr, CancellationToken ct) =>
        {
            if (!Uri.TryCreate(pr.GetValue(url), UriKind.Absolute, out Uri? baseUrl) || baseUrl.Scheme is not ("http" or "https"))
                throw new CodecLlmException($"--url '{pr.GetValue(url)}' is not an http(s) URL");
            LoadTestOptions options = new()
            {
                BaseUrl = baseUrl,
                Clients = pr.GetValue(clients),
                Duration = TimeSpan.FromSeconds(pr.GetValue(seconds)),
                MaxTokens = pr.GetValue(maxTokens),
                Prompt = pr.GetValue(prompt)!,
                ApiKey = pr.GetValue(apiKey),
            };

            LoadTestReport report;
            try
            {
                report = await LoadTestRunner.RunAsync(options, ct);
            }
            catch (ArgumentException e)
            {
                throw new CodecLlmException(e.Message);
            }

            Console.Out.WriteLine(LoadTestRunner.Format(options, report));
            return report.Errors == 0 && report.Requests > 0 ? 0 : 1;
        });
        return cmd;
    }
}
