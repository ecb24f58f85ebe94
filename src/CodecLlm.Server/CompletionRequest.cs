using System.Text.Json;
using CodecLlm.Chat;
using Microsoft.Extensions.AI;

namespace CodecLlm.Server;

/// <summary>
/// A validated /v1/chat/completions or /v1/completions request. Parse errors and out-of-range parameters
/// throw <see cref="OpenAiError"/> 400 naming the parameter; unknown fields are ignored, as OpenAI does.
/// <see cref="TopLogprobs"/>: null, or the alternatives a token that log probabilities were asked with (chat:
/// "logprobs": true and "top_logprobs" 0-20; completions: "logprobs" 0-5); the options carry it to the chat client.
/// </summary>
internal sealed record CompletionRequest(
    string? Model,
    IReadOnlyList<ChatMessageText>? Messages,
    string? Prompt,
    ChatOptions Options,
    bool Stream,
    bool IncludeUsage,
    int? TopLogprobs)
{
    private static readonly HashSet<string> Roles = ["system", "developer", "user", "assistant", "tool"];

    public static CompletionRequest ParseChat(JsonElement root) => Parse(root, chat: true);

    public static CompletionRequest ParseCompletion(JsonElement root) => Parse(root, chat: false);

    private static CompletionRequest Parse(JsonElement root, bool chat)
    {
        if (root.ValueKind != JsonValueKind.Object) throw OpenAiError.BadRequest("the request body must be a JSON object");

        string? model = OptionalString(root, "model");
        List<ChatMessageText>? messages = null;
        string? prompt = null;
        if (chat) messages = ParseMessages(root);
        else prompt = ParsePrompt(root);

        int? n = OptionalInt(root, "n", min: 1, max: int.MaxValue);
        if (n is > 1) throw OpenAiError.BadRequest("only n = 1 is supported", "n");
        if (!chat && OptionalBool(root, "echo") == true) throw OpenAiError.BadRequest("echo is not supported", "echo");

        ChatOptions options = new()
        {
            ModelId = model,
            MaxOutputTokens = OptionalInt(root, "max_completion_tokens", 1, int.MaxValue) ?? OptionalInt(root, "max_tokens", 1, int.MaxValue),
            Temperature = OptionalFloat(root, "temperature", 0, 2),
            TopP = OptionalFloat(root, "top_p", 0, 1),
            TopK = OptionalInt(root, "top_k", 0, int.MaxValue),
            Seed = OptionalLong(root, "seed"),
            StopSequences = ParseStop(root),
        };
        if (options.TopP == 0) throw OpenAiError.BadRequest("top_p must be greater than 0", "top_p");
        int? topLogprobs = chat ? ParseChatLogprobs(root) : OptionalInt(root, "logprobs", 0, 5);
        if (topLogprobs != null) (options.AdditionalProperties ??= [])[CodecLlmChatClient.TopLogprobsOption] = topLogprobs.Value;

        bool stream = OptionalBool(root, "stream") ?? false;
        bool includeUsage = false;
        if (root.TryGetProperty("stream_options", out JsonElement so) && so.ValueKind != JsonValueKind.Null)
        {
            if (so.ValueKind != JsonValueKind.Object) throw OpenAiError.BadRequest("stream_options must be an object", "stream_options");
            includeUsage = OptionalBool(so, "include_usage", "stream_options.include_usage") ?? false;
        }

        return new CompletionRequest(model, messages, prompt, options, stream, includeUsage, topLogprobs);
    }

    /// <summary>Chat: "logprobs" (true asks for them) and "top_logprobs" (0-20 alternatives a token, only with logprobs).</summary>
    private static int? ParseChatLogprobs(JsonElement root)
    {
        bool logprobs = OptionalBool(root, "logprobs") ?? false;
        int? top = OptionalInt(root, "top_logprobs", 0, 20);
        if (top != null && !logprobs) throw OpenAiError.BadRequest("top_logprobs needs logprobs to be true", "top_logprobs");
        return logprobs ? top ?? 0 : null;
    }

    private static List<ChatMessageText> ParseMessages(JsonElement root)
    {
        if (!root.TryGetProperty("messages", out JsonElement array)) throw OpenAiError.BadRequest("'messages' is required", "messages");
        if (array.ValueKind != JsonValueKind.Array || array.GetArrayLength() == 0)
            throw OpenAiError.BadRequest("'messages' must be a non-empty array", "messages");

        List<ChatMessageText> messages = [];
        int i = 0;
        foreach (JsonElement m in array.EnumerateArray())
        {
            string param = $"messages[{i++}]";
            if (m.ValueKind != JsonValueKind.Object) throw OpenAiError.BadRequest($"{param} must be an object", param);
            string role = OptionalString(m, "role", param + ".role") ?? throw OpenAiError.BadRequest($"{param}.role is required", param + ".role");
            if (!Roles.Contains(role)) throw OpenAiError.BadRequest($"{param}.role '{role}' is not one of system, developer, user, assistant, tool", param + ".role");
            messages.Add(new ChatMessageText(role == "developer" ? "system" : role, ParseContent(m, param + ".content")));
        }

        return messages;
    }

    /// <summary>content: a string, null, or an array of parts of which only {"type": "text"} are supported.</summary>
    private static string ParseContent(JsonElement message, string param)
    {
        if (!message.TryGetProperty("content", out JsonElement c) || c.ValueKind == JsonValueKind.Null) return "";
        if (c.ValueKind == JsonValueKind.String) return c.GetString()!;
        if (c.ValueKind != JsonValueKind.Array) throw OpenAiError.BadRequest($"{param} must be a string or an array of content parts", param);

        System.Text.StringBuilder text = new();
        foreach (JsonElement part in c.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object || OptionalString(part, "type", param) != "text")
                throw OpenAiError.BadRequest($"{param}: only text content parts are supported", param);
            text.Append(OptionalString(part, "text", param) ?? "");
        }

        return text.ToString();
    }

    private static string ParsePrompt(JsonElement root)
    {
        if (!root.TryGetProperty("prompt", out JsonElement p)) throw OpenAiError.BadRequest("'prompt' is required", "prompt");
        if (p.ValueKind == JsonValueKind.String) return p.GetString()!;
        if (p.ValueKind == JsonValueKind.Array && p.GetArrayLength() == 1 && p[0].ValueKind == JsonValueKind.String) return p[0].GetString()!;
        throw OpenAiError.BadRequest("'prompt' must be a string (or an array holding one string)", "prompt");
    }

    private static List<string>? ParseStop(JsonElement root)
    {
        if (!root.TryGetProperty("stop", out JsonElement s) || s.ValueKind == JsonValueKind.Null) return null;
        if (s.ValueKind == JsonValueKind.String) return s.GetString()!.Length > 0 ? [s.GetString()!] : null;
        if (s.ValueKind != JsonValueKind.Array || s.GetArrayLength() > 4 || s.EnumerateArray().Any(x => x.ValueKind != JsonValueKind.String || x.GetString()!.Length == 0))
            throw OpenAiError.BadRequest("'stop' must be a non-empty string or an array of up to 4 of them", "stop");
        return s.EnumerateArray().Select(x => x.GetString()!).ToList();
    }

    private static string? OptionalString(JsonElement obj, string name, string? param = null)
    {
        if (!obj.TryGetProperty(name, out JsonElement e) || e.ValueKind == JsonValueKind.Null) return null;
        return e.ValueKind == JsonValueKind.String ? e.GetString() : throw OpenAiError.BadRequest($"'{param ?? name}' must be a string", param ?? name);
    }

    private static bool? OptionalBool(JsonElement obj, string name, string? param = null)
    {
        if (!obj.TryGetProperty(name, out JsonElement e) || e.ValueKind == JsonValueKind.Null) return null;
        return e.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw OpenAiError.BadRequest($"'{param ?? name}' must be true or false", param ?? name),
        };
    }

    private static int? OptionalInt(JsonElement obj, string name, int min, int max)
    {
        if (!obj.TryGetProperty(name, out JsonElement e) || e.ValueKind == JsonValueKind.Null) return null;
        if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out int v)) throw OpenAiError.BadRequest($"'{name}' must be an integer", name);
        if (v < min || v > max)
            throw OpenAiError.BadRequest(max == int.MaxValue ? $"'{name}' must be at least {min}" : $"'{name}' must be between {min} and {max}", name);
        return v;
    }

    private static long? OptionalLong(JsonElement obj, string name)
    {
        if (!obj.TryGetProperty(name, out JsonElement e) || e.ValueKind == JsonValueKind.Null) return null;
        return e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out long v) ? v : throw OpenAiError.BadRequest($"'{name}' must be an integer", name);
    }

    private static float? OptionalFloat(JsonElement obj, string name, double min, double max)
    {
        if (!obj.TryGetProperty(name, out JsonElement e) || e.ValueKind == JsonValueKind.Null) return null;
        if (e.ValueKind != JsonValueKind.Number) throw OpenAiError.BadRequest($"'{name}' must be a number", name);
        double v = e.GetDouble();
        if (v < min || v > max) throw OpenAiError.BadRequest($"'{name}' must be between {min} and {max}", name);
        return (float)v;
    }
}
