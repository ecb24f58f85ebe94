using CodecLlm.Chat;
using CodecLlm.Server;
using CodecLlm.Tests.Chat;

namespace CodecLlm.Tests.Server;

/// <summary>One in-process server on a free loopback port serving stories260K (no chat template: the plain fallback).</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public CodecLlmServer Server { get; private set; } = null!;

    public CodecLlmChatClient Model { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    public const long BodyLimit = 64 * 1024;

    public async ValueTask InitializeAsync()
    {
        Server = await CodecLlmServer.StartAsync(new CodecLlmServerOptions { Port = 0, MaxRequestBodyBytes = BodyLimit },
            _ => Task.FromResult(ChatTestModels.Stories260K(concurrency: 2)));
        Model = await Server.Model;
        Http = new HttpClient { BaseAddress = Server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
    }
}
