namespace CodecLlm.Model;

/// <summary>
/// Base of every error the library reports for bad input or an unusable environment. The message is one
/// line that names the problem (file, tensor, call); the CLI prints it alone and exits non-zero.
/// </summary>
public class CodecLlmException : Exception
{
    public CodecLlmException(string message) : base(message) { }
    public CodecLlmException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>The file is not what it claims to be: wrong magic, truncated, a header that points past the end.</summary>
public class ModelFormatException : CodecLlmException
{
    public ModelFormatException(string message) : base(message) { }
    public ModelFormatException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>Well-formed input that this engine does not handle (architecture, dtype, quantisation, codec, version).</summary>
public class UnsupportedModelException : CodecLlmException
{
    public UnsupportedModelException(string message) : base(message) { }
}

/// <summary>No tokenizer could be found or read for a model.</summary>
public class TokenizerNotFoundException : CodecLlmException
{
    public TokenizerNotFoundException(string message) : base(message) { }
}

/// <summary>A tensor's stored bytes fail their checksum or hash, or its blob does not decode.</summary>
public class CorruptTensorException : CodecLlmException
{
    public CorruptTensorException(string tensorName, string message) : base($"tensor '{tensorName}': {message}") => TensorName = tensorName;

    public string TensorName { get; }
}
