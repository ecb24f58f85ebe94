using CodecLlm.Engine;
using CodecLlm.Model;

namespace CodecLlm.Backends.Cpu;

/// <summary>The reference backend: float32 math on the CPU, vectorised and multi-threaded matrix-vector products.</summary>
public sealed class CpuBackend : IInferenceBackend
{
    private readonly SharedWeights<CpuWeights> _weights = new();

    public string Name => "cpu";

    /// <summary>A session; sessions of one model share its weights (decoded compressed tensors included).</summary>
    public IInferenceSession CreateSession(LoadedModel model, SessionOptions options) => new CpuSession(model, options, _weights);

    /// <summary>Sessions of this backend that hold <paramref name="model"/>'s weights.</summary>
    public int WeightUsers(LoadedModel model) => _weights.Users(model);
}
