using CodecLlm.Backends.Cpu;
using CodecLlm.Backends.Cuda;
using CodecLlm.Engine;
using CodecLlm.Formats;
using CodecLlm.Formats.Llama2c;
using CodecLlm.Model;

namespace CodecLlm.Tests.Engine;

/// <summary>
/// Batched decode, the same test on every backend: on the real stories260K, B sequences with prompts of different
/// lengths (so they sit at different positions) decoded together give, for every sequence and step, the logits and
/// greedy tokens of a session decoding that sequence alone, bit for bit. The CPU single-sequence session is itself
/// checked against llama2.c's published output (Stories260KGenerationTests). The CUDA case skips without a GPU.
/// </summary>
[Collection("gpu")]
public class BatchedDecodeTests
{
    private const int Steps = 24;

    private static IInferenceBackend Backend(string name)
    {
        if (name == "cuda") Backends.Cuda.GpuTest.Context();
        return name == "cuda" ? new CudaBackend() : new CpuBackend();
    }

    private static int[] Prompt(ModelConfig c, int seq)
    {
        int n = 1 + 5 * seq % 13;
        return Enumerable.Range(0, n).Select(i => i == 0 ? c.BosTokenId : (int)((i * 7919L + seq * 104729L + 13) % c.VocabSize)).ToArray();
    }

    [Theory]
    [InlineData("cpu", 2)]
    [InlineData("cpu", 3)]
    [InlineData("cpu", 8)]
    [InlineData("cuda", 3)]
    [InlineData("cuda", 8)]
    public void EverySequenceMatchesItsSoloRunBitForBit(string backendName, int batch)
    {
        if (!File.Exists(TestPaths.Stories260KBin)) Assert.Skip("stories260K not present");
        IInferenceBackend backend = Backend(backendName);
        try
        {
            using LoadedModel model = new Llama2cFormat().Load(TestPaths.Stories260KBin, new ModelLoadOptions());
            ModelConfig c = model.Config;
            int vocab = c.VocabSize;
            var options = new SessionOptions { Threads = 2, MaxSequenceLength = 64 };
            int[][] prompts = Enumerable.Range(0, batch).Select(b => Prompt(c, b)).ToArray();
            var solo = new List<float[]>[batch];
            using (IInferenceSession s = backend.CreateSession(model, options))
                for (int b = 0; b < batch; b++) solo[b] = GreedyLogits.Collect(s, prompts[b], Steps);

            using var batched = (IBatchedInferenceSession)backend.CreateSession(model, options with { MaxBatch = batch });
            Assert.Equal(batch, batched.MaxBatch);
            var tokens = new int[batch];
            var positions = new int[batch];
            var l = new float[vocab];
            for (int b = 0; b < batch; b++)
            {
                batched.Prefill(b, prompts[b], 0, l);
                Assert.True(l.AsSpan().SequenceEqual(solo[b][0]), $"sequence {b}: prompt logits differ");
                tokens[b] = Sampler.Argmax(l);
                positions[b] = prompts[b].Length;
            }
            var all = new float[batch * vocab];
            var next = new int[batch];
            for (int step = 1; step <= Steps; step++)
            {
                batched.ForwardGreedyBatch(tokens, positions, next, all);
                for (int b = 0; b < batch; b++)
                {
                    ReadOnlySpan<float> mine = all.AsSpan(b * vocab, vocab);
                    Assert.True(mine.SequenceEqual(solo[b][step]), $"sequence {b}, step {step}: logits differ from its solo run");
                    Assert.Equal(Sampler.Argmax(solo[b][step]), next[b]);
                }
                next.CopyTo(tokens);
                for (int b = 0; b < batch; b++) positions[b]++;
            }
        }
        finally
        {
            (backend as IDisposable)?.Dispose();
        }
    }

    [Fact]
    public void CpuBatchArgumentsAreChecked()
    {
        if (!File.Exists(TestPaths.Stories260KBin)) Assert.Skip("stories260K not present");
        using LoadedModel model = new Llama2cFormat().Load(TestPaths.Stories260KBin, new ModelLoadOptions());
        using var s = new CpuSession(model, new SessionOptions { MaxBatch = 2, MaxSequenceLength = 16 });
        var l = new float[model.Config.VocabSize];
        Assert.Throws<ArgumentOutOfRangeException>(() => s.Prefill(2, [1], 0, l));
        Assert.Throws<ArgumentOutOfRangeException>(() => s.ForwardGreedyBatch([1, 2, 3], [0, 0, 0], new int[3], []));
        Assert.Throws<ArgumentOutOfRangeException>(() => s.ForwardGreedyBatch([1, 2], [0, 16], new int[2], []));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CpuSession(model, new SessionOptions { MaxBatch = 9 }));
    }
}
