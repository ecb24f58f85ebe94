using CodecLlm.Model;

namespace CodecLlm.Codecs;

/// <summary>
/// The exponent histogram of one tensor and the Shannon floor of the "entropy-coded exponent + raw sign and
/// mantissa" scheme: floor bits/weight = H(exponent) + sign/mantissa bits (8 for BF16, 11 for F16, 24 for F32).
/// </summary>
public sealed class ExponentStatistics
{
    private ExponentStatistics(TensorDType dtype, long[] histogram, long count)
    {
        DType = dtype;
        Histogram = histogram;
        Count = count;
    }

    public TensorDType DType { get; }

    /// <summary>Count of each exponent field value (256 entries; F16 uses the first 32).</summary>
    public IReadOnlyList<long> Histogram { get; }

    public long Count { get; }

    public static ExponentStatistics Compute(ReadOnlySpan<byte> data, TensorDType dtype)
    {
        int eb = dtype.ByteSize();
        FloatFields.RestBytes(dtype);
        long n = data.Length / eb;
        long[] h = new long[256];
        for (long i = 0; i < n; i++) h[FloatFields.Exponent(dtype, FloatFields.Load(data, i, eb))]++;
        return new ExponentStatistics(dtype, h, n);
    }

    /// <summary>Number of distinct exponent values that occur.</summary>
    public int DistinctExponents => Histogram.Count(c => c > 0);

    /// <summary>Shannon entropy of the exponent in bits per element (0 for an empty or constant tensor).</summary>
    public double ExponentEntropyBits
    {
        get
        {
            if (Count == 0) return 0;
            double bits = 0;
            foreach (long c in Histogram)
            {
                if (c == 0) continue;
                double p = (double)c / Count;
                bits -= p * Math.Log2(p);
            }
            return bits;
        }
    }

    /// <summary>The floor of exponent entropy coding: entropy + raw sign and mantissa bits.</summary>
    public double FloorBitsPerWeight => ExponentEntropyBits + FloatFields.RestBits(DType);

    /// <summary>Fraction of elements whose exponent is among the <paramref name="k"/> most frequent.</summary>
    public double CoverageOfTop(int k) =>
        Count == 0 ? 1 : (double)Histogram.OrderByDescending(c => c).Take(k).Sum() / Count;
}
