using CodecLlm.Codecs;
using CodecLlm.Model;

namespace CodecLlm.Tests.Codecs;

public class ExponentStatisticsTests
{
    [Fact]
    public void EntropyOfHandBuiltBf16Tensor()
    {
        // Exponents 127 (1.0), 127, 128 (2.0), 126 (0.5): p = 1/2, 1/4, 1/4 → H = 1.5 bits; floor 9.5.
        ushort[] v = [0x3F80, 0xBF80, 0x4000, 0x3F00];
        byte[] data = v.SelectMany(BitConverter.GetBytes).ToArray();
        ExponentStatistics s = ExponentStatistics.Compute(data, TensorDType.BF16);
        Assert.Equal(2, s.Histogram[127]);
        Assert.Equal(1, s.Histogram[128]);
        Assert.Equal(3, s.DistinctExponents);
        Assert.Equal(1.5, s.ExponentEntropyBits, 12);
        Assert.Equal(9.5, s.FloorBitsPerWeight, 12);
        Assert.Equal(0.75, s.CoverageOfTop(2), 12);
    }

    [Fact]
    public void F16AndF32UseTheirOwnFields()
    {
        // F16 1.0 = 0x3C00 → exponent 15; F32 1.0 = 0x3F800000 → exponent 127.
        Assert.Equal(1, ExponentStatistics.Compute(BitConverter.GetBytes((ushort)0x3C00), TensorDType.F16).Histogram[15]);
        ExponentStatistics f32 = ExponentStatistics.Compute(BitConverter.GetBytes(1.0f), TensorDType.F32);
        Assert.Equal(1, f32.Histogram[127]);
        Assert.Equal(24, f32.FloorBitsPerWeight, 12);
    }
}
