using System.CommandLine;
using System.Diagnostics;
using CodecLlm.Engine;
using CodecLlm.Formats;
using CodecLlm.Model;
using CodecLlm.Tokenization;

namespace CodecLlm.Cli.Commands;

/// <summary>
/// `codecllm run`: generate text from a prompt. Only the generated text goes to stdout (streamed, flushed per
/// token); statistics go to stderr.
/// </summary>
public static class RunCommand
{
    public static Command Create()
    {
        Option<string> model = new("--model") { Description = "Model file or directory (llama2.c .bin, GGUF, HF directory, .codecllm)", Required = true };
        Option<string> prompt = new("--prompt") { Description = "Prompt text (empty: start from BOS alone)", DefaultValueFactory = _ => "" };
        Option<string?> tokenizer = new("--tokenizer") { Description = "Tokenizer file (default: found beside the model)" };
        SamplingCliOptions sampling = new("Most tokens to generate");
        Option<string> device = new("--device") { Description = "cpu or cuda", DefaultValueFactory = _ => "cpu" };
        SessionCliOptions sessionCli = new("KV cache length (default: the model's maximum)");
        CudaCliOptions gpu = new();
        device.AcceptOnlyFromAmong([.. InferenceBackends.Devices]);

        Command cmd = new("run", "Generate text from a prompt");
        foreach (Option o in new Option[] { model, prompt, tokenizer })
            cmd.Options.Add(o);
        sampling.AddTo(cmd);
        cmd.Options.Add(device);
        sessionCli.AddTo(cmd);
        gpu.AddTo(cmd);

        cmd.SetAction(async (ParseResult pr, CancellationToken ct) =>
        {
            GenerationOptions options = sampling.Generation(pr);
            SessionOptions sessionOptions = sessionCli.Session(pr, gpu.KvCacheType(pr));
            IInferenceBackend backend = gpu.CreateBackend(pr.GetValue(device)!, pr);
            using IDisposable? ownedBackend = backend as IDisposable;
            using LoadedModel loaded = LoadModel(pr.GetValue(model)!, pr.GetValue(tokenizer));
            ITokenizer tok = loaded.RequireTokenizer();
            using IInferenceSession session = backend.CreateSession(loaded, sessionOptions);

            GenerationResult result = new();
            TextWriter stdout = Console.Out;
            await foreach (GeneratedToken t in Generator.GenerateAsync(session, tok, pr.GetValue(prompt)!, options, ct, result))
            {
                if (t.Text.Length == 0) continue;
                stdout.Write(t.Text);
                stdout.Flush();
            }
            stdout.WriteLine();
            stdout.Flush();
            PrintStats(result, session);
            return 0;
        });
        return cmd;
    }

    /// <summary>Loads any supported model (compressed, GGUF, HF directory, llama2.c) through <see cref="ModelLoader"/>.</summary>
    internal static LoadedModel LoadModel(string path, string? tokenizerPath) =>
        ModelLoader.Load(path, new ModelLoadOptions { TokenizerPath = tokenizerPath });

    private static void PrintStats(GenerationResult result, IInferenceSession session)
    {
        GenerationStats s = result.Stats!;
        long peak = Process.GetCurrentProcess().PeakWorkingSet64;
        Console.Error.WriteLine(
            $"[{session.BackendName}] prompt {s.PromptTokens} tokens ({s.PrefillTokensPerSecond:F1} tok/s), generated {s.GeneratedTokens} tokens " +
            $"({s.DecodeTokensPerSecond:F1} tok/s), stop: {s.FinishReason.ToString().ToLowerInvariant()}, seed {result.Seed}, peak memory {peak / (1024.0 * 1024):F0} MiB");
        if (session is Backends.Cuda.CudaSession gpu)
            Console.Error.WriteLine($"[cuda] {gpu.Context.DeviceName}: {gpu.Context.Allocator.Report()}");
    }
}
