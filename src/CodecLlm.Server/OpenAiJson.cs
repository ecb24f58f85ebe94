using System.Buffers;
using System.Text;
using System.Text.Json;
using CodecLlm.Engine;

namespace CodecLlm.Server;

/// <summary>Token counts of one request, as the "usage" object reports them (cached: prompt tokens the KV cache already held).</summary>
internal readonly record struct Usage(long PromptTokens, long CompletionTokens, long CachedTokens = 0)
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

    /// <summary>A whole (non-streamed) chat.completion or text_completion; <paramref name="logprobs"/>: each token's, when asked for.</summary>
    public static byte[] Completion(Kind kind, string id, long created, string model, string text, string finishReason, Usage usage,
        IReadOnlyList<TokenLogprobs>? logprobs = null) => Write(w =>
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

        WriteLogprobs(w, kind, logprobs, 0);
        w.WriteString("finish_reason", finishReason);
        w.WriteEndObject();
        w.WriteEndArray();
        WriteUsage(w, usage);
    });

    /// <summary>
    /// One streamed chunk with one choice: a text delta, and/or the finish reason; <paramref name="logprobs"/>: the tokens
    /// since the previous chunk, when asked for (<paramref name="textOffset"/>: the completion's length before them).
    /// </summary>
    public static byte[] Chunk(Kind kind, string id, long created, string model, string? text, bool withRole, string? finishReason,
        IReadOnlyList<TokenLogprobs>? logprobs = null, int textOffset = 0) => Write(w =>
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

        WriteLogprobs(w, kind, logprobs, textOffset);
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

    /// <summary>
    /// A choice's "logprobs": null when not asked for. Chat: {"content": [{token, logprob, bytes, top_logprobs: [{token,
    /// logprob, bytes}]}], "refusal": null}. Completions: {tokens, token_logprobs, top_logprobs: [{token: logprob}],
    /// text_offset} (a token's text offset counts from <paramref name="textOffset"/>; of alternatives with the same text
    /// only the likelier is kept). A token's text is its bytes as UTF-8 (U+FFFD where a character is split between tokens);
    /// log probabilities below -9999 are written as -9999, as OpenAI does.
    /// </summary>
    private static void WriteLogprobs(Utf8JsonWriter w, Kind kind, IReadOnlyList<TokenLogprobs>? logprobs, int textOffset)
    {
        if (logprobs == null)
        {
            w.WriteNull("logprobs");
            return;
        }

        w.WriteStartObject("logprobs");
        if (kind == Kind.Chat)
        {
            w.WriteStartArray("content");
            foreach (TokenLogprobs lp in logprobs)
            {
                w.WriteStartObject();
                WriteTokenChoice(w, lp.Chosen);
                w.WriteStartArray("top_logprobs");
                foreach (TokenChoice alt in lp.Top)
                {
                    w.WriteStartObject();
                    WriteTokenChoice(w, alt);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteNull("refusal");
        }
        else
        {
            w.WriteStartArray("tokens");
            foreach (TokenLogprobs lp in logprobs) w.WriteStringValue(TokenText(lp.Chosen));
            w.WriteEndArray();
            w.WriteStartArray("token_logprobs");
            foreach (TokenLogprobs lp in logprobs) w.WriteNumberValue(Logprob(lp.Chosen));
            w.WriteEndArray();
            w.WriteStartArray("top_logprobs");
            foreach (TokenLogprobs lp in logprobs)
            {
                w.WriteStartObject();
                HashSet<string> seen = [];
                foreach (TokenChoice alt in lp.Top)
                {
                    string token = TokenText(alt);
                    if (seen.Add(token)) w.WriteNumber(token, Logprob(alt));
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("text_offset");
            int offset = textOffset;
            foreach (TokenLogprobs lp in logprobs)
            {
                w.WriteNumberValue(offset);
                offset += TokenText(lp.Chosen).Length;
            }

            w.WriteEndArray();
        }

        w.WriteEndObject();
    }

    private static void WriteTokenChoice(Utf8JsonWriter w, TokenChoice c)
    {
        w.WriteString("token", TokenText(c));
        w.WriteNumber("logprob", Logprob(c));
        w.WriteStartArray("bytes");
        foreach (byte b in c.Bytes) w.WriteNumberValue(b);
        w.WriteEndArray();
    }

    /// <summary>A token's text: its bytes as UTF-8.</summary>
    public static string TokenText(TokenChoice c) => Encoding.UTF8.GetString(c.Bytes);

    private static double Logprob(TokenChoice c) => Math.Max(c.Logprob, -9999.0);

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
        w.WriteStartObject("prompt_tokens_details");
        w.WriteNumber("cached_tokens", usage.CachedTokens);
        w.WriteEndObject();
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
