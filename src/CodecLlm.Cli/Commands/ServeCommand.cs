using System.CommandLine;
using System.Net;
using System.Runtime.InteropServices;
using CodecLlm.Chat;
using CodecLlm.Engine;
using CodecLlm.Model;
using CodecLlm.Server;

namespace CodecLlm.Cli.Commands;

/// <summary>
/// `codecllm serve`: an OpenAI-compatible HTTP server (GET /health, GET /v1/models, POST /v1/chat/completions,
/// POST /v1/completions). It listens at once and answers 503 until the model has loaded; Ctrl+C stops it.
/// Status lines go to stderr.
/// </summary>
public static class ServeCommand
{
    public static Command Create()
    {
        Option<string> model = new("--model") { Description = "Model file or directory (llama2.c .bin, GGUF, HF directory, .codecllm)", Required = true };
        Option<string> host = new("--host") { Description = "Address to listen on (loopback by default)", DefaultValueFactory = _ => "127.0.0.1" };
        Option<int> port = new("--port") { Description = "TCP port (0 = any free port)", DefaultValueFactory = _ => 8080 };
        Option<string?> apiKey = new("--api-key") { Description = "Require 'Authorization: Bearer KEY' on /v1/* requests" };
        Option<string> device = new("--device") { Description = "cpu or cuda", DefaultValueFactory = _ => "cpu" };
        Option<string?> tokenizer = new("--tokenizer") { Description = "Tokenizer file (default: found beside the model)" };
        Option<string?> modelId = new("--model-id") { Description = "Model name clients use (default: the file name)" };
        Option<int> parallel = new("--parallel") { Description = "Requests generating at once, each with its own KV cache; the rest queue", DefaultValueFactory = _ => 1 };
        Option<bool> batching = new("--batching") { Description = "Parallel requests (2 to 8) share batched decode steps instead of running in independent sessions" };
        Option<bool> noPromptCache = new("--no-prompt-cache") { Description = "Run every request's whole prompt (default: a session's cache keeps its last conversation and a request runs only what its prompt adds)" };
        SessionCliOptions sessionCli = new("KV cache length per session (default: the model's maximum)");
        CudaCliOptions gpu = new();
        device.AcceptOnlyFromAmong([.. InferenceBackends.Devices]);

        Command cmd = new("serve", "Serve the model over an OpenAI-compatible HTTP API");
        foreach (Option o in new Option[] { model, host, port, apiKey, device, tokenizer, modelId, parallel, batching })
            cmd.Options.Add(o);
        sessionCli.AddTo(cmd);
        cmd.Options.Add(noPromptCache);
        gpu.AddTo(cmd);

        cmd.SetAction(async (ParseResult pr, CancellationToken ct) =>
        {
            int parallelRequests = pr.GetValue(parallel);
            if (parallelRequests < 1 || parallelRequests > 64) throw new CodecLlmException("--parallel must be between 1 and 64");
            if (pr.GetValue(batching) && parallelRequests is < 2 or > BatchArguments.MaxBatch)
                throw new CodecLlmException($"--batching needs --parallel 2 to {BatchArguments.MaxBatch} (requests decoded together), not {parallelRequests}");
            int portNumber = pr.GetValue(port);
            if (portNumber < 0 || portNumber > 65535) throw new CodecLlmException("--port must be between 0 and 65535");
            string hostName = pr.GetValue(host)!;
            if (!hostName.Equals("localhost", StringComparison.OrdinalIgnoreCase) && !IPAddress.TryParse(hostName, out _))
                throw new CodecLlmException($"--host '{hostName}' is not an IP address or 'localhost'");

            string path = pr.GetValue(model)!;
            IInferenceBackend backend = gpu.CreateBackend(pr.GetValue(device)!, pr);
            using IDisposable? ownedBackend = backend as IDisposable; // released after the server (declared before it)
            CodecLlmChatClientOptions clientOptions = new()
            {
                Device = pr.GetValue(device)!,
                Backend = backend,
                TokenizerPath = pr.GetValue(tokenizer),
                ModelId = pr.GetValue(modelId),
                MaxConcurrentRequests = parallelRequests,
                BatchDecode = pr.GetValue(batching),
                PromptCache = !pr.GetValue(noPromptCache),
                Session = sessionCli.Session(pr, gpu.KvCacheType(pr)),
            };
            // Ctrl+C cancels ct (System.CommandLine); SIGTERM (service managers, `kill`) is a normal stop too;
            // registered before anything is printed, so a signal that follows "ready" is never lost.
            using CancellationTokenSource stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, signal =>
            {
                signal.Cancel = true;
                stop.Cancel();
            });
            CodecLlmServerOptions serverOptions = new() { Host = hostName, Port = portNumber, ApiKey = pr.GetValue(apiKey) };

            await using CodecLlmServer server = await CodecLlmServer.StartAsync(serverOptions,
                loadCt => CodecLlmChatClient.LoadAsync(path, clientOptions, null, loadCt), ct);
            Console.Error.WriteLine($"codecllm: listening on {server.BaseAddress} (loading {path})");
            if (serverOptions.ApiKey == null && !IPAddress.IsLoopback(hostName.Equals("localhost", StringComparison.OrdinalIgnoreCase) ? IPAddress.Loopback : IPAddress.Parse(hostName)))
                Console.Error.WriteLine("codecllm: warning: listening beyond this machine without --api-key");

            CodecLlmChatClient client = await server.Model; // a failed load ends the command with its one-line error
            CodecLlmModelInfo info = client.ModelInfo;
            Console.Error.WriteLine($"codecllm: ready: model '{info.ModelId}' ({info.Format}, {info.Backend}, context {info.ContextLength}, " +
                                    (info.HasChatTemplate ? "chat template from the model" : "no chat template: plain fallback") + ")");
            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token);
            }
            catch (OperationCanceledException)
            {
                Console.Error.WriteLine("codecllm: stopping");
            }

            return 0;
        });
        return cmd;
    }
}
