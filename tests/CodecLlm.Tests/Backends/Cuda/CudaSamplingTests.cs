using CodecLlm.Backends.Cpu;
using CodecLlm.Backends.Cuda;
using CodecLlm.Engine;
using CodecLlm.Formats;
using CodecLlm.Formats.Llama2c;
using CodecLlm.Model;

namespace CodecLlm.Tests.Backends.Cuda;

/// <summary>
/// The GPU sampling kernel (sampling.cu) against the CPU <see cref="Sampler"/> with the same random numbers. The
/// two compute the softmax with different exp and summation order, so a choice may differ only where the coin (or
/// the top-p threshold) falls within float rounding of a boundary: every difference must be explained by a tiny
/// nudge of the coin or of top-p on the CPU, and there must be very few.
/// </summary>
[Collection("gpu")]
public class CudaSamplingTests
{
    private const float Nudge = 1e-4f;

    private static (CudaContext C, CudaStream S, CudaOps Ops) Setup()
    {
        CudaContext c = GpuTest.Context();
        return (c, new CudaStream(c), new CudaOps(c));
    }

    private static int GpuChoice(CudaContext c, CudaStream s, CudaOps ops, float[] logits, SamplingOptions o, float coin)
    {
        using DeviceBuffer l = s.UploadNew<float>(c.Allocator, logits, MemoryCategory.Activations, "logits");
        using DeviceBuffer p = c.Allocator.Allocate(4L * logits.Length, MemoryCategory.Activations, "probs");
        using DeviceBuffer outp = c.Allocator.Allocate(4, MemoryCategory.Activations, "token");
        ops.Sample(s, l.Pointer, p.Pointer, outp.Pointer, logits.Length, o, coin);
        return s.Download<int>(outp, 1)[0];
    }

    private static int CpuChoice(float[] logits, SamplingOptions o, float coin) => new Sampler(o).Sample(logits, coin);

    /// <summary>
    /// Whether the CPU picks <paramref name="token"/> after nudging the coin and/or top-p by a hair, or the two
    /// tokens' probabilities are equal to within rounding (so their rank may differ between exp implementations).
    /// </summary>
    private static bool InExactCdfInterval(float[] logits, float temperature, float coin, int token, double tolerance)
    {
        double max = logits.Max(), sum = 0, below = 0;
        foreach (float l in logits) sum += Math.Exp((l - max) / temperature);
        for (int i = 0; i < token; i++) below += Math.Exp((logits[i] - max) / temperature) / sum;
        double own = Math.Exp((logits[token] - max) / temperature) / sum;
        return coin >= below - tolerance && coin < below + own + tolerance;
    }

    private static bool NearBoundary(float[] logits, SamplingOptions o, float coin, int token, int cpuToken)
    {
        double pa = Math.Exp((logits[token] - (double)logits[cpuToken]) / o.Temperature);
        if (Math.Abs(pa - 1) < 1e-5) return true;
        foreach (float dc in new[] { 0f, -Nudge, Nudge })
            foreach (float dp in o.TopP < 1 ? new[] { 0f, -Nudge, Nudge } : [0f])
            {
                float cc = Math.Clamp(coin + dc, 0f, 0.99999994f), pp = Math.Min(1f, o.TopP + dp);
                if (CpuChoice(logits, o with { TopP = pp }, cc) == token) return true;
            }
        return false;
    }

