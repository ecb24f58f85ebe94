namespace CodecLlm.Server;

/// <summary>
/// A request the server answers with an OpenAI-shaped error:
/// <c>{"error": {"message", "type", "param", "code"}}</c> and the given HTTP status.
/// </summary>
public sealed class OpenAiError : Exception
{
    public OpenAiError(int status, string message, string type = "invalid_request_error", string? param = null, string? code = null)
        : base(message)
    {
        Status = status;
        Type = type;
        Param = param;
        Code = code;
    }

    public int Status { get; }

    public string Type { get; }

    public string? Param { get; }

    public string? Code { get; }

    public static OpenAiError BadRequest(string message, string? param = null, string? code = null) => new(400, message, param: param, code: code);
}
