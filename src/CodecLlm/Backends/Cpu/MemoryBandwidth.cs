using System.Diagnostics;
using System.Runtime.Intrinsics;
using CodecLlm.Model;

namespace CodecLlm.Backends.Cpu;

/// <summary>
/// Measures the machine's sustainable memory read bandwidth: every thread sums its share of a buffer much
/// larger than the caches, with vector loads; the best of several passes counts. This is the ceiling for
/// decoding, which reads every weight once per token.
/// </summary>
public static unsafe class MemoryBandwidth
{
    /// <summary>Bytes per second.</summary>
    public static double Measure(int threads, long bufferBytes = 512L << 20, int passes = 5)
    {
        threads = Math.Max(1, threads);
        using NativeBuffer buffer = new(bufferBytes, zero: false);
        long vectors = bufferBytes / 32;
        nint basePtr = (nint)buffer.Pointer;
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            (long start, long end) = Share(vectors, threads, t);
            for (long i = start; i < end; i++) Vector256.Create((float)i).Store((float*)basePtr + i * 8);
        });

        double best = 0;
        float sink = 0;
        for (int pass = 0; pass < passes; pass++)
        {
            float[] sums = new float[threads];
            Stopwatch clock = Stopwatch.StartNew();
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
            {
                (long start, long end) = Share(vectors, threads, t);
                float* p = (float*)basePtr;
                Vector256<float> a0 = Vector256<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
                long i = start;
                for (; i + 4 <= end; i += 4)
                {
                    a0 += Vector256.Load(p + i * 8);
                    a1 += Vector256.Load(p + i * 8 + 8);
                    a2 += Vector256.Load(p + i * 8 + 16);
                    a3 += Vector256.Load(p + i * 8 + 24);
                }
                for (; i < end; i++) a0 += Vector256.Load(p + i * 8);
                sums[t] = Vector256.Sum(a0 + a1 + a2 + a3);
            });
            double seconds = clock.Elapsed.TotalSeconds;
            sink += sums.Sum();
            best = Math.Max(best, vectors * 32 / seconds);
        }
        GC.KeepAlive(sink);
        return best;
    }

    private static (long Start, long End) Share(long count, int parts, int part) => (count * part / parts, count * (part + 1) / parts);
}
