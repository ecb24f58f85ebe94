using CodecLlm.Backends.Cpu;
using CodecLlm.Backends.Cuda;
using CodecLlm.Engine;
using CodecLlm.Formats;
using CodecLlm.Formats.Llama2c;
using CodecLlm.Model;

namespace CodecLlm.Tests.Engine;

/// <summary>Sessions of one model share one copy of its weights, released with the last session.</summary>
public class SharedWeightsTests
{
    private sealed class Counted : IDisposable
    {
        public int Disposals;

        public void Dispose() => Disposals++;
    }

    private static LoadedModel Stories() => new Llama2cFormat().Load(TestPaths.Stories260KBin, new ModelLoadOptions());

    [Fact]
    public void OneLoadPerModelAndTheLastLeaseDisposes()
    {
        using LoadedModel a = Stories(), b = Stories();
        var cache = new SharedWeights<Counted>();
        int loads = 0;
        Counted Load()
        {
            loads++;
            return new Counted();
        }
        var l1 = cache.Acquire(a, Load);
        var l2 = cache.Acquire(a, Load);
        var l3 = cache.Acquire(b, Load);
        Assert.Equal(2, loads);
        Assert.Same(l1.Weights, l2.Weights);
        Assert.NotSame(l1.Weights, l3.Weights);
        Assert.Equal(2, cache.Users(a));
        l1.Dispose();
        l1.Dispose();  // a second dispose releases nothing more
        Assert.Equal(1, cache.Users(a));
        Assert.Equal(0, l2.Weights.Disposals);
        l2.Dispose();
        Assert.Equal(1, l2.Weights.Disposals);
        Assert.False(cache.Contains(a));
        Assert.True(cache.Contains(b));
        var l4 = cache.Acquire(a, Load);  // loaded again once released
        Assert.Equal(3, loads);
        l4.Dispose();
        l3.Dispose();
        Assert.Equal(1, l3.Weights.Disposals);
    }

    [Fact]
    public void ConcurrentSessionsWaitForOneLoad()
    {
        using LoadedModel a = Stories();
        var cache = new SharedWeights<Counted>();
        int loads = 0;
        var leases = new SharedWeights<Counted>.Lease[16];
        Parallel.For(0, leases.Length, i => leases[i] = cache.Acquire(a, () =>
        {
            Interlocked.Increment(ref loads);
            Thread.Sleep(20);
            return new Counted();
        }));
        Assert.Equal(1, loads);
        Assert.All(leases, l => Assert.Same(leases[0].Weights, l.Weights));
        foreach (var l in leases) l.Dispose();
        Assert.Equal(1, leases[0].Weights.Disposals);
    }

    [Fact]
    public void CpuSessionsOfOneBackendShareWeightsAndComputeTheSame()
    {
        // A compressed model: its tensors are decoded once, into buffers both sessions read.
        using LoadedModel raw = Stories();
        using LoadedModel model = InMemoryCompression.Compress(raw, "entropy");
        var backend = new CpuBackend();
        var logits = new List<float[]>();
        using (IInferenceSession alone = new CpuSession(raw, new SessionOptions { Threads = 1 })) logits.Add(Step(alone));
        IInferenceSession s1 = backend.CreateSession(model, new SessionOptions { Threads = 1 });
        IInferenceSession s2 = backend.CreateSession(model, new SessionOptions { Threads = 1 });
        Assert.Equal(2, backend.WeightUsers(model));
        logits.Add(Step(s1));
        s1.Dispose();
        Assert.Equal(1, backend.WeightUsers(model));
        logits.Add(Step(s2));  // still valid after the other session is gone
        s2.Dispose();
        Assert.Equal(0, backend.WeightUsers(model));
        Assert.Equal(logits[0], logits[1]);
        Assert.Equal(logits[0], logits[2]);
    }

    private static float[] Step(IInferenceSession s)
    {
        var l = new float[s.Config.VocabSize];
        s.Forward([1, 403, 407], 0, l);
        return l;
    }
}
