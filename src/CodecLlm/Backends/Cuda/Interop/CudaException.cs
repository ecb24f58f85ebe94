using CodecLlm.Model;

namespace CodecLlm.Backends.Cuda.Interop;

/// <summary>A CUDA driver, NVRTC or cuBLAS call failed; the message names the call and the error.</summary>
public sealed class CudaException : CodecLlmException
{
    public CudaException(string call, string errorName, int code, string? detail = null)
        : base($"{call} failed: {errorName} ({code}){(detail is { Length: > 0 } ? ": " + detail : "")}")
    {
        Call = call;
        ErrorName = errorName;
        Code = code;
    }

    public string Call { get; }

    public string ErrorName { get; }

    public int Code { get; }
}
