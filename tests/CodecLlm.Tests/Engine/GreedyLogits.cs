using CodecLlm.Engine;

namespace CodecLlm.Tests.Engine;

/// <summary>The logits of a greedy run, for comparing runs bit for bit.</summary>
internal static class GreedyLogits
{
    /// <summary>Logits [step][vocab]: step 0 after <paramref name="prompt"/>, then <paramref name="steps"/> greedy (argmax) steps.</summary>
    public static List<float[]> Collect(IInferenceSession s, int[] prompt, int steps)
    {
        var outs = new List<float[]>();
        var l = new float[s.Config.VocabSize];
        s.Forward(prompt, 0, l);
        outs.Add((float[])l.Clone());
        for (int i = 0; i < steps; i++)
        {
            s.Forward([Sampler.Argmax(l)], prompt.Length + i, l);
            outs.Add((float[])l.Clone());
        }
        return outs;
    }
}
