using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace CodecLlm.Backends.Cpu;

/// <summary>RMSNorm: o = weight * x / sqrt(mean(x²) + eps), as llama2.c's rmsnorm.</summary>
public static class RmsNorm
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, float eps, Span<float> output)
    {
        if (weight.Length != x.Length || output.Length < x.Length)
            throw new ArgumentException($"rmsnorm over {x.Length} values given {weight.Length} weights and {output.Length} outputs");
        float ss = TensorPrimitives.SumOfSquares(x) / x.Length + eps;
        float scale = 1f / MathF.Sqrt(ss);
        for (int i = 0; i < x.Length; i++) output[i] = weight[i] * (scale * x[i]);
    }
}
