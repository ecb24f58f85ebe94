using CodecLlm.Backends.Cpu;
using CodecLlm.Backends.Cuda;
using CodecLlm.Codecs;
using CodecLlm.Engine;
using CodecLlm.Formats;
using CodecLlm.Formats.Llama2c;
using CodecLlm.Model;

namespace CodecLlm.Tests.Backends.Cuda;

/// <summary>The GPU engine against the CPU engine, and compressed against uncompressed on the GPU.</summary>
[Collection("gpu")]
public class CudaSessionTests
{
    private static double MaxRelDiff(float[] a, float[] b)
    {
        double num = 0, den = 0;
        for (int i = 0; i < a.Length; i++)
        {
            num = Math.Max(num, Math.Abs(a[i] - (double)b[i]));
            den = Math.Max(den, Math.Abs((double)b[i]));
        }
        return num / den;
    }

    [Theory]
    [InlineData("f32", true)]
    [InlineData("f32", false)]
    public void Stories260KGreedyMatchesCpuFor200Steps(string kv, bool graphs)
    {
        CudaContext c = GpuTest.Context();
        if (!File.Exists(TestPaths.Stories260KBin)) Assert.Skip("stories260K not present");
        using LoadedModel model = new Llama2cFormat().Load(TestPaths.Stories260KBin, new ModelLoadOptions());
        using IInferenceSession cpu = new CpuBackend().CreateSession(model, new SessionOptions { Threads = 2 });
        using var backend = new CudaBackend(new CudaBackendOptions { UseGraphs = graphs });
        using CudaSession gpu = backend.CreateCudaSession(model, new SessionOptions { KvCacheType = kv });
        int vocab = model.Config.VocabSize;
        float[] lc = new float[vocab], lg = new float[vocab];
        int token = model.Config.BosTokenId;
        double worst = 0;
        for (int pos = 0; pos < 200; pos++)
        {
            cpu.Forward([token], pos, lc);
            gpu.Forward([token], pos, lg);
            worst = Math.Max(worst, MaxRelDiff(lg, lc));
            int tc = Sampler.Argmax(lc), tg = Sampler.Argmax(lg);
            Assert.True(tc == tg, $"step {pos}: CPU picked {tc}, GPU {tg} (max rel logit diff so far {worst:E2})");
            token = tc;
        }
        Assert.True(worst < 1e-4, $"max relative logit difference {worst:E2}");
    }

    [Fact]
    public void Stories260KPrefillMatchesCpuAndDecodeGreedyAgrees()
    {
        CudaContext c = GpuTest.Context();
        if (!File.Exists(TestPaths.Stories260KBin)) Assert.Skip("stories260K not present");
        using LoadedModel model = new Llama2cFormat().Load(TestPaths.Stories260KBin, new ModelLoadOptions());
        using IInferenceSession cpu = new CpuBackend().CreateSession(model, new SessionOptions { Threads = 2 });
        using var backend = new CudaBackend(new CudaBackendOptions { PrefillChunk = 16 });
        using CudaSession gpu = backend.CreateCudaSession(model, new SessionOptions());
        int[] prompt = [1, 403, 407, 261, 378, 430, 10, 300, 42, 17, 99, 250, 7, 8, 9, 11, 12, 13, 14, 15, 16, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35];
        float[] lc = new float[model.Config.VocabSize], lg = new float[model.Config.VocabSize];
        cpu.Forward(prompt, 0, lc);
        gpu.Forward(prompt, 0, lg);
        Assert.True(MaxRelDiff(lg, lc) < 1e-4, $"prefill logits differ: {MaxRelDiff(lg, lc):E2}");
        int next = gpu.ForwardGreedy(Sampler.Argmax(lg), prompt.Length, lg);
        cpu.Forward([Sampler.Argmax(lc)], prompt.Length, lc);
        Assert.Equal(Sampler.Argmax(lc), next);
        Assert.Equal(Sampler.Argmax(lg), next);
    }

    /// <summary>A small Llama shape (3 layers, 512 wide) for GPU engine tests.</summary>
    internal static readonly ModelConfig Small = new()
    {
        Architecture = "llama",
        HiddenSize = 512,
        IntermediateSize = 1376,
        NumLayers = 3,
        NumHeads = 8,
        NumKvHeads = 2,
        VocabSize = 3000,
        MaxSequenceLength = 128,
        RopeStyle = RopeStyle.HalfSplit,
    };

