using CodecLlm.Engine;
using CodecLlm.Model;

namespace CodecLlm.Backends.Cpu;

/// <summary>The reference backend: float32 math on the CPU, vectorised and multi-threaded matrix-vector products.</summary>
public sealed class CpuBackend : IInferenceBackend
{
    public string Name => "cpu";

    public IInferenceSession CreateSession(LoadedModel model, SessionOptions options) => new CpuSession(model, options);
}
