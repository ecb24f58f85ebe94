using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using CodecLlm.Tests.Chat;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Chat;
using MeaiChatMessage = Microsoft.Extensions.AI.ChatMessage;
using MeaiChatRole = Microsoft.Extensions.AI.ChatRole;

namespace CodecLlm.Tests.Server;

/// <summary>
/// The server through the official OpenAI .NET SDK, Microsoft.Extensions.AI's OpenAI client and raw HTTP.
/// Expected texts come from llama2.c's published greedy output for stories260K, or from the same greedy
/// request served alone.
/// </summary>
public class OpenAiServerTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private ChatClient SdkClient() => new("stories260K", new ApiKeyCredential("no-key-needed"),
        new OpenAIClientOptions { Endpoint = new Uri(fixture.Server.BaseAddress, "v1") });

    private static ChatCompletionOptions SdkGreedy(int maxTokens) => new() { Temperature = 0, MaxOutputTokenCount = maxTokens };

    /// <summary>What the model generates for one user message served alone, straight from the chat client.</summary>
    private async Task<string> DirectAsync(string user, int maxTokens) =>
        (await fixture.Model.GetResponseAsync([new MeaiChatMessage(MeaiChatRole.User, user)], new ChatOptions { Temperature = 0, MaxOutputTokens = maxTokens }, Ct)).Text;

    [Fact]
    public async Task Health_AndModels()
    {
        (HttpStatusCode status, JsonElement body) = await ServerHttp.GetJsonAsync(fixture.Http, "/health", Ct);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("ok", body.GetProperty("status").GetString());

        (status, body) = await ServerHttp.GetJsonAsync(fixture.Http, "/v1/models", Ct);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("list", body.GetProperty("object").GetString());
        JsonElement model = Assert.Single(body.GetProperty("data").EnumerateArray());
        Assert.Equal("stories260K", model.GetProperty("id").GetString());
        Assert.Equal("model", model.GetProperty("object").GetString());

        OpenAIClient sdk = new(new ApiKeyCredential("x"), new OpenAIClientOptions { Endpoint = new Uri(fixture.Server.BaseAddress, "v1") });
        OpenAI.Models.OpenAIModel listed = Assert.Single((await sdk.GetOpenAIModelClient().GetModelsAsync(Ct)).Value);
        Assert.Equal("stories260K", listed.Id);
    }

    [Fact]
    public async Task Completions_EmptyPrompt_IsLlama2cReferenceText_PlainAndStreamed()
    {
        string reference = TestPaths.Stories260KGreedyReference();
        const string request = """{"model": "stories260K", "prompt": "", "max_tokens": 200, "temperature": 0}""";
        (HttpStatusCode status, JsonElement body) = await ServerHttp.PostJsonAsync(fixture.Http, "/v1/completions", request, Ct);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("text_completion", body.GetProperty("object").GetString());
        JsonElement choice = Assert.Single(body.GetProperty("choices").EnumerateArray());
        string text = choice.GetProperty("text").GetString()!;
        Assert.True(text.Length > 300);
        Assert.StartsWith(text, reference);
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
        JsonElement usage = body.GetProperty("usage");
        Assert.Equal(1, usage.GetProperty("prompt_tokens").GetInt32()); // BOS alone
        Assert.Equal(200, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(201, usage.GetProperty("total_tokens").GetInt32());
        Assert.Equal(0, usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());  // BOS alone always runs

        List<JsonElement> chunks = await ServerHttp.PostStreamAsync(fixture.Http, "/v1/completions",
            """{"prompt": "", "max_tokens": 200, "temperature": 0, "stream": true, "stream_options": {"include_usage": true}}""", Ct);
        string streamed = string.Concat(chunks.Where(c => c.GetProperty("choices").GetArrayLength() > 0)
            .Select(c => c.GetProperty("choices")[0].GetProperty("text").GetString()));
        Assert.Equal(text, streamed);
        Assert.Equal("length", chunks[^2].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(200, chunks[^1].GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.True(chunks.Count > 100, "one chunk per token");
    }

    [Fact]
    public async Task OpenAiSdk_ChatPlainAndStreaming()
    {
        string expected = await DirectAsync("Once upon a time", 40);
        ChatClient client = SdkClient();

        ChatCompletion completion = (await client.CompleteChatAsync([new UserChatMessage("Once upon a time")], SdkGreedy(40), Ct)).Value;
        Assert.Equal(expected, completion.Content[0].Text);
        Assert.Equal(OpenAI.Chat.ChatFinishReason.Length, completion.FinishReason);
        Assert.Equal(40, completion.Usage.OutputTokenCount);
        int promptTokens = fixture.Model.CountPromptTokens("User: Once upon a time\nAssistant:", fromTemplate: false);
        Assert.Equal(promptTokens, completion.Usage.InputTokenCount);
        Assert.Equal("stories260K", completion.Model);

        StringBuilder streamed = new();
        ChatTokenUsage? usage = null;
        OpenAI.Chat.ChatFinishReason? finish = null;
        int updates = 0;
        await foreach (StreamingChatCompletionUpdate u in client.CompleteChatStreamingAsync([new UserChatMessage("Once upon a time")], SdkGreedy(40), Ct))
        {
            updates++;
            foreach (ChatMessageContentPart part in u.ContentUpdate) streamed.Append(part.Text);
            usage ??= u.Usage;
            finish ??= u.FinishReason;
        }

        Assert.Equal(expected, streamed.ToString());
        Assert.Equal(OpenAI.Chat.ChatFinishReason.Length, finish);
        Assert.Equal(40, usage!.OutputTokenCount);
        Assert.True(updates > 20, "streamed token by token");
    }

    /// <summary>
    /// Chat log probabilities through the OpenAI SDK, whole and streamed: a token each for every generated token, their bytes
    /// spelling the text, two alternatives each, the greedy token the likeliest, the same values both ways; none unasked.
    /// </summary>
    [Fact]
    public async Task OpenAiSdk_ChatLogprobs_PlainAndStreaming()
    {
        ChatClient client = SdkClient();
        ChatCompletionOptions options = new() { Temperature = 0, MaxOutputTokenCount = 30, IncludeLogProbabilities = true, TopLogProbabilityCount = 2 };
        ChatCompletion completion = (await client.CompleteChatAsync([new UserChatMessage("Lily had a cat")], options, Ct)).Value;
        IReadOnlyList<ChatTokenLogProbabilityDetails> tokens = completion.ContentTokenLogProbabilities;
        Assert.Equal(30, tokens.Count);
        Assert.Equal(completion.Content[0].Text, Encoding.UTF8.GetString(tokens.SelectMany(t => (t.Utf8Bytes ?? ReadOnlyMemory<byte>.Empty).ToArray()).ToArray()));
        foreach (ChatTokenLogProbabilityDetails t in tokens)
        {
            Assert.True(t.LogProbability <= 0);
            Assert.Equal(2, t.TopLogProbabilities.Count);
            Assert.Equal(t.Token, t.TopLogProbabilities[0].Token);
            Assert.Equal(t.LogProbability, t.TopLogProbabilities[0].LogProbability);
            Assert.True(t.TopLogProbabilities[0].LogProbability >= t.TopLogProbabilities[1].LogProbability);
        }

        List<ChatTokenLogProbabilityDetails> streamed = [];
        await foreach (StreamingChatCompletionUpdate u in client.CompleteChatStreamingAsync([new UserChatMessage("Lily had a cat")], options, Ct))
            streamed.AddRange(u.ContentTokenLogProbabilities);
        Assert.Equal(tokens.Select(t => (t.Token, t.LogProbability)), streamed.Select(t => (t.Token, t.LogProbability)));

        ChatCompletion plain = (await client.CompleteChatAsync([new UserChatMessage("Lily had a cat")], SdkGreedy(5), Ct)).Value;
        Assert.Empty(plain.ContentTokenLogProbabilities);
    }

    /// <summary>
    /// Completions log probabilities ("logprobs": 3), whole and streamed: tokens spelling the text, their offsets in it,
    /// up to three alternatives each with the chosen token's value among them (greedy), and the same values both ways.
    /// </summary>
    [Fact]
    public async Task Completions_Logprobs_PlainAndStreamed()
    {
        const string request = """{"prompt": "Once upon a time", "max_tokens": 25, "temperature": 0, "logprobs": 3}""";
        (HttpStatusCode status, JsonElement body) = await ServerHttp.PostJsonAsync(fixture.Http, "/v1/completions", request, Ct);
        Assert.Equal(HttpStatusCode.OK, status);
        JsonElement choice = body.GetProperty("choices")[0], lp = choice.GetProperty("logprobs");
        string text = choice.GetProperty("text").GetString()!;
        string[] tokens = lp.GetProperty("tokens").EnumerateArray().Select(t => t.GetString()!).ToArray();
        double[] values = lp.GetProperty("token_logprobs").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        int[] offsets = lp.GetProperty("text_offset").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        JsonElement[] tops = lp.GetProperty("top_logprobs").EnumerateArray().ToArray();
        Assert.Equal(25, tokens.Length);
        Assert.Equal(text, string.Concat(tokens));
        Assert.Equal(25, values.Length);
        Assert.Equal(25, tops.Length);
        for (int i = 0; i < tokens.Length; i++)
        {
            Assert.Equal(text.IndexOf(tokens[i], offsets[i], StringComparison.Ordinal), offsets[i]);
            Assert.InRange(tops[i].EnumerateObject().Count(), 1, 3);
            Assert.Equal(values[i], tops[i].GetProperty(tokens[i]).GetDouble());
            Assert.Equal(values[i], tops[i].EnumerateObject().Max(p => p.Value.GetDouble()));
        }

        List<JsonElement> chunks = await ServerHttp.PostStreamAsync(fixture.Http, "/v1/completions", request.Replace("}", ", \"stream\": true}"), Ct);
        List<string> streamedTokens = [];
        List<double> streamedValues = [];
        List<int> streamedOffsets = [];
        foreach (JsonElement c in chunks)
        {
            JsonElement l = c.GetProperty("choices")[0].GetProperty("logprobs");
            if (l.ValueKind == JsonValueKind.Null) continue;
            streamedTokens.AddRange(l.GetProperty("tokens").EnumerateArray().Select(t => t.GetString()!));
            streamedValues.AddRange(l.GetProperty("token_logprobs").EnumerateArray().Select(v => v.GetDouble()));
            streamedOffsets.AddRange(l.GetProperty("text_offset").EnumerateArray().Select(v => v.GetInt32()));
        }

        Assert.Equal(tokens, streamedTokens);
        Assert.Equal(values, streamedValues);
        Assert.Equal(offsets, streamedOffsets);
    }

    [Fact]
    public async Task MicrosoftExtensionsAiOpenAiClient_PlainAndStreaming()
    {
        string expected = await DirectAsync("Lily had a cat", 30);
        IChatClient client = SdkClient().AsIChatClient();
        ChatOptions options = new() { Temperature = 0, MaxOutputTokens = 30 };

        ChatResponse response = await client.GetResponseAsync([new MeaiChatMessage(MeaiChatRole.User, "Lily had a cat")], options, Ct);
        Assert.Equal(expected, response.Text);
        Assert.Equal(Microsoft.Extensions.AI.ChatFinishReason.Length, response.FinishReason);
        Assert.Equal(30, response.Usage!.OutputTokenCount);

        ChatResponse streamed = await client.GetStreamingResponseAsync([new MeaiChatMessage(MeaiChatRole.User, "Lily had a cat")], options, Ct).ToChatResponseAsync(Ct);
        Assert.Equal(expected, streamed.Text);
        Assert.Equal(30, streamed.Usage!.OutputTokenCount);
    }

    [Fact]
    public async Task RepeatedChatPrompt_ReportsItsCachedTokens_AndTheSameAnswer()
    {
        const string request = """{"messages": [{"role": "user", "content": "The little bird sang a song"}], "max_tokens": 16, "temperature": 0}""";
        (HttpStatusCode s1, JsonElement first) = await ServerHttp.PostJsonAsync(fixture.Http, "/v1/chat/completions", request, Ct);
        (HttpStatusCode s2, JsonElement second) = await ServerHttp.PostJsonAsync(fixture.Http, "/v1/chat/completions", request, Ct);
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (s1, s2));
        JsonElement usage = second.GetProperty("usage");
        // the session that ran it holds the prompt: everything but its last token (whose logits choose the first new one)
        Assert.Equal(usage.GetProperty("prompt_tokens").GetInt32() - 1, usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());
        Assert.Equal(first.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString(),
            second.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
    }

    [Fact]
    public async Task EightConcurrentRequests_AllCompleteWithTheirOwnOutputs()
    {
        string[] prompts = ["Once upon a time", "Lily had a cat", "The sun", "Tom ran", "A big dog", "She said", "Mom and Dad", "The little bird"];
        ChatClient client = SdkClient();
        List<string> alone = [];
        foreach (string p in prompts) alone.Add((await client.CompleteChatAsync([new UserChatMessage(p)], SdkGreedy(48), Ct)).Value.Content[0].Text);

        long completedBefore = fixture.Server.Counters.Completed;
        string[] together = await Task.WhenAll(prompts.Select(async (p, i) =>
        {
            if (i % 2 == 0) return (await client.CompleteChatAsync([new UserChatMessage(p)], SdkGreedy(48), Ct)).Value.Content[0].Text;
            StringBuilder sb = new();
            await foreach (StreamingChatCompletionUpdate u in client.CompleteChatStreamingAsync([new UserChatMessage(p)], SdkGreedy(48), Ct))
                foreach (ChatMessageContentPart part in u.ContentUpdate) sb.Append(part.Text);
            return sb.ToString();
        }));

        Assert.Equal(alone, together);
        Assert.True(alone.Distinct().Count() > 4);
        Assert.Equal(completedBefore + 8, fixture.Server.Counters.Completed);
    }

    [Fact]
    public async Task ClientDisconnect_CancelsItsGeneration_AndTheServerKeepsServing()
    {
        fixture.Model.TokenPacing = TimeSpan.FromMilliseconds(25); // 400 tokens would take 10 s
        try
        {
            long cancelledBefore = fixture.Server.Counters.Cancelled;
            using (HttpRequestMessage request = new(HttpMethod.Post, "/v1/chat/completions"))
            {
                request.Content = new StringContent("""{"messages": [{"role": "user", "content": "Once"}], "max_tokens": 400, "stream": true}""", Encoding.UTF8, "application/json");
                using HttpResponseMessage response = await fixture.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Ct);
                using StreamReader reader = new(await response.Content.ReadAsStreamAsync(Ct));
                for (int events = 0; events < 3;)
                {
                    string? line = await reader.ReadLineAsync(Ct);
                    Assert.NotNull(line);
                    if (line.StartsWith("data: ", StringComparison.Ordinal)) events++;
                }
            } // disposing the response closes the connection mid-stream

            System.Diagnostics.Stopwatch clock = System.Diagnostics.Stopwatch.StartNew();
            while (fixture.Server.Counters.Cancelled == cancelledBefore && clock.Elapsed < TimeSpan.FromSeconds(5)) await Task.Delay(20, Ct);
            Assert.Equal(cancelledBefore + 1, fixture.Server.Counters.Cancelled);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), "the generation stopped long before its 400 tokens");
        }
        finally
        {
            fixture.Model.TokenPacing = TimeSpan.Zero;
        }

        Assert.Equal(await DirectAsync("Once", 10), (await SdkClient().CompleteChatAsync([new UserChatMessage("Once")], SdkGreedy(10), Ct)).Value.Content[0].Text);
    }

    public static TheoryData<string, string, int, string?, string?> MalformedRequests => new()
    {
        { "/v1/chat/completions", "{not json", 400, null, "invalid_json" },
        { "/v1/chat/completions", "[1, 2]", 400, null, null },
        { "/v1/chat/completions", "{}", 400, "messages", null },
        { "/v1/chat/completions", """{"messages": []}""", 400, "messages", null },
        { "/v1/chat/completions", """{"messages": "hi"}""", 400, "messages", null },
        { "/v1/chat/completions", """{"messages": [{"role": "wizard", "content": "x"}]}""", 400, "messages[0].role", null },
        { "/v1/chat/completions", """{"messages": [{"content": "x"}]}""", 400, "messages[0].role", null },
        { "/v1/chat/completions", """{"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}""", 400, "messages[0].content", null },
        { "/v1/chat/completions", """{"messages": [{"role": "user", "content": "x"}], "temperature": 5}""", 400, "temperature", null },
        { "/v1/chat/completions", """{"messages": [{"role": "user", "content": "x"}], "temperature": "hot"}""", 400, "temperature", null },
        { "/v1/chat/completions", """{"messages": [{"role": "user", "content": "x"}], "top_p": 0}""", 400, "top_p", null },
        { "/v1/chat/completions", """{"messages": [{"role": "user", "content": "x"}], "max_tokens": 0}""", 400, "max_tokens", null },
        { "/v1/chat/completions", """{"messages": [{"role": "user", "content": "x"}], "max_tokens": 1.5}""", 400, "max_tokens", null },
        { "/v1/chat/completions", """{"messages": [{"role": "user", "content": "x"}], "n": 2}""", 400, "n", null },
        { "/v1/chat/completions", """{"messages": [{"role": "user", "content": "x"}], "stop": ["a", "b", "c", "d", "e"]}""", 400, "stop", null },
        { "/v1/chat/completions", """{"messages": [{"role": "user", "content": "x"}], "stream": "yes"}""", 400, "stream", null },
        { "/v1/chat/completions", """{"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]}""", 404, "model", "model_not_found" },
        { "/v1/completions", """{"max_tokens": 3}""", 400, "prompt", null },
        { "/v1/completions", """{"prompt": ["a", "b"]}""", 400, "prompt", null },
        { "/v1/completions", """{"prompt": "x", "echo": true}""", 400, "echo", null },
        { "/v1/completions", """{"prompt": "x", "logprobs": 6}""", 400, "logprobs", null },
        { "/v1/chat/completions", """{"messages": [{"role": "user", "content": "x"}], "top_logprobs": 2}""", 400, "top_logprobs", null },
        { "/v1/chat/completions", """{"messages": [{"role": "user", "content": "x"}], "logprobs": true, "top_logprobs": 21}""", 400, "top_logprobs", null },
        { "/v1/chat/completions", """{"messages": [{"role": "user", "content": "x"}], "logprobs": 1}""", 400, "logprobs", null },
        { "/v1/completions", """{"model": "nope", "prompt": "x"}""", 404, "model", "model_not_found" },
        { "/v1/completions", "{\"prompt\": \"" + string.Concat(Enumerable.Repeat("a ", 600)) + "\"}", 400, "prompt", "context_length_exceeded" },
        { "/v1/nothing/here", "{}", 404, null, "not_found" },
    };

    [Theory]
    [MemberData(nameof(MalformedRequests))]
    public async Task MalformedRequest_GetsItsOpenAiError_AndTheServerKeepsServing(string path, string body, int status, string? param, string? code)
    {
        (HttpStatusCode actual, JsonElement json) = await ServerHttp.PostJsonAsync(fixture.Http, path, body, Ct);
        Assert.Equal(status, (int)actual);
        JsonElement error = ServerHttp.Error(json);
        if (param != null) Assert.Equal(param, error.GetProperty("param").GetString());
        if (code != null) Assert.Equal(code, error.GetProperty("code").GetString());

        (HttpStatusCode ok, JsonElement good) = await ServerHttp.PostJsonAsync(fixture.Http, "/v1/completions", """{"prompt": "", "max_tokens": 5, "temperature": 0}""", Ct);
        Assert.Equal(HttpStatusCode.OK, ok);
        Assert.StartsWith(good.GetProperty("choices")[0].GetProperty("text").GetString()!, TestPaths.Stories260KGreedyReference());
    }

    [Fact]
    public async Task OversizedBody_Gets413()
    {
        string huge = "{\"prompt\": \"" + new string('a', (int)ServerFixture.BodyLimit) + "\"}";
        (HttpStatusCode status, JsonElement body) = await ServerHttp.PostJsonAsync(fixture.Http, "/v1/completions", huge, Ct);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal("request_too_large", ServerHttp.Error(body).GetProperty("code").GetString());
    }

    [Fact]
    public async Task OpenAiSdk_SeesErrorsAsClientResultExceptions()
    {
        ClientResultException e = await Assert.ThrowsAsync<ClientResultException>(() =>
            new ChatClient("another-model", new ApiKeyCredential("x"), new OpenAIClientOptions { Endpoint = new Uri(fixture.Server.BaseAddress, "v1") })
                .CompleteChatAsync([new UserChatMessage("hi")], SdkGreedy(3), Ct));
        Assert.Equal(404, e.Status);
    }
}
