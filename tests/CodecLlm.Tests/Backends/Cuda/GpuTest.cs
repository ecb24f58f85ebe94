using CodecLlm.Backends.Cuda;

namespace CodecLlm.Tests.Backends.Cuda;

/// <summary>One CUDA context for the whole test run; GPU tests skip (with the reason) where there is none.</summary>
internal static class GpuTest
{
    private static readonly Lazy<(CudaContext? Context, string? Reason)> Shared = new(() =>
    {
        try
        {
            CudaContext c = CudaContext.Open();
            Console.WriteLine(c.Describe());
            return (c, null);
        }
        catch (Exception e) when (e is CodecLlm.Model.CodecLlmException)
        {
            return (null, e.Message);
        }
    });

    /// <summary>The shared context, or skips the calling test when no usable GPU is present.</summary>
    public static CudaContext Context()
    {
        var (c, reason) = Shared.Value;
        if (c == null) Assert.Skip("no usable CUDA GPU: " + reason);
        return c!;
    }

    public static ushort ToBf16(float f)
    {
        uint u = BitConverter.SingleToUInt32Bits(f);
        if ((u & 0x7fffffff) > 0x7f800000) return (ushort)((u >> 16) | 0x40);
        u += 0x7fffu + ((u >> 16) & 1u);
        return (ushort)(u >> 16);
    }

    public static float FromBf16(ushort b) => BitConverter.UInt32BitsToSingle((uint)b << 16);

    public static float[] Gaussian(Random r, int n, double std = 1)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++)
        {
            double u1 = 1 - r.NextDouble(), u2 = r.NextDouble();
            a[i] = (float)(std * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        return a;
    }

    /// <summary>max |a-b| / max |b|.</summary>
    public static double RelErr(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        Assert.Equal(b.Length, a.Length);
        double num = 0, den = 0;
        for (int i = 0; i < a.Length; i++)
        {
            Assert.False(float.IsNaN(a[i]), $"NaN at {i}");
            num = Math.Max(num, Math.Abs(a[i] - (double)b[i]));
            den = Math.Max(den, Math.Abs((double)b[i]));
        }
        return num / Math.Max(den, 1e-30);
    }
}
