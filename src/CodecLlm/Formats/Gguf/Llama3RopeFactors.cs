using CodecLlm.Model;

namespace CodecLlm.Formats.Gguf;

/// <summary>
/// llama.cpp stores Llama 3.1+ rope scaling not as parameters but as the per-frequency factors it computed
/// from them (tensor rope_freqs.weight). The engine takes the parameters (<see cref="RopeScaling"/>), so
/// this recovers them: it tries the parameter sets Llama 3 releases use, recomputes the factors the way
/// convert_hf_to_gguf.py does, and accepts a set only when every factor matches.
/// </summary>
internal static class Llama3RopeFactors
{
    private static readonly float[] LowFreqFactors = [1f, 2f];
    private static readonly float[] HighFreqFactors = [4f, 2f, 8f];
    private static readonly int[] OriginalContexts = [8192, 4096, 2048, 16384, 32768, 65536, 131072];

    /// <summary>The rope scaling the factors encode, or null when they are all 1 (no scaling).</summary>
    public static RopeScaling? Recover(string path, ReadOnlySpan<float> factors, int headDim, float theta)
    {
        if (factors.Length != headDim / 2)
            throw new ModelFormatException($"{path}: tensor '{GgufTensorNames.RopeFreqs}' has {factors.Length} values, expected {headDim / 2}");
        float max = 1f;
        bool allOne = true;
        foreach (float f in factors)
        {
            max = Math.Max(max, f);
            allOne &= f == 1f;
        }
        if (allOne) return null;
        foreach (int orig in OriginalContexts)
            foreach (float low in LowFreqFactors)
                foreach (float high in HighFreqFactors)
                    if (Matches(factors, headDim, theta, max, low, high, orig))
                        return new RopeScaling("llama3", max, low, high, orig);
        throw new UnsupportedModelException($"{path}: tensor '{GgufTensorNames.RopeFreqs}' does not match Llama 3 rope scaling; other rope scalings are not supported");
    }

    private static bool Matches(ReadOnlySpan<float> stored, int headDim, float theta, float factor, float low, float high, int orig)
    {
        double lowWavelen = orig / low, highWavelen = orig / high;
        for (int i = 0; i < stored.Length; i++)
        {
            double freq = 1.0 / Math.Pow(theta, 2.0 * i / headDim);
            double wavelen = 2 * Math.PI / freq;
            double expected;
            if (wavelen < highWavelen) expected = 1;
            else if (wavelen > lowWavelen) expected = factor;
            else
            {
                double smooth = (orig / wavelen - low) / (high - low);
                expected = 1 / ((1 - smooth) / factor + smooth);
            }
            if (Math.Abs(stored[i] - expected) > 1e-4 * expected) return false;
        }
        return true;
    }
}
