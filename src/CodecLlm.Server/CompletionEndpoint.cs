using System.Text;
using System.Text.Json;
using CodecLlm.Chat;
using CodecLlm.Engine;
using CodecLlm.Model;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;

namespace CodecLlm.Server;

/// <summary>
/// POST /v1/chat/completions and POST /v1/completions, whole or streamed as server-sent events
/// (<c>data: {chunk}</c> lines ending with <c>data: [DONE]</c>). The client's disconnect (RequestAborted)
/// cancels the generation at its next token.
/// </summary>
internal static class CompletionEndpoint
{
    public static async Task HandleAsync(HttpContext context, ServerState state, OpenAiJson.Kind kind)
    {
        CancellationToken aborted = context.RequestAborted;
        CodecLlmChatClient client = state.RequireModel();
        using JsonDocument body = await RequestBody.ReadJsonAsync(context.Request, state.Options.MaxRequestBodyBytes, aborted);
        CompletionRequest request = kind == OpenAiJson.Kind.Chat
            ? CompletionRequest.ParseChat(body.RootElement)
            : CompletionRequest.ParseCompletion(body.RootElement);

        string modelId = client.ModelInfo.ModelId;
        if (request.Model is { Length: > 0 } wanted && wanted != modelId)
            throw new OpenAiError(404, $"The model '{wanted}' does not exist; this server serves '{modelId}'", param: "model", code: "model_not_found");
        request.Options.ModelId = null;

        IAsyncEnumerable<ChatResponseUpdate> updates;
        try
        {
            updates = kind == OpenAiJson.Kind.Chat
                ? client.GetStreamingResponseAsync(request.Messages!.Select(m => new ChatMessage(new ChatRole(m.Role), m.Content)), request.Options, aborted)
                : client.GetStreamingCompletionAsync(request.Prompt!, request.Options, aborted);
        }
        catch (ChatTemplateException ex)
        {
            throw OpenAiError.BadRequest(ex.Message, "messages");
        }

        string id = (kind == OpenAiJson.Kind.Chat ? "chatcmpl-" : "cmpl-") + Guid.NewGuid().ToString("N")[..24];
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        state.Counters.Started();
        IAsyncEnumerator<ChatResponseUpdate> e = updates.GetAsyncEnumerator(aborted);
        try
        {
            bool any;
            try
            {
                any = await e.MoveNextAsync(); // queue wait and prompt processing happen here, before any byte is sent
            }
            catch (CodecLlmException ex)
            {
                throw OpenAiError.BadRequest(ex.Message, kind == OpenAiJson.Kind.Chat ? "messages" : "prompt", "context_length_exceeded");
            }

            bool logprobs = request.TopLogprobs != null;
            if (request.Stream) await StreamAsync(context.Response, e, any, kind, id, created, modelId, request.IncludeUsage, logprobs, aborted);
            else await WriteWholeAsync(context.Response, e, any, kind, id, created, modelId, logprobs, aborted);
            state.Counters.EndCompleted();
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            state.Counters.EndCancelled();
        }
        catch
        {
            state.Counters.EndFailed();
            throw;
        }
        finally
        {
            await e.DisposeAsync();
        }
    }

    private static async Task WriteWholeAsync(HttpResponse response, IAsyncEnumerator<ChatResponseUpdate> e, bool any,
        OpenAiJson.Kind kind, string id, long created, string model, bool logprobs, CancellationToken ct)
    {
        StringBuilder text = new();
        string finish = "stop";
        Usage usage = default;
        List<TokenLogprobs>? tokens = logprobs ? [] : null;
        for (bool more = any; more; more = await e.MoveNextAsync())
        {
            Accumulate(e.Current, text, ref finish, ref usage, tokens);
        }

        response.ContentType = "application/json";
        await response.Body.WriteAsync(OpenAiJson.Completion(kind, id, created, model, text.ToString(), finish, usage, tokens), ct);
    }

    /// <summary>
    /// A chunk a token with text; with log probabilities, those of tokens without text yet (a character split between
    /// tokens, text held back as a possible stop sequence) go with the next chunk that has text, or with the last one.
    /// </summary>
    private static async Task StreamAsync(HttpResponse response, IAsyncEnumerator<ChatResponseUpdate> e, bool any,
        OpenAiJson.Kind kind, string id, long created, string model, bool includeUsage, bool logprobs, CancellationToken ct)
    {
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        if (kind == OpenAiJson.Kind.Chat) await SendAsync(response, OpenAiJson.Chunk(kind, id, created, model, "", withRole: true, null), ct);

        string finish = "stop";
        Usage usage = default;
        List<TokenLogprobs>? pending = logprobs ? [] : null;
        int offset = 0;  // the completion's length before the pending tokens (text_offset)
        for (bool more = any; more; more = await e.MoveNextAsync())
        {
            ChatResponseUpdate u = e.Current;
            StringBuilder delta = new();
            Accumulate(u, delta, ref finish, ref usage, pending);
            if (delta.Length == 0) continue;
            await SendAsync(response, OpenAiJson.Chunk(kind, id, created, model, delta.ToString(), withRole: false, null, pending?.ToList(), offset), ct);
            if (pending != null) offset += pending.Sum(lp => OpenAiJson.TokenText(lp.Chosen).Length);
            pending?.Clear();
        }

        await SendAsync(response, OpenAiJson.Chunk(kind, id, created, model, null, withRole: false, finish, pending?.Count > 0 ? pending : null, offset), ct);
        if (includeUsage) await SendAsync(response, OpenAiJson.UsageChunk(kind, id, created, model, usage), ct);
        await response.Body.WriteAsync("data: [DONE]\n\n"u8.ToArray(), ct);
        await response.Body.FlushAsync(ct);
    }

    private static void Accumulate(ChatResponseUpdate u, StringBuilder text, ref string finish, ref Usage usage, List<TokenLogprobs>? logprobs)
    {
        if (logprobs != null && u.AdditionalProperties?.TryGetValue(CodecLlmChatClient.LogprobsProperty, out object? lp) == true && lp is TokenLogprobs token)
            logprobs.Add(token);
        foreach (AIContent c in u.Contents)
        {
            if (c is TextContent t) text.Append(t.Text);
            else if (c is UsageContent uc) usage = new Usage(uc.Details.InputTokenCount ?? 0, uc.Details.OutputTokenCount ?? 0, uc.Details.CachedInputTokenCount ?? 0);
        }

        if (u.FinishReason is { } reason) finish = reason == ChatFinishReason.Length ? "length" : "stop";
    }

    private static async Task SendAsync(HttpResponse response, byte[] json, CancellationToken ct)
    {
        byte[] frame = new byte[json.Length + 8];
        "data: "u8.CopyTo(frame);
        json.CopyTo(frame, 6);
        frame[^2] = (byte)'\n';
        frame[^1] = (byte)'\n';
        await response.Body.WriteAsync(frame, ct);
        await response.Body.FlushAsync(ct);
    }
}
