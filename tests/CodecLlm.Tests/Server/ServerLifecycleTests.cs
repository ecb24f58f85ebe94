using System.Net;
using System.Text.Json;
using CodecLlm.Chat;
using CodecLlm.Server;
using CodecLlm.Tests.Chat;

namespace CodecLlm.Tests.Server;

/// <summary>Servers with their own settings: loading state, API key, a chat template that rejects conversations.</summary>
public class ServerLifecycleTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Health_Is503WhileLoading_Then200()
    {
        TaskCompletionSource gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        await using CodecLlmServer server = await CodecLlmServer.StartAsync(new CodecLlmServerOptions { Port = 0 }, async _ =>
        {
            await gate.Task;
            return ChatTestModels.Stories260K();
        }, Ct);
        Assert.True(server.BaseAddress.IsLoopback);
        using HttpClient http = new() { BaseAddress = server.BaseAddress };

        (HttpStatusCode status, JsonElement body) = await ServerHttp.GetJsonAsync(http, "/health", Ct);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("model_loading", ServerHttp.Error(body).GetProperty("code").GetString());
        (status, _) = await ServerHttp.PostJsonAsync(http, "/v1/chat/completions", """{"messages": [{"role": "user", "content": "x"}]}""", Ct);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);

        gate.SetResult();
        await server.Model;
        (status, body) = await ServerHttp.GetJsonAsync(http, "/health", Ct);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("stories260K", body.GetProperty("model").GetString());
    }

    [Fact]
    public async Task FailedLoad_Is503WithTheReason()
    {
        await using CodecLlmServer server = await CodecLlmServer.StartAsync(new CodecLlmServerOptions { Port = 0 },
            _ => CodecLlmChatClient.LoadAsync("/nonexistent/model.gguf"), Ct);
        await Assert.ThrowsAnyAsync<Exception>(() => server.Model);
        using HttpClient http = new() { BaseAddress = server.BaseAddress };
        (HttpStatusCode status, JsonElement body) = await ServerHttp.GetJsonAsync(http, "/health", Ct);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Contains("not found", ServerHttp.Error(body).GetProperty("message").GetString());
    }

    [Fact]
    public async Task ApiKey_WrongOrMissingIs401_RightWorks()
    {
        await using CodecLlmServer server = await CodecLlmServer.StartAsync(new CodecLlmServerOptions { Port = 0, ApiKey = "s3cret" },
            _ => Task.FromResult(ChatTestModels.Stories260K()), Ct);
        await server.Model;
        using HttpClient http = new() { BaseAddress = server.BaseAddress };
        const string request = """{"prompt": "", "max_tokens": 3, "temperature": 0}""";

        (HttpStatusCode status, JsonElement body) = await ServerHttp.PostJsonAsync(http, "/v1/completions", request, Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("invalid_api_key", ServerHttp.Error(body).GetProperty("code").GetString());
        (status, _) = await ServerHttp.PostJsonAsync(http, "/v1/completions", request, Ct, apiKey: "wrong");
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        (status, _) = await ServerHttp.GetJsonAsync(http, "/v1/models", Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        (status, _) = await ServerHttp.PostJsonAsync(http, "/v1/completions", request, Ct, apiKey: "s3cret");
        Assert.Equal(HttpStatusCode.OK, status);
        (status, _) = await ServerHttp.GetJsonAsync(http, "/health", Ct); // health needs no key
        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Fact]
    public async Task ChatTemplate_UsedForChat_AndItsRaiseExceptionIs400()
    {
        await using CodecLlmServer server = await CodecLlmServer.StartAsync(new CodecLlmServerOptions { Port = 0 },
            _ => Task.FromResult(ChatTestModels.Stories260K(RealChatTemplates.Llama2Chat)), Ct);
        await server.Model;
        using HttpClient http = new() { BaseAddress = server.BaseAddress };

        // Llama 2's template renders "<s>[INST] Once upon a time [/INST]": the chat answer is the raw completion of that text
        (HttpStatusCode status, JsonElement chat) = await ServerHttp.PostJsonAsync(http, "/v1/chat/completions",
            """{"messages": [{"role": "user", "content": "Once upon a time"}], "max_tokens": 25, "temperature": 0}""", Ct);
        Assert.Equal(HttpStatusCode.OK, status);
        (_, JsonElement raw) = await ServerHttp.PostJsonAsync(http, "/v1/completions",
            """{"prompt": "[INST] Once upon a time [/INST]", "max_tokens": 25, "temperature": 0}""", Ct);
        Assert.Equal(raw.GetProperty("choices")[0].GetProperty("text").GetString(), chat.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal(raw.GetProperty("usage").GetProperty("prompt_tokens").GetInt32(), chat.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());

        (status, JsonElement error) = await ServerHttp.PostJsonAsync(http, "/v1/chat/completions",
            """{"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]}""", Ct);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("Conversation roles must alternate", ServerHttp.Error(error).GetProperty("message").GetString());
    }
}
