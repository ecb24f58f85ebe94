using System.Net;
using System.Text;
using System.Text.Json;

namespace CodecLlm.Tests.Server;

/// <summary>Small helpers for talking to the server without an SDK.</summary>
internal static class ServerHttp
{
    public static async Task<(HttpStatusCode Status, JsonElement Body)> PostJsonAsync(HttpClient http, string path, string json, CancellationToken ct,
        string? apiKey = null)
    {
        using HttpRequestMessage request = new(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (apiKey != null) request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiKey);
        using HttpResponseMessage response = await http.SendAsync(request, ct);
        return (response.StatusCode, await ReadJsonAsync(response, ct));
    }

    public static async Task<(HttpStatusCode Status, JsonElement Body)> GetJsonAsync(HttpClient http, string path, CancellationToken ct)
    {
        using HttpResponseMessage response = await http.GetAsync(path, ct);
        return (response.StatusCode, await ReadJsonAsync(response, ct));
    }

    private static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response, CancellationToken ct)
    {
        string text = await response.Content.ReadAsStringAsync(ct);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>POSTs a streaming request and returns the JSON of each "data:" event, checking the stream ends with [DONE].</summary>
    public static async Task<List<JsonElement>> PostStreamAsync(HttpClient http, string path, string json, CancellationToken ct)
    {
        using HttpRequestMessage request = new(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        using HttpResponseMessage response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        string body = await response.Content.ReadAsStringAsync(ct);
        string[] events = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("data: [DONE]", events[^1]);
        Assert.All(events, e => Assert.StartsWith("data: ", e));
        return events[..^1].Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement.Clone()).ToList();
    }

    /// <summary>The "error" object of an OpenAI error body, checked for its required fields.</summary>
    public static JsonElement Error(JsonElement body)
    {
        JsonElement error = body.GetProperty("error");
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("type").GetString()));
        Assert.True(error.TryGetProperty("param", out _));
        Assert.True(error.TryGetProperty("code", out _));
        return error;
    }
}
