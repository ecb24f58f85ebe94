using System.Net;
using System.Security.Cryptography;
using System.Text;
using CodecLlm.Chat;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CodecLlm.Server;

/// <summary>
/// An OpenAI-compatible HTTP server over one <see cref="CodecLlmChatClient"/> (ASP.NET Core minimal APIs):
/// GET /health (503 while the model loads, then 200), GET /v1/models, POST /v1/chat/completions and
/// POST /v1/completions (whole or streamed). Errors are OpenAI-shaped JSON: 400 malformed JSON or bad
/// parameters, 401 wrong API key, 404 unknown model or route, 413 oversized body, 503 not loaded yet.
/// It listens as soon as <see cref="StartAsync"/> returns; the model loads in the background.
/// Disposing stops listening and disposes the model.
/// </summary>
public sealed class CodecLlmServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ServerState _state;

    private CodecLlmServer(WebApplication app, ServerState state, Uri baseAddress)
    {
        _app = app;
        _state = state;
        BaseAddress = baseAddress;
    }

    /// <summary>http://host:port/ the server listens on (the real port when 0 was asked for).</summary>
    public Uri BaseAddress { get; }

    /// <summary>Completes when the model has loaded (faults when it failed to).</summary>
    public Task<CodecLlmChatClient> Model => _state.Model;

    public ServerCounters Counters => _state.Counters;

    /// <summary>Starts listening, then loads the model with <paramref name="loadModel"/> in the background.</summary>
    public static async Task<CodecLlmServer> StartAsync(CodecLlmServerOptions options, Func<CancellationToken, Task<CodecLlmChatClient>> loadModel,
        CancellationToken cancellationToken = default)
    {
        IPAddress address = options.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase) ? IPAddress.Loopback
            : IPAddress.TryParse(options.Host, out IPAddress? ip) ? ip
            : throw new OpenAiError(500, $"--host '{options.Host}' is not an IP address or 'localhost'");

        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IHostLifetime, EmbeddedHostLifetime>();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = null; // RequestBody enforces the limit with an OpenAI-shaped 413
            k.Listen(address, options.Port);
        });

        TaskCompletionSource<CodecLlmChatClient> loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);
        ServerState state = new(options, loaded.Task);
        WebApplication app = builder.Build();
        Configure(app, state);
        await app.StartAsync(cancellationToken);

        string bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        CodecLlmServer server = new(app, state, new Uri(bound.EndsWith('/') ? bound : bound + "/"));
        _ = Task.Run(async () =>
        {
            try
            {
                loaded.SetResult(await loadModel(cancellationToken));
            }
            catch (Exception e)
            {
                loaded.SetException(e);
            }
        }, CancellationToken.None);
        return server;
    }

    private static void Configure(WebApplication app, ServerState state)
    {
        app.Use(async (context, next) =>
        {
            try
            {
                if (state.Options.ApiKey is { } key && context.Request.Path.StartsWithSegments("/v1") && !HasKey(context.Request, key))
                    throw new OpenAiError(401, "Incorrect API key provided.", code: "invalid_api_key");
                await next(context);
            }
            catch (OpenAiError e)
            {
                await WriteErrorAsync(context, e);
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                // the client went away; nothing left to answer
            }
            catch (Exception e)
            {
                await WriteErrorAsync(context, new OpenAiError(500, $"internal error ({e.GetType().Name}): {e.Message}", "server_error"));
            }
        });

        app.MapGet("/health", (HttpContext context) =>
        {
            if (state.Model.IsCompletedSuccessfully) return Json(context, 200, OpenAiJson.Health("ok", state.Model.Result.ModelInfo.ModelId));
            state.RequireModel(); // 503 with the loading / failure message
            return Task.CompletedTask;
        });
        app.MapGet("/v1/models", (HttpContext context) =>
            Json(context, 200, OpenAiJson.Models(state.RequireModel().ModelInfo.ModelId, state.StartedAt)));
        app.MapGet("/v1/models/{id}", (HttpContext context, string id) =>
        {
            string modelId = state.RequireModel().ModelInfo.ModelId;
            if (id != modelId) throw new OpenAiError(404, $"The model '{id}' does not exist", param: "model", code: "model_not_found");
            return Json(context, 200, OpenAiJson.Model(modelId, state.StartedAt));
        });
        app.MapPost("/v1/chat/completions", (HttpContext context) => CompletionEndpoint.HandleAsync(context, state, OpenAiJson.Kind.Chat));
        app.MapPost("/v1/completions", (HttpContext context) => CompletionEndpoint.HandleAsync(context, state, OpenAiJson.Kind.Text));
        app.MapFallback((HttpContext context) =>
            throw new OpenAiError(404, $"no route for {context.Request.Method} {context.Request.Path}", code: "not_found"));
    }

    private static bool HasKey(HttpRequest request, string key)
    {
        string? header = request.Headers.Authorization;
        if (header == null || !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return false;
        byte[] given = Encoding.UTF8.GetBytes(header["Bearer ".Length..].Trim());
        return CryptographicOperations.FixedTimeEquals(given, Encoding.UTF8.GetBytes(key));
    }

    private static Task WriteErrorAsync(HttpContext context, OpenAiError e)
    {
        if (context.Response.HasStarted) return Task.CompletedTask; // mid-stream: the connection just ends
        return Json(context, e.Status, OpenAiJson.Error(e));
    }

    private static async Task Json(HttpContext context, int status, byte[] body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(body, context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        try
        {
            (await _state.Model).Dispose();
        }
        catch (Exception)
        {
            // the load failed: nothing to release
        }
    }
}