    public static TheoryData<int, float, float, int> Cases => new()
    {
        { 7, 1.0f, 1.0f, 0 },
        { 512, 0.8f, 0.9f, 0 },
        { 512, 1.0f, 1.0f, 40 },
        { 512, 1.3f, 0.95f, 40 },
        { 32000, 0.7f, 0.9f, 0 },
        { 32000, 1.0f, 1.0f, 0 },
        { 32000, 1.0f, 1.0f, 50 },
        { 32000, 0.6f, 0.8f, 100 },
        { 128256, 0.8f, 0.95f, 0 },
        { 128256, 1.0f, 1.0f, 0 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void GpuChoosesAsTheCpuSampler(int vocab, float temperature, float topP, int topK)
    {
        var (c, s, ops) = Setup();
        var rnd = new Random(vocab + topK);
        int cases = vocab > 100000 ? 60 : 150, differ = 0, deferred = 0;
        for (int k = 0; k < cases; k++)
        {
            // Model-like logits: Gaussian with a scale that makes the distribution peaked to flat, a few clear leaders.
            double scale = 1.5 + 3 * rnd.NextDouble();
            float[] logits = GpuTest.Gaussian(rnd, vocab, scale);
            for (int j = 0; j < 5; j++) logits[rnd.Next(vocab)] += (float)(scale * 3 * rnd.NextDouble());
            if (k % 10 == 0) logits[1] = logits[0]; // a tie
            ulong seed = (ulong)rnd.NextInt64();
            var o = new SamplingOptions { Temperature = temperature, TopP = topP, TopK = topK, Seed = seed };
            float coin = new SamplerRandom(seed).NextSingle();

            int cpu = CpuChoice(logits, o, coin), gpu = GpuChoice(c, s, ops, logits, o, coin);
            if (gpu == -1)
            {
                deferred++; // the nucleus is larger than the kernel sorts: the session asks the CPU (tested below)
                continue;
            }
            Assert.InRange(gpu, 0, vocab - 1);
            if (topP >= 1 && topK == 0)
            {
                // No truncation: the CPU Sampler sums float probabilities sequentially over the whole vocabulary,
                // drifting ~1e-5 from the exact CDF at 128k tokens, so it is no exact reference here. The GPU
                // (block scan) is judged against the exact double-precision CDF: the coin must fall in its token's
                // interval, give or take 1e-5.
                Assert.True(InExactCdfInterval(logits, temperature, coin, gpu, 1e-5), $"case {k}: GPU picked {gpu} (CPU {cpu}), outside its exact CDF interval (coin {coin})");
                continue;
            }
            if (gpu == cpu) continue;
            differ++;
            Assert.True(NearBoundary(logits, o, coin, gpu, cpu), $"case {k}: GPU picked {gpu}, CPU {cpu}, not explained by rounding (coin {coin})");
        }
        Assert.True(differ <= Math.Max(1, cases / 100), $"{differ} of {cases} choices differ");
        Assert.True(deferred <= cases * 3 / 4, $"{deferred} of {cases} choices deferred to the CPU"); // ~40% at most with 128k tokens and top-p 0.95
    }

    [Fact]
    public void SameLogitsSameCoin_SameToken_AndCoinsSpreadTheChoices()
    {
        var (c, s, ops) = Setup();
        float[] logits = GpuTest.Gaussian(new Random(11), 32000, 4); // a nucleus of a few hundred tokens
        var o = new SamplingOptions { Temperature = 1, TopP = 0.9f, TopK = 0 };
        var seen = new HashSet<int>();
        SamplerRandom random = new(9);
        for (int k = 0; k < 40; k++)
        {
            float coin = random.NextSingle();
            int a = GpuChoice(c, s, ops, logits, o, coin), b = GpuChoice(c, s, ops, logits, o, coin);
            Assert.Equal(a, b);
            Assert.Equal(CpuChoice(logits, o, coin), a);
            seen.Add(a);
        }
        Assert.True(seen.Count > 10, $"only {seen.Count} distinct tokens from 40 coins");
    }

    [Fact]
    public void TopKKeepsOnlyTheKLargest_TiesByLowerId()
    {
        var (c, s, ops) = Setup();
        float[] logits = new float[1000];
        logits[900] = 5;
        logits[100] = 5;
        logits[500] = 5; // three equal leaders; top-k 2 keeps ids 100 and 500
        var o = new SamplingOptions { Temperature = 1, TopK = 2 };
        var seen = new HashSet<int>();
        SamplerRandom random = new(3);
        for (int k = 0; k < 50; k++) seen.Add(GpuChoice(c, s, ops, logits, o, random.NextSingle()));
        Assert.Equal([100, 500], seen.Order());
    }

    [Fact]
    public void HugeNucleus_KernelDefers_SessionStillChoosesAsTheCpu()
    {
        var (c, s, ops) = Setup();
        // Nearly flat over 32000 tokens: a 0.9 nucleus holds ~28800 tokens, more than the kernel sorts.
        float[] logits = GpuTest.Gaussian(new Random(4), 32000, 0.05);
        var o = new SamplingOptions { Temperature = 1, TopP = 0.9f };
        Assert.Equal(-1, GpuChoice(c, s, ops, logits, o, 0.5f));
    }

    [Fact]
    public void Stories260K_ForwardSampleAgreesWithCpuEngineAndSampler()
    {
        GpuTest.Context();
        if (!File.Exists(TestPaths.Stories260KBin)) Assert.Skip("stories260K not present");
        using LoadedModel model = new Llama2cFormat().Load(TestPaths.Stories260KBin, new ModelLoadOptions());
        using IInferenceSession cpu = new CpuBackend().CreateSession(model, new SessionOptions { Threads = 2 });
        using var backend = new CudaBackend();
        using CudaSession gpu = backend.CreateCudaSession(model, new SessionOptions());
        var o = new SamplingOptions { Temperature = 0.9f, TopP = 0.9f, TopK = 0, Seed = 42 };
        SamplerRandom random = new(42);
        float[] logits = new float[model.Config.VocabSize];
        int[] prompt = [model.Config.BosTokenId, 403, 407, 261]; // prefill path first
        float coin = random.NextSingle();
        cpu.Forward(prompt, 0, logits);
        int token = CpuChoice(logits, o, coin), differ = 0;
        if (gpu.ForwardSample(prompt, 0, o, coin) != token) differ++;
        for (int pos = prompt.Length; pos < 200; pos++)
        {
            coin = random.NextSingle();
            int fed = token;
            cpu.Forward([fed], pos, logits);
            token = CpuChoice(logits, o with { TopK = pos % 3 == 0 ? 20 : 0 }, coin);
            if (gpu.ForwardSample([fed], pos, o with { TopK = pos % 3 == 0 ? 20 : 0 }, coin) != token) differ++; // both run on the CPU's token
        }
        Assert.True(differ <= 2, $"{differ} of 197 choices differ between the GPU and the CPU engine");
    }
}
