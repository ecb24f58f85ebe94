using System.CommandLine;
using CodecLlm.Engine;
using CodecLlm.Model;

namespace CodecLlm.Cli.Commands;

/// <summary>
/// The session options `run`, `chat` and `serve` share: --threads and --context, checked (a value below 1 is one error
/// line, not an internal error from the backend), as <see cref="SessionOptions"/>.
/// </summary>
internal sealed class SessionCliOptions(string contextDescription)
{
    public Option<int?> Threads { get; } = new("--threads") { Description = "CPU threads (default: all cores)" };

    public Option<int?> Context { get; } = new("--context") { Description = contextDescription };

    public void AddTo(Command cmd)
    {
        cmd.Options.Add(Threads);
        cmd.Options.Add(Context);
    }

    /// <summary>The session options with <paramref name="kvCacheType"/>; --threads or --context below 1 is a <see cref="CodecLlmException"/>.</summary>
    public SessionOptions Session(ParseResult pr, string kvCacheType)
    {
        int? threads = pr.GetValue(Threads), context = pr.GetValue(Context);
        if (threads is < 1) throw new CodecLlmException($"--threads must be ≥ 1, not {threads}");
        if (context is < 1) throw new CodecLlmException($"--context must be ≥ 1, not {context}");
        return new SessionOptions { Threads = threads, MaxSequenceLength = context, KvCacheType = kvCacheType };
    }
}