    /// <summary>The logits of a 9-token prompt and <paramref name="steps"/> greedy steps.</summary>
    internal static List<float[]> Run(IInferenceSession s, int steps) =>
        Tests.Engine.GreedyLogits.Collect(s, Enumerable.Range(0, 9).Select(i => (i * 977 + 1) % s.Config.VocabSize).ToArray(), steps);

    [Theory]
    [InlineData("fixed", true, "bf16", 8 << 20)]
    [InlineData("fixed", false, "f32", 8 << 20)]
    [InlineData("entropy", true, "f16", 8 << 20)]
    [InlineData("entropy", true, "f32", 8 << 20)]
    [InlineData("fixed", true, "f16", 8 << 20)]
    [InlineData("fixed", true, "f32", 100_000)]     // prefill GEMMs in row slices (raw and decoded alike), one prefill slot
    [InlineData("fixed", true, "f32", 100_000, 0, 2)] // the same with two prefill slots (a slice decoded during the previous GEMM)
    [InlineData("entropy", true, "f32", 100_000)]   // slices that start inside an entropy group
    [InlineData("fixed", false, "f32", 8 << 20, 300_000)] // decode steps in row slices: q in two, k + v together, gate/up/down in five each
    [InlineData("fixed", false, "bf16", 8 << 20, 700_000)] // q + k in one launch, then v
    [InlineData("entropy", false, "f32", 8 << 20, 300_000)] // entropy steps stay whole
    public void CompressedLogitsAreBitIdenticalToUncompressedEveryStep(string codec, bool fused, string kv, int sliceBytes, long decodeSlice = 0, int prefillSlots = 1)
    {
        CudaContext c = GpuTest.Context();
        using LoadedModel model = SyntheticModel.Create(Small, TensorDType.BF16, 42);
        using LoadedModel packed = InMemoryCompression.Compress(model, codec);
        using var backend = new CudaBackend(new CudaBackendOptions { FusedFixed = fused, PrefillChunk = 4, PrefillSliceBytes = sliceBytes, DecodeSliceBytes = decodeSlice, PrefillScratchSlots = prefillSlots });
        List<float[]> a, b;
        using (CudaSession s = backend.CreateCudaSession(model, new SessionOptions { KvCacheType = kv })) a = Run(s, 24);
        using (CudaSession s = backend.CreateCudaSession(packed, new SessionOptions { KvCacheType = kv }))
        {
            Assert.True(s.CompressedWeightBytes.Compressed > 0);
            Assert.True(s.CompressedWeightBytes.Compressed < 0.8 * s.CompressedWeightBytes.Decoded);
            // Sliced: q/k/v in 3 units (q0, q1, k + v), o in 2, gate/up in 10, down in 5 per layer (and the head in slices), against 4 per layer whole.
            if (decodeSlice == 300_000 && codec == "fixed") Assert.True(s.DecodeScratchUnits >= Small.NumLayers * 18, $"{s.DecodeScratchUnits} decode units: not sliced");
            b = Run(s, 24);
        }
        for (int i = 0; i < a.Count; i++)
        {
            int diff = a[i].Where((v, k) => BitConverter.SingleToInt32Bits(v) != BitConverter.SingleToInt32Bits(b[i][k])).Count();
            Assert.True(diff == 0, $"step {i}: {diff} logits differ (max |diff| {a[i].Zip(b[i], (x, y) => Math.Abs(x - y)).Max():E2})");
        }
    }

