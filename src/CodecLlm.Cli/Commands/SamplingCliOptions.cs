using System.CommandLine;
using CodecLlm.Engine;
using CodecLlm.Model;
using Microsoft.Extensions.AI;

namespace CodecLlm.Cli.Commands;

/// <summary>
/// The generation options `run` and `chat` share: --max-tokens, --temperature, --top-p, --top-k and --seed, checked
/// once (a bad value is one error line), as the engine's <see cref="GenerationOptions"/> or the chat client's
/// <see cref="ChatOptions"/>.
/// </summary>
internal sealed class SamplingCliOptions(string maxTokensDescription)
{
    public Option<int> MaxTokens { get; } = new("--max-tokens") { Description = maxTokensDescription, DefaultValueFactory = _ => 256 };

    public Option<float> Temperature { get; } = new("--temperature") { Description = "Sampling temperature; 0 = greedy (deterministic)", DefaultValueFactory = _ => 0f };

    public Option<float> TopP { get; } = new("--top-p") { Description = "Nucleus sampling threshold in (0, 1]", DefaultValueFactory = _ => 1f };

    public Option<int> TopK { get; } = new("--top-k") { Description = "Sample among the K most likely tokens; 0 = all", DefaultValueFactory = _ => 0 };

    public Option<ulong?> Seed { get; } = new("--seed") { Description = "Random seed for sampling (default: random)" };

    public void AddTo(Command cmd)
    {
        foreach (Option o in new Option[] { MaxTokens, Temperature, TopP, TopK, Seed }) cmd.Options.Add(o);
    }

    /// <summary>The options as the engine takes them; a value out of range is a <see cref="CodecLlmException"/>.</summary>
    public GenerationOptions Generation(ParseResult pr)
    {
        GenerationOptions o = new()
        {
            MaxTokens = pr.GetValue(MaxTokens),
            Sampling = new SamplingOptions { Temperature = pr.GetValue(Temperature), TopP = pr.GetValue(TopP), TopK = pr.GetValue(TopK), Seed = pr.GetValue(Seed) },
        };
        SamplingOptions s = o.Sampling;
        if (o.MaxTokens < 0) throw new CodecLlmException($"--max-tokens must be ≥ 0, not {o.MaxTokens}");
        if (s.Temperature < 0) throw new CodecLlmException($"--temperature must be ≥ 0, not {s.Temperature}");
        if (!(s.TopP > 0 && s.TopP <= 1)) throw new CodecLlmException($"--top-p must be in (0, 1], not {s.TopP}");
        if (s.TopK < 0) throw new CodecLlmException($"--top-k must be ≥ 0, not {s.TopK}");
        return o;
    }

    /// <summary>The same options as the chat client takes them (checked as <see cref="Generation"/> checks them).</summary>
    public ChatOptions Chat(ParseResult pr)
    {
        GenerationOptions g = Generation(pr);
        return new ChatOptions
        {
            MaxOutputTokens = g.MaxTokens,
            Temperature = g.Sampling.Temperature,
            TopP = g.Sampling.TopP,
            TopK = g.Sampling.TopK,
            Seed = g.Sampling.Seed is ulong seed ? unchecked((long)seed) : null,
        };
    }
}
