using System.Buffers;
using System.Text.Json;

namespace CodecLlm.Server;

/// <summary>Token counts of one request, as the "usage" object reports them.</summary>
internal readonly record struct Usage(long PromptTokens, long CompletionTokens)
{
    public long TotalTokens => PromptTokens + CompletionTokens;
}

/// <summary>
/// The OpenAI response bodies, written directly with <see cref="Utf8JsonWriter"/>: chat.completion,
/// chat.completion.chunk, text_completion (whole and streamed), the model list and errors.
/// </summary>
internal static class OpenAiJson
{
    /// <summary>Which endpoint a body belongs to: chat ("chat.completion") or legacy text completion.</summary>
    public enum Kind
    {
        Chat,
        Text,
    }

    public static byte[] Error(OpenAiError e) => Write(w =>
    {
        w.WriteStartObject("error");
        w.WriteString("message", e.Message);
        w.WriteString("type", e.Type);
        WriteNullableString(w, "param", e.Param);
        WriteNullableString(w, "code", e.Code);
        w.WriteEndObject();
    });

    public static byte[] Models(string modelId, long created) => Write(w =>
    {
        w.WriteString("object", "list");
        w.WriteStartArray("data");
        w.WriteStartObject();
        WriteModelFields(w, modelId, created);
        w.WriteEndObject();
        w.WriteEndArray();
    });

    public static byte[] Model(string modelId, long created) => Write(w => WriteModelFields(w, modelId, created));

    private static void WriteModelFields(Utf8JsonWriter w, string modelId, long created)
    {
        w.WriteString("id", modelId);
        w.WriteString("object", "model");
        w.WriteNumber("created", created);
        w.WriteString("owned_by", "codecllm");
    }

    public static byte[] Health(string status, string? modelId) => Write(w =>
    {
        w.WriteString("status", status);
        WriteNullableString(w, "model", modelId);
    });

    /// <summary>A whole (non-streamed) chat.completion or text_completion.</summary>
    public static byte[] Completion(Kind kind, string id, long created, string model, string text, string finishReason, Usage usage) => Write(w =>
    {
        WriteHeader(w, id, kind == Kind.Chat ? "chat.completion" : "text_completion", created, model);
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteNumber("index", 0);
        if (kind == Kind.Chat)
        {
            w.WriteStartObject("message");
            w.WriteString("role", "assistant");
            w.WriteString("content", text);
            w.WriteEndObject();
        }
        else
        {
            w.WriteString("text", text);
        }

        w.WriteNull("logprobs");
        w.WriteString("finish_reason", finishReason);
        w.WriteEndObject();
        w.WriteEndArray();
        WriteUsage(w, usage);
    });

    /// <summary>One streamed chunk with one choice: a text delta, and/or the finish reason.</summary>
    public static byte[] Chunk(Kind kind, string id, long created, string model, string? text, bool withRole, string? finishReason) => Write(w =>
    {
        WriteHeader(w, id, kind == Kind.Chat ? "chat.completion.chunk" : "text_completion", created, model);
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteNumber("index", 0);
        if (kind == Kind.Chat)
        {
            w.WriteStartObject("delta");
            if (withRole) w.WriteString("role", "assistant");
            if (text != null) w.WriteString("content", text);
            w.WriteEndObject();
        }
        else
        {
            w.WriteString("text", text ?? "");
        }

        w.WriteNull("logprobs");
        WriteNullableString(w, "finish_reason", finishReason);
        w.WriteEndObject();
        w.WriteEndArray();
    });

    /// <summary>The final streamed chunk that stream_options.include_usage asks for: no choices, the usage.</summary>
    public static byte[] UsageChunk(Kind kind, string id, long created, string model, Usage usage) => Write(w =>
    {
        WriteHeader(w, id, kind == Kind.Chat ? "chat.completion.chunk" : "text_completion", created, model);
        w.WriteStartArray("choices");
        w.WriteEndArray();
        WriteUsage(w, usage);
    });

    private static void WriteHeader(Utf8JsonWriter w, string id, string objectName, long created, string model)
    {
        w.WriteString("id", id);
        w.WriteString("object", objectName);
        w.WriteNumber("created", created);
        w.WriteString("model", model);
        w.WriteString("system_fingerprint", "codecllm");
    }

    private static void WriteUsage(Utf8JsonWriter w, Usage usage)
    {
        w.WriteStartObject("usage");
        w.WriteNumber("prompt_tokens", usage.PromptTokens);
        w.WriteNumber("completion_tokens", usage.CompletionTokens);
        w.WriteNumber("total_tokens", usage.TotalTokens);
        w.WriteEndObject();
    }

    private static void WriteNullableString(Utf8JsonWriter w, string name, string? value)
    {
        if (value == null) w.WriteNull(name);
        else w.WriteString(name, value);
    }

    private static byte[] Write(Action<Utf8JsonWriter> body)
    {
        ArrayBufferWriter<byte> buffer = new(256);
        using (Utf8JsonWriter w = new(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
