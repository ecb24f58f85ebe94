using CodecLlm.Model;

namespace CodecLlm.Backends.Cuda;

/// <summary>A kernel's measured rate: bytes per second as <see cref="Counting"/> says.</summary>
public sealed record KernelRate(string Kernel, string Matrices, double GigabytesPerSecond, string Counting);

/// <summary>
/// Micro-benchmarks of the weight-streaming kernels over a set of equally shaped matrices (cycled so the
/// working set exceeds L2): device copy, raw BF16 matvec, fused fixed matvec, fixed and entropy decoding.
/// Each is timed with CUDA events after warm-up, averaged over many passes; the median of several such
/// measurements is reported.
/// </summary>
public static class KernelThroughput
{
    public static List<KernelRate> Measure(CudaContext ctx, IReadOnlyList<ModelTensor> raw, IReadOnlyList<ModelTensor>? fixedBlobs, IReadOnlyList<ModelTensor>? entropyBlobs, int passes = 10)
    {
        var rates = new List<KernelRate>();
        using var s = new CudaStream(ctx);
        var ops = new CudaOps(ctx);
        ops.Warm();
        var owned = new List<IDisposable>();
        try
        {
            int rows = raw[0].Rows, cols = raw[0].Cols;
            string label = $"{raw.Count} x [{rows}, {cols}] {raw[0].DType}";
            long decodedBytes = raw.Sum(t => t.ByteLength);
            List<GpuMatrix> rawM = raw.Select(t => Keep(owned, CudaWeights.UploadMatrix(ctx, s, t, false))).ToList();
            DeviceBuffer x = Keep(owned, s.UploadNew<float>(ctx.Allocator, Enumerable.Range(0, cols).Select(i => MathF.Sin(i)).ToArray(), MemoryCategory.Activations, "x"));
            DeviceBuffer y = Keep(owned, ctx.Allocator.Allocate(4L * rows, MemoryCategory.Activations, "y"));
            DeviceBuffer dst = Keep(owned, ctx.Allocator.Allocate(raw.Max(t => t.ByteLength), MemoryCategory.Scratch, "dst"));

            double ms = Time(ctx, s, passes, () => { foreach (GpuMatrix m in rawM) s.Copy(dst, 0, m.Buffer, 0, m.DecodedBytes); });
            rates.Add(new KernelRate("device copy", label, 2.0 * decodedBytes / ms / 1e6, "bytes read + written"));
            ms = Time(ctx, s, passes, () => { foreach (GpuMatrix m in rawM) ops.Matvec(s, [new(m.RawOperand(), y.Pointer)], x.Pointer, cols); });
            rates.Add(new KernelRate("matvec raw bf16", label, decodedBytes / ms / 1e6, "weight bytes read"));

            if (fixedBlobs != null)
            {
                List<GpuMatrix> fx = fixedBlobs.Select(t => Keep(owned, CudaWeights.UploadMatrix(ctx, s, t, true))).ToList();
                long stored = fixedBlobs.Sum(t => t.StoredLength);
                ms = Time(ctx, s, passes, () => { foreach (GpuMatrix m in fx) ops.Matvec(s, [new(m.FixedOperand(), y.Pointer)], x.Pointer, cols); });
                rates.Add(new KernelRate("matvec fused fixed", label, decodedBytes / ms / 1e6, $"decoded-equivalent bytes (reads {stored / ms / 1e6:F0} GB/s of blobs)"));
                ms = Time(ctx, s, passes, () => { foreach (GpuMatrix m in fx) GpuDecoders.Decode(ctx.Kernels, s, m, dst.Pointer, smCount: ctx.MultiprocessorCount); });
                rates.Add(new KernelRate("decode fixed", label, decodedBytes / ms / 1e6, "decoded bytes written"));
            }
            if (entropyBlobs != null)
            {
                List<GpuMatrix> en = entropyBlobs.Select(t => Keep(owned, CudaWeights.UploadMatrix(ctx, s, t, true))).ToList();
                ms = Time(ctx, s, passes, () => { foreach (GpuMatrix m in en) GpuDecoders.Decode(ctx.Kernels, s, m, dst.Pointer, smCount: ctx.MultiprocessorCount); });
                rates.Add(new KernelRate("decode entropy", label, decodedBytes / ms / 1e6, "decoded bytes written, one tensor per launch"));
                DeviceBuffer dst4 = Keep(owned, ctx.Allocator.Allocate(4 * raw.Max(t => t.ByteLength), MemoryCategory.Scratch, "dst x4"));
                long stride = raw.Max(t => t.ByteLength);
                ms = Time(ctx, s, passes, () =>
                {
                    for (int i = 0; i < en.Count; i += 4)
                        GpuDecoders.DecodeEntropy(ctx.Kernels, s, en.Skip(i).Take(4).Select((m, k) => (m, dst4.Pointer + (ulong)(k * stride), 0, -1)).ToList(), ctx.MultiprocessorCount);
                });
                rates.Add(new KernelRate("decode entropy x4", label, decodedBytes / ms / 1e6, "decoded bytes written, four tensors per launch"));
            }
        }
        finally
        {
            foreach (IDisposable d in owned) d.Dispose();
        }
        return rates;
    }

    private static T Keep<T>(List<IDisposable> owned, T d) where T : IDisposable
    {
        owned.Add(d);
        return d;
    }

    /// <summary>Median over 5 measurements of the mean milliseconds of one pass (after 2 warm-up passes).</summary>
    private static double Time(CudaContext ctx, CudaStream s, int passes, Action pass)
    {
        using var e0 = new CudaEvent(ctx, timing: true);
        using var e1 = new CudaEvent(ctx, timing: true);
        pass();
        pass();
        var samples = new List<double>();
        for (int k = 0; k < 5; k++)
        {
            e0.Record(s);
            for (int i = 0; i < passes; i++) pass();
            e1.Record(s);
            e1.Synchronize();
            samples.Add(e1.ElapsedSince(e0) / passes);
        }
        samples.Sort();
        return samples[2];
    }
}