    /// <summary>
    /// Matrices of one launch compressed and not (`--tensors` globs: gate and k but not up and q/v): each runs its own
    /// launch with the combined launch's warps, so the logits equal the uncompressed model's bit for bit at every step,
    /// fused and decoded to scratch.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void LaunchesMixingFixedAndRawMatricesGiveTheUncompressedLogits(bool fused)
    {
        GpuTest.Context();
        using LoadedModel model = SyntheticModel.Create(Small, TensorDType.BF16, 17);
        using LoadedModel packed = InMemoryCompression.Compress(model, "fixed", TensorSelection.Parse("*.mlp.gate_proj.weight,*.self_attn.k_proj.weight"));
        using var backend = new CudaBackend(new CudaBackendOptions { FusedFixed = fused });
        List<float[]> a, b;
        using (CudaSession s = backend.CreateCudaSession(model, new SessionOptions())) a = Run(s, 12);
        using (CudaSession s = backend.CreateCudaSession(packed, new SessionOptions()))
        {
            Assert.True(s.CompressedWeightBytes.Compressed > 0);
            b = Run(s, 12);
        }
        for (int i = 0; i < a.Count; i++)
            Assert.True(a[i].Select(BitConverter.SingleToInt32Bits).SequenceEqual(b[i].Select(BitConverter.SingleToInt32Bits)), $"step {i}: logits differ");
    }

    [Fact]
    public void SessionsOfOneModelShareTheWeightsInVram()
    {
        GpuTest.Context();
        using LoadedModel model = SyntheticModel.Create(Small, TensorDType.BF16, 5);
        using LoadedModel packed = InMemoryCompression.Compress(model, "fixed");
        using var backend = new CudaBackend();
        CudaContext c = backend.Context;  // the backend's own context: its allocator counts the sessions' bytes
        long before = c.Allocator.CurrentBytes;
        CudaSession s1 = backend.CreateCudaSession(packed, new SessionOptions());
        long one = c.Allocator.CurrentBytes - before;
        CudaSession s2 = backend.CreateCudaSession(packed, new SessionOptions());
        long two = c.Allocator.CurrentBytes - before;
        long weights = packed.Tensors.Values.Sum(t => t.StoredLength);
        Assert.Equal(2, backend.WeightUsers(packed));
        Assert.True(two - one < one - weights / 2, $"the second session took {two - one:N0} bytes, the first {one:N0} (weights about {weights:N0})");
        List<float[]> a = Run(s1, 8);
        s1.Dispose();
        List<float[]> b = Run(s2, 8);  // the weights outlive the first session
        s2.Dispose();
        Assert.Equal(0, backend.WeightUsers(packed));
        Assert.Equal(before, c.Allocator.CurrentBytes);
        for (int i = 0; i < a.Count; i++) Assert.True(a[i].AsSpan().SequenceEqual(b[i]), $"step {i}: the sessions differ");
    }

    [Fact]
    public void SyntheticBf16ModelMatchesCpu()
    {
        CudaContext c = GpuTest.Context();
        using LoadedModel model = SyntheticModel.Create(Small, TensorDType.BF16, 7);
        using IInferenceSession cpu = new CpuBackend().CreateSession(model, new SessionOptions { Threads = 2 });
        using var backend = new CudaBackend();
        using CudaSession gpu = backend.CreateCudaSession(model, new SessionOptions());
        float[] lc = new float[Small.VocabSize], lg = new float[Small.VocabSize];
        int token = 1;
        for (int pos = 0; pos < 20; pos++)
        {
            cpu.Forward([token], pos, lc);
            gpu.Forward([token], pos, lg);
            Assert.True(MaxRelDiff(lg, lc) < 1e-4, $"step {pos}: {MaxRelDiff(lg, lc):E2}");
            token = Sampler.Argmax(lc);
        }
    }

