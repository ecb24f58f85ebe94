using CodecLlm.Backends.Cpu;
using CodecLlm.Engine;
using CodecLlm.Formats;
using CodecLlm.Formats.Gguf;
using CodecLlm.Formats.HuggingFace;
using CodecLlm.Formats.Llama2c;
using CodecLlm.Model;
using CodecLlm.Tests.Formats;

namespace CodecLlm.Tests.Engine;

/// <summary>
/// The same trained model in three formats must compute the same thing: stories260K as llama2.c .bin, as the
/// llama.cpp project's GGUF, and as a Hugging Face directory written from the .bin (q/k rows permuted, rope
/// rotating split halves instead of adjacent pairs).
/// </summary>
public class FormatEquivalenceTests
{
    private const int Steps = 100;

    /// <summary>A greedy run of the .bin: the tokens fed at each position and the logits after each.</summary>
    private static (int[] Tokens, float[][] Logits) Reference()
    {
        using LoadedModel model = new Llama2cFormat().Load(TestPaths.Stories260KBin, new ModelLoadOptions());
        return Run(model, null);
    }

    private static (int[] Tokens, float[][] Logits) Run(LoadedModel model, int[]? tokens)
    {
        using CpuSession session = new(model, new SessionOptions { MaxSequenceLength = Steps });
        int[] fed = new int[Steps];
        float[][] logits = new float[Steps][];
        int token = model.Config.BosTokenId;
        for (int pos = 0; pos < Steps; pos++)
        {
            fed[pos] = tokens?[pos] ?? token;
            logits[pos] = new float[model.Config.VocabSize];
            session.Forward([fed[pos]], pos, logits[pos]);
            token = Sampler.Argmax(logits[pos]);
        }
        return (fed, logits);
    }

    [Fact]
    public void Gguf_GivesIdenticalLogitsAtEveryStep()
    {
        (int[] tokens, float[][] expected) = Reference();
        using LoadedModel gguf = new GgufFormat().Load(TestPaths.Stories260KGguf, new ModelLoadOptions());
        Assert.Equal(RopeStyle.Interleaved, gguf.Config.RopeStyle);
        (_, float[][] actual) = Run(gguf, tokens);
        for (int pos = 0; pos < Steps; pos++) Assert.Equal(expected[pos], actual[pos]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void HuggingFaceDirectory_GivesTheSameLogits(bool sharded)
    {
        (int[] tokens, float[][] expected) = Reference();
        string dir = TestPaths.NewTempDir();
        try
        {
            using (LoadedModel bin = new Llama2cFormat().Load(TestPaths.Stories260KBin, new ModelLoadOptions()))
                HfDirectoryWriter.Write(bin, dir, sharded);
            using LoadedModel hf = new HuggingFaceFormat().Load(dir, new ModelLoadOptions());
            Assert.Equal(RopeStyle.HalfSplit, hf.Config.RopeStyle);
            (_, float[][] actual) = Run(hf, tokens);
            // Attention sums q·k over the head's dimensions in a permuted order, so allow float rounding.
            double worst = 0;
            for (int pos = 0; pos < Steps; pos++)
            {
                float scale = expected[pos].Max(MathF.Abs);
                for (int i = 0; i < expected[pos].Length; i++)
                    worst = Math.Max(worst, Math.Abs(expected[pos][i] - actual[pos][i]) / scale);
                Assert.Equal(Sampler.Argmax(expected[pos]), Sampler.Argmax(actual[pos]));
            }
            Assert.True(worst <= 1e-5, $"largest difference {worst:E2} of the step's largest logit");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
