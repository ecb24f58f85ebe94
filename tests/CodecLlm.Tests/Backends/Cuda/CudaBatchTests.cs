using System.Runtime.InteropServices;
using CodecLlm.Backends.Cuda;
using CodecLlm.Engine;
using CodecLlm.Formats;
using CodecLlm.Formats.Llama2c;
using CodecLlm.Model;

namespace CodecLlm.Tests.Backends.Cuda;

/// <summary>
/// Batched decode on the real stories260K: every sequence's logits at every step, bit for bit, against a batch-1
/// session decoding that sequence alone (the batch-1 path's kernels, an independent run), for raw and `fixed` weights.
/// </summary>
[Collection("gpu")]
public class CudaBatchTests
{
    private const int Steps = 32;

    /// <summary>stories260K with its matrices rounded to BF16 (the fused matvec's element type); norms stay F32.</summary>
    private static LoadedModel Stories260KBf16()
    {
        using LoadedModel f32 = new Llama2cFormat().Load(TestPaths.Stories260KBin, new ModelLoadOptions());
        var tensors = new Dictionary<string, ModelTensor>(StringComparer.Ordinal);
        var owned = new List<IDisposable>();
        foreach (ModelTensor t in f32.Tensors.Values)
        {
            byte[] raw = t.DecodeToArray();
            if (t.Shape.Length != 2)
            {
                NativeBuffer copy = NativeBuffer.CopyOf(raw);
                owned.Add(copy);
                tensors[t.Name] = new ModelTensor(t.Name, t.DType, t.Shape, copy, 0, copy.Length);
                continue;
            }
            ReadOnlySpan<float> v = MemoryMarshal.Cast<byte, float>(raw);
            var bf = new ushort[v.Length];
            for (int i = 0; i < v.Length; i++) bf[i] = SyntheticModel.ToBf16(v[i]);
            NativeBuffer b = NativeBuffer.CopyOf(MemoryMarshal.AsBytes(bf.AsSpan()));
            owned.Add(b);
            tensors[t.Name] = new ModelTensor(t.Name, TensorDType.BF16, t.Shape, b, 0, b.Length);
        }
        return new LoadedModel(f32.SourcePath + " (bf16)", f32.Format, f32.Config, tensors, null, owned);
    }

    /// <summary>Sequence b's prompt: different tokens and lengths (so the sequences sit at different positions); sequence 1's is one token.</summary>
    private static int[] Prompt(ModelConfig c, int b)
    {
        int n = b == 1 ? 1 : 3 + 2 * b;
        return Enumerable.Range(0, n).Select(i => i == 0 ? c.BosTokenId : (int)((i * 7919L + b * 104729L + 13) % c.VocabSize)).ToArray();
    }

    /// <summary>Logits [step][vocab] of one sequence decoded alone in a batch-1 session (greedy; step 0 after the prompt).</summary>
    private static List<float[]> Alone(CudaSession s, int[] prompt)
    {
        var outs = new List<float[]>();
        float[] l = new float[s.Config.VocabSize];
        s.Forward(prompt, 0, l);
        outs.Add((float[])l.Clone());
        for (int i = 0; i < Steps; i++)
        {
            int next = s.ForwardGreedy(Sampler.Argmax(l), prompt.Length + i, l);
            Assert.Equal(Sampler.Argmax(l), next);
            outs.Add((float[])l.Clone());
        }
        return outs;
    }

    /// <summary>Logits [sequence][step][vocab] of sequences 0..batch-1 prefilled one by one, then decoded together in lockstep.</summary>
    private static List<float[]>[] Together(CudaSession s, int batch)
    {
        int vocab = s.Config.VocabSize;
        var outs = Enumerable.Range(0, batch).Select(_ => new List<float[]>()).ToArray();
        float[] l = new float[vocab], all = new float[batch * vocab];
        int[] tokens = new int[batch], pos = new int[batch], next = new int[batch];
        for (int b = 0; b < batch; b++)
        {
            int[] p = Prompt(s.Config, b);
            s.Prefill(b, p, 0, l);
            outs[b].Add((float[])l.Clone());
            tokens[b] = Sampler.Argmax(l);
            pos[b] = p.Length;
        }
        for (int i = 0; i < Steps; i++)
        {
            s.ForwardGreedyBatch(tokens, pos, next, all);
            for (int b = 0; b < batch; b++)
            {
                float[] lb = all.AsSpan(b * vocab, vocab).ToArray();
                outs[b].Add(lb);
                Assert.True(Sampler.Argmax(lb) == next[b], $"step {i}, sequence {b}: GPU argmax {next[b]}, host argmax {Sampler.Argmax(lb)}");
                tokens[b] = next[b];
                pos[b]++;
            }
        }
        return outs;
    }

