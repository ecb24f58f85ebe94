using System.CommandLine;
using System.Diagnostics;
using CodecLlm.Chat;
using CodecLlm.Engine;
using CodecLlm.Model;
using Microsoft.Extensions.AI;

namespace CodecLlm.Cli.Commands;

/// <summary>
/// `codecllm chat`: a conversation on the terminal. Each line of stdin is a user message; the assistant's reply streams
/// to stdout followed by a newline (nothing else goes there; a reply may itself hold newlines) and the conversation so
/// far, rendered by the model's chat template, is the next prompt. The session keeps its KV cache between turns
/// (prompt caching), so a turn runs only what it adds. `/reset` starts a new conversation, `/exit` (or the end of stdin)
/// ends, Ctrl+C stops (exit code 130). When a turn would leave no room for its reply (--max-tokens, at most half the
/// context), the oldest exchanges are dropped until the conversation fills at most half the context (the system
/// message stays), so that later turns find it in the cache again. A message that cannot be answered is one error line
/// on stderr; the conversation goes on without it and the exit code is 1. Per-turn statistics go to stderr.
/// </summary>
public static class ChatCommand
{
    public static Command Create()
    {
        Option<string> model = new("--model") { Description = "Model file or directory (llama2.c .bin, GGUF, HF directory, .codecllm)", Required = true };
        Option<string?> tokenizer = new("--tokenizer") { Description = "Tokenizer file (default: found beside the model)" };
        Option<string?> system = new("--system") { Description = "A system message that starts the conversation" };
        SamplingCliOptions sampling = new("Most tokens a reply");
        Option<string> device = new("--device") { Description = "cpu or cuda", DefaultValueFactory = _ => "cpu" };
        SessionCliOptions sessionCli = new("KV cache length (default: the model's maximum)");
        Option<bool> noPromptCache = new("--no-prompt-cache") { Description = "Run the whole conversation every turn (default: only what the turn adds)" };
        CudaCliOptions gpu = new();
        device.AcceptOnlyFromAmong([.. InferenceBackends.Devices]);

        Command cmd = new("chat", "Chat with a model on the terminal (one user message a line of stdin)");
        foreach (Option o in new Option[] { model, tokenizer, system })
            cmd.Options.Add(o);
        sampling.AddTo(cmd);
        cmd.Options.Add(device);
        sessionCli.AddTo(cmd);
        cmd.Options.Add(noPromptCache);
        gpu.AddTo(cmd);

        cmd.SetAction(async (ParseResult pr, CancellationToken ct) =>
        {
            ChatOptions options = sampling.Chat(pr);
            SessionOptions sessionOptions = sessionCli.Session(pr, gpu.KvCacheType(pr));
            IInferenceBackend backend = gpu.CreateBackend(pr.GetValue(device)!, pr);
            using IDisposable? ownedBackend = backend as IDisposable;
            using CodecLlmChatClient client = await CodecLlmChatClient.LoadAsync(pr.GetValue(model)!, new CodecLlmChatClientOptions
            {
                Backend = backend,
                TokenizerPath = pr.GetValue(tokenizer),
                PromptCache = !pr.GetValue(noPromptCache),
                Session = sessionOptions,
            }, null, ct);
            CodecLlmModelInfo info = client.ModelInfo;
            bool interactive = !Console.IsInputRedirected;
            Console.Error.WriteLine($"codecllm: chat with '{info.ModelId}' ({info.Format}, {info.Backend}, context {info.ContextLength}, " +
                                    (info.HasChatTemplate ? "chat template from the model" : "no chat template: plain fallback") +
                                    (interactive ? "); /reset starts over, /exit or Ctrl+D ends" : ")"));

            string? systemText = pr.GetValue(system);
            List<ChatMessage> history = Start(systemText);
            TextWriter stdout = Console.Out;
            int failures = 0;
            while (!ct.IsCancellationRequested)
            {
                if (interactive) Console.Error.Write("> ");
                // Console.In's reads block (they ignore a token): read on the thread pool so that Ctrl+C ends the wait.
                string? line = await Task.Run(Console.In.ReadLine, CancellationToken.None).WaitAsync(ct);
                string command = line?.Trim() ?? "/exit";
                if (command == "/exit") break;
                if (command.Length == 0) continue;
                if (command == "/reset")
                {
                    history = Start(systemText);
                    Console.Error.WriteLine("codecllm: new conversation");
                    continue;
                }

                history.Add(new ChatMessage(ChatRole.User, line));
                Stopwatch clock = Stopwatch.StartNew();
                List<ChatResponseUpdate> updates = [];
                try
                {
                    List<ChatMessage> kept = Fit(client, history, options);  // the history itself is kept when the message cannot fit
                    if (kept.Count < history.Count)
                        Console.Error.WriteLine($"codecllm: the conversation outgrew the context of {info.ContextLength}: dropped its {history.Count - kept.Count} oldest messages");
                    history = kept;
                    await foreach (ChatResponseUpdate u in client.GetStreamingResponseAsync(history, options, ct))
                    {
                        stdout.Write(u.Text);
                        stdout.Flush();
                        updates.Add(u);
                    }
                }
                catch (CodecLlmException e) when (updates.Count == 0)
                {
                    // A message that cannot be answered (too long, refused by the template): said on stderr, the conversation goes on without it.
                    Console.Error.WriteLine($"error: {e.Message}");
                    history.RemoveAt(history.Count - 1);
                    failures++;
                    continue;
                }
                stdout.WriteLine();
                stdout.Flush();
                ChatResponse response = updates.ToChatResponse();
                history.Add(new ChatMessage(ChatRole.Assistant, response.Text));
                UsageDetails? usage = response.Usage;
                Console.Error.WriteLine($"[{info.Backend}] prompt {usage?.InputTokenCount} tokens ({usage?.CachedInputTokenCount} cached), reply {usage?.OutputTokenCount} tokens " +
                                        $"in {clock.Elapsed.TotalSeconds:F2} s, stop: {(response.FinishReason == ChatFinishReason.Length ? "length" : "stop")}");
            }
            ct.ThrowIfCancellationRequested();  // Ctrl+C: "cancelled", exit code 130
            return failures == 0 ? 0 : 1;  // every message that got no answer said why on stderr
        });
        return cmd;
    }

