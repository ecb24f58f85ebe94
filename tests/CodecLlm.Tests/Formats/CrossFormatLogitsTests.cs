using CodecLlm.Backends.Cpu;
using CodecLlm.Engine;
using CodecLlm.Formats;
using CodecLlm.Model;

namespace CodecLlm.Tests.Formats;

/// <summary>
/// The same model from three formats runs to the same logits on the CPU backend: llama2.c .bin (the reference),
/// its GGUF (same weights, interleaved rope) and an HF directory written from it (q/k rows permuted, half-split
/// rope). This checks the formats' tensor mapping and rope style end to end.
/// </summary>
public class CrossFormatLogitsTests
{
    private static readonly int[] Tokens = [1, 403, 407, 261, 378, 13, 365, 293, 505, 264, 303, 303, 400, 300];

    private static float[][] Logits(LoadedModel model)
    {
        using IInferenceSession s = new CpuBackend().CreateSession(model, new SessionOptions { MaxSequenceLength = 64, Threads = 1 });
        float[][] all = new float[Tokens.Length][];
        for (int p = 0; p < Tokens.Length; p++)
        {
            all[p] = new float[model.Config.VocabSize];
            s.Forward(Tokens.AsSpan(p, 1), p, all[p]);
        }
        return all;
    }

    [Fact]
    public void GgufAndHfDirectoryMatchTheLlama2cCheckpoint()
    {
        float[][] reference;
        using (LoadedModel bin = ModelLoader.Load(TestPaths.Stories260KBin)) reference = Logits(bin);

        using LoadedModel gguf = ModelLoader.Load(TestPaths.Stories260KGguf);
        float[][] fromGguf = Logits(gguf);
        for (int p = 0; p < Tokens.Length; p++) Assert.Equal(reference[p], fromGguf[p]); // same weights, same arithmetic

        string dir = TestPaths.NewTempDir();
        HfDirectoryWriter.Write(gguf, dir);
        using LoadedModel hf = ModelLoader.Load(dir);
        Assert.Equal(RopeStyle.HalfSplit, hf.Config.RopeStyle);
        float[][] fromHf = Logits(hf);
        for (int p = 0; p < Tokens.Length; p++)
        {
            // The head dimensions are summed in another order, so allow rounding, but nothing more.
            float maxAbs = reference[p].Max(Math.Abs);
            for (int v = 0; v < reference[p].Length; v++)
                Assert.True(Math.Abs(reference[p][v] - fromHf[p][v]) <= 1e-4f * maxAbs, $"position {p} token {v}: {reference[p][v]} vs {fromHf[p][v]}");
            Assert.Equal(ArgMax(reference[p]), ArgMax(fromHf[p]));
        }
    }

    private static int ArgMax(float[] x) => Array.IndexOf(x, x.Max());
}
