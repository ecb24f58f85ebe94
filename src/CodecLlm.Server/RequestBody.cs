using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace CodecLlm.Server;

/// <summary>Reads a request body as JSON: 413 past the size limit, 400 when it is empty or not JSON.</summary>
internal static class RequestBody
{
    public static async Task<JsonDocument> ReadJsonAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit) throw TooLarge(limit);

        using MemoryStream body = new();
        byte[] buffer = new byte[16 * 1024];
        int n;
        while ((n = await request.Body.ReadAsync(buffer, cancellationToken)) > 0)
        {
            if (body.Length + n > limit) throw TooLarge(limit);
            body.Write(buffer, 0, n);
        }

        if (body.Length == 0) throw OpenAiError.BadRequest("the request body is empty; expected a JSON object");
        try
        {
            return JsonDocument.Parse(body.GetBuffer().AsMemory(0, (int)body.Length));
        }
        catch (JsonException e)
        {
            throw OpenAiError.BadRequest($"the request body is not valid JSON: {e.Message}", code: "invalid_json");
        }
    }

    private static OpenAiError TooLarge(long limit) => new(413, $"the request body is larger than {limit} bytes", code: "request_too_large");
}