    private static void AssertBitIdentical(List<float[]> expected, List<float[]> actual, string what)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            int diff = expected[i].Where((v, k) => BitConverter.SingleToInt32Bits(v) != BitConverter.SingleToInt32Bits(actual[i][k])).Count();
            Assert.True(diff == 0, $"{what}, step {i}: {diff} logits differ (max |diff| {expected[i].Zip(actual[i], (x, y) => Math.Abs(x - y)).Max():E2})");
        }
    }

    [Theory]
    [InlineData(2, "raw", true)]
    [InlineData(3, "raw", true)]   // a batch-4 kernel storing 3 rows
    [InlineData(4, "raw", true)]
    [InlineData(8, "raw", true)]
    [InlineData(2, "fixed", true)]
    [InlineData(4, "fixed", true)]
    [InlineData(8, "fixed", true)]
    [InlineData(4, "fixed", false)] // fixed decoded to scratch, then the raw batched matvec
    [InlineData(4, "fixed", false, 4096)] // the same in row slices of at most 4 KiB (one launch per slice, per-matrix row strides)
    public void BatchedDecodeIsBitIdenticalToEachSequenceAlone(int batch, string codec, bool fused, long decodeSlice = 0)
    {
        GpuTest.Context();
        if (!File.Exists(TestPaths.Stories260KBin)) Assert.Skip("stories260K not present");
        using LoadedModel raw = Stories260KBf16();
        using LoadedModel? packed = codec == "raw" ? null : InMemoryCompression.Compress(raw, codec);
        var options = new SessionOptions { MaxSequenceLength = 64 };

        // Reference: each sequence alone, raw BF16 weights, batch-1 session.
        using var refBackend = new CudaBackend();
        var alone = new List<float[]>[batch];
        using (CudaSession s = refBackend.CreateCudaSession(raw, options))
            for (int b = 0; b < batch; b++) alone[b] = Alone(s, Prompt(raw.Config, b));

        using var backend = new CudaBackend(new CudaBackendOptions { FusedFixed = fused, DecodeSliceBytes = decodeSlice });
        using CudaSession batched = backend.CreateCudaSession(packed ?? raw, options with { MaxBatch = batch });
        if (packed != null) Assert.True(batched.CompressedWeightBytes.Compressed > 0);
        List<float[]>[] together = Together(batched, batch);
        for (int b = 0; b < batch; b++) AssertBitIdentical(alone[b], together[b], $"{codec} batch {batch}, sequence {b}");

        // A second pass over the same session (graph replay, caches overwritten) gives the same logits again.
        List<float[]>[] again = Together(batched, batch);
        for (int b = 0; b < batch; b++) AssertBitIdentical(together[b], again[b], $"{codec} batch {batch} replay, sequence {b}");
    }

    [Fact]
    public void BatchedDecodeOfF32WeightsIsBitIdenticalToEachSequenceAlone()
    {
        GpuTest.Context();
        if (!File.Exists(TestPaths.Stories260KBin)) Assert.Skip("stories260K not present");
        using LoadedModel model = new Llama2cFormat().Load(TestPaths.Stories260KBin, new ModelLoadOptions());
        var options = new SessionOptions { MaxSequenceLength = 64 };
        using var backend = new CudaBackend();
        var alone = new List<float[]>[4];
        using (CudaSession s = backend.CreateCudaSession(model, options))
            for (int b = 0; b < 4; b++) alone[b] = Alone(s, Prompt(model.Config, b));
        using CudaSession batched = backend.CreateCudaSession(model, options with { MaxBatch = 4 });
        List<float[]>[] together = Together(batched, 4);
        for (int b = 0; b < 4; b++) AssertBitIdentical(alone[b], together[b], $"f32 batch 4, sequence {b}");
    }

    [Fact]
    public void BatchedSessionRejectsBadArgumentsAndNeedsMaxBatch()
    {
        GpuTest.Context();
        if (!File.Exists(TestPaths.Stories260KBin)) Assert.Skip("stories260K not present");
        using LoadedModel model = new Llama2cFormat().Load(TestPaths.Stories260KBin, new ModelLoadOptions());
        using var backend = new CudaBackend();
        Assert.Throws<ArgumentOutOfRangeException>(() => backend.CreateCudaSession(model, new SessionOptions { MaxBatch = 9 }));
        using CudaSession s = backend.CreateCudaSession(model, new SessionOptions { MaxSequenceLength = 16, MaxBatch = 2 });
        float[] l = new float[model.Config.VocabSize];
        Assert.Throws<ArgumentOutOfRangeException>(() => s.Prefill(2, [1], 0, l));
        Assert.Throws<ArgumentOutOfRangeException>(() => s.ForwardGreedyBatch([1, 2, 3], [0, 0, 0], new int[3], default));
        Assert.Throws<ArgumentOutOfRangeException>(() => s.ForwardGreedyBatch([1, 2], [0, 16], new int[2], default));
    }
}