    /// <summary>
    /// q/k/v biases (Qwen2): a prompt of three prefill chunks on the GPU (each bias added to its GEMM's W·hi + W·lo sum)
    /// against the CPU engine, and the `fixed` model's logits against the uncompressed ones bit for bit, prefill and decode.
    /// </summary>
    [Fact]
    public void AttentionBiasPrefillMatchesCpuAndCompressedIsBitIdentical()
    {
        GpuTest.Context();
        ModelConfig cfg = Small with { AttentionBias = true };
        using LoadedModel model = SyntheticModel.Create(cfg, TensorDType.BF16, 23);
        using LoadedModel packed = InMemoryCompression.Compress(model, "fixed");
        using IInferenceSession cpu = new CpuBackend().CreateSession(model, new SessionOptions { Threads = 2 });
        using var backend = new CudaBackend(new CudaBackendOptions { PrefillChunk = 8 });
        int[] prompt = Enumerable.Range(0, 21).Select(i => (i * 577 + 3) % cfg.VocabSize).ToArray();
        float[] lc = new float[cfg.VocabSize], lg = new float[cfg.VocabSize];
        cpu.Forward(prompt, 0, lc);
        using (CudaSession gpu = backend.CreateCudaSession(model, new SessionOptions())) gpu.Forward(prompt, 0, lg);
        Assert.True(MaxRelDiff(lg, lc) < 1e-4, $"prefill logits differ: {MaxRelDiff(lg, lc):E2}");
        List<float[]> a, b;
        using (CudaSession s = backend.CreateCudaSession(model, new SessionOptions())) a = Run(s, 6);
        using (CudaSession s = backend.CreateCudaSession(packed, new SessionOptions())) b = Run(s, 6);
        for (int i = 0; i < a.Count; i++)
            Assert.True(a[i].Select(BitConverter.SingleToInt32Bits).SequenceEqual(b[i].Select(BitConverter.SingleToInt32Bits)), $"step {i}: logits differ");
    }

    /// <summary>
    /// Decode at positions past one attention block's share (<see cref="CudaOps.DecodeAttentionSplit"/>, 256): a 290-token
    /// prompt, then 12 greedy steps, each within 1e-4 of the CPU engine with the same token; and the same sequence decoded
    /// beside a short one in a batched session (one split and two splits in one launch), bit for bit as alone.
    /// </summary>
    [Fact]
    public void LongContextDecodeSplitsAttentionAndMatchesCpu()
    {
        GpuTest.Context();
        if (CudaOps.DecodeAttentionSplit is <= 0 or >= 290) Assert.Skip($"CODECLLM_ATTN_SPLIT={CudaOps.DecodeAttentionSplit}: 290 positions are not split");
        ModelConfig cfg = Small with { MaxSequenceLength = 640 };
        using LoadedModel model = SyntheticModel.Create(cfg, TensorDType.BF16, 29);
        using IInferenceSession cpu = new CpuBackend().CreateSession(model, new SessionOptions { Threads = 2 });
        using var backend = new CudaBackend();
        int[] longPrompt = Enumerable.Range(0, 290).Select(i => (i * 389 + 5) % cfg.VocabSize).ToArray(), shortPrompt = [1, 77, 2048, 9];
        const int steps = 12;
        List<float[]> Alone(int[] prompt)
        {
            using CudaSession s = backend.CreateCudaSession(model, new SessionOptions());
            var outs = new List<float[]>();
            float[] l = new float[cfg.VocabSize];
            s.Forward(prompt, 0, l);
            for (int i = 0; i < steps; i++)
            {
                s.ForwardGreedy(Sampler.Argmax(l), prompt.Length + i, l);
                outs.Add((float[])l.Clone());
            }
            return outs;
        }
        List<float[]> gpu = Alone(longPrompt);
        float[] lc = new float[cfg.VocabSize];
        cpu.Forward(longPrompt, 0, lc);
        for (int i = 0; i < steps; i++)
        {
            cpu.Forward([Sampler.Argmax(lc)], longPrompt.Length + i, lc);
            Assert.True(MaxRelDiff(gpu[i], lc) < 1e-4, $"step {i}: {MaxRelDiff(gpu[i], lc):E2}");
            Assert.Equal(Sampler.Argmax(lc), Sampler.Argmax(gpu[i]));
        }

        AssertBatchedAsAlone(backend, model, longPrompt, shortPrompt, gpu, Alone(shortPrompt));
    }