    private static List<ChatMessage> Start(string? system) => system is { Length: > 0 } ? [new ChatMessage(ChatRole.System, system)] : [];

    /// <summary>
    /// The conversation as the next prompt may hold it: the whole history when its prompt leaves room for the reply
    /// (--max-tokens, at most half the context); otherwise a copy without its oldest exchanges (a user message and its
    /// reply, so that roles still alternate; the system message stays) until the prompt fills at most half the context,
    /// so that the following turns find it in the cache again rather than shift by one exchange each. The newest user
    /// message not fitting (with the system message and one reply token) is an error, and the history is left as it was.
    /// </summary>
    private static List<ChatMessage> Fit(CodecLlmChatClient client, List<ChatMessage> history, ChatOptions options)
    {
        int context = client.ModelInfo.ContextLength, reserve = Math.Clamp(options.MaxOutputTokens ?? 1, 1, Math.Max(1, context / 2));
        int Tokens(List<ChatMessage> h) => client.CountPromptTokens(h, options);
        if (Tokens(history) + reserve <= context) return history;
        List<ChatMessage> kept = [.. history];
        int first = kept.Count > 0 && kept[0].Role == ChatRole.System ? 1 : 0;
        while (kept.Count - first > 1 && Tokens(kept) > context / 2) kept.RemoveRange(first, Math.Min(2, kept.Count - first - 1));
        if (Tokens(kept) + 1 > context)
            throw new CodecLlmException($"the message does not fit the context of {context} tokens (with the system message)");
        return kept;
    }
}
