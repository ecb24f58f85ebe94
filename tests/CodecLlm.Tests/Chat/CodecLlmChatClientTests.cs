using CodecLlm.Chat;
using CodecLlm.Engine;
using CodecLlm.Model;
using Microsoft.Extensions.AI;

namespace CodecLlm.Tests.Chat;

public class CodecLlmChatClientTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static ChatOptions Greedy(int maxTokens) => new() { Temperature = 0, MaxOutputTokens = maxTokens };

    [Fact]
    public async Task RawCompletion_OfEmptyPrompt_IsLlama2cReferenceText()
    {
        using CodecLlmChatClient client = ChatTestModels.Stories260K();
        string reference = TestPaths.Stories260KGreedyReference();
        ChatResponse response = await client.GetStreamingCompletionAsync("", Greedy(200), Ct).ToChatResponseAsync(Ct);
        Assert.True(response.Text.Length > 300);
        Assert.StartsWith(response.Text, reference);
    }

    [Fact]
    public async Task Streaming_OneUpdatePerToken_ThenUsageAndFinishReason()
    {
        using CodecLlmChatClient client = ChatTestModels.Stories260K();
        List<ChatResponseUpdate> updates = [];
        await foreach (ChatResponseUpdate u in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Once upon a time")], Greedy(12), Ct))
            updates.Add(u);

        Assert.Equal(13, updates.Count); // 12 tokens + the final update
        Assert.All(updates.Take(12), u => Assert.Null(u.FinishReason));
        ChatResponseUpdate last = updates[^1];
        Assert.Equal(ChatFinishReason.Length, last.FinishReason);
        UsageContent usage = Assert.IsType<UsageContent>(Assert.Single(last.Contents));
        Assert.Equal(12, usage.Details.OutputTokenCount);
        // the fallback prompt "User: Once upon a time\nAssistant:" tokenised by tok512, plus BOS
        int expectedPromptTokens = client.CountPromptTokens("User: Once upon a time\nAssistant:", fromTemplate: false);
        Assert.Equal(expectedPromptTokens, usage.Details.InputTokenCount);
        Assert.Equal(expectedPromptTokens + 12, usage.Details.TotalTokenCount);
        Assert.All(updates, u => Assert.Equal("stories260K", u.ModelId));
        Assert.Single(updates.Select(u => u.ResponseId).Distinct());

        ChatResponse whole = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Once upon a time")], Greedy(12), Ct);
        Assert.Equal(string.Concat(updates.Select(u => u.Text)), whole.Text);
        Assert.Equal(ChatFinishReason.Length, whole.FinishReason);
        Assert.Equal(12, whole.Usage!.OutputTokenCount);
    }

    [Fact]
    public async Task ChatTemplate_PromptIsWhatTheTemplateRenders()
    {
        // Llama 2's template turns one user message into "<s>[INST] Once upon a time [/INST]": the chat path
        // must generate exactly what the raw path generates for that text after BOS.
        using CodecLlmChatClient client = ChatTestModels.Stories260K(RealChatTemplates.Llama2Chat);
        ChatResponse chat = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Once upon a time")], Greedy(30), Ct);
        ChatResponse raw = await client.GetStreamingCompletionAsync("[INST] Once upon a time [/INST]", Greedy(30), Ct).ToChatResponseAsync(Ct);
        Assert.Equal(raw.Text, chat.Text);
        Assert.Equal(raw.Usage!.InputTokenCount, chat.Usage!.InputTokenCount);
        Assert.Equal("<s>[INST] Once upon a time [/INST]", client.RenderPrompt([new ChatMessage(ChatRole.User, "Once upon a time")]));

        await Assert.ThrowsAsync<ChatTemplateException>(async () =>
            await client.GetResponseAsync([new ChatMessage(ChatRole.User, "a"), new ChatMessage(ChatRole.User, "b")], Greedy(5), Ct));
    }

    [Fact]
    public void Instructions_BecomeALeadingSystemMessage()
    {
        using CodecLlmChatClient client = ChatTestModels.Stories260K();
        Assert.Equal("System: Be brief\nUser: Hi\nAssistant:",
            client.RenderPrompt([new ChatMessage(ChatRole.User, "Hi")], new ChatOptions { Instructions = "Be brief" }));
    }

    [Fact]
    public async Task Options_StopSequencesSeedAndTemperature()
    {
        using CodecLlmChatClient client = ChatTestModels.Stories260K();
        string reference = TestPaths.Stories260KGreedyReference();

        // stop at the first "." of the reference text: everything before it, finish reason stop
        ChatResponse stopped = await client.GetStreamingCompletionAsync("", new ChatOptions { Temperature = 0, MaxOutputTokens = 200, StopSequences = ["."] }, Ct).ToChatResponseAsync(Ct);
        Assert.Equal(reference[..reference.IndexOf('.')], stopped.Text);
        Assert.Equal(ChatFinishReason.Stop, stopped.FinishReason);

        // sampling: the same seed gives the same text, and it differs from greedy
        ChatOptions sampled = new() { Temperature = 1.0f, TopP = 0.9f, TopK = 40, Seed = 1234, MaxOutputTokens = 60 };
        ChatResponse a = await client.GetStreamingCompletionAsync("", sampled, Ct).ToChatResponseAsync(Ct);
        ChatResponse b = await client.GetStreamingCompletionAsync("", sampled, Ct).ToChatResponseAsync(Ct);
        Assert.Equal(a.Text, b.Text);
        Assert.NotEqual(reference[..Math.Min(reference.Length, a.Text.Length)], a.Text);
    }

    [Theory]
    [InlineData(2, false)]
    [InlineData(4, true)]  // batched decode steps shared by the concurrent requests (BatchedSessionMux)
    public async Task ConcurrentRequests_GiveTheSameOutputsAsOneAtATime(int concurrency, bool batch)
    {
        using CodecLlmChatClient client = ChatTestModels.Stories260K(concurrency: concurrency, batch: batch);
        string[] prompts = ["Once upon a time", "Lily had a cat", "The sun", "Tom ran", "A big dog", "She said", "Mom and Dad", "The little bird"];
        List<string> sequential = [];
        foreach (string p in prompts)
            sequential.Add((await client.GetResponseAsync([new ChatMessage(ChatRole.User, p)], Greedy(40), Ct)).Text);

        string[] concurrent = await Task.WhenAll(prompts.Select(p =>
            Task.Run(async () => (await client.GetResponseAsync([new ChatMessage(ChatRole.User, p)], Greedy(40), Ct)).Text, Ct)));
        Assert.Equal(sequential, concurrent);
        Assert.True(sequential.Distinct().Count() > 4, "different prompts should give different texts");
    }

    /// <summary>
    /// top_logprobs through the chat client, from a pool of single sessions and from a batched one (two requests at a
    /// time): a TokenLogprobs on every token update, with the asked-for alternatives, the same tokens and values both ways
    /// (within 1e-5: the batched decode step sums in its own order); an out-of-range value is refused.
    /// </summary>
    [Fact]
    public async Task TopLogprobs_OnEveryTokenUpdate_SingleAndBatchedSessions()
    {
        async Task<List<TokenLogprobs>> Run(bool batch)
        {
            using CodecLlmChatClient client = ChatTestModels.Stories260K(concurrency: 2, batch: batch);
            ChatOptions options = Greedy(20);
            options.AdditionalProperties = new() { [CodecLlmChatClient.TopLogprobsOption] = 4 };
            async Task<List<TokenLogprobs>> One(string prompt)
            {
                List<TokenLogprobs> lps = [];
                await foreach (ChatResponseUpdate u in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, prompt)], options, Ct))
                    if (u.AdditionalProperties?.TryGetValue(CodecLlmChatClient.LogprobsProperty, out object? lp) == true) lps.Add((TokenLogprobs)lp!);
                return lps;
            }

            List<TokenLogprobs>[] both = await Task.WhenAll(One("Lily had a cat"), One("Tom ran"));
            return both[0];
        }

        List<TokenLogprobs> single = await Run(batch: false), batched = await Run(batch: true);
        Assert.Equal(20, single.Count);
        Assert.All(single, lp => Assert.Equal(4, lp.Top.Count));
        Assert.Equal(single.Select(lp => lp.Chosen.TokenId), batched.Select(lp => lp.Chosen.TokenId));
        for (int i = 0; i < single.Count; i++) Assert.Equal(single[i].Chosen.Logprob, batched[i].Chosen.Logprob, 1e-5);

        using CodecLlmChatClient plain = ChatTestModels.Stories260K();
        ChatOptions bad = Greedy(3);
        bad.AdditionalProperties = new() { [CodecLlmChatClient.TopLogprobsOption] = 21 };
        await Assert.ThrowsAsync<CodecLlmException>(async () => await plain.GetResponseAsync([new ChatMessage(ChatRole.User, "x")], bad, Ct));
    }

    [Fact]
    public async Task Cancellation_StopsTheGenerationPromptly()
    {
        using CodecLlmChatClient client = ChatTestModels.Stories260K();
        client.TokenPacing = TimeSpan.FromMilliseconds(20);
        using CancellationTokenSource cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        int received = 0;
        System.Diagnostics.Stopwatch clock = System.Diagnostics.Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (ChatResponseUpdate _ in client.GetStreamingCompletionAsync("", Greedy(400), cts.Token))
            {
                if (++received == 3) cts.Cancel();
            }
        });
        Assert.Equal(3, received);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5));

        // the session went back to the pool: the next request runs normally
        ChatResponse after = await client.GetStreamingCompletionAsync("", Greedy(5), Ct).ToChatResponseAsync(Ct);
        Assert.Equal(5, after.Usage!.OutputTokenCount);
    }

    [Fact]
    public async Task NextTurn_TakesItsConversationFromTheCache_AndAnswersAsAClientWithoutOne()
    {
        // Two conversations, two sessions: each next turn goes to the session that holds its conversation, runs only
        // what the turn adds (usage: CachedInputTokenCount) and answers what a client that runs every prompt whole does.
        using CodecLlmChatClient cached = ChatTestModels.Stories260K(concurrency: 2);
        using CodecLlmChatClient whole = ChatTestModels.Stories260K(concurrency: 2, promptCache: false);
        List<ChatMessage> a = [new(ChatRole.User, "Once upon a time")], b = [new(ChatRole.User, "Tom had a big red ball")];
        foreach (IChatClient client in new IChatClient[] { cached, whole })
        {
            ChatResponse a1 = await client.GetResponseAsync(a, Greedy(24), Ct), b1 = await client.GetResponseAsync(b, Greedy(24), Ct);
            Assert.Equal(0, a1.Usage!.CachedInputTokenCount);
            Assert.Equal(0, b1.Usage!.CachedInputTokenCount);
        }
        ChatResponse a1c = await cached.GetResponseAsync(a, Greedy(24), Ct);  // the same request again: all but its last prompt token cached
        Assert.Equal(a1c.Usage!.InputTokenCount - 1, a1c.Usage.CachedInputTokenCount);

        int aPrompt = cached.CountPromptTokens(a);
        a.AddRange([new(ChatRole.Assistant, a1c.Text), new(ChatRole.User, "What did Lily find?")]);
        b.AddRange([new(ChatRole.Assistant, (await whole.GetResponseAsync(b, Greedy(24), Ct)).Text), new(ChatRole.User, "Where did it go?")]);
        int bPrompt = cached.CountPromptTokens(b[..1]);
        ChatResponse a2 = await cached.GetResponseAsync(a, Greedy(24), Ct), b2 = await cached.GetResponseAsync(b, Greedy(24), Ct);
        Assert.InRange(a2.Usage!.CachedInputTokenCount!.Value, aPrompt - 1, a2.Usage.InputTokenCount!.Value - 1);
        Assert.InRange(b2.Usage!.CachedInputTokenCount!.Value, bPrompt - 1, b2.Usage.InputTokenCount!.Value - 1);
        Assert.Equal((await whole.GetResponseAsync(a, Greedy(24), Ct)).Text, a2.Text);
        Assert.Equal((await whole.GetResponseAsync(b, Greedy(24), Ct)).Text, b2.Text);
        Assert.Equal(0, (await whole.GetResponseAsync(a, Greedy(24), Ct)).Usage!.CachedInputTokenCount);
    }

    [Fact]
    public void GetService_ExposesMetadataAndModelInfo()
    {
        using CodecLlmChatClient client = ChatTestModels.Stories260K();
        ChatClientMetadata metadata = Assert.IsType<ChatClientMetadata>(client.GetService(typeof(ChatClientMetadata)));
        Assert.Equal("codecllm", metadata.ProviderName);
        Assert.Equal("stories260K", metadata.DefaultModelId);
        CodecLlmModelInfo info = client.GetService<CodecLlmModelInfo>()!;
        Assert.Equal("cpu", info.Backend);
        Assert.Equal("llama2c", info.Format);
        Assert.Equal(64, info.Config.HiddenSize);
        Assert.Equal(512, info.ContextLength);
        Assert.False(info.HasChatTemplate);
        Assert.Same(client, client.GetService<IChatClient>());
        Assert.Null(client.GetService(typeof(string)));
    }

    [Fact]
    public async Task LoadAsync_LoadsAnyFormatAndReportsProgress()
    {
        List<float> progress = [];
        using CodecLlmChatClient client = await CodecLlmChatClient.LoadAsync(TestPaths.Stories260KGguf, new CodecLlmChatClientOptions(),
            new SyncProgress(progress.Add), Ct);
        Assert.Equal("stories260K", client.ModelInfo.ModelId);
        Assert.Equal("gguf", client.ModelInfo.Format);
        Assert.Equal(1f, progress[^1]);

        // the GGUF holds the same weights and vocabulary: greedy output is llama2.c's reference too
        ChatResponse r = await client.GetStreamingCompletionAsync("", Greedy(100), Ct).ToChatResponseAsync(Ct);
        Assert.StartsWith(r.Text, TestPaths.Stories260KGreedyReference());

        await Assert.ThrowsAsync<ModelFormatException>(() => CodecLlmChatClient.LoadAsync("/nonexistent/model.gguf", null, null, Ct));
    }

    [Fact]
    public async Task Dispose_ReleasesAndRejectsLaterCalls()
    {
        CodecLlmChatClient client = ChatTestModels.Stories260K();
        client.Dispose();
        client.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await client.GetResponseAsync([new ChatMessage(ChatRole.User, "x")], Greedy(3), Ct));
    }

    private sealed class SyncProgress(Action<float> report) : IProgress<float>
    {
        public void Report(float value) => report(value);
    }
}
