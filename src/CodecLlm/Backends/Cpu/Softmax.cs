using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace CodecLlm.Backends.Cpu;

/// <summary>Numerically stable softmax in place: exp(x - max) / sum.</summary>
public static class Softmax
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Apply(Span<float> x)
    {
        if (x.IsEmpty) return;
        float max = TensorPrimitives.Max(x);
        float sum = 0;
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = MathF.Exp(x[i] - max);
            sum += x[i];
        }
        for (int i = 0; i < x.Length; i++) x[i] /= sum;
    }
}
