using CodecLlm.Model;
using System.Runtime.CompilerServices;

namespace CodecLlm.Backends.Cpu;

/// <summary>
/// Rotary position embedding. Pair i of a head (0 ≤ i &lt; headDim/2) turns by pos·θ^(-2i/headDim); which two
/// elements form pair i depends on <see cref="RopeStyle"/>. Llama 3 frequency scaling and linear scaling
/// adjust the inverse frequencies once, at construction.
/// </summary>
public sealed class RotaryEmbedding
{
    private readonly float[] _invFreq;

    public RotaryEmbedding(int headDim, float theta, RopeStyle style, RopeScaling? scaling = null)
    {
        if (headDim % 2 != 0) throw new UnsupportedModelException($"rotary embedding needs an even head dimension, not {headDim}");
        HeadDim = headDim;
        Style = style;
        _invFreq = new float[headDim / 2];
        for (int i = 0; i < _invFreq.Length; i++) _invFreq[i] = 1f / MathF.Pow(theta, 2 * i / (float)headDim);
        if (scaling != null) ApplyScaling(_invFreq, scaling);
    }

    public int HeadDim { get; }

    public RopeStyle Style { get; }

    public ReadOnlySpan<float> InverseFrequencies => _invFreq;

    /// <summary>cos and sin of every pair's angle at <paramref name="pos"/> (headDim/2 values each).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Angles(int pos, Span<float> cos, Span<float> sin)
    {
        for (int i = 0; i < _invFreq.Length; i++)
        {
            float angle = pos * _invFreq[i];
            cos[i] = MathF.Cos(angle);
            sin[i] = MathF.Sin(angle);
        }
    }

    /// <summary>Rotates every head of <paramref name="vec"/> (numHeads × headDim values) in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Apply(Span<float> vec, int numHeads, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin)
    {
        int half = HeadDim / 2;
        for (int h = 0; h < numHeads; h++)
        {
            Span<float> head = vec.Slice(h * HeadDim, HeadDim);
            for (int i = 0; i < half; i++)
            {
                (int a, int b) = Style == RopeStyle.Interleaved ? (2 * i, 2 * i + 1) : (i, i + half);
                float x0 = head[a], x1 = head[b];
                head[a] = x0 * cos[i] - x1 * sin[i];
                head[b] = x0 * sin[i] + x1 * cos[i];
            }
        }
    }

    private static void ApplyScaling(float[] invFreq, RopeScaling s)
    {
        switch (s.Type)
        {
            case "default" or "none":
                return;
            case "linear":
                for (int i = 0; i < invFreq.Length; i++) invFreq[i] /= s.Factor;
                return;
            case "llama3":
                // Hugging Face _compute_llama3_parameters: keep high frequencies, divide low ones by the
                // factor, and blend smoothly in between (by wavelength relative to the original context).
                float lowWavelen = s.OriginalMaxPositionEmbeddings / s.LowFreqFactor;
                float highWavelen = s.OriginalMaxPositionEmbeddings / s.HighFreqFactor;
                for (int i = 0; i < invFreq.Length; i++)
                {
                    float wavelen = 2 * MathF.PI / invFreq[i];
                    if (wavelen < highWavelen) continue;
                    if (wavelen > lowWavelen)
                    {
                        invFreq[i] /= s.Factor;
                        continue;
                    }
                    float smooth = (s.OriginalMaxPositionEmbeddings / wavelen - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
                    invFreq[i] = (1 - smooth) * invFreq[i] / s.Factor + smooth * invFreq[i];
                }
                return;
            default:
                throw new UnsupportedModelException($"rope scaling type '{s.Type}' is not supported (supported: llama3, linear)");
        }
    }
}
