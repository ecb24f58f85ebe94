using System.Runtime.CompilerServices;

namespace CodecLlm.Backends.Cpu;

/// <summary>The gated MLP activation: gate = silu(gate) * up, with silu(v) = v / (1 + e^-v).</summary>
public static class SwiGlu
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Apply(Span<float> gate, ReadOnlySpan<float> up)
    {
        if (up.Length != gate.Length) throw new ArgumentException($"swiglu gate of {gate.Length} with up of {up.Length}");
        for (int i = 0; i < gate.Length; i++)
        {
            float v = gate[i];
            v *= 1f / (1f + MathF.Exp(-v));
            gate[i] = v * up[i];
        }
    }
}
