using System.Numerics.Tensors;

namespace CodecLlm.Backends.Cpu;

/// <summary>Numerically stable softmax in place: exp(x - max) / sum, vectorised.</summary>
public static class Softmax
{
    public static void Apply(Span<float> x)
    {
        if (x.IsEmpty) return;
        float max = TensorPrimitives.Max(x);
        TensorPrimitives.Subtract(x, max, x);
        TensorPrimitives.Exp(x, x);
        float sum = TensorPrimitives.Sum(x);
        TensorPrimitives.Divide(x, sum, x);
    }
}