    /// <summary>
    /// <paramref name="longPrompt"/> and <paramref name="shortPrompt"/> prefilled into a two-sequence session, then greedy
    /// steps of both in one launch: each step's logits of the long sequence (and of the short one, when given) bit for bit
    /// those it had alone.
    /// </summary>
    private static void AssertBatchedAsAlone(CudaBackend backend, LoadedModel model, int[] longPrompt, int[] shortPrompt, List<float[]> longAlone,
        List<float[]>? shortAlone)
    {
        int vocab = model.Config.VocabSize;
        using CudaSession batched = backend.CreateCudaSession(model, new SessionOptions { MaxBatch = 2 });
        float[] l0 = new float[vocab], l1 = new float[vocab], all = new float[2 * vocab];
        batched.Prefill(0, longPrompt, 0, l0);
        batched.Prefill(1, shortPrompt, 0, l1);
        int[] tokens = [Sampler.Argmax(l0), Sampler.Argmax(l1)], pos = [longPrompt.Length, shortPrompt.Length], next = new int[2];
        for (int i = 0; i < longAlone.Count; i++)
        {
            batched.ForwardGreedyBatch(tokens, pos, next, all);
            Assert.True(all.AsSpan(0, vocab).SequenceEqual(longAlone[i]), $"step {i}: the long sequence's batched logits differ from alone");
            if (shortAlone != null)
                Assert.True(all.AsSpan(vocab, vocab).SequenceEqual(shortAlone[i]), $"step {i}: the short sequence's batched logits differ from alone");
            tokens = next.ToArray();
            pos[0]++;
            pos[1]++;
        }
    }

    /// <summary>
    /// Sliding-window attention (Mistral, Qwen2) on the GPU against the CPU engine: a 400-token prompt in 64-token prefill
    /// chunks (the tiled prefill kernel, the window starting inside key tiles and reaching back into earlier chunks),
    /// then 10 greedy steps (attention_decode; a window of 300 spans two position splits of 256); a window in every layer,
    /// and in layers 0 and 2 only (layer 1 attends to all 400+ positions). The same sequence decoded beside a short one
    /// in a batched session gives the same bits as alone.
    /// </summary>
    [Theory]
    [InlineData(300, false)]
    [InlineData(37, true)]
    public void SlidingWindowMatchesCpu_PrefillDecodeAndBatched(int window, bool someLayers)
    {
        GpuTest.Context();
        ModelConfig cfg = Small with { MaxSequenceLength = 640, SlidingWindow = window, SlidingLayers = someLayers ? [true, false, true] : null };
        using LoadedModel model = SyntheticModel.Create(cfg, TensorDType.BF16, 31);
        using IInferenceSession cpu = new CpuBackend().CreateSession(model, new SessionOptions { Threads = 2 });
        using var backend = new CudaBackend(new CudaBackendOptions { PrefillChunk = 64 });
        int[] prompt = Enumerable.Range(0, 400).Select(i => (i * 733 + 11) % cfg.VocabSize).ToArray(), shortPrompt = [1, 5, 2999];
        const int steps = 10;
        float[] lc = new float[cfg.VocabSize], lg = new float[cfg.VocabSize];
        cpu.Forward(prompt, 0, lc);
        var alone = new List<float[]>();
        using (CudaSession gpu = backend.CreateCudaSession(model, new SessionOptions()))
        {
            gpu.Forward(prompt, 0, lg);
            Assert.True(MaxRelDiff(lg, lc) < 1e-4, $"prefill logits differ: {MaxRelDiff(lg, lc):E2}");
            for (int i = 0; i < steps; i++)
            {
                int token = Sampler.Argmax(lg);  // the GPU's pick, fed to both (the batched run below picks on the GPU too)
                cpu.Forward([token], prompt.Length + i, lc);
                gpu.ForwardGreedy(token, prompt.Length + i, lg);
                Assert.True(MaxRelDiff(lg, lc) < 1e-4, $"step {i}: {MaxRelDiff(lg, lc):E2}");
                alone.Add((float[])lg.Clone());
            }
        }
        AssertBatchedAsAlone(backend, model, prompt, shortPrompt, alone, null);
    }

    [Fact]
    public void ModelThatDoesNotFitSaysBytesNeededAndFree()
    {
        CudaContext c = GpuTest.Context();
        // 10^9 positions: a 512 GB KV cache, more than any one GPU holds (10^8, 51 GB, fitted on a 141 GB H200)
        ModelConfig huge = Small with { NumLayers = 1, MaxSequenceLength = 1_000_000_000 };
        using LoadedModel model = SyntheticModel.Create(Small with { NumLayers = 1 }, TensorDType.BF16, 1);
        using var backend = new CudaBackend();
        var e = Assert.ThrowsAny<CodecLlmException>(() => backend.CreateCudaSession(new LoadedModel("big", "synthetic", huge, model.Tensors, null, []), new SessionOptions()));
        Assert.Contains("free", e.Message);
    }
}
