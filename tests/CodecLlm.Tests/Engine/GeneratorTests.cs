using CodecLlm.Engine;

namespace CodecLlm.Tests.Engine;

public class GeneratorTests
{
    // Vocabulary: 0 unk, 1 BOS, 2 EOS, then pieces; 6..8 are the three bytes of "€" (E2 82 AC).
    private static readonly ByteTokenizer Tokenizer = new(
        [], [], [], "Hello"u8.ToArray(), " world"u8.ToArray(), "!"u8.ToArray(), [0xE2], [0x82], [0xAC], "END"u8.ToArray());

    private static GenerationOptions Greedy(int maxTokens = 100, params string[] stops) =>
        new() { MaxTokens = maxTokens, StopSequences = stops, Sampling = new SamplingOptions { Temperature = 0 } };

    private static async Task<(List<GeneratedToken> Tokens, GenerationResult Result)> Run(ScriptedSession session, GenerationOptions options,
        CancellationToken ct = default)
    {
        GenerationResult result = new();
        List<GeneratedToken> tokens = [];
        await foreach (GeneratedToken t in Generator.GenerateAsync(session, Tokenizer, "", options, ct, result)) tokens.Add(t);
        return (tokens, result);
    }

    [Fact]
    public async Task StopsAtEos_EmptyPromptIsBos()
    {
        // After BOS at position 0 the script says 3, 4, 5, then EOS.
        ScriptedSession session = new([3, 4, 5, 2]);
        (List<GeneratedToken> tokens, GenerationResult result) = await Run(session, Greedy(), TestContext.Current.CancellationToken);
        Assert.Equal([3, 4, 5], tokens.Select(t => t.TokenId));
        Assert.Equal("Hello world!", result.Text);
        Assert.Equal([1, 3, 4, 5], session.Fed); // the prompt (BOS), then each generated token fed back
        Assert.Equal(FinishReason.Stop, result.Stats!.FinishReason);
        Assert.Equal((1, 3), (result.Stats.PromptTokens, result.Stats.GeneratedTokens));
    }

    [Fact]
    public async Task StopsAtMaxTokens_WithoutAnExtraForward()
    {
        ScriptedSession session = new([3, 4, 5, 4, 5]);
        (List<GeneratedToken> tokens, GenerationResult result) = await Run(session, Greedy(maxTokens: 2), TestContext.Current.CancellationToken);
        Assert.Equal("Hello world", result.Text);
        Assert.Equal(2, tokens.Count);
        Assert.Equal(FinishReason.Length, result.Stats!.FinishReason);
        Assert.Equal(2, session.ForwardCalls); // prompt + the first generated token
    }

    [Fact]
    public async Task StopsAtTheEndOfTheContext()
    {
        ScriptedSession session = new([3, 4, 4, 4, 4, 4, 4, 4], maxSequenceLength: 4);
        (List<GeneratedToken> tokens, GenerationResult result) = await Run(session, Greedy(), TestContext.Current.CancellationToken);
        Assert.Equal(4, tokens.Count); // positions 1, 2, 3 are fed; the token sampled after position 3 is the last
        Assert.Equal(FinishReason.Length, result.Stats!.FinishReason);
    }

    [Fact]
    public async Task MultiByteCharacterSplitAcrossTokens_IsEmittedWhole()
    {
        ScriptedSession session = new([3, 6, 7, 8, 5, 2]);
        (List<GeneratedToken> tokens, GenerationResult result) = await Run(session, Greedy(), TestContext.Current.CancellationToken);
        Assert.Equal(["Hello", "", "", "€", "!"], tokens.Select(t => t.Text));
        Assert.Equal("Hello€!", result.Text);
    }

    [Fact]
    public async Task StopSequenceAcrossTokens_IsNotEmitted()
    {
        // "Hello world!END": stop at " world" which arrives in one token, after text held back.
        ScriptedSession session = new([3, 4, 5, 9, 2]);
        (List<GeneratedToken> _, GenerationResult result) = await Run(session, Greedy(100, "!E"), TestContext.Current.CancellationToken);
        Assert.Equal("Hello world", result.Text);
        Assert.Equal(FinishReason.Stop, result.Stats!.FinishReason);
        Assert.Equal([3, 4, 5, 9], result.TokenIds);
    }

    [Fact]
    public async Task HeldBackText_IsReleasedWhenNoStopFollows()
    {
        ScriptedSession session = new([3, 5, 2]);
        (List<GeneratedToken> tokens, GenerationResult result) = await Run(session, Greedy(100, "!E"), TestContext.Current.CancellationToken);
        Assert.Equal("Hello!", result.Text); // "!" was held (could start "!E"), then flushed at EOS
        Assert.Equal(-1, tokens[^1].TokenId);
    }

    [Fact]
    public async Task Cancellation_StopsGeneration()
    {
        ScriptedSession session = new(Enumerable.Repeat(4, 60).ToArray());
        using CancellationTokenSource cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        GenerationResult result = new();
        int seen = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (GeneratedToken _ in Generator.GenerateAsync(session, Tokenizer, "", Greedy(), cts.Token, result))
                if (++seen == 3) cts.Cancel();
        });
        Assert.Equal(3, seen);
        Assert.Equal(FinishReason.Cancelled, result.Stats!.FinishReason);
        Assert.Equal(3, result.Stats.GeneratedTokens);
    }

    [Fact]
    public async Task PromptFillingTheContext_IsRejected()
    {
        ScriptedSession session = new([3], maxSequenceLength: 2);
        await Assert.ThrowsAsync<CodecLlm.Model.CodecLlmException>(async () =>
        {
            await foreach (GeneratedToken _ in Generator.GenerateAsync(session, Tokenizer, [1, 3], Greedy(), TestContext.Current.CancellationToken)) { }
        });
    }
}
